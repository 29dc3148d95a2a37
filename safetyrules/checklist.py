"""``safetyrules docs PACK``: a pack rendered as the checklist inspectors carry.

Two renderings of the same content, from the compiled rule set (never from the YAML text):

* :func:`render_markdown` -- Markdown, for the repository and for review;
* :func:`render_html` -- one self-contained, printable HTML page (inline CSS, no scripts, fonts,
  images or style sheets fetched from anywhere).

Both are organised module -> category -> item, in Chinese with English glosses. Each item says what
to check, which facts to record (labels, units, enum values, list item fields), each threshold with
the legal word it is written with and how this document reads that word (inclusive or exclusive),
the comparison that encodes it, the full condition, the citation and when the item applies.

The output is deterministic: no timestamps, no versions of the library, nothing taken from sets or
from the environment, so ``docs/checklists/`` can be checked in and a test can keep it current
(regenerate with ``safetyrules docs demo hazchem construction -o docs/checklists``).
"""

from __future__ import annotations

import html
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .compiler import CompiledModule, CompiledRule, RuleSetIR, load_ir
from .expr import ast
from .expr.types import ANY_UNIT, BOOLEAN, DATE, DIMENSIONLESS, ENUM, LIST, NUMBER, STRING
from .model import Category, DerivedFact, FactSpec, Module, Rule, Threshold

#: Default output folder of ``safetyrules docs`` (relative to the working directory).
DEFAULT_OUT_DIR = os.path.join("docs", "checklists")
FORMATS = ("md", "html")

_WIDTH = 88  # conditions longer than this are broken at and/or

_READING = {
    "inclusive": ("含本数", "inclusive", "恰为该值即构成", "a value exactly at the threshold counts"),
    "exclusive": ("不含本数", "exclusive", "恰为该值不构成", "a value exactly at the threshold does not count"),
}

_TYPE_NAMES = {
    NUMBER: ("数值", "number"),
    BOOLEAN: ("是/否", "yes/no"),
    ENUM: ("选项", "one of"),
    STRING: ("文字", "text"),
    DATE: ("日期", "date"),
    LIST: ("清单", "list"),
}


# ============================================================================ the content (shared)

@dataclass
class FactLine:
    """One fact to record: a base fact (with, for a list, the item fields the item reads)."""

    name: str
    spec: Optional[FactSpec]
    fields: List[FactSpec] = field(default_factory=list)


@dataclass
class DerivedLine:
    name: str
    derived: DerivedFact


@dataclass
class ThresholdLine:
    threshold: Threshold
    label: str  # "zh en" of the fact the threshold is on
    reading: Optional[str]  # inclusive | exclusive | None
    comparisons: List[str]


@dataclass
class ItemView:
    rule: Rule
    unverified: bool
    facts: List[FactLine]
    derived: List[DerivedLine]
    thresholds: List[ThresholdLine]
    condition: str
    applies_if: Optional[str]
    for_each_label: Optional[str]


@dataclass
class CategoryView:
    category: Optional[Category]
    items: List[ItemView]


@dataclass
class ModuleView:
    module: Module
    categories: List[CategoryView]
    scope: Optional[str]
    scope_facts: List[FactLine]
    glossary: List[FactLine]
    derived: List[DerivedLine]
    terms: List[Tuple[str, Optional[str]]]
    unverified: List[str]
    #: (industry id, its declared names or None where no loaded pack declares it)
    industries: List[Tuple[str, Optional[str]]] = field(default_factory=list)


@dataclass
class PackView:
    name: Optional[str]
    title_zh: str
    title_en: str
    version: Optional[str]
    description: str
    modules: List[ModuleView]


def _type_text(spec: FactSpec) -> Tuple[str, str]:
    kind = spec.type.kind
    if kind == NUMBER and spec.type.integer:
        return ("整数", "integer")
    return _TYPE_NAMES.get(kind, (kind, kind))


def _unit(spec: FactSpec) -> Optional[str]:
    unit = spec.unit
    if unit in (None, "", ANY_UNIT, DIMENSIONLESS):
        return None
    return unit


class _Vocabulary:
    """The facts one module can see: its own, those of the modules it imports or extends, then the
    rule set's vocabulary of its industry (for anything else the compiler accepted)."""

    def __init__(self, ir: RuleSetIR, module: Module):
        self.ir = ir
        self.facts: Dict[str, FactSpec] = {f.name: f for f in module.facts}
        for ref in module.imports + ((module.extends,) if module.extends else ()):
            other = ir.module_by_id.get(ref)
            if other is not None:
                for f in other.module.facts:
                    self.facts.setdefault(f.name, f)
        for industry in module.industries:
            for name, f in ir.vocabularies.get(industry, {}).items():
                self.facts.setdefault(name, f)

    def fact(self, name: str) -> Optional[FactSpec]:
        return self.facts.get(name) or self.ir.facts.get(name)

    def derived(self, name: str) -> Optional[DerivedFact]:
        return self.ir.derived.get(name)


