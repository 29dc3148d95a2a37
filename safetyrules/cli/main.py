"""The ``safetyrules`` command line: the parser assembled from one module per command, and the exit codes.

Exit codes (documented in the README and ``safetyrules --help``):

* 0 -- nothing found: every applicable criterion was decided and none matched
* 1 -- one or more major hazards found (or, for ``test``/``lint``, failures found)
* 2 -- usage or input error (bad rules, bad record, unreadable file)
* 3 -- no hazard matched, but some criteria are undetermined or no criteria were in force:
       undetermined is not compliant
* 70 -- an internal error (a bug): one line on standard error, the traceback with ``--debug``
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from .. import __version__
from ..errors import LoadError, SafetyRulesError
from . import audit, check, diff, docs, explain, fmt, ir, lint, listing, new, overlay, schema, serve, testing
from .common import EXIT_ERROR, EXIT_INTERNAL, EXIT_OK, Parser

#: the order of ``safetyrules --help``
COMMANDS = (check, lint, listing, testing, schema, explain, overlay, new, fmt, diff, docs, audit, serve, ir)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="safetyrules",
        description="China's major-accident-hazard criteria (重大事故隐患判定标准) as cited, executable rules.",
        epilog="Exit codes: 0 nothing found; 1 major hazard(s) found (test/lint: failures); "
        "2 usage or input error; 3 undetermined (facts missing) or no criteria in force; 70 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"safetyrules {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="compile the rules afresh instead of reading the compiled-rules cache (also SAFETYRULES_NO_CACHE=1)",
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    # Text from a record (a lone surrogate is valid JSON) must never stop the output half-way.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_cache:  # through the environment, so that the audit's worker processes honour it too
        os.environ["SAFETYRULES_NO_CACHE"] = "1"
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        code: int = args.func(args)
        return code
    except LoadError as exc:
        for d in exc.diagnostics:
            print(d, file=sys.stderr)
        print(f"safetyrules: {len(exc.diagnostics)} error(s) loading rules", file=sys.stderr)
        return EXIT_ERROR
    except SafetyRulesError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # an output path that cannot be written, a disk that is full
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"safetyrules: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, never as "hazards found"
        if args.debug:
            import traceback

            traceback.print_exc()
        print(
            f"safetyrules: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
