"""What every command shares: exit codes, the parser class, option types, JSON output, loading rules.

Kept in one place so that two commands never disagree on an exit code or on what ``--rules`` means.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import IO, TYPE_CHECKING, Any, List, NoReturn, Optional, Sequence

if TYPE_CHECKING:
    from ..ruleset import RuleSet

EXIT_OK, EXIT_FOUND, EXIT_ERROR, EXIT_UNDETERMINED = 0, 1, 2, 3
#: sysexits.h EX_SOFTWARE: never 0 (clean), 1 (hazards found), 2 (bad input) or 3 (undetermined)
EXIT_INTERNAL = 70


def default_packs() -> List[str]:
    """The shipped packs (a record is judged by the modules of its own industry). Installed third-party
    packs join only when named, or with ``--rules all`` (see ``safetyrules.packs``)."""
    from ..packs import shipped_pack_names

    return shipped_pack_names()


class Parser(argparse.ArgumentParser):
    """argparse's own exit code for a usage error is 2, as ours is; this only keeps the message to one line."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"safetyrules: error: {message}\n")


def date_arg(text: str) -> date:
    """An ISO date option; a bad one is a usage error naming the text, not a traceback."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def positive_int(text: str) -> int:
    """An option that counts something (jobs, workers, bytes): a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def add_rules_option(parser: argparse.ArgumentParser) -> None:
    """``--rules`` as check, list, explain and schema read it (audit and diff word their default their own way)."""
    parser.add_argument(
        "--rules",
        action="append",
        metavar="PACK|PATH",
        help="packs (by name), pack folders or module files; repeat or comma-separate (default: the shipped packs; "
        "'all': every shipped and installed pack)",
    )


def rules_specs(args: argparse.Namespace) -> List[str]:
    """The --rules options, each possibly comma-separated, as one list."""
    specs: List[str] = []
    for item in args.rules or []:
        specs.extend(s for s in item.split(",") if s)
    return specs


def print_json(value: Any, stream: Optional[IO[str]] = None) -> None:
    """Indented and not ASCII-escaped: the output is read by people as often as by programs, in Chinese."""
    stream = stream or sys.stdout
    stream.write(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def load(specs: Sequence[str], backend: str = "native") -> "RuleSet":
    """The rule set of ``specs`` (the shipped packs when empty), telling stderr which third-party packs joined."""
    from ..packs import announce, expand_specs
    from ..ruleset import load_rules

    rules = load_rules(expand_specs(specs) or default_packs(), backend=backend)
    announce(rules.packs)
    return rules


def add_presumptions_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-presumptions",
        dest="presumptions",
        action="store_false",
        help="strict mode: exceptions do not read unrecorded facts as presumed, so the rules they could except stay undetermined",
    )
