"""``safetyrules check``: records judged, as text for a person or JSON for a program, and one exit code."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from ..errors import RecordError
from .common import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_OK,
    EXIT_UNDETERMINED,
    add_presumptions_option,
    add_rules_option,
    date_arg,
    load,
    rules_specs,
)

if TYPE_CHECKING:
    from ..report import Report


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("check", help="evaluate inspection records")
    p.add_argument(
        "records",
        nargs="+",
        metavar="RECORD",
        help="JSON, JSON Lines (.jsonl) or YAML files; - reads JSON or JSON Lines from standard input",
    )
    add_rules_option(p)
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text")
    p.add_argument("--as-of", type=date_arg, help="judge by the versions in force on this date instead of the inspection date")
    p.add_argument(
        "--jurisdiction", metavar="CODE", help="apply this province's supplements (e.g. CN-NM); default: the record's site.region"
    )
    p.add_argument("--backend", choices=("native", "interpreter", "durable"), default="native")
    add_presumptions_option(p)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from ..inputs import InputError, read_records

    rules = load(rules_specs(args), args.backend)
    worst = EXIT_OK
    out = _Output(args.format, _Discard() if args.format != "text" and _unreadable(args.records[1:]) else sys.stdout)
    try:
        for path in args.records:
            for raw in read_records(path):
                if raw.error:
                    print(f"{raw.source}: {raw.error}", file=sys.stderr)
                    worst = max(worst, EXIT_ERROR)
                    if args.format != "text":  # every input line yields an output line
                        out.add(
                            {"source": raw.source, "error": {"record_id": None, "errors": [{"path": "$", "message": raw.error}]}}
                        )
                    continue
                try:
                    report = rules.evaluate(
                        raw.value, as_of=args.as_of, jurisdiction=args.jurisdiction, presumptions=args.presumptions
                    )
                except RecordError as exc:
                    for p, m in exc.problems:
                        print(f"{raw.source}: {p}: {m}", file=sys.stderr)
                    worst = max(worst, EXIT_ERROR)
                    if args.format != "text":
                        out.add({"source": raw.source, "error": exc.to_json()})
                    continue
                code = {"major_hazard_found": EXIT_FOUND, "no_major_hazard_found": EXIT_OK}.get(report.status, EXIT_UNDETERMINED)
                worst = _combine(worst, code)
                if args.format == "text":
                    print(render_text(report, verbose=args.verbose))
                else:
                    out.add(report.to_json())
    except InputError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return EXIT_ERROR
    out.finish()
    return worst


class _Writer(Protocol):
    def write(self, text: str, /) -> int: ...


class _Discard:
    def write(self, text: str, /) -> int:
        return len(text)


def _unreadable(paths: Sequence[str]) -> bool:
    """Whether one of these record files cannot be read at all (``InputError``): the command then ends
    with exit code 2 and, in JSON and JSON Lines, writes nothing on standard output. Results are written
    as they are made, so the files after the first are tried before any is written (a JSON or YAML file
    is read twice; a JSON Lines file only opened). Standard input (``-``) cannot be read twice and is
    not tried: when it is not the first input and cannot be read, the results before it stay written."""
    from ..inputs import InputError, read_records

    for path in paths:
        if path == "-":
            continue
        try:
            for _ in read_records(path):
                break  # the first record read: the file as a whole could be read
        except InputError:
            return True
    return False


class _Output:
    """The JSON outputs of ``check``, each written as it is made, in the bytes the command has always
    written: JSON Lines one line per result; JSON the object itself for one result, otherwise an array
    (``print_json`` of the list: each item is its own indented text, two spaces further in, which is
    safe as JSON text holds no raw newline inside a string). Only the first result waits for the second."""

    def __init__(self, fmt: str, stream: _Writer) -> None:
        self.format = fmt
        self.stream = stream
        self.count = 0
        self.first: Any = None

    def add(self, value: Any) -> None:
        if self.format == "jsonl":
            self.stream.write(json.dumps(value, ensure_ascii=False) + "\n")
        elif self.count == 0:
            self.first = value
        else:
            if self.count == 1:
                self.stream.write("[\n  " + _in_array(self.first))
                self.first = None
            self.stream.write(",\n  " + _in_array(value))
        self.count += 1

    def finish(self) -> None:
        if self.format != "json":
            return
        if self.count < 2:
            self.stream.write(_pretty(self.first if self.count else []) + "\n")
        else:
            self.stream.write("\n]\n")


def _pretty(value: Any) -> str:
    """As ``print_json`` writes it."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False)


