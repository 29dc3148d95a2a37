"""``safetyrules new pack|module``: the skeletons are written by ``safetyrules.scaffold``; this is the command."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import EXIT_ERROR, EXIT_OK


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "new", help="start a pack (a project ready to install) or a module, passing lint and test as generated"
    )
    kinds = p.add_subparsers(dest="kind", required=True, parser_class=type(p))
    pp = kinds.add_parser("pack", help="a new pack project NAME/ with a manifest, a module, tests, an example and a pyproject")
    pp.add_argument("name", metavar="NAME", help="pack name: lower-case letters, digits and '-'")
    pp.add_argument("--dir", default=".", help="where to create NAME/ (default: here)")
    pp.add_argument("--industry", help="the industry id the pack declares (default: NAME with '_' for '-')")
    pp.add_argument("--module", dest="module_id", help="id of the first module (default: NAME-example)")
    pp.add_argument("--force", action="store_true", help="overwrite existing files")
    pp.set_defaults(func=cmd_new)
    pm = kinds.add_parser("module", help="a new module ID.yaml and its test cases in an existing pack")
    pm.add_argument("module_id", metavar="ID")
    pm.add_argument("--pack", default=".", help="the pack folder (holding pack.yaml; default: here)")
    pm.add_argument("--series", help="series id (default: the module id; versions of one document share it)")
    pm.add_argument("--industry", help="one of the industries the pack declares (default: its first)")
    pm.add_argument("--force", action="store_true")
    pm.set_defaults(func=cmd_new)


def cmd_new(args: argparse.Namespace) -> int:
    from ..scaffold import ScaffoldError, new_module, new_pack

    try:
        if args.kind == "pack":
            created = new_pack(args.name, args.dir, args.industry, args.module_id, force=args.force)
        else:
            created = new_module(args.module_id, args.pack, args.series, args.industry, force=args.force)
    except ScaffoldError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for path in created.files:
        print(f"created {path}")
    print(f"next: safetyrules lint {created.pack_dir} && safetyrules test {created.pack_dir} --min-coverage 100")
    return EXIT_OK
