"""The HTML report: one self-contained page an auditor can act on.

Layout: what needs action first (summary cards and a short list linking to the records), then the
整改销号 check, the classes, the criteria (citation, title and document version side by side) and the
breakdowns, then the drill-down records with each finding, the engine's determination and its
evidence. Tables sort (click a heading), filter (type in the box) and export as CSV (the button; the
same tables are written to OUTDIR/tables/ as files).

Self-contained: inline CSS, inline SVG charts and one small inline script; no external scripts,
fonts, images or links out, so it can be mailed or archived as one file. Without the script the page
still shows every table and every drill-down (as closed <details> that open on click).

Chinese: the font stack names the CJK system fonts of Windows, macOS, Linux and Android; a machine with
none of them shows boxes, so the page tests for a CJK glyph on load and then shows a note saying so
and how to fix it (the CSV exports and summary.json are UTF-8 and unaffected).
"""

from __future__ import annotations

import re
import unicodedata
from html import escape
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .classify import CLASSES, Row
from .rectification import RECT_CLASSES, RECT_TEXT
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
    "closed_still_present": "#c62828",
    "verified_closed": "#2e7d32",
    "closure_not_evidenced": "#ef6c00",
    "open_overdue": "#6a1b9a",
    "open": "#90a4ae",
}

#: CJK system fonts by platform, then generic families
FONT_STACK = (
    'system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",'
    '"Noto Sans SC","Source Han Sans SC","WenQuanYi Micro Hei","Droid Sans Fallback",sans-serif'
)

CSS = (
    """
*{box-sizing:border-box}
body{font-family:%s;margin:0;color:#212121;line-height:1.4}
header,main{max-width:80rem;margin:0 auto;padding:0 1rem}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;z-index:5;padding:.4rem 1rem;font-size:.9rem}
nav a{margin-right:.9rem;color:#1565c0;text-decoration:none;white-space:nowrap}
h1{font-size:1.5rem;margin:1rem 0 .3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;font-size:.82rem;width:100%%}
td,th{border:1px solid #e0e0e0;padding:.2rem .45rem;text-align:right;vertical-align:top;overflow-wrap:anywhere}
th{background:#f5f5f5;position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
td.l,th.l{text-align:left}td.t{text-align:left;min-width:14rem}
.bad{color:#c62828;font-weight:bold}.ok{color:#2e7d32;font-weight:bold}.warn{color:#ef6c00;font-weight:bold}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #ddd;border-radius:6px;padding:.45rem .75rem;min-width:10.5rem;flex:0 1 auto}
.card b{display:block;font-size:1.35rem}.card span{font-size:.78rem;color:#555}.card.alert{border-color:#c62828}
.muted{color:#666;font-size:.85rem}.tag{display:inline-block;font-size:.72rem;padding:0 .35rem;border-radius:3px;background:#eceff1;color:#37474f;white-space:nowrap}
.tw{margin:.4rem 0 1rem}.tools{display:flex;gap:.5rem;align-items:center;margin:.2rem 0;font-size:.82rem}
.tools input{font:inherit;padding:.15rem .35rem;min-width:16rem}.tools button{font:inherit;padding:.1rem .5rem}
.scroll{max-height:30rem;overflow:auto;border:1px solid #eee}
.bar{display:inline-block;height:.7rem;vertical-align:middle;margin-right:.3rem}
details{border:1px solid #e0e0e0;border-radius:4px;margin:.35rem 0;padding:.2rem .6rem}
details[open]{background:#fcfcfc}summary{cursor:pointer;font-weight:600}
.rec{border-top:1px solid #eee;padding:.4rem 0}.rec:first-of-type{border-top:0}
.ev{margin:.1rem 0 0 1rem;padding:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.75rem;list-style:none;white-space:pre-wrap}
.fontnote{display:none;background:#fff3e0;border:1px solid #ef6c00;padding:.4rem .7rem;margin:.6rem 0;font-size:.85rem}
ul.actions li{margin:.2rem 0}
svg text{font-size:11px;fill:#333}
@media print{nav,.tools{display:none}.scroll{max-height:none;overflow:visible}details{display:block}}
"""
    % FONT_STACK
)

