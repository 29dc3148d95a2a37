"""``safetyrules schema``: the JSON Schemas, so that editors and other programs can check files themselves."""

from __future__ import annotations

import argparse
from typing import Any

from .common import EXIT_OK, add_rules_option, date_arg, load, print_json, rules_specs


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "schema", help="print the JSON Schema of rule modules, inspection records or results, or a pack's form description (form)"
    )
    p.add_argument("kind", choices=("module", "record", "result", "form"))
    add_rules_option(p)
    p.add_argument("--as-of", type=date_arg, help="only the modules in force on this date")
    p.add_argument("--industry", help="only this industry's vocabulary (e.g. coal_mine)")
    p.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    if args.kind == "form":
        from .serve import cmd_schema_form

        return cmd_schema_form(args)
    if args.kind == "module":
        from ..loader import module_schema

        print_json(module_schema())
        return EXIT_OK
    if args.kind == "result":
        from ..schemas import result_schema

        print_json(result_schema())
        return EXIT_OK
    from ..schemas import record_schema

    rules = load(rules_specs(args))
    print_json(record_schema(rules.ir, args.as_of, args.industry))
    return EXIT_OK
