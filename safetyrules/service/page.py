"""The checklist page as static files (``safetyrules serve --build-page DIR``): the page the service
serves at ``/``, with the loaded packs' form descriptions beside it in ``data.js``, so that it opens
from a folder or any static web server, offline. Judging still needs the service: ``--api URL`` (or
``?api=URL`` on the page's address) names it; without one the form fills, loads and downloads
records, which ``safetyrules check`` then judges.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from typing import List, Optional

from ..ruleset import RuleSet
from .catalog import new_snapshot, packs_document
from .form import form_description


_DATA_MARK = "<!-- static data -->"
FILES = ("index.html", "app.js", "app.css")


def build_page(rules: RuleSet, out_dir: str, api: Optional[str] = None) -> List[str]:
    """Write the page and its data into ``out_dir``; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    static = resources.files("safetyrules.service").joinpath("static")
    written = []
    for name in FILES:
        text = static.joinpath(name).read_text("utf-8")
        if name == "index.html":
            text = text.replace('src="static/', 'src="').replace('href="static/', 'href="')
            text = text.replace(_DATA_MARK, '<script src="data.js"></script>')
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    data = {
        "api": api,
        "packs": packs_document(new_snapshot(rules, ())),
        "forms": {p.name: form_description(rules, p.name) for p in rules.packs},
    }
    path = os.path.join(out_dir, "data.js")
    with open(path, "w", encoding="utf-8") as fh:
        # JSON is a JavaScript expression; "</" is escaped so that no text closes a script element
        fh.write("window.SAFETYRULES_DATA = " + json.dumps(data, ensure_ascii=False).replace("</", "<\\/") + ";\n")
    written.append(path)
    return written