SCRIPT = r"""
(function(){
function num(t){var s=t.replace(/[,\s%]/g,'');if(s===''||s==='–')return null;var n=Number(s);return isNaN(n)?null:n;}
function cellv(td){return td.hasAttribute('data-v')?td.getAttribute('data-v'):td.textContent;}
document.querySelectorAll('table.st').forEach(function(tb){
 tb.querySelectorAll('thead th').forEach(function(th,i){th.addEventListener('click',function(){
  var asc=!th.classList.contains('sorted-asc');tb.querySelectorAll('thead th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
  th.classList.add(asc?'sorted-asc':'sorted-desc');var body=tb.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){var x=cellv(a.cells[i]),y=cellv(b.cells[i]),nx=num(x),ny=num(y),r;
   if(nx!==null&&ny!==null)r=nx-ny;else if(nx!==null)r=-1;else if(ny!==null)r=1;else r=x.localeCompare(y,'zh');return asc?r:-r;});
  rows.forEach(function(r){body.appendChild(r);});});});});
document.querySelectorAll('input[data-filter]').forEach(function(inp){
 var tb=document.getElementById(inp.getAttribute('data-filter'));var out=inp.parentNode.querySelector('.count');
 function run(){var q=inp.value.trim().toLowerCase().split(/\s+/).filter(Boolean);var n=0;
  Array.prototype.forEach.call(tb.tBodies[0].rows,function(r){var t=r.textContent.toLowerCase();
   var ok=q.every(function(w){return t.indexOf(w)>=0;});r.style.display=ok?'':'none';if(ok)n++;});
  out.textContent=n+' of '+tb.tBodies[0].rows.length+' rows';}
 inp.addEventListener('input',run);run();});
document.querySelectorAll('button[data-csv]').forEach(function(b){b.addEventListener('click',function(){
 var tb=document.getElementById(b.getAttribute('data-csv'));var lines=[];
 Array.prototype.forEach.call(tb.rows,function(r){if(r.style.display==='none')return;
  lines.push(Array.prototype.map.call(r.cells,function(c){var v=cellv(c).replace(/[▲▼]/g,'').trim();
   return /[",\n]/.test(v)?'"'+v.replace(/"/g,'""')+'"':v;}).join(','));});
 var blob=new Blob(['\ufeff'+lines.join('\n')+'\n'],{type:'text/csv;charset=utf-8'});var a=document.createElement('a');
 a.download=b.getAttribute('data-name')+'.csv';a.href=URL.createObjectURL(blob);document.body.appendChild(a);a.click();
 setTimeout(function(){URL.revokeObjectURL(a.href);a.remove();},0);});});
function openTarget(){var id=decodeURIComponent(location.hash.slice(1));if(!id)return;var el=document.getElementById(id);
 if(!el)return;for(var p=el;p;p=p.parentElement){if(p.tagName==='DETAILS')p.open=true;}el.scrollIntoView();}
window.addEventListener('hashchange',openTarget);openTarget();
try{var c=document.createElement('canvas');c.width=c.height=24;var g=c.getContext('2d');
 function shot(ch){g.clearRect(0,0,24,24);g.font='20px '+getComputedStyle(document.body).fontFamily;g.fillText(ch,0,20);
  return g.getImageData(0,0,24,24).data.join(',');}
 if(shot('\u4e2d')===shot('\u4e01'))document.getElementById('fontnote').style.display='block';}catch(e){}
})();
"""


def _h(value: Any) -> str:
    return escape(str(value), quote=True)


def _anchor(kind: str, key: str) -> str:
    return f"dd-{kind}-{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}"


def _text_width(text: str, px: float = 11) -> float:
    """Approximate rendered width: wide (CJK) characters take a full em, others about 0.6 em."""
    return sum(px if unicodedata.east_asian_width(ch) in "WF" else px * 0.6 for ch in text)


