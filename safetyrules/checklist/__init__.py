"""``safetyrules docs PACK``: a pack rendered as the checklist inspectors carry.

Two renderings of the same content, from the compiled rule set (never from the YAML text):

* :func:`render_markdown` -- Markdown, for the repository and for review;
* :func:`render_html` -- one self-contained, printable HTML page (inline CSS, no scripts, fonts,
  images or style sheets fetched from anywhere).

Both are organised module -> category -> item, in Chinese with English glosses. Each item says what
to check, which facts to record (labels, units, enum values, list item fields), each threshold with
the legal word it is written with and how this document reads that word (inclusive or exclusive),
the comparison that encodes it, the full condition, the citation and when the item applies.

The package is split by concern: ``view`` decides what a checklist shows (the view model, built from
the IR), ``markdown`` and ``html`` only format it, ``files`` loads packs and writes the files; the command
itself is ``safetyrules.cli.docs``.

The output is deterministic: no timestamps, no versions of the library, nothing taken from sets or
from the environment, so ``docs/checklists/`` can be checked in and a test can keep it current
(regenerate with ``safetyrules docs demo hazchem construction -o docs/checklists``).
"""

from .files import DEFAULT_OUT_DIR, FORMATS, load_pack, render, write_checklists
from .html import render_html
from .markdown import render_markdown
from .view import PackView, build_view, pretty_condition

__all__ = [
    "DEFAULT_OUT_DIR",
    "FORMATS",
    "PackView",
    "build_view",
    "load_pack",
    "pretty_condition",
    "render",
    "render_html",
    "render_markdown",
    "write_checklists",
]