class _Refs:
    """What an expression reads, in order of first appearance: base facts (list facts with the item
    fields read), derived facts (and, through them, their own facts)."""

    def __init__(self, vocab: _Vocabulary):
        self.vocab = vocab
        self.facts: Dict[str, List[str]] = {}  # fact -> item fields read (lists)
        self.derived: List[str] = []

    def add_fact(self, name: str) -> None:
        self.facts.setdefault(name, [])

    def add_field(self, list_name: str, field_name: str) -> None:
        fields = self.facts.setdefault(list_name, [])
        if field_name not in fields:
            fields.append(field_name)

    def visit(self, node: ast.Node, env: Dict[str, str]) -> None:
        if isinstance(node, ast.Name):
            if node.name in env:
                self.add_fact(env[node.name])
            elif self.vocab.derived(node.name) is not None and self.vocab.fact(node.name) is None:
                if node.name not in self.derived:
                    self.derived.append(node.name)
                    self.visit(self.vocab.derived(node.name).expr, {})
            else:
                self.add_fact(node.name)
            return
        if isinstance(node, ast.ItemField):
            self.add_field(env.get(node.var, node.var), node.field_name)
            return
        if isinstance(node, ast.Quantifier):
            self.add_fact(node.list_name)
            if node.condition is not None:
                inner = dict(env)
                if node.var:
                    inner[node.var] = node.list_name
                self.visit(node.condition, inner)
            return
        for child in ast.children(node):
            self.visit(child, env)

    def fact_lines(self) -> List[FactLine]:
        out = []
        for name, fields in self.facts.items():
            spec = self.vocab.fact(name)
            specs: List[FactSpec] = []
            if spec is not None and spec.type.kind == LIST:
                wanted = ([spec.key] if spec.key else []) + [f for f in fields if f != spec.key]
                specs = [spec.field(f) for f in wanted if spec.field(f) is not None]
            out.append(FactLine(name, spec, specs))
        return out

    def derived_lines(self) -> List[DerivedLine]:
        return [DerivedLine(n, self.vocab.derived(n)) for n in self.derived]


def _walk_env(node: ast.Node, env: Dict[str, str]):
    """Every node with the item variables bound where it stands (variable -> list fact)."""
    yield node, env
    if isinstance(node, ast.Quantifier) and node.condition is not None:
        inner = dict(env)
        if node.var:
            inner[node.var] = node.list_name
        yield from _walk_env(node.condition, inner)
        return
    for child in ast.children(node):
        yield from _walk_env(child, env)


def _canonical(name: str, env: Dict[str, str]) -> str:
    """``var.field`` and ``list.field`` -> ``list.field``; a fact name stays as it is."""
    if "." in name:
        head, _, tail = name.partition(".")
        return f"{env.get(head, head)}.{tail}"
    return name


def _reads(node: ast.Node, env: Dict[str, str]) -> set:
    out = set()
    for n, e in _walk_env(node, env):
        if isinstance(n, ast.Name):
            out.add(e.get(n.name, n.name))
        elif isinstance(n, ast.ItemField):
            out.add(f"{e.get(n.var, n.var)}.{n.field_name}")
    return out


def _threshold_comparisons(rule: Rule, fact: str) -> List[str]:
    """The comparisons of the condition that read the threshold's fact (as lint checks them)."""
    env = {rule.for_each.var: rule.for_each.list_name} if rule.for_each else {}
    target = _canonical(fact, env)
    out: List[str] = []
    for condition in (rule.when, rule.applies_if):
        if condition is None:
            continue
        for n, e in _walk_env(condition, env):
            if isinstance(n, ast.Compare) and n.op not in ("==", "!="):
                if target in _reads(n, e):
                    text = ast.to_source(n)
                    if text not in out:
                        out.append(text)
    return out


def _label(text) -> str:
    return f"{text.zh} {text.en}" if text.en and text.en != text.zh else text.zh


def _threshold_label(rule: Rule, vocab: _Vocabulary, fact: str) -> str:
    if "." in fact:
        head, _, tail = fact.partition(".")
        list_name = rule.for_each.list_name if rule.for_each and head == rule.for_each.var else head
        spec = vocab.fact(list_name)
        item = spec.field(tail) if spec is not None else None
        if item is not None:
            return f"{_label(item.label)}（{_label(spec.label)} 的每一项 / each item）"
        return fact
    spec = vocab.fact(fact)
    if spec is not None:
        return _label(spec.label)
    d = vocab.derived(fact)
    if d is not None:
        return _label(d.label)
    return fact


def pretty_condition(node: ast.Node, indent: int = 0, width: int = _WIDTH) -> str:
    """The canonical text of a condition (:func:`ast.to_source`), broken before ``and``/``or``
    when a line would be longer than ``width``. It parses back to the same tree."""
    text = ast.to_source(node)
    if indent + len(text) <= width:
        return text
    if isinstance(node, (ast.And, ast.Or)):
        word = "and" if isinstance(node, ast.And) else "or"
        parts = []
        for i, operand in enumerate(node.operands):
            prefix = "" if i == 0 else f"{word} "
            parts.append(prefix + _pretty_operand(operand, indent + len(prefix), width))
        return ("\n" + " " * indent).join(parts)
    if isinstance(node, ast.Not):
        return "not " + _pretty_operand(node.operand, indent + 4, width)
    if isinstance(node, ast.Quantifier) and node.var is not None and node.condition is not None:
        head = f"{node.kind}({node.var} in {node.list_name} where "
        return head + pretty_condition(node.condition, indent + len(head), width) + ")"
    return text


def _pretty_operand(node: ast.Node, indent: int, width: int) -> str:
    if isinstance(node, (ast.And, ast.Or, ast.Arith, ast.Compare, ast.Member, ast.Not)):
        return "(" + pretty_condition(node, indent + 1, width) + ")"
    return pretty_condition(node, indent, width)