def bar_chart(
    items: Sequence[Tuple[str, float]],
    color: str = "#455a64",
    width: int = 640,
    label_width: Optional[int] = None,
    title: str = "",
) -> str:
    """Horizontal bars, one per item (label, value). The label column is as wide as the longest label:
    labels are never clipped."""
    if label_width is None:
        label_width = int(max((_text_width(str(label)) for label, _ in items), default=40)) + 12
    row = 20
    height = max(row * len(items) + 10, 30)
    avail = max(width - 80, 120)
    top = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + avail + 80}" height="{height}" role="img" aria-label="{_h(title)}">'
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max(avail * value / top, 0.5 if value else 0)
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{_h(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>')
        parts.append(f'<text x="{label_width + w + 4:.1f}" y="{y + 13}">{_h(fmt(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    keys: Sequence[str], series: Sequence[Tuple[str, Sequence[float], str]], height: int = 200, title: str = ""
) -> str:
    """Grouped columns over ``keys`` (months), one colour per series, with a legend."""
    if not keys:
        return ""
    n = len(series)
    group = max(18, min(60, 700 // max(len(keys), 1)))
    bar = max(group // (n + 1), 3)
    left, bottom, top_pad = 50, 44, 24
    width = left + group * len(keys) + 40
    peak = max((max(vals) if vals else 0) for _, vals, _ in series) or 1
    plot = height - bottom - top_pad
    legend = left + sum(14 + _text_width(name) + 16 for name, _, _ in series)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(max(width, 320, legend))}" height="{height}" role="img" aria-label="{_h(title)}">'
    ]
    parts.append(f'<line x1="{left}" y1="{top_pad + plot}" x2="{width - 10}" y2="{top_pad + plot}" stroke="#999"/>')
    parts.append(f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end">{_h(fmt(peak))}</text>')
    parts.append(f'<text x="{left - 4}" y="{top_pad + plot}" text-anchor="end">0</text>')
    for i, key in enumerate(keys):
        x0 = left + i * group + 2
        for j, (name, vals, color) in enumerate(series):
            v = vals[i]
            h = plot * v / peak
            parts.append(
                f'<rect x="{x0 + j * bar}" y="{top_pad + plot - h:.1f}" width="{bar - 1}" height="{h:.1f}" fill="{color}"><title>{_h(key)} {_h(name)}: {_h(fmt(v))}</title></rect>'
            )
        if len(keys) <= 24 or i % max(len(keys) // 12, 1) == 0:
            parts.append(
                f'<text x="{x0}" y="{top_pad + plot + 14}" transform="rotate(30 {x0} {top_pad + plot + 14})">{_h(key)}</text>'
            )
    lx: float = left
    for name, _, color in series:
        parts.append(f'<rect x="{lx}" y="4" width="10" height="10" fill="{color}"/><text x="{lx + 14}" y="13">{_h(name)}</text>')
        lx += 14 + _text_width(name) + 16
    parts.append("</svg>")
    return "".join(parts)


class Cell:
    """A table cell: shown HTML, a sort value, and alignment."""

    __slots__ = ("html", "sort", "left")

    def __init__(self, html: str, sort: Any = None, left: bool = False):
        self.html, self.sort, self.left = html, sort, left


def _num(v: Any) -> Cell:
    return Cell(_h(fmt(v)), "" if v is None else v)


def _pct(v: Any) -> Cell:
    return Cell(_h(pct(v)), "" if v is None else v)


def _txt(v: Any) -> Cell:
    return Cell(_h("" if v is None else v), None, True)


def table(tid: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]], note: str = "") -> str:
    """A sortable, filterable table with a CSV button; ``tid`` is also its CSV name in OUTDIR/tables/."""
    left = [all(r[i].left for r in rows) if rows else False for i in range(len(headers))]
    out = [
        f'<div class="tw"><div class="tools"><input type="search" data-filter="t-{_h(tid)}" placeholder="filter rows…" '
        f'aria-label="filter {_h(tid)}"><button type="button" data-csv="t-{_h(tid)}" data-name="{_h(tid)}">CSV</button>'
        f'<span class="count muted">{len(rows)} rows</span>' + (f'<span class="muted">{note}</span>' if note else "") + "</div>"
    ]
    out.append(f'<div class="scroll"><table class="st" id="t-{_h(tid)}"><thead><tr>')
    for i, h in enumerate(headers):
        out.append(f'<th class="{"l" if left[i] else ""}">{_h(h)}</th>')
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for c in r:
            cls = ' class="t"' if c.left else ""
            sv = f' data-v="{_h(c.sort)}"' if c.sort is not None and c.sort != "" else ""
            out.append(f"<td{cls}{sv}>{c.html}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div></div>")
    return "".join(out)


def _criterion(e: Dict[str, Any], link: bool = True) -> Cell:
    """Citation, title and the document version: one label that says which text is meant."""
    version = e.get("module_version") or ""
    cite = _h(e.get("citation") or e["rule"])
    if link:
        cite = f'<a href="#{_anchor("rule", e["rule"])}">{cite}</a>'
    html = (
        f'{cite} <span class="tag" title="module {_h(e.get("module", ""))}">{_h(version)}</span>'
        f'<br><span class="muted">{_h(e.get("title") or "")}</span>'
    )
    return Cell(html, f"{e.get('citation', '')} {version}", True)


def _class_link(klass: str, n: int) -> Cell:
    if not n:
        return _num(n)
    return Cell(f'<a href="#{_anchor("class", klass)}">{_h(fmt(n))}</a>', n)


def render_html(summary: Dict[str, Any], title: str = "safetyrules audit") -> str:
    rec = summary["reconciliation"]
    m = summary["metrics"]
    rect = summary.get("rectification") or {}
    drill = summary.get("drilldown") or {}
    crit_by_rule = {e["rule"]: e for e in summary["by_criterion"]}
    nav = [
        ("summary", "Summary"),
        ("rectification", "整改销号 / rectification"),
        ("classes", "Classes"),
        ("criteria", "Criteria"),
        ("breakdowns", "Breakdowns"),
        ("records", "Records"),
        ("errors", "Errors"),
        ("definitions", "Definitions"),
    ]
    body: List[str] = [
        '<nav aria-label="sections">' + "".join(f'<a href="#{k}">{_h(v)}</a>' for k, v in nav) + "</nav>",
        "<header>",
        f"<h1>{_h(title)}</h1>",
    ]
    inputs = ", ".join(f"<code>{_h(i['path'])}</code> ({_h(i['format'])})" for i in summary["audit"]["inputs"])
    packs = ", ".join(
        f"{_h(p['name'])} {_h(p['version'])}" + (" (third-party)" if p.get("third_party") else "")
        for p in summary["audit"]["rules"]
    )
    body.append(
        f'<p class="muted">Inputs: {inputs}. Rules: {packs}; safetyrules {_h(summary["audit"]["library_version"])}. '
        f"Inspection dates {_h(summary['inspection_dates']['first'] or '–')} to {_h(summary['inspection_dates']['last'] or '–')}; "
        f"report date <b>{_h(summary['report_date'] or '–')}</b>"
        + (" (given)" if summary["audit"]["report_date_given"] else " (the latest inspection date)")
        + ".</p>"
    )
    body.append(
        '<div id="fontnote" class="fontnote" role="note">This page holds Chinese text (citations, titles), and this '
        "computer seems to have no Chinese (CJK) font, so it may show boxes. Install one — e.g. Noto Sans CJK SC "
        "(Debian/Ubuntu: <code>fonts-noto-cjk</code>), Microsoft YaHei or PingFang SC come with Windows and macOS — "
        "or read the same tables in the CSV files beside this page (OUTDIR/tables/, UTF-8).</div>"
    )
    body.append("</header><main>")

    # ---------------------------------------------------------------- summary: what needs action
    ok = rec["reconciles"]
    classes = summary["classes"]
    body.append('<h2 id="summary">Summary</h2>')
    body.append(
        f"<p>records in <b>{fmt(rec['records_in'])}</b> = results <b>{fmt(rec['results'])}</b> + errors <b>{fmt(rec['errors'])}</b>: "
        f'<span class="{"ok" if ok else "bad"}">{"reconciles" if ok else "DOES NOT RECONCILE"}</span></p>'
    )
    cards = [
        ("inspections", fmt(m["inspections"]), False),
        ("recorded major hazards", fmt(m["recorded_major_hazards"]), False),
        ("recorded per 1000 inspections", fmt(m["recorded_per_1000"]), False),
        ("confirmed per 1000 inspections", fmt(m["confirmed_per_1000"]), False),
        ("determined per 1000 inspections", fmt(m["determined_per_1000"]), False),
        ("rectification rate (recorded)", pct(m["rectification_rate"]), False),
        ("rectification rate (verified by re-inspection)", pct(m.get("verified_rectification_rate")), True),
        ("overdue open hazards", fmt(m["overdue_open"]), bool(m["overdue_open"])),
    ]
    body.append(
        '<div class="cards">'
        + "".join(
            f'<div class="card{" alert" if alert else ""}"><b>{_h(v)}</b><span>{_h(k)}</span></div>' for k, v, alert in cards
        )
        + "</div>"
    )
    actions = []
    if classes["missed"]:
        actions.append(
            f'<a href="#{_anchor("class", "missed")}">{fmt(classes["missed"])} missed</a> major hazards: the facts match a criterion no finding records'
        )
    if classes["unsupported"]:
        actions.append(
            f'<a href="#{_anchor("class", "unsupported")}">{fmt(classes["unsupported"])} unsupported</a> findings: the facts do not match the cited criterion'
        )
    if classes["miscited"]:
        actions.append(
            f'<a href="#{_anchor("class", "miscited")}">{fmt(classes["miscited"])} miscited</a> findings: a neighbouring criterion is the one matched'
        )
    if classes["superseded"]:
        actions.append(
            f'<a href="#{_anchor("class", "superseded")}">{fmt(classes["superseded"])} superseded</a> findings cite a text not in force on the inspection date'
        )
    if rect.get("closed_still_present"):
        actions.append(
            f'<a href="#rect-closed_still_present">{fmt(rect["closed_still_present"])} closed but still present</a>: a re-inspection of the same site still matches the criterion'
        )
    if rect.get("open_overdue"):
        actions.append(f'<a href="#rect-open_overdue">{fmt(rect["open_overdue"])} open and overdue</a> major hazards')
    if rect.get("closure_not_evidenced"):
        actions.append(
            f'<a href="#rect-closure_not_evidenced">{fmt(rect["closure_not_evidenced"])} closures not evidenced</a> by a re-inspection'
        )
    if classes["undetermined"]:
        actions.append(
            f'<a href="#{_anchor("class", "undetermined")}">{fmt(classes["undetermined"])} undetermined</a>: facts not recorded that would decide a criterion (not compliant)'
        )
    if rec["errors"]:
        actions.append(f'<a href="#errors">{fmt(rec["errors"])} error rows</a> were not audited (see their reasons)')
    if actions:
        body.append('<h3>Needs action</h3><ul class="actions">' + "".join(f"<li>{a}</li>" for a in actions) + "</ul>")
    else:
        body.append('<p class="ok">Nothing needs action: every finding is confirmed and nothing was missed.</p>')

    # ---------------------------------------------------------------- rectification
    body.append('<h2 id="rectification">整改销号 checked against re-inspections <span class="muted">(rectification)</span></h2>')
    if rect.get("findings"):
        body.append(
            f"<p>{fmt(rect['findings'])} recorded major hazards; {fmt(rect['recorded_rectified'])} recorded as rectified/closed "
            f"(<b>{pct(rect['recorded_rectification_rate'])}</b>), {fmt(rect['verified_closed'])} of them borne out by a "
            f"re-inspection of the same site (<b>{pct(rect['verified_rectification_rate'])}</b> of all; "
            f"{pct(rect['closure_verification_rate'])} of the closures).</p>"
        )
        body.append(bar_chart([(k, rect[k]) for k in RECT_CLASSES], "#455a64", title="findings by rectification class"))
        body.append(
            table(
                "rectification_classes",
                ["class", "findings", "meaning"],
                [
                    [
                        _txt(k),
                        Cell(
                            f'<a href="#rect-{k}">{_h(fmt(rect[k]))}</a>'
                            if rect[k] and k in rect.get("examples", {})
                            else _h(fmt(rect[k])),
                            rect[k],
                        ),
                        _txt(RECT_TEXT[k]),
                    ]
                    for k in RECT_CLASSES
                ],
            )
        )
        if rect.get("not_evidenced_reasons"):
            body.append(
                table(
                    "closure_not_evidenced_reasons",
                    ["why not evidenced", "findings"],
                    [[_txt(k), _num(v)] for k, v in rect["not_evidenced_reasons"].items()],
                )
            )
        body.append("<h3>By industry</h3>")
        body.append(
            table(
                "rectification_by_industry",
                ["industry", "findings", *RECT_CLASSES, "recorded rate", "verified rate"],
                [
                    [_txt(r["key"]), _num(r["findings"])]
                    + [_num(r[k]) for k in RECT_CLASSES]
                    + [_pct(r["recorded_rectification_rate"]), _pct(r["verified_rectification_rate"])]
                    for r in rect["by_industry"]
                ],
            )
        )
        for k in ("closed_still_present", "open_overdue", "closure_not_evidenced"):
            rows = rect.get("examples", {}).get(k)
            if not rows:
                continue
            shown = f"the first {len(rows)} of {fmt(rect[k])}" if len(rows) < rect[k] else f"all {fmt(rect[k])}"
            body.append(
                f'<details id="rect-{k}"><summary>{_h(k)}: {shown} (all in rectification.jsonl and tables/rectification.csv)</summary>'
            )
            body.append(
                table(
                    f"rect_{k}",
                    [
                        "finding",
                        "site",
                        "criterion",
                        "status",
                        "deadline",
                        "closed on",
                        "re-inspection",
                        "outcome",
                        "reason / days overdue",
                    ],
                    [
                        [
                            _txt(f"{r['record_id']} #{r['finding']}" + (f" ({r['id']})" if r.get("id") else "")),
                            _txt(r.get("site_id", "")),
                            _criterion({**crit_by_rule.get(r["rule"], {}), "rule": r["rule"], "citation": r["citation"]}),
                            _txt(r["status"]),
                            _txt(r.get("deadline", "")),
                            _txt(r.get("closed_on") or ""),
                            _txt(
                                f"{r['evidence']['record_id']} ({r['evidence']['inspection_date']})" if r.get("evidence") else ""
                            ),
                            _txt(r["evidence"]["outcome"] if r.get("evidence") else ""),
                            _txt(r.get("reason") or (f"{r['days_overdue']} days" if "days_overdue" in r else "")),
                        ]
                        for r in rows
                    ],
                )
            )
            body.append("</details>")
    else:
        body.append('<p class="muted">No recorded findings: nothing to check.</p>')

    # ---------------------------------------------------------------- classes
    body.append('<h2 id="classes">Classes</h2>')
    body.append(bar_chart([(k, classes[k]) for k in CLASSES], "#455a64", title="findings and rules by class"))
    body.append(
        table(
            "classes",
            ["class", "count", "meaning"],
            [[_txt(k), _class_link(k, classes[k]), _txt(CLASS_TEXT[k])] for k in CLASSES],
        )
    )

    # ---------------------------------------------------------------- criteria
    body.append('<h2 id="criteria">Criteria</h2>')
    tops = summary["top_criteria"]
    for key, heading, field, color in (
        ("missed", "Most often missed", "missed", COLORS["missed"]),
        ("unsupported", "Most often unsupported", "unsupported", COLORS["unsupported"]),
        ("recorded", "Most frequently recorded", "recorded", COLORS["recorded"]),
        ("determined", "Most often met by the facts", "matched", COLORS["matched"]),
    ):
        if not tops[key]:
            continue
        peak = max(e[field] for e in tops[key]) or 1
        body.append(f"<h3>{heading}</h3>")
        body.append(
            table(
                f"top_{key}",
                ["#", "criterion", field],
                [
                    [
                        _num(i + 1),
                        _criterion({**crit_by_rule.get(e["rule"], {}), **e}),
                        Cell(
                            f'<span class="bar" style="width:{6 * e[field] / peak:.2f}rem;background:{color}"></span>{_h(fmt(e[field]))}',
                            e[field],
                        ),
                    ]
                    for i, e in enumerate(tops[key])
                ],
            )
        )
    if summary["by_criterion"]:
        body.append(f"<h3>Every criterion met, recorded or undetermined ({len(summary['by_criterion'])})</h3>")
        body.append(
            table(
                "by_criterion",
                ["criterion", "rule", "recorded", "determined", *CLASSES],
                [
                    [_criterion(e), _txt(e["rule"]), _num(e["recorded"]), _num(e["matched"])] + [_num(e[k]) for k in CLASSES]
                    for e in summary["by_criterion"]
                ],
            )
        )

    # ---------------------------------------------------------------- breakdowns
    body.append('<h2 id="breakdowns">Breakdowns</h2>')
    months = summary["by_month"]
    if months:
        body.append("<h3>By month</h3>")
        body.append(
            column_chart(
                [r["key"] for r in months],
                [
                    ("inspections", [r["inspections"] for r in months], COLORS["inspections"]),
                    ("recorded", [r["recorded"] for r in months], COLORS["recorded"]),
                    ("determined", [r["matched"] for r in months], COLORS["matched"]),
                ],
                title="by month",
            )
        )
    for dim, heading in (
        ("by_month", "By month"),
        ("by_industry", "By industry"),
        ("by_region", "By region"),
        ("by_inspector", "By inspector"),
        ("by_site", "By site / enterprise"),
    ):
        rows = summary.get(dim) or []
        if not rows:
            continue
        note = ""
        if len(rows) > 500:  # the page stays small; every row is in tables/<dim>.csv
            rows = sorted(rows, key=lambda r: (-(r["missed"] + r["unsupported"] + r["miscited"]), -r["recorded"], r["key"]))[:500]
            note = f"the 500 with the most missed, unsupported and miscited of {fmt(len(summary[dim]))}; all in tables/{dim}.csv"
        if dim != "by_month":
            body.append(f"<h3>{heading}</h3>")
        body.append(_dim_table(dim, rows, dim == "by_industry", note))

    # ---------------------------------------------------------------- drill-down
    body.append('<h2 id="records">Records</h2>')
    body.append(
        '<p class="muted">The first records of each class and of each criterion, with each finding as recorded, the '
        "engine's determination of its criterion and the evidence (the tests and the values they read). "
        "<code>safetyrules explain RECORD --rule ID</code> traces any other.</p>"
    )
    for k in CLASSES:
        samples = drill.get(f"class:{k}")
        if samples:
            body.append(
                _drill(
                    _anchor("class", k),
                    f"class {k}: the first {len(samples)} records of {fmt(classes[k])}",
                    samples,
                    k,
                    crit_by_rule,
                )
            )
    crit_samples = [(key[5:], v) for key, v in drill.items() if key.startswith("rule:")]
    if crit_samples:
        body.append("<h3>By criterion</h3>")
        order = {e["rule"]: i for i, e in enumerate(summary["by_criterion"])}
        for rule, samples in sorted(crit_samples, key=lambda kv: order.get(kv[0], 1 << 30)):
            e = crit_by_rule.get(rule, {"rule": rule, "citation": rule})
            label = f"{e.get('citation') or rule} [{e.get('module_version', '')}] {e.get('title', '')}"
            body.append(_drill(_anchor("rule", rule), label, samples, None, crit_by_rule, rule))

    # ---------------------------------------------------------------- errors, definitions
    body.append('<h2 id="errors">Errors</h2>')
    if summary["errors_by_reason"]:
        body.append(
            table(
                "errors_by_reason", ["error reason", "rows"], [[_txt(k), _num(v)] for k, v in summary["errors_by_reason"].items()]
            )
        )
    if summary["error_examples"]:
        body.append("<h3>First error rows</h3>")
        body.append(
            table(
                "error_examples",
                ["where", "record", "reason", "message"],
                [
                    [
                        _txt(f"{e['source']}:{e.get('line', e.get('row'))}"),
                        _txt(e.get("record_id", "")),
                        _txt(e["error"]["reason"]),
                        _txt(e["error"]["message"][:300]),
                    ]
                    for e in summary["error_examples"]
                ],
            )
        )
    if not rec["errors"]:
        body.append('<p class="ok">No error rows.</p>')
    body.append('<h2 id="definitions">Definitions</h2><dl>')
    for k, v in summary["definitions"].items():
        body.append(f"<dt><b>{_h(k)}</b></dt><dd>{_h(v)}</dd>")
    for k in CLASSES:
        body.append(f"<dt><b>{_h(k)}</b></dt><dd>{_h(CLASS_TEXT[k])}</dd>")
    for k in RECT_CLASSES:
        body.append(f"<dt><b>{_h(k)}</b></dt><dd>{_h(RECT_TEXT[k])}</dd>")
    body.append("</dl></main>")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_h(title)}</title><style>{CSS}</style></head>'
        "<body>" + "\n".join(body) + f"<script>{SCRIPT}</script></body></html>\n"
    )


def _drill(
    anchor: str, label: str, samples: List[Row], klass: Optional[str], crit_by_rule: Mapping[str, Row], rule: Optional[str] = None
) -> str:
    out = [f'<details id="{anchor}"><summary>{_h(label)}</summary>']
    for s in samples:
        who = " · ".join(
            _h(x)
            for x in (
                s.get("site_id") and f"site {s['site_id']}",
                s.get("inspector") and f"inspector {s['inspector']}",
                s.get("region"),
            )
            if x
        )
        out.append(
            f'<div class="rec"><b>{_h(s["record_id"])}</b> <span class="muted">{_h(s["where"])} · {_h(s["inspection_date"])} · '
            f"{_h(s['industry'])}{' · ' + who if who else ''} · status {_h(s.get('status', ''))}</span><ul>"
        )
        for e in s["entries"]:
            if (klass and e["class"] != klass) or (rule and e["rule"] != rule):
                continue
            c = crit_by_rule.get(e["rule"], {})
            if e["source"] == "finding":
                f = e.get("finding", {})
                rec = (
                    f"finding #{_h(f.get('finding'))}"
                    + (f" ({_h(f['id'])})" if f.get("id") else "")
                    + f": cites {_h(f.get('cited') or e['citation'])}"
                    + (f", status {_h(f['status'])}" if f.get("status") else "")
                    + (f", deadline {_h(f['deadline'])}" if f.get("deadline") else "")
                )
            else:
                rec = "no finding records it" if e["class"] == "missed" else "no finding cites it"
            extra = ""
            if e.get("instead"):
                extra += f" — matched instead: <code>{_h(e['instead'])}</code>"
            if e.get("current"):
                extra += f" — in force instead: <code>{_h(e['current'])}</code>"
            if e.get("reason"):
                extra += f" — {_h(e['reason'])}"
            out.append(
                f'<li><span class="tag" style="background:{COLORS.get(e["class"], "#eceff1")};color:#fff">{_h(e["class"])}</span> '
                f'{_h(e["citation"])} <span class="tag">{_h(c.get("module_version", ""))}</span> <code>{_h(e["rule"])}</code><br>'
                f"recorded: {rec}{extra}<br>engine: <b>{_h(e.get('outcome', ''))}</b> — {_h(e.get('why', ''))}"
                + (
                    '<ul class="ev">' + "".join(f"<li>{_h(line)}</li>" for line in e.get("evidence", ())) + "</ul>"
                    if e.get("evidence")
                    else ""
                )
                + "</li>"
            )
        out.append("</ul></div>")
    out.append("</details>")
    return "".join(out)


def _dim_table(dim: str, rows: List[Row], closed_loop: bool, note: str = "") -> str:
    headers = ["", "inspections", "recorded", "per 1000", "determined", *CLASSES]
    if closed_loop:
        headers += ["rectification rate", "overdue open"]
    body = []
    for r in rows:
        line = [_txt(r["key"]), _num(r["inspections"]), _num(r["recorded"]), _num(r["recorded_per_1000"]), _num(r["matched"])]
        line += [_num(r[k]) for k in CLASSES]
        if closed_loop:
            line += [_pct(r["rectification_rate"]), _num(r["overdue_open"])]
        body.append(line)
    return table(dim, headers, body, note)
