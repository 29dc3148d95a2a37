"""``safetyrules docs PACK``: the checklists are rendered and written by ``safetyrules.checklist``; this is the
command, with its one rule of its own (``-o -`` prints exactly one pack in one format)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..checklist.files import DEFAULT_OUT_DIR, FORMATS
from .common import EXIT_ERROR, EXIT_OK


def add_parser(subparsers: Any) -> None:
    """Register ``safetyrules docs PACK... [-o DIR] [--format md|html|both]``."""
    p = subparsers.add_parser(
        "docs",
        help="render packs as inspection checklists (Markdown and self-contained HTML)",
        description="Render each pack as the checklist inspectors carry: module -> category -> item, with the facts "
        "to record, thresholds and how they are read, conditions and citations. Writes DIR/<pack>.md and "
        "DIR/<pack>.html.",
    )
    p.add_argument("packs", nargs="+", metavar="PACK", help="pack names or pack folders")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default=DEFAULT_OUT_DIR,
        help=f"output folder (default: {DEFAULT_OUT_DIR}); '-' prints one pack in one format to stdout",
    )
    p.add_argument("--format", choices=("md", "html", "both"), default="both")
    p.set_defaults(func=cmd_docs)


def cmd_docs(args: argparse.Namespace) -> int:
    """Exit 0 when written, 2 when a pack does not load or a file cannot be written."""
    from ..checklist.files import load_pack, render, write_checklists

    formats = FORMATS if args.format == "both" else (args.format,)
    if args.output == "-":
        if len(args.packs) != 1 or len(formats) != 1:
            print("safetyrules: docs -o - writes one pack in one format (--format md or --format html)", file=sys.stderr)
            return EXIT_ERROR
        try:
            ir, name = load_pack(args.packs[0])
        except ValueError as exc:
            print(f"safetyrules: {exc}", file=sys.stderr)
            return EXIT_ERROR
        sys.stdout.write(render(ir, name, formats[0]))
        return EXIT_OK
    try:
        paths = write_checklists(args.packs, args.output, formats)
    except ValueError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"safetyrules: cannot write checklists: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for path in paths:
        print(path)
    return EXIT_OK
