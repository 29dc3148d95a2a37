"""The HTML report: one self-contained page (inline CSS and SVG charts; no scripts, fonts or links out)."""

from __future__ import annotations

from html import escape
from typing import Any, Dict, List, Sequence, Tuple

from .classify import CLASSES
from .report_md import CLASS_TEXT, fmt, pct

COLORS = {
    "confirmed": "#2e7d32",
    "unsupported": "#c62828",
    "miscited": "#ef6c00",
    "missed": "#6a1b9a",
    "undetermined": "#757575",
    "superseded": "#1565c0",
    "inspections": "#90a4ae",
    "recorded": "#c62828",
    "matched": "#37474f",
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#212121}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f5f5f5}td.l,th.l{text-align:left}.bad{color:#c62828;font-weight:bold}.ok{color:#2e7d32;font-weight:bold}
.cards{display:flex;flex-wrap:wrap;gap:.75rem}.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:10rem}
.card b{display:block;font-size:1.4rem}.card span{font-size:.8rem;color:#555}dl dt{font-weight:bold;margin-top:.4rem}dl dd{margin-left:1rem}
svg text{font-size:11px;fill:#333}.muted{color:#666;font-size:.85rem}
"""


def _h(value: Any) -> str:
    return escape(str(value), quote=True)


def bar_chart(items: Sequence[Tuple[str, float]], color: str = "#455a64", width: int = 640, label_width: int = 260, title: str = "") -> str:
    """Horizontal bars, one per item (label, value)."""
    if not items:
        return ""
    row = 20
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1
    avail = width - label_width - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{_h(title)}">']
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max(avail * value / top, 0.5 if value else 0)
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end"><title>{_h(label)}</title>{_h(short)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>')
        parts.append(f'<text x="{label_width + w + 4:.1f}" y="{y + 13}">{_h(fmt(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(keys: Sequence[str], series: Sequence[Tuple[str, Sequence[float], str]], height: int = 200, title: str = "") -> str:
    """Grouped columns over ``keys`` (months), one colour per series, with a legend."""
    if not keys:
        return ""
    n = len(series)
    group = max(18, min(60, 700 // max(len(keys), 1)))
    bar = max(group // (n + 1), 3)
    left, bottom, top_pad = 50, 40, 24
    width = left + group * len(keys) + 20
    peak = max((max(vals) if vals else 0) for _, vals, _ in series) or 1
    plot = height - bottom - top_pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{max(width, 320)}" height="{height}" role="img" aria-label="{_h(title)}">']
    parts.append(f'<line x1="{left}" y1="{top_pad + plot}" x2="{width - 10}" y2="{top_pad + plot}" stroke="#999"/>')
    parts.append(f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end">{_h(fmt(peak))}</text>')
    parts.append(f'<text x="{left - 4}" y="{top_pad + plot}" text-anchor="end">0</text>')
    for i, key in enumerate(keys):
        x0 = left + i * group + 2
        for j, (name, vals, color) in enumerate(series):
            v = vals[i]
            h = plot * v / peak
            parts.append(f'<rect x="{x0 + j * bar}" y="{top_pad + plot - h:.1f}" width="{bar - 1}" height="{h:.1f}" fill="{color}"><title>{_h(key)} {_h(name)}: {_h(fmt(v))}</title></rect>')
        if len(keys) <= 24 or i % max(len(keys) // 12, 1) == 0:
            parts.append(f'<text x="{x0}" y="{top_pad + plot + 14}" transform="rotate(30 {x0} {top_pad + plot + 14})">{_h(key)}</text>')
    lx = left
    for name, _, color in series:
        parts.append(f'<rect x="{lx}" y="4" width="10" height="10" fill="{color}"/><text x="{lx + 14}" y="13">{_h(name)}</text>')
        lx += 14 + 8 * len(name) + 16
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: List[Sequence[Any]], left: Sequence[int] = (0,)) -> str:
    out = ["<table><thead><tr>"]
    for i, h in enumerate(headers):
        out.append(f'<th class="{"l" if i in left else ""}">{_h(h)}</th>')
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="{"l" if i in left else ""}">{_h(c)}</td>' for i, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_html(summary: Dict[str, Any], title: str = "safetyrules audit") -> str:
    rec = summary["reconciliation"]
    m = summary["metrics"]
    d = summary["definitions"]
    body: List[str] = [f"<h1>{_h(title)}</h1>"]
    inputs = ", ".join(f"<code>{_h(i['path'])}</code> ({_h(i['format'])})" for i in summary["audit"]["inputs"])
    packs = ", ".join(f"{_h(p['name'])} {_h(p['version'])}" + (" (third-party)" if p.get("third_party") else "") for p in summary["audit"]["rules"])
    body.append(f'<p class="muted">Inputs: {inputs}. Rules: {packs}; safetyrules {_h(summary["audit"]["library_version"])}. '
                f'Inspection dates {_h(summary["inspection_dates"]["first"] or "–")} to {_h(summary["inspection_dates"]["last"] or "–")}; '
                f'report date <b>{_h(summary["report_date"] or "–")}</b>'
                + (" (given)" if summary["audit"]["report_date_given"] else " (the latest inspection date)") + ".</p>")
    ok = rec["reconciles"]
    body.append("<h2>Reconciliation</h2>")
    body.append(f'<p>records in <b>{fmt(rec["records_in"])}</b> = results <b>{fmt(rec["results"])}</b> + errors <b>{fmt(rec["errors"])}</b>: '
                f'<span class="{"ok" if ok else "bad"}">{"reconciles" if ok else "DOES NOT RECONCILE"}</span></p>')
    if summary["errors_by_reason"]:
        body.append(_table(["error reason", "rows"], [[k, fmt(v)] for k, v in summary["errors_by_reason"].items()]))
    body.append("<h2>Metrics</h2><div class=\"cards\">")
    cards = [
        ("inspections", fmt(m["inspections"])),
        ("recorded major hazards", fmt(m["recorded_major_hazards"])),
        ("recorded per 1000 inspections", fmt(m["recorded_per_1000"])),
        ("confirmed per 1000 inspections", fmt(m["confirmed_per_1000"])),
        ("determined per 1000 inspections", fmt(m["determined_per_1000"])),
        ("rectification rate", pct(m["rectification_rate"])),
        ("overdue open hazards", fmt(m["overdue_open"])),
    ]
    for label, value in cards:
        body.append(f'<div class="card"><b>{_h(value)}</b><span>{_h(label)}</span></div>')
    body.append("</div>")
    body.append("<h2>Classes</h2>")
    body.append(bar_chart([(k, summary["classes"][k]) for k in CLASSES], "#455a64", title="findings and rules by class"))
    body.append(_table(["class", "count", "meaning"], [[k, fmt(summary["classes"][k]), CLASS_TEXT[k]] for k in CLASSES], left=(0, 2)))
    months = summary["by_month"]
    if months:
        body.append("<h2>By month</h2>")
        keys = [r["key"] for r in months]
        body.append(column_chart(keys, [("inspections", [r["inspections"] for r in months], COLORS["inspections"]),
                                        ("recorded", [r["recorded"] for r in months], COLORS["recorded"]),
                                        ("determined", [r["matched"] for r in months], COLORS["matched"])], title="by month"))
        body.append(_dim_table(months, False))
    for dim, heading in (("by_industry", "By industry"), ("by_region", "By region")):
        rows = summary[dim]
        if not rows:
            continue
        body.append(f"<h2>{heading}</h2>")
        body.append(bar_chart([(r["key"], r["recorded_per_1000"] or 0) for r in rows], COLORS["recorded"], title=f"recorded per 1000, {heading}"))
        body.append(_dim_table(rows, dim == "by_industry"))
    tops = summary["top_criteria"]
    for key, heading, field, color in (("recorded", "Most frequently recorded criteria", "recorded", COLORS["recorded"]),
                                       ("determined", "Criteria most often met by the facts", "matched", COLORS["matched"]),
                                       ("missed", "Most often missed", "missed", COLORS["missed"]),
                                       ("unsupported", "Most often unsupported", "unsupported", COLORS["unsupported"])):
        if not tops[key]:
            continue
        body.append(f"<h2>{heading}</h2>")
        body.append(bar_chart([(e["citation"] or e["rule"], e[field]) for e in tops[key]], color, width=820, label_width=440, title=heading))
        body.append(_table(["#", "criterion", "rule", "title", field],
                           [[i + 1, e["citation"], e["rule"], e["title"], fmt(e[field])] for i, e in enumerate(tops[key])], left=(1, 2, 3)))
    if summary["by_criterion"]:
        body.append("<h2>By criterion</h2>")
        body.append(_table(["rule", "citation", "recorded", "determined", *CLASSES],
                           [[e["rule"], e["citation"], fmt(e["recorded"]), fmt(e["matched"])] + [fmt(e[k]) for k in CLASSES]
                            for e in summary["by_criterion"]], left=(0, 1)))
    if summary["error_examples"]:
        body.append("<h2>First error rows</h2>")
        body.append(_table(["where", "record", "reason", "message"],
                           [[f"{e['source']}:{e.get('line', e.get('row'))}", e.get("record_id", ""), e["error"]["reason"], e["error"]["message"][:300]]
                            for e in summary["error_examples"]], left=(0, 1, 2, 3)))
    body.append("<h2>Definitions</h2><dl>")
    for k, v in d.items():
        body.append(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>")
    for k in CLASSES:
        body.append(f"<dt>{_h(k)}</dt><dd>{_h(CLASS_TEXT[k])}</dd>")
    body.append("</dl>")
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{_h(title)}</title><style>{CSS}</style></head>"
            "<body>" + "\n".join(body) + "</body></html>\n")


def _dim_table(rows: List[dict], closed_loop: bool) -> str:
    headers = ["", "inspections", "recorded", "per 1000", "determined", *CLASSES]
    if closed_loop:
        headers += ["rectification rate", "overdue open"]
    body = []
    for r in rows:
        line = [r["key"], fmt(r["inspections"]), fmt(r["recorded"]), fmt(r["recorded_per_1000"]), fmt(r["matched"])]
        line += [fmt(r[k]) for k in CLASSES]
        if closed_loop:
            line += [pct(r["rectification_rate"]), fmt(r["overdue_open"])]
        body.append(line)
    return _table(headers, body)
