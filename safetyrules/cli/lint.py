"""``safetyrules lint``: schema, type and consistency problems of rule modules, errors first."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import Diagnostic, LoadError
from .common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, default_packs, print_json


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("lint", help="load rule modules and report schema, type and consistency problems")
    p.add_argument("paths", nargs="*", metavar="RULES")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_lint)


def finding_line(d: Diagnostic) -> str:
    """Lint names every severity, errors too, because its output mixes errors, warnings and notes."""
    return f"{d.location}: {d.severity}: {d.code} {d.message}"


def cmd_lint(args: argparse.Namespace) -> int:
    from ..compiler import load_ir
    from ..lint import lint_ir
    from ..packs import announce, expand_specs

    try:
        ir = load_ir(expand_specs(args.paths) or default_packs())
        announce(ir.packs)
    except LoadError as exc:
        if args.format == "json":
            print_json({"ok": False, "findings": [d.to_json() for d in exc.diagnostics]})
        else:
            for d in exc.diagnostics:
                print(d, file=sys.stderr)
            print(f"{len(exc.diagnostics)} error(s)", file=sys.stderr)
        return EXIT_ERROR
    findings = lint_ir(ir)
    errors = [f for f in findings if f.severity == "error"]
    if args.format == "json":
        print_json(
            {"ok": not errors, "modules": len(ir.modules), "rules": len(ir.rules), "findings": [f.to_json() for f in findings]}
        )
    else:
        for f in findings:
            print(finding_line(f))
        print(
            f"{len(ir.modules)} module(s), {len(ir.rules)} rule(s): "
            f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)/note(s)"
        )
    return EXIT_FOUND if errors else EXIT_OK
