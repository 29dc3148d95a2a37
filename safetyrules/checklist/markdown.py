"""The checklist as Markdown, for the repository and for review: formats the view model, decides nothing."""

from __future__ import annotations

import re
from typing import Callable, List, Optional, Sequence, Tuple

from ..ir import RuleSetIR
from .view import NO_ITEMS, CategoryView, DerivedLine, FactLine, ItemView, ModuleView, Notice, Span, _one_line, build_view

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


#: appends one line to the output
Write = Callable[[str], None]


def _md(text: str) -> str:
    """Plain text for Markdown: one line, with the characters that would format escaped."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text))


def _code(text: str) -> str:
    text = _one_line(text)
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _span(span: Span) -> str:
    kind, text = span.kind, span.text
    if kind in ("text", "term"):
        return _md(text)
    if kind == "strong":
        return f"**{_md(text)}**"
    if kind == "rule_id":
        return f"（{_code(text)}）"
    if kind in ("code", "condition"):
        return _code(text)
    if kind == "link":
        return f"<{text}>"
    if kind == "note":
        return f"（{text}）"
    if kind == "break":
        return "；"
    return text  # lit


def _spans(spans: Sequence[Span]) -> str:
    return "".join(_span(s) for s in spans)


def _notice(notice: Notice) -> str:
    text = f" {_md(notice.text)}" if notice.text else ""
    en = f" *{_md(notice.en)}*" if notice.en else ""
    return f"> **{notice.lead}**{text}{en}"


def render_markdown(ir: RuleSetIR, pack_name: Optional[str] = None) -> str:
    """The pack's checklist as Markdown."""
    view = build_view(ir, pack_name)
    out: List[str] = []
    w = out.append
    w(f"# {_md(view.title_zh)}检查表")
    w("")
    w(f"*{_md(view.title_en)}: inspection checklist*")
    w("")
    if view.name:
        w(f"规则包 Pack: {_code(view.name)}" + (f"，版本 version {_md(view.version)}" if view.version else ""))
        w("")
    if view.description:
        w(_md(view.description))
        w("")
    w(
        "> 本检查表由规则模块自动生成（`safetyrules docs`），请勿手工编辑。"
        "每一项为一条重大事故隐患判定条件：记录所列事实，条件成立即判定为重大事故隐患；"
        "事实未记录时该项无法判定，不能视为合格。"
    )
    w("> ")
    w(
        "> *Generated from the rule modules by `safetyrules docs`; do not edit by hand. Each item is one major-hazard "
        "criterion: record the facts listed; when the condition is true the site has that major accident hazard. "
        "An item whose facts are not recorded is undetermined, which is not compliant.*"
    )
    w("")
    w("## 目录 Contents")
    w("")
    for mv in view.modules:
        m = mv.module
        flags = "（⚠ " + "；".join(mv.flags) + "）" if mv.flags else ""
        w(f"- {_md(m.title.zh)} *{_md(m.title.en)}* — {_code(m.id)}，{mv.n_items} 项 items{flags}")
    w("")
    for mv in view.modules:
        _md_module(mv, w)
    return "\n".join(out).rstrip("\n") + "\n"


def _md_module(mv: ModuleView, w: Write) -> None:
    m = mv.module
    w(f"## {_md(m.title.zh)}")
    w("")
    w(f"*{_md(m.title.en)}*")
    w("")
    for notice in mv.notices:
        w(_notice(notice))
        w("")
    for row in mv.rows:
        w(f"- {row.label}: {_spans(row.value)}")
        if row.detail is not None:
            label, value = row.detail
            w(f"  - {label}: {_spans(value)}")
    w("")
    if not mv.categories:
        w(f"*{NO_ITEMS}*")
        w("")
    for cv in mv.categories:
        _md_category(mv, cv, w)
    if mv.glossary or mv.derived:
        w(f"### 需记录的事实 Facts to record — {_code(m.id)}")
        w("")
        for line in mv.glossary:
            _md_fact(line, w, glossary=True)
        for dl in mv.derived:
            _md_derived(dl, w, glossary=True)
        w("")


def _md_category(mv: ModuleView, cv: CategoryView, w: Write) -> None:
    c = cv.category
    if c is None:
        w("### 未分类 Uncategorised")
    else:
        where = f"{_md(c.citation.locator)} " if c.citation is not None else ""
        w(f"### {where}{_md(c.title.zh)}")
        w("")
        w(f"*{_md(c.title.en)}*")
    w("")
    for item in cv.items:
        _md_item(mv, item, w)


def _md_item(mv: ModuleView, item: ItemView, w: Write) -> None:
    r = item.rule
    w(f"#### ☐ {_md(r.citation.locator)} {_md(r.title.zh)}")
    w("")
    w(f"*{_md(r.title.en)}*")
    w("")
    for notice in item.notices:
        w(_notice(notice))
        w("")
    rows = item.rows
    for row in rows:
        if row.key == "record":
            w(f"- {row.label}:")
            for line in item.facts:
                _md_fact(line, w, indent="  ")
        elif row.key == "computed":
            w(f"- {row.label}:")
            for dl in item.derived:
                _md_derived(dl, w, indent="  ")
        elif row.key == "thresholds":
            w(f"- {row.label}:")
            for t in item.thresholds:
                w(f"  - {_spans(t.spans)}")
        elif row.key == "condition":
            w(f"- {row.label}{_spans(row.value)}:")
            w("")
            w("  ```text")
            for text_line in item.condition.split("\n"):
                w("  " + text_line)
            w("  ```")
            w("")
        else:
            w(f"- {row.label}: {_spans(row.value)}")
            if row is rows[-1]:  # the item's last line (notes, or its last exception)
                w("")


def _md_values(values: Sequence[Tuple[str, str]]) -> str:
    return "；".join(f"{_code(v)} {_md(t)}" for v, t in values)


def _md_fact(line: FactLine, w: Write, indent: str = "", glossary: bool = False) -> None:
    spec = line.spec
    label = f"{_md(spec.label.zh)} *{_md(spec.label.en)}*" if spec is not None else _code(line.name)
    desc = f" — {_md(spec.description)}" if glossary and spec is not None and spec.description else ""
    w(f"{indent}- {label}（{_code(line.name)}；{_md(line.summary)}）{desc}")
    if line.values:
        w(f"{indent}  - 选项 values: " + _md_values(line.values))
    if line.is_list and spec is not None:  # a list fact has its spec
        key = f"，以 {_code(spec.key)} 标识 / keyed by {_code(spec.key)}" if spec.key else ""
        w(f"{indent}  - 每一项记录 For each item record{key}:")
        for fl in line.field_lines:
            f = fl.spec
            assert f is not None, "an item field's line has its spec"
            fdesc = f" — {_md(f.description)}" if glossary and f.description else ""
            w(f"{indent}    - {_md(f.label.zh)} *{_md(f.label.en)}*（{_code(f.name)}；{_md(fl.summary)}）{fdesc}")
            if fl.values:
                w(f"{indent}      - 选项 values: " + _md_values(fl.values))


def _md_derived(dl: DerivedLine, w: Write, indent: str = "", glossary: bool = False) -> None:
    d = dl.derived
    unit_text = f"，单位 unit {_md(dl.unit)}" if dl.unit else ""
    desc = f" — {_md(d.description)}" if glossary and d.description else ""
    source = f"（出处 source: {_md(d.source)}）" if glossary and d.source else ""
    w(f"{indent}- {_md(d.label.zh)} *{_md(d.label.en)}*（计算 computed{unit_text}）: {_code(dl.definition)}{desc}{source}")
