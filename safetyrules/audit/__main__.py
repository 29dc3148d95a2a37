"""``python -m safetyrules.audit INPUT -o OUTDIR ...``: the audit subcommand on its own."""

import sys

from ..cli import _Parser
from .cli import add_audit_parser


def main(argv=None) -> int:
    from ..cli import EXIT_ERROR
    from ..errors import LoadError, SafetyRulesError

    parser = _Parser(prog="safetyrules", description="python -m safetyrules.audit: the audit subcommand on its own")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    add_audit_parser(sub)
    args = parser.parse_args(["audit", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
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


if __name__ == "__main__":
    sys.exit(main())
