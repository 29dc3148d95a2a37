"""``safetyrules ir``: the compiled rules as the backends see them, for a maintainer.

The checked level by default (every module, rule and derived fact, names annotated with their
types, what each rule reads in the end); ``--lowered`` prints one industry's program as the C
evaluator receives it; ``--check`` runs the IR validator and exits 1 when an invariant is broken.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from .common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, add_rules_option, date_arg, default_packs, rules_specs


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("ir", help="print the compiled rules (checked IR, or the lowered program) for maintainers")
    p.add_argument("paths", nargs="*", metavar="RULES", help="packs, folders or module files (default: the shipped packs)")
    add_rules_option(p)
    p.add_argument("--industry", help="only this industry (required with --lowered when the rules cover several)")
    p.add_argument("--lowered", action="store_true", help="print the flat program the C evaluator runs")
    p.add_argument("--date", type=date_arg, help="with --lowered: the modules in force on this date (default: today)")
    p.add_argument("--check", action="store_true", help="validate the IR's invariants instead of printing it")
    p.set_defaults(func=cmd_ir)


def cmd_ir(args: argparse.Namespace) -> int:
    from ..compiler import load_ir
    from ..ir.printer import print_program, print_ruleset
    from ..ir.validate import validate
    from ..packs import expand_specs

    if args.paths and args.rules:
        print("safetyrules ir: give the rules as arguments or with --rules, not both", file=sys.stderr)
        return EXIT_ERROR
    ir = load_ir(expand_specs(list(args.paths) or rules_specs(args)) or default_packs())
    if args.industry is not None and args.industry not in ir.vocabularies:
        print(
            f"safetyrules ir: no loaded module covers industry {args.industry!r} "
            f"(industries: {', '.join(sorted(ir.vocabularies))})",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.check:
        problems = validate(ir)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {len(ir.rules)} rules", file=sys.stderr)
        return EXIT_FOUND if problems else EXIT_OK
    if args.lowered:
        industries = [args.industry] if args.industry else sorted(ir.vocabularies)
        if len(industries) != 1:
            print(
                f"safetyrules ir: --lowered prints one industry's program; choose one with --industry ({', '.join(industries)})",
                file=sys.stderr,
            )
            return EXIT_ERROR
        sys.stdout.write(print_program(ir, industries[0], args.date or date.today()))
        return EXIT_OK
    sys.stdout.write(print_ruleset(ir, args.industry))
    return EXIT_OK
