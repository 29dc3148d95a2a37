"""``safetyrules diff OLD NEW``: the comparison is ``safetyrules.revision_diff``; this command finds the two
modules (files, or ids in the loaded packs) and prints the result."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any, List, Optional

from .common import EXIT_ERROR, EXIT_OK, default_packs, rules_specs

if TYPE_CHECKING:
    from ..ir.ruleset import RuleSetIR
    from ..model import Module


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("diff", help="rules added, removed, tightened and loosened between two versions of a module")
    p.add_argument("old", metavar="OLD", help="module file, or module id in the shipped packs (e.g. coal-mine-2020)")
    p.add_argument("new", metavar="NEW", help="module file, or module id (e.g. coal-mine-2026)")
    p.add_argument(
        "--rules", action="append", metavar="PACK|PATH", help="where to look up module ids (default: the shipped packs)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--all", action="store_true", help="also list unchanged rules (json)")
    p.set_defaults(func=cmd_diff)


def _module_file(spec: str) -> Optional["Module"]:
    """The module in a file, or None when ``spec`` is not a file (then it is a module id)."""
    from ..errors import LoadError
    from ..loader import read_module

    if os.path.isfile(spec):
        src, diags = read_module(spec)
        if src is None:
            raise LoadError(diags)
        return src.module
    return None


def cmd_diff(args: argparse.Namespace) -> int:
    from ..revision_diff import diff_modules, render_text

    files = [_module_file(args.old), _module_file(args.new)]
    modules: List["Module"] = []
    ir: Optional["RuleSetIR"] = None  # loaded once, and only when an id is to be looked up
    for spec, module in zip((args.old, args.new), files):
        if module is None:
            if ir is None:
                from ..compiler import load_ir
                from ..packs import expand_specs

                ir = load_ir(expand_specs(rules_specs(args)) or default_packs())
            found = ir.module_by_id.get(spec)
            if found is None:
                from ..errors import did_you_mean

                print(f"safetyrules: no module file or module id {spec!r}{did_you_mean(spec, ir.module_by_id)}", file=sys.stderr)
                return EXIT_ERROR
            module = found.module
        modules.append(module)
    d = diff_modules(modules[0], modules[1])
    if args.format == "json":
        data = d.to_json()
        if args.all:
            data["rules"] = [r.to_json() for r in d.rules]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render_text(d))
    return EXIT_OK