def build_view(ir: RuleSetIR, pack_name: Optional[str] = None) -> PackView:
    """The checklist's content, shared by the Markdown and HTML renderings."""
    pack = None
    if pack_name is not None:
        pack = next((p for p in ir.packs if p.name == pack_name), None)
        if pack is None:
            known = ", ".join(p.name for p in ir.packs) or "none"
            raise ValueError(f"pack {pack_name!r} is not in this rule set (loaded packs: {known})")
        modules = [cm for cm in ir.modules if cm.module.pack == pack_name or cm.id in pack.module_ids]
    else:
        modules = list(ir.modules)
        if len(ir.packs) == 1:
            pack = ir.packs[0]
    index = {cm.id: i for i, cm in enumerate(ir.modules)}
    # modules of one document stand together, documents in the order they took effect
    modules.sort(key=lambda cm: (cm.module.effective_from, cm.module.document.number, index[cm.id]))
    views = [_module_view(ir, cm) for cm in modules]
    if pack is not None:
        return PackView(pack.name, pack.title.zh, pack.title.en, pack.version, pack.description, views)
    return PackView(None, "重大事故隐患检查表", "Major accident hazard checklist", None, "", views)


def _module_view(ir: RuleSetIR, cm: CompiledModule) -> ModuleView:
    m = cm.module
    vocab = _Vocabulary(ir, m)
    unverified = list(m.confidence.unverified) if m.confidence else []
    categories: Dict[Optional[str], CategoryView] = {c.id: CategoryView(c, []) for c in m.categories}
    module_refs = _Refs(vocab)
    terms: List[str] = []
    for cr in cm.rules:
        item = _item_view(cr, vocab, unverified)
        key = cr.rule.category.id if cr.rule.category else None
        if key not in categories:
            categories[key] = CategoryView(cr.rule.category, [])
        categories[key].items.append(item)
        env = {cr.rule.for_each.var: cr.rule.for_each.list_name} if cr.rule.for_each else {}
        if cr.rule.for_each:
            module_refs.add_fact(cr.rule.for_each.list_name)
        if cr.rule.applies_if is not None:
            module_refs.visit(cr.rule.applies_if, env)
        module_refs.visit(cr.rule.when, env)
        for t in cr.rule.thresholds:
            if t.term not in terms:
                terms.append(t.term)
    scope_refs = _Refs(vocab)
    if m.scope is not None:
        scope_refs.visit(m.scope, {})
    # the glossary: the scope's facts first, then every fact the items read
    glossary = _Refs(vocab)
    for refs in (scope_refs, module_refs):
        for name, fields in refs.facts.items():
            glossary.add_fact(name)
            for f in fields:
                glossary.add_field(name, f)
        for d in refs.derived:
            if d not in glossary.derived:
                glossary.derived.append(d)
    return ModuleView(
        module=m,
        categories=[c for c in categories.values() if c.items],
        scope=pretty_condition(m.scope) if m.scope is not None else None,
        scope_facts=scope_refs.fact_lines(),
        glossary=glossary.fact_lines(),
        derived=glossary.derived_lines(),
        terms=[(t, m.threshold_reading.get(t)) for t in terms],
        unverified=unverified,
        industries=[(i, _label(ir.industries[i].name) if i in ir.industries else None) for i in m.industries],
    )


def _item_view(cr: CompiledRule, vocab: _Vocabulary, unverified: Sequence[str]) -> ItemView:
    rule = cr.rule
    env = {rule.for_each.var: rule.for_each.list_name} if rule.for_each else {}
    refs = _Refs(vocab)
    for_each_label = None
    if rule.for_each:
        refs.add_fact(rule.for_each.list_name)
        spec = vocab.fact(rule.for_each.list_name)
        for_each_label = _label(spec.label) if spec is not None else rule.for_each.list_name
    if rule.applies_if is not None:
        refs.visit(rule.applies_if, env)
    refs.visit(rule.when, env)
    thresholds = []
    for t in rule.thresholds:
        thresholds.append(ThresholdLine(
            threshold=t,
            label=_threshold_label(rule, vocab, t.fact),
            reading=_module_reading(vocab, rule, t.term),
            comparisons=_threshold_comparisons(rule, t.fact),
        ))
    return ItemView(
        rule=rule,
        unverified=rule.id in unverified,
        facts=refs.fact_lines(),
        derived=refs.derived_lines(),
        thresholds=thresholds,
        condition=pretty_condition(rule.when),
        applies_if=pretty_condition(rule.applies_if) if rule.applies_if is not None else None,
        for_each_label=for_each_label,
    )


def _module_reading(vocab: _Vocabulary, rule: Rule, term: str) -> Optional[str]:
    cm = vocab.ir.module_by_id.get(rule.module_id)
    return cm.module.threshold_reading.get(term) if cm is not None else None


# ============================================================================ shared wording

def _effective(m: Module) -> str:
    if m.effective_until is None:
        return f"{m.effective_from.isoformat()} 起施行，未设废止日期 / in force from {m.effective_from.isoformat()}, no end date"
    return (f"{m.effective_from.isoformat()} 至 {m.effective_until.isoformat()}（含首尾两日） / "
            f"from {m.effective_from.isoformat()} to {m.effective_until.isoformat()}, both days inclusive")


