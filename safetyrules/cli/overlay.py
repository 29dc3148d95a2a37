"""``safetyrules overlay-report``: what each provincial supplement changes in the national criteria."""

from __future__ import annotations

import argparse
from typing import Any

from .common import EXIT_OK, default_packs, print_json


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("overlay-report", help="show exactly what each provincial supplement changes")
    p.add_argument("paths", nargs="*", metavar="RULES")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_overlay_report)


def cmd_overlay_report(args: argparse.Namespace) -> int:
    from ..compiler import load_ir
    from ..overlays import overlay_report, render_text

    report = overlay_report(load_ir(args.paths or default_packs()))
    if args.format == "json":
        print_json(report)
    else:
        print(render_text(report))
    return EXIT_OK
