"""The ``safetyrules`` command line.

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
import json
import os
import sys
from datetime import date
from typing import List, Optional, Sequence

from . import __version__
from .errors import LoadError, RecordError, SafetyRulesError

EXIT_OK, EXIT_FOUND, EXIT_ERROR, EXIT_UNDETERMINED = 0, 1, 2, 3
#: sysexits.h EX_SOFTWARE: never 0 (clean), 1 (hazards found), 2 (bad input) or 3 (undetermined)
EXIT_INTERNAL = 70


def default_packs() -> List[str]:
    """The shipped packs (a record is judged by the modules of its own industry). Installed third-party
    packs join only when named, or with ``--rules all`` (see ``safetyrules.packs``)."""
    from .packs import shipped_pack_names

    return shipped_pack_names()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 with usage: keep that, but no traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"safetyrules: error: {message}\n")


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _print_json(value, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def _load(specs: Sequence[str], backend: str = "native"):
    from .ruleset import load_rules

    from .packs import announce, expand_specs

    rules = load_rules(expand_specs(specs) or default_packs(), backend=backend)
    announce(rules.packs)
    return rules


def rules_specs(args) -> List[str]:
    """The --rules options, each possibly comma-separated, as one list."""
    specs: List[str] = []
    for item in args.rules or []:
        specs.extend(s for s in item.split(",") if s)
    return specs


# ------------------------------------------------------------------------------------------ check

def cmd_check(args) -> int:
    from .inputs import InputError, read_records

    rules = _load(rules_specs(args), args.backend)
    worst = EXIT_OK
    outputs = []
    try:
        for path in args.records:
            for raw in read_records(path):
                if raw.error:
                    print(f"{raw.source}: {raw.error}", file=sys.stderr)
                    worst = max(worst, EXIT_ERROR)
                    if args.format != "text":  # every input line yields an output line
                        outputs.append({"source": raw.source, "error": {"record_id": None, "errors": [{"path": "$", "message": raw.error}]}})
                    continue
                try:
                    report = rules.evaluate(raw.value, as_of=args.as_of, jurisdiction=args.jurisdiction)
                except RecordError as exc:
                    for p, m in exc.problems:
                        print(f"{raw.source}: {p}: {m}", file=sys.stderr)
                    worst = max(worst, EXIT_ERROR)
                    if args.format != "text":
                        outputs.append({"source": raw.source, "error": exc.to_json()})
                    continue
                code = {"major_hazard_found": EXIT_FOUND, "no_major_hazard_found": EXIT_OK}.get(report.status, EXIT_UNDETERMINED)
                worst = _combine(worst, code)
                if args.format == "text":
                    print(render_text(report, verbose=args.verbose))
                else:
                    outputs.append(report.to_json())
    except InputError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        _print_json(outputs[0] if len(outputs) == 1 else outputs)
    elif args.format == "jsonl":
        for o in outputs:
            sys.stdout.write(json.dumps(o, ensure_ascii=False) + "\n")
    return worst


def _combine(a: int, b: int) -> int:
    """The exit code for several records: an error beats a finding beats undetermined beats clean."""
    rank = {EXIT_OK: 0, EXIT_UNDETERMINED: 1, EXIT_FOUND: 2, EXIT_ERROR: 3}
    return a if rank[a] >= rank[b] else b


def render_text(report, verbose: bool = False) -> str:
    status = {
        "major_hazard_found": f"MAJOR HAZARD FOUND ({len(report.determinations)})",
        "undetermined": "NO HAZARD MATCHED, BUT UNDETERMINED (not compliant: facts missing)",
        "no_major_hazard_found": "no major hazard found",
        "no_applicable_criteria": "NO CRITERIA APPLIED (see notices)",
    }[report.status]
    lines = [f"record {report.record_id}  inspected {report.inspection_date.isoformat()}"
             + (f"  judged as of {report.as_of.isoformat()}" if report.as_of != report.inspection_date else "")
             + f"  — {status}"]
    for m in report.modules_applied:
        lines.append(f"  module {m['id']}: 《{m['document']['title']}》{m['document']['number']}")
    for m in report.modules_not_applicable:
        lines.append(f"  module {m['id']}: not applicable ({m['reason']}: {m['scope']})")
    for n in report.notices:
        lines.append(f"  notice [{n.code}] {n.message}")
    if report.determinations:
        lines.append("  major hazards 重大事故隐患:")
    for d in report.determinations:
        item = f" [{d.list_name} {d.item}]" if d.item is not None else ""
        lines.append(f"    ✗ {d.citation['rendered']}{item}")
        lines.append(f"      {d.title['zh']} — {d.title['en']}  ({d.rule_id})")
        for e in d.evidence:
            values = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in e.values)
            test = e.expr if e.result is True else f"not ({e.expr})"
            lines.append(f"      because {test}  [{values}]")
    if report.undetermined:
        lines.append(f"  undetermined 无法判定 ({len(report.undetermined)}): record these facts to decide")
        shown = report.undetermined if verbose else report.undetermined[:15]
        for u in shown:
            needs = ", ".join(u.needs[:6]) + (" …" if len(u.needs) > 6 else "")
            lines.append(f"    ? {u.citation['rendered']}  needs: {needs}")
        if len(shown) < len(report.undetermined):
            lines.append(f"    … {len(report.undetermined) - len(shown)} more (use --verbose or --format json)")
    lines.append(f"  not matched: {len(report.not_matched)}   not applicable: {len(report.not_applicable)}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ lint / list / test / schema

def cmd_lint(args) -> int:
    from .compiler import load_ir
    from .lint import lint_ir

    try:
        from .packs import announce, expand_specs

        ir = load_ir(expand_specs(args.paths) or default_packs())
        announce(ir.packs)
    except LoadError as exc:
        if args.format == "json":
            _print_json({"ok": False, "findings": [d.to_json() for d in exc.diagnostics]})
        else:
            for d in exc.diagnostics:
                print(d, file=sys.stderr)
            print(f"{len(exc.diagnostics)} error(s)", file=sys.stderr)
        return EXIT_ERROR
    findings = lint_ir(ir)
    errors = [f for f in findings if f.severity == "error"]
    if args.format == "json":
        _print_json({"ok": not errors, "modules": len(ir.modules), "rules": len(ir.rules), "findings": [f.to_json() for f in findings]})
    else:
        for f in findings:
            print(f)
        print(f"{len(ir.modules)} module(s), {len(ir.rules)} rule(s): "
              f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)/note(s)")
    return EXIT_FOUND if errors else EXIT_OK


def cmd_list(args) -> int:
    rules = _load(args.packs or rules_specs(args))
    modules = []
    for cm in rules.ir.modules:
        m = cm.module
        entry = m.summary_json()
        entry["rules"] = [
            {
                "id": r.id,
                "title": r.rule.title.to_json(),
                "citation": r.rule.citation.to_json(),
                "category": r.rule.category.id if r.rule.category else None,
            }
            for r in cm.rules
        ]
        modules.append(entry)
    if args.format == "json":
        _print_json({"packs": [p.to_json() for p in rules.packs], "modules": modules})
        return EXIT_OK
    for industry in rules.ir.industries.values():
        attributes = f"; site attributes: {', '.join(industry.attributes)}" if industry.attributes else ""
        print(f"industry {industry.id}: {industry.name.zh} ({industry.name.en}), pack {industry.pack}{attributes}")
    for entry in modules:
        until = entry["effective_until"] or "…"
        print(f"{entry['id']}  {entry['effective_from']} – {until}  《{entry['document']['title']}》{entry['document']['number']}  ({len(entry['rules'])} rules)")
        if args.verbose:
            for r in entry["rules"]:
                print(f"    {r['id']}  {r['citation']['locator']}  {r['title']['zh']}")
    return EXIT_OK


def cmd_test(args) -> int:
    from .loader import discover_packs, read_pack
    from .ruleset import load_rules
    from .testing import run_cases

    from .coverage_gates import Gates, check_gates

    from .packs import expand_specs

    targets = expand_specs(args.targets) or default_packs()
    gates = Gates.from_args(args)
    known = None
    total_failed = 0
    summaries = []
    expanded = []
    for target in targets:
        if os.path.isdir(target) and not os.path.isfile(os.path.join(target, "pack.yaml")):
            # a folder of packs: each outermost pack (an outer pack includes its inner ones)
            import glob

            dirs = sorted(os.path.dirname(m) for m in glob.glob(os.path.join(target, "**", "pack.yaml"), recursive=True))
            outer = [d for d in dirs if not any(d != o and d.startswith(o + os.sep) for o in dirs)]
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
                from .loader import entry_point_problems

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
            from .testing import detailed_coverage

            detail = detailed_coverage(rules, run)
        total_failed += len(failed)
        summaries.append({
            "pack": src.pack.name,
            "cases": len(run.results),
            "failed": len(failed),
            "rule_coverage_percent": round(percent, 2),
            "failures": [
                {"case": r.case.name, "location": str(r.case.location), "problems": r.failures} for r in failed
            ],
            "uncovered": {rid: [o for o, ok in c.items() if not ok] for rid, c in coverage.items() if not all(c.values())},
            "case_names": [r.case.name for r in run.results],
            **(detail.to_json() if detail else {}),
        })
        if args.format == "text":
            for r in failed:
                print(f"FAIL {r.case.location}: {r.case.name}")
                for p in r.failures:
                    print(f"    {p}")
            print(f"{src.pack.name}: {len(run.results) - len(failed)} passed, {len(failed)} failed; "
                  f"rule coverage {percent:.1f}% ({sum(1 for c in coverage.values() if all(c.values()))}/{len(coverage)} rules "
                  f"with matched, not_matched and undetermined cases)")
            if detail:
                both, n_cond, at, n_thr = detail.counts()
                print(f"    condition coverage {detail.condition_percent():.1f}% ({both}/{n_cond} tests seen true and false); "
                      f"threshold coverage {detail.threshold_percent():.1f}% ({at}/{n_thr} numeric thresholds with a case exactly at them)")
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
        _print_json({"packs": summaries, "ok": total_failed == 0})
    if args.junit:
        from .junit import write_junit

        write_junit(args.junit, summaries)
    return EXIT_FOUND if total_failed else EXIT_OK


def cmd_explain(args) -> int:
    from .explain import explain, render_text
    from .inputs import read_records

    rules = _load(rules_specs(args))
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
        _print_json(trace)
    else:
        print(render_text(trace))
    return EXIT_OK


def cmd_overlay_report(args) -> int:
    from .compiler import load_ir
    from .overlays import overlay_report, render_text

    report = overlay_report(load_ir(args.paths or default_packs()))
    if args.format == "json":
        _print_json(report)
    else:
        print(render_text(report))
    return EXIT_OK


def cmd_schema(args) -> int:
    if args.kind == "module":
        from .loader import module_schema

        _print_json(module_schema())
        return EXIT_OK
    if args.kind == "result":
        from .schemas import result_schema

        _print_json(result_schema())
        return EXIT_OK
    from .schemas import record_schema

    rules = _load(rules_specs(args))
    _print_json(record_schema(rules.ir, args.as_of, args.industry))
    return EXIT_OK


# ------------------------------------------------------------------------------------------ main

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="safetyrules",
        description="China's major-accident-hazard criteria (重大事故隐患判定标准) as cited, executable rules.",
        epilog="Exit codes: 0 nothing found; 1 major hazard(s) found (test/lint: failures); "
        "2 usage or input error; 3 undetermined (facts missing) or no criteria in force; 70 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"safetyrules {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def rules_option(p):
        p.add_argument("--rules", action="append", metavar="PACK|PATH",
                       help="packs (by name), pack folders or module files; repeat or comma-separate (default: the shipped packs; "
                            "'all': every shipped and installed pack)")

    p = sub.add_parser("check", help="evaluate inspection records")
    p.add_argument("records", nargs="+", metavar="RECORD",
                   help="JSON, JSON Lines (.jsonl) or YAML files; - reads JSON or JSON Lines from standard input")
    rules_option(p)
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text")
    p.add_argument("--as-of", type=_date_arg, help="judge by the versions in force on this date instead of the inspection date")
    p.add_argument("--jurisdiction", metavar="CODE", help="apply this province's supplements (e.g. CN-NM); default: the record's site.region")
    p.add_argument("--backend", choices=("native", "interpreter", "durable"), default="native")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("lint", help="load rule modules and report schema, type and consistency problems")
    p.add_argument("paths", nargs="*", metavar="RULES")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("list", help="list modules and rules with their citations and effective dates")
    p.add_argument("packs", nargs="*", metavar="PACK")
    rules_option(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("test", help="run the rule test cases stored beside the rules, with coverage")
    p.add_argument("targets", nargs="*", metavar="PACK|DIR")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML")
    p.add_argument("--min-coverage", type=float, metavar="PERCENT",
                   help="fail when rule, condition or threshold coverage is lower (each can be set on its own below)")
    from .coverage_gates import add_gate_options

    add_gate_options(p)
    p.add_argument("--rules-only", action="store_true", help="skip condition and threshold coverage (faster)")
    p.add_argument("--show-uncovered", action="store_true")
    p.add_argument("--backend", choices=("native", "interpreter", "durable"), default="native")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("schema", help="print the JSON Schema of rule modules, inspection records or results")
    p.add_argument("kind", choices=("module", "record", "result"))
    rules_option(p)
    p.add_argument("--as-of", type=_date_arg, help="only the modules in force on this date")
    p.add_argument("--industry", help="only this industry's vocabulary (e.g. coal_mine)")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("explain", help="trace one rule on one record: every sub-condition, its values and truth")
    p.add_argument("record", metavar="RECORD")
    p.add_argument("--rule", required=True, metavar="ID")
    rules_option(p)
    p.add_argument("--as-of", type=_date_arg)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("overlay-report", help="show exactly what each provincial supplement changes")
    p.add_argument("paths", nargs="*", metavar="RULES")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_overlay_report)

    from .scaffold import add_new_parser

    add_new_parser(sub)
    from .fmt import add_fmt_parser

    add_fmt_parser(sub)
    from .revision_diff import add_diff_parser

    add_diff_parser(sub)

    from .checklist import add_docs_parser

    add_docs_parser(sub)

    from .audit.cli import add_audit_parser

    add_audit_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    # Text from a record (a lone surrogate is valid JSON) must never stop the output half-way.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
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
        print(f"safetyrules: internal error: {type(exc).__name__}: {exc} "
              "(rerun with --debug for the traceback, and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