def _jurisdiction(m: Module) -> str:
    j = m.jurisdiction
    if j.level == "national":
        return "全国 / national"
    return f"{j.province or ''}（{j.code or ''}） / province {j.code or ''}"


def _reading_text(reading: Optional[str]) -> str:
    if reading in _READING:
        zh, en, zh_note, en_note = _READING[reading]
        return f"{zh}（{zh_note}） / {en}: {en_note}"
    return "未规定读法 / reading not declared"


def _confidence_level(level: str) -> str:
    return {
        "high": "高 / high",
        "medium-high": "较高 / medium-high",
        "medium": "中 / medium",
        "low": "低 / low",
    }.get(level, level)


def _fact_summary(line: FactLine) -> str:
    """'type, unit' of a fact (without its label), e.g. '数值 number, t'."""
    spec = line.spec
    if spec is None:
        return "未声明 / not declared"
    zh, en = _type_text(spec)
    parts = [f"{zh} {en}" if zh != en else zh]
    unit = _unit(spec)
    if unit:
        parts.append(f"单位 unit {unit}")
    if spec.site:
        parts.append("场所属性 site attribute")
    if spec.minimum is not None and spec.maximum is not None:
        parts.append(f"范围 range {_num(spec.minimum)}–{_num(spec.maximum)}")
    elif spec.minimum is not None:
        parts.append(f"范围 range ≥ {_num(spec.minimum)}")
    elif spec.maximum is not None:
        parts.append(f"范围 range ≤ {_num(spec.maximum)}")
    return ", ".join(parts)


def _fact_name(line: FactLine) -> str:
    return _label(line.spec.label) if line.spec is not None else line.name


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _values(spec: Optional[FactSpec]) -> List[Tuple[str, str]]:
    if spec is None or not spec.values:
        return []
    return [(v, _label(t)) for v, t in spec.values]


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _derived_unit(d: DerivedFact) -> Optional[str]:
    unit = getattr(d, "unit", None)  # declared (if the model keeps it), else the checked type's unit
    if unit is None:
        ty = getattr(d.expr, "ty", None)
        unit = getattr(ty, "unit", None) if ty is not None else None
    return None if unit in (None, ANY_UNIT, DIMENSIONLESS) else unit


