"""``safetyrules test``: the rule test cases stored beside the rules, their coverage and its gates."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Dict, List, Optional

from ..coverage_gates import KINDS, Gates
from ..errors import LoadError
from .common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, default_packs, print_json


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("test", help="run the rule test cases stored beside the rules, with coverage")
    p.add_argument("targets", nargs="*", metavar="PACK|DIR")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML")
    p.add_argument(
        "--min-coverage",
        type=float,
        metavar="PERCENT",
        help="fail when rule, condition or threshold coverage is lower (each can be set on its own below)",
    )
    add_gate_options(p)
    p.add_argument("--rules-only", action="store_true", help="skip condition and threshold coverage (faster)")
    p.add_argument("--show-uncovered", action="store_true")
    p.add_argument("--backend", choices=("native", "interpreter", "durable"), default="native")
    p.set_defaults(func=cmd_test)


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """The per-kind options (``--min-coverage`` itself is declared with the test command)."""
    for kind, what in (
        ("rule", "rules with matched, not_matched and undetermined cases"),
        ("condition", "elementary tests seen both true and false"),
        ("threshold", "numeric thresholds with a case exactly at the boundary"),
    ):
        parser.add_argument(
            f"--min-{kind}-coverage",
            type=float,
            metavar="PERCENT",
            help=f"fail when {kind} coverage ({what}) is lower; overrides --min-coverage for it",
        )


def gates_from_args(args: argparse.Namespace) -> Gates:
    """``--min-coverage`` sets all three gates; a per-kind option overrides it for its own kind."""
    base = getattr(args, "min_coverage", None)
    values: Dict[str, Optional[float]] = {}
    for kind in KINDS:
        own = getattr(args, f"min_{kind}_coverage", None)
        values[kind] = own if own is not None else base
    return Gates(**values)


def _outer_packs(target: str) -> List[str]:
    """The outermost packs under a folder (an outer pack includes its inner ones)."""
    import glob

    dirs = sorted(os.path.dirname(m) for m in glob.glob(os.path.join(target, "**", "pack.yaml"), recursive=True))
    return [d for d in dirs if not any(d != o and d.startswith(o + os.sep) for o in dirs)]


def cmd_test(args: argparse.Namespace) -> int:
    from ..coverage_gates import check_gates
    from ..loader import discover_packs, read_pack
    from ..packs import expand_specs
    from ..ruleset import load_rules
    from ..testing import run_cases

    targets = expand_specs(args.targets) or default_packs()
    gates = gates_from_args(args)
    known = None
    total_failed = 0
    summaries: List[Dict[str, Any]] = []
    expanded: List[str] = []
    for target in targets:
        if os.path.isdir(target) and not os.path.isfile(os.path.join(target, "pack.yaml")):
            outer = _outer_packs(target)
            if not outer:
                print(f"safetyrules: no pack (pack.yaml) under {target!r}", file=sys.stderr)
                return EXIT_ERROR
            expanded.extend(outer)
        else:
            expanded.append(target)
    for target in expanded:
        if os.path.isdir(target):
            pack_dir = target
        else:
            known = known if known is not None else discover_packs()
            if target not in known:
                from ..loader import entry_point_problems

                print(f"safetyrules: {entry_point_problems().get(target) or f'no pack or folder {target!r}'}", file=sys.stderr)
                return EXIT_ERROR
            pack_dir = known[target]
        src, diags = read_pack(pack_dir)
        if src is None:
            for d in diags:
                print(d, file=sys.stderr)
            return EXIT_ERROR
        try:
            rules = load_rules(pack_dir, backend=args.backend)
        except LoadError as exc:
            for d in exc.diagnostics:
                print(d, file=sys.stderr)
            print(f"{pack_dir}: the pack does not load; not tested", file=sys.stderr)
            return EXIT_ERROR
        run = run_cases(rules, src.pack.test_files)
        for d in run.diagnostics:
            print(d, file=sys.stderr)
        if run.diagnostics:
            return EXIT_ERROR
        coverage = run.coverage()
        percent = run.rule_coverage_percent()
        failed = run.failed
        detail = None
        if not args.rules_only:
            from ..testing import detailed_coverage

            detail = detailed_coverage(rules, run)
        total_failed += len(failed)
        summaries.append(
            {
                "pack": src.pack.name,
                "cases": len(run.results),
                "failed": len(failed),
                "rule_coverage_percent": round(percent, 2),
                "failures": [{"case": r.case.name, "location": str(r.case.location), "problems": r.failures} for r in failed],
                "uncovered": {rid: [o for o, ok in c.items() if not ok] for rid, c in coverage.items() if not all(c.values())},
                "case_names": [r.case.name for r in run.results],
                **(detail.to_json() if detail else {}),
            }
        )
        if args.format == "text":
            for r in failed:
                print(f"FAIL {r.case.location}: {r.case.name}")
                for p in r.failures:
                    print(f"    {p}")
            print(
                f"{src.pack.name}: {len(run.results) - len(failed)} passed, {len(failed)} failed; "
                f"rule coverage {percent:.1f}% ({sum(1 for c in coverage.values() if all(c.values()))}/{len(coverage)} rules "
                f"with matched, not_matched and undetermined cases)"
            )
            if detail:
                both, n_cond, at, n_thr = detail.counts()
                print(
                    f"    condition coverage {detail.condition_percent():.1f}% ({both}/{n_cond} tests seen true and false); "
                    f"threshold coverage {detail.threshold_percent():.1f}% ({at}/{n_thr} numeric thresholds with a case exactly at them)"
                )
            if args.show_uncovered:
                for rid, missing in summaries[-1]["uncovered"].items():
                    print(f"    uncovered {rid}: no {', '.join(missing)} case")
                if detail:
                    for line in detail.to_json()["conditions_not_seen_both_ways"]:
                        print(f"    condition {line}")
                    for line in detail.to_json()["thresholds_without_a_case_at_the_boundary"]:
                        print(f"    threshold {line}: no case exactly at the boundary")
        for message in check_gates(src.pack.name, gates, percent, detail):
            print(message, file=sys.stderr)
            total_failed += 1
    if args.format == "json":
        print_json({"packs": summaries, "ok": total_failed == 0})
    if args.junit:
        from ..junit import write_junit

        write_junit(args.junit, summaries)
    return EXIT_FOUND if total_failed else EXIT_OK
