"""The checklist as one self-contained, printable HTML page (inline CSS; no scripts, fonts, images or
style sheets fetched from anywhere): formats the view model, decides nothing."""

from __future__ import annotations

import html
import re
from typing import Callable, List, Optional, Sequence, Tuple

from ..ir import RuleSetIR
from .view import NO_ITEMS, CategoryView, DerivedLine, FactLine, ItemView, ModuleView, Notice, Span, _one_line, build_view

_CSS = """
:root { --ink: #1a1a1a; --muted: #5a5a5a; --line: #c8c8c8; --warn: #8a4b00; --warn-bg: #fff4e0; --code-bg: #f4f4f4; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem; color: var(--ink); line-height: 1.55;
       font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "SimSun", sans-serif; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 .2rem; padding-top: .6rem; border-top: 3px solid var(--ink); }
h3 { font-size: 1.12rem; margin: 1.6rem 0 .2rem; border-bottom: 1px solid var(--line); }
h4 { font-size: 1rem; margin: 0 0 .1rem; }
.en { color: var(--muted); font-style: italic; margin: 0 0 .6rem; }
.intro { border-left: 4px solid var(--line); padding: .3rem .8rem; margin: 1rem 0; }
.warn { color: var(--warn); background: var(--warn-bg); border-left: 4px solid var(--warn); padding: .35rem .7rem; margin: .5rem 0; }
.badge { color: #fff; background: var(--warn); border-radius: 3px; padding: 0 .35rem; font-size: .8rem; font-weight: bold; white-space: nowrap; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: .6rem 0; font-size: .92rem; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
.item { border: 1px solid var(--line); border-radius: 4px; padding: .6rem .8rem; margin: .8rem 0; break-inside: avoid; page-break-inside: avoid; }
.item.unverified { border-color: var(--warn); border-width: 2px; }
.box { display: inline-block; width: 1em; height: 1em; border: 1.5px solid var(--ink); margin-right: .4rem; vertical-align: -0.12em; }
.rid { color: var(--muted); font-size: .82rem; }
.field { font-weight: bold; }
ul { margin: .15rem 0 .35rem; padding-left: 1.3rem; }
code, pre { font-family: "Noto Sans Mono CJK SC", "DejaVu Sans Mono", Consolas, monospace; font-size: .88em; background: var(--code-bg); }
code { padding: 0 .2rem; border-radius: 2px; }
pre { padding: .4rem .6rem; margin: .3rem 0; white-space: pre-wrap; word-break: break-word; border-radius: 3px; }
.desc { color: var(--muted); }
nav.toc ul { list-style: none; padding-left: 0; }
nav.toc li { margin: .15rem 0; }
a { color: inherit; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav.toc { page-break-after: always; }
  section.module > h2 { page-break-before: always; break-before: page; border-top: none; }
  h2, h3, h4 { page-break-after: avoid; break-after: avoid; }
  a { text-decoration: none; }
}
""".strip()


#: appends one line to the output
Write = Callable[[str], None]


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _c(text: str) -> str:
    return f"<code>{_e(_one_line(text))}</code>"


def _anchor(kind: str, ident: str) -> str:
    return kind + "-" + re.sub(r"[^A-Za-z0-9._-]", "_", ident)


#: the header rows HTML labels otherwise than Markdown (with a badge)
_ROW_LABELS = {"unverified": '<span class="badge">⚠ 未核实</span> Unverified items'}


def _span(span: Span) -> str:
    kind, text = span.kind, span.text
    if kind == "text":
        return _e(text)
    if kind == "code":
        return _c(text)
    if kind == "condition":
        return f"<pre>{_e(text)}</pre>"
    if kind == "link":
        return f'<a href="{_e(text)}">{_e(text)}</a>'
    if kind in ("term", "strong"):
        return f"<strong>{_e(text)}</strong>"
    if kind == "rule_id":
        return f' <span class="rid">{_e(text)}</span>'
    if kind == "note":
        return _e(text)
    if kind == "break":
        return "<br>"
    return text  # lit


def _spans(spans: Sequence[Span]) -> str:
    return "".join(_span(s) for s in spans)