def _in_array(value: Any) -> str:
    return _pretty(value).replace("\n", "\n  ")


def _combine(a: int, b: int) -> int:
    """The exit code for several records: an error beats a finding beats undetermined beats clean."""
    rank = {EXIT_OK: 0, EXIT_UNDETERMINED: 1, EXIT_FOUND: 2, EXIT_ERROR: 3}
    return a if rank[a] >= rank[b] else b


def render_text(report: "Report", verbose: bool = False) -> str:
    """What an inspector reads first: the verdict, then each hazard with its citation and the values that decided it."""
    status = {
        "major_hazard_found": f"MAJOR HAZARD FOUND ({len(report.determinations)})",
        "undetermined": "NO HAZARD MATCHED, BUT UNDETERMINED (not compliant: facts missing)",
        "no_major_hazard_found": "no major hazard found",
        "no_applicable_criteria": "NO CRITERIA APPLIED (see notices)",
    }[report.status]
    lines = [
        f"record {report.record_id}  inspected {report.inspection_date.isoformat()}"
        + (f"  judged as of {report.as_of.isoformat()}" if report.as_of != report.inspection_date else "")
        + f"  — {status}"
    ]
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
        if d.decided_by == "inspector_finding" and d.finding is not None:
            note = f": {d.finding['note']}" if d.finding.get("note") else ""
            relied = f" [relied on: {'; '.join(d.finding['evidence'])}]" if d.finding.get("evidence") else ""
            lines.append(
                f"      by inspector's finding{note}{relied} — facts that would decide it: {', '.join(d.finding['needs'])}"
            )
        for e in d.evidence:
            values = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in e.values)
            test = e.expr if e.result is True else f"not ({e.expr})"
            lines.append(f"      because {test}  [{values}]")
        for p in d.presumptions:
            lines.append(
                f"      presumed: {p.fact}={json.dumps(p.value)} (not recorded), ruling out {p.exception['zh']} — {p.reason['zh']}"
            )
    if report.undetermined:
        lines.append(f"  undetermined 无法判定 ({len(report.undetermined)}): record these facts to decide")
        shown = report.undetermined if verbose else report.undetermined[:15]
        for u in shown:
            needs = ", ".join(u.needs[:6]) + (" …" if len(u.needs) > 6 else "")
            lines.append(f"    ? {u.citation['rendered']}  needs: {needs}")
        if len(shown) < len(report.undetermined):
            lines.append(f"    … {len(report.undetermined) - len(shown)} more (use --verbose or --format json)")
    if report.absent_by_finding:
        lines.append(f"  not matched by inspector's finding (facts missing): {', '.join(report.absent_by_finding)}")
    for f in report.contradictions:
        item = f" [{f.finding.item}]" if f.finding.item is not None else ""
        lines.append(
            f"  ! the inspector found {f.finding.rule_id}{item} {f.finding.finding}, but the recorded facts decide it {f.facts_outcome}"
        )
    lines.append(f"  not matched: {len(report.not_matched)}   not applicable: {len(report.not_applicable)}")
    if not report.engine.get("presumptions", True):
        lines.append("  strict: no presumptions (an exception that reads an unrecorded fact leaves its rule undetermined)")
    return "\n".join(lines)
