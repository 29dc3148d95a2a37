"""``safetyrules explain``: one rule traced on one record, for an author asking why it matched or not."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import RecordError
from .common import EXIT_ERROR, EXIT_OK, add_presumptions_option, add_rules_option, date_arg, load, print_json, rules_specs


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("explain", help="trace one rule on one record: every sub-condition, its values and truth")
    p.add_argument("record", metavar="RECORD")
    p.add_argument("--rule", required=True, metavar="ID")
    add_rules_option(p)
    p.add_argument("--as-of", type=date_arg)
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_presumptions_option(p)
    p.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    from ..explain import explain, render_text
    from ..inputs import read_records

    rules = load(rules_specs(args))
    if not args.presumptions:
        rules = rules.strict()
    records = list(read_records(args.record))
    if len(records) != 1 or records[0].error:
        print(f"safetyrules: {args.record}: explain takes a file with exactly one record", file=sys.stderr)
        return EXIT_ERROR
    try:
        trace = explain(rules, records[0].value, args.rule, as_of=args.as_of)
    except RecordError as exc:
        for p, m in exc.problems:
            print(f"{args.record}: {p}: {m}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        print_json(trace)
    else:
        print(render_text(trace))
    return EXIT_OK