def _notice(notice: Notice) -> str:
    text = f" {_e(notice.text)}" if notice.text else ""
    en = f" <em>{_e(notice.en)}</em>" if notice.en else ""
    return f'<p class="warn"><strong>{_e(notice.lead)}</strong>{text}{en}</p>'


def render_html(ir: RuleSetIR, pack_name: Optional[str] = None) -> str:
    """The pack's checklist as one self-contained, printable HTML page."""
    view = build_view(ir, pack_name)
    out: List[str] = []
    w = out.append
    title = f"{view.title_zh}检查表"
    w("<!DOCTYPE html>")
    w('<html lang="zh-CN">')
    w("<head>")
    w('<meta charset="utf-8">')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">')
    w(f"<title>{_e(title)}</title>")
    w(f"<style>\n{_CSS}\n</style>")
    w("</head>")
    w("<body>")
    w("<header>")
    w(f"<h1>{_e(title)}</h1>")
    w(f'<p class="en">{_e(view.title_en)}: inspection checklist</p>')
    if view.name:
        version = f"，版本 version {_e(view.version)}" if view.version else ""
        w(f"<p>规则包 Pack: {_c(view.name)}{version}</p>")
    if view.description:
        w(f"<p>{_e(view.description)}</p>")
    w('<div class="intro">')
    w(
        "<p>本检查表由规则模块自动生成（<code>safetyrules docs</code>），请勿手工编辑。每一项为一条重大事故隐患判定条件："
        "记录所列事实，条件成立即判定为重大事故隐患；事实未记录时该项无法判定，不能视为合格。</p>"
    )
    w(
        '<p class="en">Generated from the rule modules by <code>safetyrules docs</code>; do not edit by hand. Each item is one '
        "major-hazard criterion: record the facts listed; when the condition is true the site has that major accident hazard. "
        "An item whose facts are not recorded is undetermined, which is not compliant.</p>"
    )
    w("</div>")
    w("</header>")
    w('<nav class="toc">')
    w('<h2>目录 <span class="en">Contents</span></h2>')
    w("<ul>")
    for mv in view.modules:
        m = mv.module
        flag_html = f' <span class="badge">{_e("⚠ " + "；".join(mv.flags))}</span>' if mv.flags else ""
        w(
            f'<li><a href="#{_e(_anchor("m", m.id))}">{_e(m.title.zh)}</a> <span class="en">{_e(m.title.en)}</span> '
            f"— {_c(m.id)}，{mv.n_items} 项 items{flag_html}</li>"
        )
    w("</ul>")
    w("</nav>")
    w("<main>")
    for mv in view.modules:
        _html_module(mv, w)
    w("</main>")
    w("</body>")
    w("</html>")
    return "\n".join(out) + "\n"


def _html_module(mv: ModuleView, w: Write) -> None:
    m = mv.module
    w(f'<section class="module" id="{_e(_anchor("m", m.id))}">')
    w(f"<h2>{_e(m.title.zh)}</h2>")
    w(f'<p class="en">{_e(m.title.en)}</p>')
    for notice in mv.notices:
        w(_notice(notice))
    w('<dl class="meta">')
    for row in mv.rows:
        dd = _spans(row.value)
        if row.detail is not None:
            label, value = row.detail
            dd += f"<br>{label}: {_spans(value)}"
        w(f"<dt>{_ROW_LABELS.get(row.key, row.label)}</dt><dd>{dd}</dd>")
    w("</dl>")
    if not mv.categories:
        w(f'<p class="en">{NO_ITEMS}</p>')
    for cv in mv.categories:
        _html_category(mv, cv, w)
    if mv.glossary or mv.derived:
        w('<section class="glossary">')
        w(f'<h3>需记录的事实 <span class="en">Facts to record</span> — {_c(m.id)}</h3>')
        w("<ul>")
        for line in mv.glossary:
            _html_fact(line, w, glossary=True)
        for dl in mv.derived:
            _html_derived(dl, w, glossary=True)
        w("</ul>")
        w("</section>")
    w("</section>")


