"""The Markdown report: the summary as tables, with the definitions of every figure."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from .classify import CLASSES

CLASS_TEXT = {
    "confirmed": "recorded, and the facts match the cited criterion",
    "unsupported": "recorded, but the facts do not match the cited criterion (nor a neighbouring one)",
    "miscited": "recorded, the cited criterion is not matched but a neighbouring one is (listed as *instead*)",
    "missed": "the facts match a criterion that no finding records",
    "undetermined": "the facts cannot decide the criterion (cited by a finding, or in force and not cited): not compliant",
    "superseded": "the cited criterion is not in force on the inspection date",
}


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def pct(value: Any) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _esc(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_esc(c) for c in r) + " |")
    return out


def render_markdown(summary: Dict[str, Any], title: str = "safetyrules audit") -> str:
    rec = summary["reconciliation"]
    m = summary["metrics"]
    d = summary["definitions"]
    lines = [f"# {title}", ""]
    inputs = ", ".join(f"`{i['path']}` ({i['format']})" for i in summary["audit"]["inputs"])
    packs = ", ".join(
        f"{p['name']} {p['version']}" + (" (third-party)" if p.get("third_party") else "") for p in summary["audit"]["rules"]
    )
    lines += [
        f"Inputs: {inputs}. Rules: {packs}; safetyrules {summary['audit']['library_version']}.",
        f"Inspection dates {summary['inspection_dates']['first'] or '–'} to {summary['inspection_dates']['last'] or '–'}; "
        f"report date **{summary['report_date'] or '–'}**"
        + (" (given)" if summary["audit"]["report_date_given"] else " (the latest inspection date)")
        + ".",
        "",
    ]
    lines += ["## Reconciliation", ""]
    lines += table(
        ["records in", "results", "errors", "reconciles"],
        [[fmt(rec["records_in"]), fmt(rec["results"]), fmt(rec["errors"]), "yes" if rec["reconciles"] else "**NO**"]],
    )
    if summary["errors_by_reason"]:
        lines += ["", "Error rows by reason:", ""]
        lines += table(["reason", "rows"], [[k, fmt(v)] for k, v in summary["errors_by_reason"].items()])
    lines += ["", "## Metrics", ""]
    rows = [
        ["inspections", fmt(m["inspections"]), d["inspections"]],
        ["recorded major hazards", fmt(m["recorded_major_hazards"]), d["recorded_major_hazards"]],
        ["recorded per 1000 inspections", fmt(m["recorded_per_1000"]), d["recorded_per_1000"]],
        ["confirmed per 1000 inspections", fmt(m["confirmed_per_1000"]), d["confirmed_per_1000"]],
        ["determined per 1000 inspections", fmt(m["determined_per_1000"]), d["determined_per_1000"]],
        ["rectification rate", pct(m["rectification_rate"]), d["rectification_rate"]],
        ["overdue open hazards", fmt(m["overdue_open"]), d["overdue_open"]],
    ]
    lines += table(["metric", "value", "definition"], rows)
    lines += ["", "## Classes", ""]
    lines += table(["class", "count", "meaning"], [[k, fmt(summary["classes"][k]), CLASS_TEXT[k]] for k in CLASSES])
    by_source = summary["classes_by_source"]
    if by_source:
        lines += [
            "",
            "By source (`finding`: a recorded finding; `rule`: a criterion no finding cites): "
            + ", ".join(f"{k} {fmt(v)}" for k, v in by_source.items())
            + ".",
        ]
    if m["findings_by_status"]:
        lines += [
            "",
            "Recorded findings by closed-loop status: "
            + ", ".join(f"{k} {fmt(v)}" for k, v in m["findings_by_status"].items())
            + ".",
        ]
    rect = summary.get("rectification") or {}
    if rect.get("findings"):
        from .rectification import RECT_CLASSES, RECT_TEXT

        lines += ["", "## 整改销号 checked against re-inspections", ""]
        lines += table(
            ["figure", "value"],
            [
                ["recorded major hazards", fmt(rect["findings"])],
                [
                    "recorded as rectified/closed",
                    f"{fmt(rect['recorded_rectified'])} ({pct(rect['recorded_rectification_rate'])})",
                ],
                ["verified rectification rate", pct(rect["verified_rectification_rate"])],
                ["closures borne out by a re-inspection", pct(rect["closure_verification_rate"])],
            ],
        )
        lines += [""]
        lines += table(["class", "findings", "meaning"], [[k, fmt(rect[k]), RECT_TEXT[k]] for k in RECT_CLASSES])
        for k in ("closed_still_present", "open_overdue"):
            rows = rect.get("examples", {}).get(k)
            if rows:
                lines += ["", f"{k} (the first {len(rows)}; all in rectification.jsonl):", ""]
                lines += table(
                    ["record", "finding", "site", "criterion", "deadline", "re-inspection", "days overdue"],
                    [
                        [
                            r["record_id"],
                            r.get("id", r["finding"]),
                            r.get("site_id", ""),
                            r["citation"],
                            r.get("deadline", ""),
                            r["evidence"]["record_id"] if r.get("evidence") else "",
                            r.get("days_overdue", ""),
                        ]
                        for r in rows
                    ],
                )
    for dim, heading in (
        ("by_industry", "By industry"),
        ("by_region", "By region"),
        ("by_month", "By month"),
        ("by_inspector", "By inspector"),
        ("by_site", "By site"),
    ):
        dim_rows: List[Dict[str, Any]] = summary.get(dim) or []
        if len(dim_rows) > 200:
            dim_rows = sorted(dim_rows, key=lambda r: (-(r["missed"] + r["unsupported"] + r["miscited"]), r["key"]))[:200]
            lines += ["", f"{heading}: the 200 with the most missed, unsupported and miscited; all in tables/{dim}.csv."]
        if not dim_rows:
            continue
        lines += ["", f"## {heading}", ""]
        headers = ["", "inspections", "recorded", "per 1000", "determined", *CLASSES]
        extra = dim == "by_industry"
        if extra:
            headers += ["rectification rate", "overdue open"]
        body = []
        for r in dim_rows:
            line = [r["key"], fmt(r["inspections"]), fmt(r["recorded"]), fmt(r["recorded_per_1000"]), fmt(r["matched"])]
            line += [fmt(r[k]) for k in CLASSES]
            if extra:
                line += [pct(r["rectification_rate"]), fmt(r["overdue_open"])]
            body.append(line)
        lines += table(headers, body)
    tops = summary["top_criteria"]
    for key, heading, field in (
        ("recorded", "Most frequently recorded criteria", "recorded"),
        ("determined", "Criteria most often met by the facts", "matched"),
        ("missed", "Most often missed", "missed"),
        ("unsupported", "Most often unsupported", "unsupported"),
    ):
        if not tops[key]:
            continue
        lines += ["", f"## {heading}", ""]
        lines += table(
            ["#", "criterion", "rule", "title", field],
            [[i + 1, e["citation"], f"`{e['rule']}`", e["title"], fmt(e[field])] for i, e in enumerate(tops[key])],
        )
    if summary["by_criterion"]:
        lines += ["", "## By criterion", ""]
        lines += table(
            ["rule", "citation", "version", "title", "recorded", "determined", *CLASSES],
            [
                [
                    f"`{e['rule']}`",
                    e["citation"],
                    e.get("module_version", ""),
                    e.get("title", ""),
                    fmt(e["recorded"]),
                    fmt(e["matched"]),
                ]
                + [fmt(e[k]) for k in CLASSES]
                for e in summary["by_criterion"]
            ],
        )
    if summary["error_examples"]:
        lines += ["", "## First error rows", ""]
        body = []
        for e in summary["error_examples"]:
            where = f"{e['source']}:{e.get('line', e.get('row'))}"
            body.append([where, e.get("record_id", ""), e["error"]["reason"], e["error"]["message"][:200]])
        lines += table(["where", "record", "reason", "message"], body)
    lines += ["", "## Definitions", ""]
    for k, v in d.items():
        lines.append(f"- **{k}**: {v}")
    return "\n".join(lines) + "\n"
