"""Checklists as files: one pack loaded, rendered in each format and written where ``safetyrules docs`` asks."""

from __future__ import annotations

import os
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


def load_pack(spec: str) -> Tuple[RuleSetIR, str]:
    """Load one pack (a name or a pack folder); returns the IR and the pack's name.

    A folder of several packs is refused with :class:`ValueError`: a checklist is one pack's."""
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
        ir, name = load_pack(spec)
        for fmt in formats:
            path = os.path.join(out_dir, f"{name}.{fmt}")
            text = render(ir, name, fmt)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            written.append(path)
    return written