# ============================================================================ Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _md(text: str) -> str:
    """Plain text for Markdown: one line, with the characters that would format escaped."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text))


def _code(text: str) -> str:
    text = _one_line(text)
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


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
    w("> 本检查表由规则模块自动生成（`safetyrules docs`），请勿手工编辑。"
      "每一项为一条重大事故隐患判定条件：记录所列事实，条件成立即判定为重大事故隐患；"
      "事实未记录时该项无法判定，不能视为合格。")
    w("> ")
    w("> *Generated from the rule modules by `safetyrules docs`; do not edit by hand. Each item is one major-hazard "
      "criterion: record the facts listed; when the condition is true the site has that major accident hazard. "
      "An item whose facts are not recorded is undetermined, which is not compliant.*")
    w("")
    w("## 目录 Contents")
    w("")
    for mv in view.modules:
        m = mv.module
        n_items = sum(len(c.items) for c in mv.categories)
        flags = _flags_text(mv)
        w(f"- {_md(m.title.zh)} *{_md(m.title.en)}* — {_code(m.id)}，{n_items} 项 items{flags}")
    w("")
    for mv in view.modules:
        _md_module(mv, w)
    return "\n".join(out).rstrip("\n") + "\n"


def _flags_text(mv: ModuleView) -> str:
    m = mv.module
    flags = []
    if m.illustration:
        flags.append("示例 illustration")
    if m.completeness == "partial":
        flags.append("部分编码 partial")
    if mv.unverified:
        flags.append(f"{len(mv.unverified)} 项未核实 unverified")
    if m.confidence and m.confidence.level in ("low", "medium"):
        flags.append(f"可信度 confidence {m.confidence.level}")
    return "（⚠ " + "；".join(flags) + "）" if flags else ""


def _md_module(mv: ModuleView, w) -> None:
    m = mv.module
    d = m.document
    w(f"## {_md(m.title.zh)}")
    w("")
    w(f"*{_md(m.title.en)}*")
    w("")
    if m.illustration:
        w("> **⚠ 示例，非真实文件，不得用于检查。** *Illustration, not a real document: must not be used for inspections.*")
        w("")
    if m.completeness == "partial":
        w(f"> **⚠ 部分编码 Partly encoded:** {_md(m.completeness_notes) or '—'}")
        w("")
    if mv.unverified:
        w(f"> **⚠ 未核实 Unverified:** 本模块有 {len(mv.unverified)} 项内容未经核实（标为“未核实”），使用前请对照正式文本。"
          f" *{len(mv.unverified)} item(s) of this module are not established; check them against the official text.*")
        w("")
    w(f"- 模块 Module: {_code(m.id)}（系列 series {_code(m.series)}" + (f"，版本 version {_md(m.version)}" if m.version else "") + "）")
    w(f"- 文件 Document: 《{_md(d.title)}》{_md(d.number)}" + (f"，{_md(d.part)}" if d.part else ""))
    w(f"- 发布机关 Issuer: {_md(d.issuer.zh)} / {_md(d.issuer.en)}")
    if d.issued:
        w(f"- 发布日期 Issued: {d.issued.isoformat()}")
    w(f"- 施行 Effective: {_md(_effective(m))}")
    if m.supersedes:
        w(f"- 替代 Supersedes: {_code(m.supersedes)}")
    if m.superseded_by:
        w(f"- 被替代 Superseded by: {_code(m.superseded_by)}")
    w(f"- 适用地区 Jurisdiction: {_md(_jurisdiction(m))}")
    w(f"- 行业 Industry: {', '.join(_code(i) + (f' {_md(name)}' if name else '') for i, name in mv.industries)}")
    if mv.scope:
        w(f"- 模块适用范围 Module scope: {_code(mv.scope)}（不成立时本模块各项不适用 / when false, no item of this module applies）")
        if mv.scope_facts:
            w("  - 需记录 Record: " + "；".join(_md(_fact_name(f)) + f"（{_code(f.name)}）" for f in mv.scope_facts))
    if m.imports:
        w(f"- 引用事实 Imports: {', '.join(_code(i) for i in m.imports)}")
    if m.extends:
        w(f"- 补充 Extends: {_code(m.extends)}")
    if mv.terms:
        w("- 阈值用语 Threshold words: " + "；".join(f"{_md(t)}：{_md(_reading_text(r))}" for t, r in mv.terms))
    if m.confidence:
        notes = f" — {_md(m.confidence.notes)}" if m.confidence.notes else ""
        w(f"- 可信度 Confidence: {_md(_confidence_level(m.confidence.level))}{notes}")
    if mv.unverified:
        w(f"- ⚠ 未核实条目 Unverified items: {', '.join(_code(r) for r in mv.unverified)}")
    completeness = "完整 / complete" if m.completeness == "complete" else "部分 / partial"
    w(f"- 完整性 Completeness: {completeness}" + (f" — {_md(m.completeness_notes)}" if m.completeness_notes else ""))
    if d.url:
        w(f"- 正式文本 Official text: <{d.url}>")
    for title, url in m.sources:
        w(f"- 来源 Source: {_md(title)}" + (f" <{url}>" if url else ""))
    w("")
    if not mv.categories:
        w("*本模块无检查条目。 No checklist items in this module.*")
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


def _md_category(mv: ModuleView, cv: CategoryView, w) -> None:
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


def _md_item(mv: ModuleView, item: ItemView, w) -> None:
    r = item.rule
    w(f"#### ☐ {_md(r.citation.locator)} {_md(r.title.zh)}")
    w("")
    w(f"*{_md(r.title.en)}*")
    w("")
    if item.unverified:
        w("> **⚠ 未核实 Unverified:** 本项内容未经核实，使用前请对照正式文本。 *The content of this item is not established; "
          "check it against the official text.*")
        w("")
    w(f"- 依据 Citation: {_md(r.citation.rendered)}（{_code(r.id)}）")
    if r.description:
        w(f"- 检查内容 What to check: {_md(r.description)}")
    if item.for_each_label:
        w(f"- 逐项判定 For each item of: {_md(item.for_each_label)}（{_code(r.for_each.list_name)}，记作 as {_code(r.for_each.var)}）")
    if item.applies_if:
        w(f"- 适用条件 Applies if: {_code(item.applies_if)}（不成立时不适用 / not applicable when false）")
    if mv.scope:
        w(f"- 模块适用范围 Module scope: {_code(mv.scope)}")
    w("- 需记录 Record:")
    for line in item.facts:
        _md_fact(line, w, indent="  ")
    if item.derived:
        w("- 计算 Computed:")
        for dl in item.derived:
            _md_derived(dl, w, indent="  ")
    if item.thresholds:
        w("- 阈值 Thresholds:")
        for t in item.thresholds:
            value = f" {_md(t.threshold.value)}" if t.threshold.value else ""
            cmp = "，".join(_code(c) for c in t.comparisons) or "—"
            w(f"  - {_md(t.label)}：**{_md(t.threshold.term)}**{value} — {_md(_reading_text(t.reading))}；条件中 in the condition: {cmp}"
              + (f"（{_md(t.threshold.note)}）" if t.threshold.note else ""))
    w("- 判定条件 Condition（成立即为重大事故隐患 / true means this major hazard is present）:")
    w("")
    w("  ```text")
    for line in item.condition.split("\n"):
        w("  " + line)
    w("  ```")
    w("")
    if r.notes:
        w(f"- 说明 Notes: {_md(r.notes)}")
        w("")


def _md_fact(line: FactLine, w, indent: str = "", glossary: bool = False) -> None:
    spec = line.spec
    label = f"{_md(spec.label.zh)} *{_md(spec.label.en)}*" if spec is not None else _code(line.name)
    desc = f" — {_md(spec.description)}" if glossary and spec is not None and spec.description else ""
    w(f"{indent}- {label}（{_code(line.name)}；{_md(_fact_summary(line))}）{desc}")
    values = _values(spec)
    if values:
        w(f"{indent}  - 选项 values: " + "；".join(f"{_code(v)} {_md(t)}" for v, t in values))
    if spec is not None and spec.type.kind == LIST:
        key = f"，以 {_code(spec.key)} 标识 / keyed by {_code(spec.key)}" if spec.key else ""
        w(f"{indent}  - 每一项记录 For each item record{key}:")
        for f in line.fields:
            fdesc = f" — {_md(f.description)}" if glossary and f.description else ""
            w(f"{indent}    - {_md(f.label.zh)} *{_md(f.label.en)}*（{_code(f.name)}；{_md(_fact_summary(FactLine(f.name, f)))}）{fdesc}")
            fvalues = _values(f)
            if fvalues:
                w(f"{indent}      - 选项 values: " + "；".join(f"{_code(v)} {_md(t)}" for v, t in fvalues))


def _md_derived(dl: DerivedLine, w, indent: str = "", glossary: bool = False) -> None:
    d = dl.derived
    unit = _derived_unit(d)
    unit_text = f"，单位 unit {_md(unit)}" if unit else ""
    desc = f" — {_md(d.description)}" if glossary and d.description else ""
    source = f"（出处 source: {_md(d.source)}）" if glossary and d.source else ""
    w(f"{indent}- {_md(d.label.zh)} *{_md(d.label.en)}*（计算 computed{unit_text}）: {_code(dl.name + ' = ' + ast.to_source(d.expr))}{desc}{source}")


# ============================================================================ HTML

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


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _c(text: str) -> str:
    return f"<code>{_e(_one_line(text))}</code>"


def _anchor(kind: str, ident: str) -> str:
    return kind + "-" + re.sub(r"[^A-Za-z0-9._-]", "_", ident)


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
    w("<p>本检查表由规则模块自动生成（<code>safetyrules docs</code>），请勿手工编辑。每一项为一条重大事故隐患判定条件："
      "记录所列事实，条件成立即判定为重大事故隐患；事实未记录时该项无法判定，不能视为合格。</p>")
    w('<p class="en">Generated from the rule modules by <code>safetyrules docs</code>; do not edit by hand. Each item is one '
      "major-hazard criterion: record the facts listed; when the condition is true the site has that major accident hazard. "
      "An item whose facts are not recorded is undetermined, which is not compliant.</p>")
    w("</div>")
    w("</header>")
    w('<nav class="toc">')
    w("<h2>目录 <span class=\"en\">Contents</span></h2>")
    w("<ul>")
    for mv in view.modules:
        m = mv.module
        n_items = sum(len(c.items) for c in mv.categories)
        flags = _flags_text(mv)
        flag_html = f' <span class="badge">{_e(flags.strip("（）"))}</span>' if flags else ""
        w(f'<li><a href="#{_e(_anchor("m", m.id))}">{_e(m.title.zh)}</a> <span class="en">{_e(m.title.en)}</span> '
          f"— {_c(m.id)}，{n_items} 项 items{flag_html}</li>")
    w("</ul>")
    w("</nav>")
    w("<main>")
    for mv in view.modules:
        _html_module(mv, w)
    w("</main>")
    w("</body>")
    w("</html>")
    return "\n".join(out) + "\n"


def _html_module(mv: ModuleView, w) -> None:
    m = mv.module
    d = m.document
    w(f'<section class="module" id="{_e(_anchor("m", m.id))}">')
    w(f"<h2>{_e(m.title.zh)}</h2>")
    w(f'<p class="en">{_e(m.title.en)}</p>')
    if m.illustration:
        w('<p class="warn"><strong>⚠ 示例，非真实文件，不得用于检查。</strong> '
          "<em>Illustration, not a real document: must not be used for inspections.</em></p>")
    if m.completeness == "partial":
        w(f'<p class="warn"><strong>⚠ 部分编码 Partly encoded:</strong> {_e(m.completeness_notes) or "—"}</p>')
    if mv.unverified:
        w(f'<p class="warn"><strong>⚠ 未核实 Unverified:</strong> 本模块有 {len(mv.unverified)} 项内容未经核实（标为“未核实”），'
          f"使用前请对照正式文本。 <em>{len(mv.unverified)} item(s) of this module are not established; check them against "
          "the official text.</em></p>")
    rows: List[Tuple[str, str]] = []
    version = f"，版本 version {_e(m.version)}" if m.version else ""
    rows.append(("模块 Module", f"{_c(m.id)}（系列 series {_c(m.series)}{version}）"))
    part = f"，{_e(d.part)}" if d.part else ""
    rows.append(("文件 Document", f"《{_e(d.title)}》{_e(d.number)}{part}"))
    rows.append(("发布机关 Issuer", f"{_e(d.issuer.zh)} / {_e(d.issuer.en)}"))
    if d.issued:
        rows.append(("发布日期 Issued", _e(d.issued.isoformat())))
    rows.append(("施行 Effective", _e(_effective(m))))
    if m.supersedes:
        rows.append(("替代 Supersedes", _c(m.supersedes)))
    if m.superseded_by:
        rows.append(("被替代 Superseded by", _c(m.superseded_by)))
    rows.append(("适用地区 Jurisdiction", _e(_jurisdiction(m))))
    rows.append(("行业 Industry", ", ".join(_c(i) + (f" {_e(name)}" if name else "") for i, name in mv.industries)))
    if mv.scope:
        rows.append(("模块适用范围 Module scope",
                     f"<pre>{_e(mv.scope)}</pre>不成立时本模块各项不适用 / when false, no item of this module applies"
                     + ("<br>需记录 Record: " + "；".join(f"{_e(_fact_name(f))}（{_c(f.name)}）" for f in mv.scope_facts)
                        if mv.scope_facts else "")))
    if m.imports:
        rows.append(("引用事实 Imports", ", ".join(_c(i) for i in m.imports)))
    if m.extends:
        rows.append(("补充 Extends", _c(m.extends)))
    if mv.terms:
        rows.append(("阈值用语 Threshold words",
                     "<br>".join(f"<strong>{_e(t)}</strong>：{_e(_reading_text(r))}" for t, r in mv.terms)))
    if m.confidence:
        notes = f" — {_e(m.confidence.notes)}" if m.confidence.notes else ""
        rows.append(("可信度 Confidence", f"{_e(_confidence_level(m.confidence.level))}{notes}"))
    if mv.unverified:
        rows.append(('<span class="badge">⚠ 未核实</span> Unverified items', ", ".join(_c(r) for r in mv.unverified)))
    completeness = "完整 / complete" if m.completeness == "complete" else "部分 / partial"
    rows.append(("完整性 Completeness", completeness + (f" — {_e(m.completeness_notes)}" if m.completeness_notes else "")))
    if d.url:
        rows.append(("正式文本 Official text", f'<a href="{_e(d.url)}">{_e(d.url)}</a>'))
    for title, url in m.sources:
        link = f' <a href="{_e(url)}">{_e(url)}</a>' if url else ""
        rows.append(("来源 Source", f"{_e(title)}{link}"))
    w('<dl class="meta">')
    for dt, dd in rows:
        w(f"<dt>{dt}</dt><dd>{dd}</dd>")
    w("</dl>")
    if not mv.categories:
        w('<p class="en">本模块无检查条目。 No checklist items in this module.</p>')
    for cv in mv.categories:
        _html_category(mv, cv, w)
    if mv.glossary or mv.derived:
        w('<section class="glossary">')
        w(f"<h3>需记录的事实 <span class=\"en\">Facts to record</span> — {_c(m.id)}</h3>")
        w("<ul>")
        for line in mv.glossary:
            _html_fact(line, w, glossary=True)
        for dl in mv.derived:
            _html_derived(dl, w, glossary=True)
        w("</ul>")
        w("</section>")
    w("</section>")


def _html_category(mv: ModuleView, cv: CategoryView, w) -> None:
    c = cv.category
    w('<section class="category">')
    if c is None:
        w("<h3>未分类 <span class=\"en\">Uncategorised</span></h3>")
    else:
        where = f"{_e(c.citation.locator)} " if c.citation is not None else ""
        w(f"<h3>{where}{_e(c.title.zh)}</h3>")
        w(f'<p class="en">{_e(c.title.en)}</p>')
    for item in cv.items:
        _html_item(mv, item, w)
    w("</section>")


def _html_item(mv: ModuleView, item: ItemView, w) -> None:
    r = item.rule
    cls = "item unverified" if item.unverified else "item"
    w(f'<article class="{cls}" id="{_e(_anchor("r", r.id))}">')
    badge = ' <span class="badge">⚠ 未核实 UNVERIFIED</span>' if item.unverified else ""
    w(f'<h4><span class="box"></span>{_e(r.citation.locator)} {_e(r.title.zh)}{badge}</h4>')
    w(f'<p class="en">{_e(r.title.en)}</p>')
    if item.unverified:
        w('<p class="warn"><strong>⚠ 未核实 Unverified:</strong> 本项内容未经核实，使用前请对照正式文本。 '
          "<em>The content of this item is not established; check it against the official text.</em></p>")
    w("<ul>")
    w(f'<li><span class="field">依据 Citation:</span> {_e(r.citation.rendered)} <span class="rid">{_e(r.id)}</span></li>')
    if r.description:
        w(f'<li><span class="field">检查内容 What to check:</span> {_e(r.description)}</li>')
    if item.for_each_label:
        w(f'<li><span class="field">逐项判定 For each item of:</span> {_e(item.for_each_label)}'
          f"（{_c(r.for_each.list_name)}，记作 as {_c(r.for_each.var)}）</li>")
    if item.applies_if:
        w(f'<li><span class="field">适用条件 Applies if:</span> <pre>{_e(item.applies_if)}</pre>'
          "不成立时不适用 / not applicable when false</li>")
    if mv.scope:
        w(f'<li><span class="field">模块适用范围 Module scope:</span> {_c(mv.scope)}</li>')
    w('<li><span class="field">需记录 Record:</span>')
    w("<ul>")
    for line in item.facts:
        _html_fact(line, w)
    w("</ul></li>")
    if item.derived:
        w('<li><span class="field">计算 Computed:</span>')
        w("<ul>")
        for dl in item.derived:
            _html_derived(dl, w)
        w("</ul></li>")
    if item.thresholds:
        w('<li><span class="field">阈值 Thresholds:</span>')
        w("<ul>")
        for t in item.thresholds:
            value = f" {_e(t.threshold.value)}" if t.threshold.value else ""
            cmp = "，".join(_c(c) for c in t.comparisons) or "—"
            note = f"（{_e(t.threshold.note)}）" if t.threshold.note else ""
            w(f"<li>{_e(t.label)}：<strong>{_e(t.threshold.term)}</strong>{value} — {_e(_reading_text(t.reading))}；"
              f"条件中 in the condition: {cmp}{note}</li>")
        w("</ul></li>")
    w('<li><span class="field">判定条件 Condition</span>（成立即为重大事故隐患 / true means this major hazard is present）:'
      f"<pre>{_e(item.condition)}</pre></li>")
    if r.notes:
        w(f'<li><span class="field">说明 Notes:</span> {_e(r.notes)}</li>')
    w("</ul>")
    w("</article>")


def _html_fact(line: FactLine, w, glossary: bool = False) -> None:
    spec = line.spec
    label = f'{_e(spec.label.zh)} <span class="en">{_e(spec.label.en)}</span>' if spec is not None else _c(line.name)
    desc = f' <span class="desc">— {_e(spec.description)}</span>' if glossary and spec is not None and spec.description else ""
    w(f"<li>{label}（{_c(line.name)}；{_e(_fact_summary(line))}）{desc}")
    inner: List[str] = []
    values = _values(spec)
    if values:
        inner.append("<li>选项 values: " + "；".join(f"{_c(v)} {_e(t)}" for v, t in values) + "</li>")
    if spec is not None and spec.type.kind == LIST:
        key = f"，以 {_c(spec.key)} 标识 / keyed by {_c(spec.key)}" if spec.key else ""
        inner.append(f"<li>每一项记录 For each item record{key}:<ul>")
        for f in line.fields:
            fdesc = f' <span class="desc">— {_e(f.description)}</span>' if glossary and f.description else ""
            fvalues = _values(f)
            fv = ("<ul><li>选项 values: " + "；".join(f"{_c(v)} {_e(t)}" for v, t in fvalues) + "</li></ul>") if fvalues else ""
            inner.append(f'<li>{_e(f.label.zh)} <span class="en">{_e(f.label.en)}</span>'
                         f"（{_c(f.name)}；{_e(_fact_summary(FactLine(f.name, f)))}）{fdesc}{fv}</li>")
        inner.append("</ul></li>")
    if inner:
        w("<ul>")
        for x in inner:
            w(x)
        w("</ul>")
    w("</li>")


def _html_derived(dl: DerivedLine, w, glossary: bool = False) -> None:
    d = dl.derived
    unit = _derived_unit(d)
    unit_text = f"，单位 unit {_e(unit)}" if unit else ""
    desc = f' <span class="desc">— {_e(d.description)}</span>' if glossary and d.description else ""
    source = f"（出处 source: {_e(d.source)}）" if glossary and d.source else ""
    w(f'<li>{_e(d.label.zh)} <span class="en">{_e(d.label.en)}</span>（计算 computed{unit_text}）: '
      f"{_c(dl.name + ' = ' + ast.to_source(d.expr))}{desc}{source}</li>")


# ============================================================================ files and CLI

def render(ir: RuleSetIR, pack_name: Optional[str], fmt: str) -> str:
    if fmt == "md":
        return render_markdown(ir, pack_name)
    if fmt == "html":
        return render_html(ir, pack_name)
    raise ValueError(f"unknown checklist format {fmt!r} (md or html)")


def _load_pack(spec: str) -> Tuple[RuleSetIR, str]:
    """Load one pack (a name or a pack folder); returns the IR and the pack's name."""
    ir = load_ir([spec])
    if len(ir.packs) == 1:
        return ir, ir.packs[0].name
    named = [p.name for p in ir.packs if p.name == spec]
    if named:
        return ir, named[0]
    raise ValueError(f"{spec!r} is not one pack (it loads {len(ir.packs)} packs)")


