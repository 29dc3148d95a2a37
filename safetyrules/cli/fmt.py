"""``safetyrules fmt``: the canonical layout is ``safetyrules.fmt``; this command writes, checks or diffs files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..fmt import WIDTH
from .common import EXIT_ERROR, EXIT_FOUND, EXIT_OK


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "fmt", help="rewrite rule modules in the canonical layout (key order, quoting, folding), keeping comments"
    )
    p.add_argument("paths", nargs="+", metavar="MODULE|DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is not formatted")
    mode.add_argument("--diff", action="store_true", help="change nothing; print what would change")
    p.add_argument("--width", type=int, default=WIDTH, help=f"line width for folding long text (default {WIDTH})")
    p.set_defaults(func=cmd_fmt)


def cmd_fmt(args: argparse.Namespace) -> int:
    import difflib

    from ..fmt import FormatError, format_file, module_files

    files = module_files(args.paths)
    if not files:
        print("safetyrules: no module files given", file=sys.stderr)
        return EXIT_ERROR
    failed = changed = 0
    for path in files:
        try:
            before, after = format_file(path, args.width)
        except (FormatError, OSError) as exc:
            print(f"safetyrules: {exc}", file=sys.stderr)
            failed += 1
            continue
        if before == after:
            continue
        changed += 1
        if args.check:
            print(f"would reformat {path}")
        elif args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(before.splitlines(True), after.splitlines(True), path, path + " (formatted)")
            )
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(after)
            print(f"reformatted {path}")
    print(
        f"{len(files)} file(s): {changed} {'to reformat' if args.check or args.diff else 'reformatted'}, {failed} not formatted (see above)",
        file=sys.stderr,
    )
    if failed:
        return EXIT_ERROR
    return EXIT_FOUND if changed and args.check else EXIT_OK