def _html_category(mv: ModuleView, cv: CategoryView, w: Write) -> None:
    c = cv.category
    w('<section class="category">')
    if c is None:
        w('<h3>未分类 <span class="en">Uncategorised</span></h3>')
    else:
        where = f"{_e(c.citation.locator)} " if c.citation is not None else ""
        w(f"<h3>{where}{_e(c.title.zh)}</h3>")
        w(f'<p class="en">{_e(c.title.en)}</p>')
    for item in cv.items:
        _html_item(mv, item, w)
    w("</section>")


def _html_item(mv: ModuleView, item: ItemView, w: Write) -> None:
    r = item.rule
    cls = "item unverified" if item.unverified else "item"
    w(f'<article class="{cls}" id="{_e(_anchor("r", r.id))}">')
    badge = ' <span class="badge">⚠ 未核实 UNVERIFIED</span>' if item.unverified else ""
    w(f'<h4><span class="box"></span>{_e(r.citation.locator)} {_e(r.title.zh)}{badge}</h4>')
    w(f'<p class="en">{_e(r.title.en)}</p>')
    for notice in item.notices:
        w(_notice(notice))
    w("<ul>")
    for row in item.rows:
        if row.key in ("record", "computed", "thresholds"):
            w(f'<li><span class="field">{row.label}:</span>')
            w("<ul>")
            if row.key == "record":
                for line in item.facts:
                    _html_fact(line, w)
            elif row.key == "computed":
                for dl in item.derived:
                    _html_derived(dl, w)
            else:
                for t in item.thresholds:
                    w(f"<li>{_spans(t.spans)}</li>")
            w("</ul></li>")
        elif row.key == "condition":
            w(f'<li><span class="field">{row.label}</span>{_spans(row.value)}:<pre>{_e(item.condition)}</pre></li>')
        else:
            w(f'<li><span class="field">{row.label}:</span> {_spans(row.value)}</li>')
    w("</ul>")
    w("</article>")


def _html_values(values: Sequence[Tuple[str, str]]) -> str:
    return "；".join(f"{_c(v)} {_e(t)}" for v, t in values)


def _html_fact(line: FactLine, w: Write, glossary: bool = False) -> None:
    spec = line.spec
    label = f'{_e(spec.label.zh)} <span class="en">{_e(spec.label.en)}</span>' if spec is not None else _c(line.name)
    desc = f' <span class="desc">— {_e(spec.description)}</span>' if glossary and spec is not None and spec.description else ""
    w(f"<li>{label}（{_c(line.name)}；{_e(line.summary)}）{desc}")
    inner: List[str] = []
    if line.values:
        inner.append("<li>选项 values: " + _html_values(line.values) + "</li>")
    if line.is_list and spec is not None:  # a list fact has its spec
        key = f"，以 {_c(spec.key)} 标识 / keyed by {_c(spec.key)}" if spec.key else ""
        inner.append(f"<li>每一项记录 For each item record{key}:<ul>")
        for fl in line.field_lines:
            f = fl.spec
            assert f is not None, "an item field's line has its spec"
            fdesc = f' <span class="desc">— {_e(f.description)}</span>' if glossary and f.description else ""
            fv = ("<ul><li>选项 values: " + _html_values(fl.values) + "</li></ul>") if fl.values else ""
            inner.append(
                f'<li>{_e(f.label.zh)} <span class="en">{_e(f.label.en)}</span>（{_c(f.name)}；{_e(fl.summary)}）{fdesc}{fv}</li>'
            )
        inner.append("</ul></li>")
    if inner:
        w("<ul>")
        for x in inner:
            w(x)
        w("</ul>")
    w("</li>")


def _html_derived(dl: DerivedLine, w: Write, glossary: bool = False) -> None:
    d = dl.derived
    unit_text = f"，单位 unit {_e(dl.unit)}" if dl.unit else ""
    desc = f' <span class="desc">— {_e(d.description)}</span>' if glossary and d.description else ""
    source = f"（出处 source: {_e(d.source)}）" if glossary and d.source else ""
    w(
        f'<li>{_e(d.label.zh)} <span class="en">{_e(d.label.en)}</span>（计算 computed{unit_text}）: '
        f"{_c(dl.definition)}{desc}{source}</li>"
    )
