"""``safetyrules docs PACK``: loading packs, writing their checklists to files or stdout, the command."""

from __future__ import annotations

import os
import sys
from typing import Iterable, List, Optional, Sequence, Tuple

from ..compiler import load_ir
from ..ir import RuleSetIR
from .html import render_html
from .markdown import render_markdown

#: Default output folder of ``safetyrules docs`` (relative to the working directory).
DEFAULT_OUT_DIR = os.path.join("docs", "checklists")
FORMATS = ("md", "html")

def render(ir: RuleSetIR, pack_name: Optional[str], fmt: str) -> str:
    """One pack's checklist in one format (``md`` or ``html``)."""
    if fmt == "md":
        return render_markdown(ir, pack_name)
    if fmt == "html":
        return render_html(ir, pack_name)
    raise ValueError(f"unknown checklist format {fmt!r} (md or html)")


def _load_pack(spec: str) -> Tuple[RuleSetIR, str]:
    """Load one pack (a name or a pack folder); returns the IR and the pack's name."""
    ir = load_ir([spec])
    if len(ir.packs) == 1:
        return ir, ir.packs[0].name
    named = [p.name for p in ir.packs if p.name == spec]
    if named:
        return ir, named[0]
    raise ValueError(f"{spec!r} is not one pack (it loads {len(ir.packs)} packs)")


def write_checklists(pack_names: Iterable[str], out_dir: str, formats: Sequence[str] = FORMATS) -> List[str]:
    """Write ``<out_dir>/<pack>.md`` and/or ``<pack>.html`` for each pack; returns the paths written.

    Raises :class:`~safetyrules.errors.LoadError` when a pack does not load.
    """
    written: List[str] = []
    os.makedirs(out_dir, exist_ok=True)
    for spec in pack_names:
        ir, name = _load_pack(spec)
        for fmt in formats:
            path = os.path.join(out_dir, f"{name}.{fmt}")
            text = render(ir, name, fmt)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            written.append(path)
    return written


def cmd_docs(args) -> int:
    """``safetyrules docs``: exit 0 when written, 2 when a pack does not load or a file cannot be written."""
    formats = FORMATS if args.format == "both" else (args.format,)
    if args.output == "-":
        if len(args.packs) != 1 or len(formats) != 1:
            print("safetyrules: docs -o - writes one pack in one format (--format md or --format html)", file=sys.stderr)
            return 2
        try:
            ir, name = _load_pack(args.packs[0])
        except ValueError as exc:
            print(f"safetyrules: {exc}", file=sys.stderr)
            return 2
        sys.stdout.write(render(ir, name, formats[0]))
        return 0
    try:
        paths = write_checklists(args.packs, args.output, formats)
    except ValueError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"safetyrules: cannot write checklists: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


def add_docs_parser(subparsers) -> None:
    """Register ``safetyrules docs PACK... [-o DIR] [--format md|html|both]``."""
    p = subparsers.add_parser(
        "docs",
        help="render packs as inspection checklists (Markdown and self-contained HTML)",
        description="Render each pack as the checklist inspectors carry: module -> category -> item, with the facts "
        "to record, thresholds and how they are read, conditions and citations. Writes DIR/<pack>.md and "
        "DIR/<pack>.html.",
    )
    p.add_argument("packs", nargs="+", metavar="PACK", help="pack names or pack folders")
    p.add_argument("-o", "--output", metavar="DIR", default=DEFAULT_OUT_DIR,
                   help=f"output folder (default: {DEFAULT_OUT_DIR}); '-' prints one pack in one format to stdout")
    p.add_argument("--format", choices=("md", "html", "both"), default="both")
    p.set_defaults(func=cmd_docs)