def write_checklists(pack_names: Iterable[str], out_dir: str, formats: Sequence[str] = FORMATS) -> List[str]:
    """Write ``<out_dir>/<pack>.md`` and/or ``<pack>.html`` for each pack; returns the paths written.

    Raises :class:`~safetyrules.errors.LoadError` when a pack does not load.
    """
    written: List[str] = []
    os.makedirs(out_dir, exist_ok=True)
    for spec in pack_names:
        ir, name = _load_pack(spec)
        for fmt in formats:
            path = os.path.join(out_dir, f"{name}.{fmt}")
            text = render(ir, name, fmt)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            written.append(path)
    return written


def cmd_docs(args) -> int:
    formats = FORMATS if args.format == "both" else (args.format,)
    if args.output == "-":
        if len(args.packs) != 1 or len(formats) != 1:
            print("safetyrules: docs -o - writes one pack in one format (--format md or --format html)", file=sys.stderr)
            return 2
        try:
            ir, name = _load_pack(args.packs[0])
        except ValueError as exc:
            print(f"safetyrules: {exc}", file=sys.stderr)
            return 2
        sys.stdout.write(render(ir, name, formats[0]))
        return 0
    try:
        paths = write_checklists(args.packs, args.output, formats)
    except ValueError as exc:
        print(f"safetyrules: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"safetyrules: cannot write checklists: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


def add_docs_parser(subparsers) -> None:
    """Register ``safetyrules docs PACK... [-o DIR] [--format md|html|both]``."""
    p = subparsers.add_parser(
        "docs",
        help="render packs as inspection checklists (Markdown and self-contained HTML)",
        description="Render each pack as the checklist inspectors carry: module -> category -> item, with the facts "
        "to record, thresholds and how they are read, conditions and citations. Writes DIR/<pack>.md and "
        "DIR/<pack>.html.",
    )
    p.add_argument("packs", nargs="+", metavar="PACK", help="pack names or pack folders")
    p.add_argument("-o", "--output", metavar="DIR", default=DEFAULT_OUT_DIR,
                   help=f"output folder (default: {DEFAULT_OUT_DIR}); '-' prints one pack in one format to stdout")
    p.add_argument("--format", choices=("md", "html", "both"), default="both")
    p.set_defaults(func=cmd_docs)
