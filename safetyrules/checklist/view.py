"""What a checklist shows, built from the compiled rule set (never from the YAML text).

The view model decides everything the Markdown and HTML renderings share: which modules, categories,
items and facts appear and in which order, the facts each item asks to record (in order of first
reading), thresholds with the reading of their legal word, the module's header rows with their labels,
the warnings (illustration, partly encoded, unverified) and their wording. A renderer only formats:
it escapes, marks up and lays out what this module gives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from ..ir import CompiledModule, CompiledRule, RuleSetIR
from ..expr import ast
from ..expr.types import ANY_UNIT, BOOLEAN, DATE, DIMENSIONLESS, ENUM, LIST, NUMBER, STRING
from ..model import Category, DerivedFact, FactSpec, Module, Rule, RuleException, Text, Threshold

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

#: said under a module that has no items
NO_ITEMS = "本模块无检查条目。 No checklist items in this module."


@dataclass(frozen=True)
class Span:
    """A piece of a header row, formatted by each renderer in its own way.

    Kinds: ``lit`` (fixed wording, written as it is), ``text`` (a value: escaped), ``code`` (an id or an
    expression), ``link`` (an address), ``condition`` (a whole condition: inline code in Markdown, a
    block in HTML), ``note`` (a remark after a condition), ``term`` (a threshold word in the module's
    header), ``strong`` (a threshold word at an item), ``rule_id`` (after a citation), ``break``
    (between entries of one row).
    """

    kind: str
    text: str = ""


def _lit(text: str) -> Span:
    return Span("lit", text)


def _val(text: object) -> Span:
    return Span("text", "" if text is None else str(text))


def _code_span(text: str) -> Span:
    return Span("code", text)


@dataclass(frozen=True)
class MetaRow:
    """One row of a module's header or of an item: its label and its value (the order of the rows is
    the order the checklist shows them in)."""

    #: names the row, for a renderer that labels it differently (the header's ``unverified``) or lays
    #: it out as a block (an item's ``record``, ``computed``, ``thresholds``, ``condition``)
    key: str
    label: str
    value: Tuple[Span, ...]
    #: a second line under the row (the scope's facts to record): its label and value
    detail: Optional[Tuple[str, Tuple[Span, ...]]] = None


@dataclass(frozen=True)
class Notice:
    """A warning shown before a module's or an item's content: a strong lead, then a text and an
    English gloss (either may be empty)."""

    lead: str
    text: str = ""
    en: str = ""


_ILLUSTRATION = Notice(
    "⚠ 示例，非真实文件，不得用于检查。", "", "Illustration, not a real document: must not be used for inspections."
)
_ITEM_UNVERIFIED = Notice(
    "⚠ 未核实 Unverified:",
    "本项内容未经核实，使用前请对照正式文本。",
    "The content of this item is not established; check it against the official text.",
)


@dataclass
class FactLine:
    """One fact to record: a base fact (with, for a list, the item fields the item reads)."""

    name: str
    spec: Optional[FactSpec]
    fields: List[FactSpec] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """'type, unit, ...' of the fact (without its label), e.g. '数值 number, 单位 unit t'."""
        return _fact_summary(self)

    @property
    def display_name(self) -> str:
        """Its label ("zh en"), or its name where no module declares it."""
        return _fact_name(self)

    @property
    def values(self) -> List[Tuple[str, str]]:
        """An enum's values with their labels, in declaration order."""
        return _values(self.spec)

    @property
    def is_list(self) -> bool:
        return self.spec is not None and self.spec.type.kind == LIST

    @property
    def field_lines(self) -> List["FactLine"]:
        """The item fields of a list to record, each as a line of its own."""
        return [FactLine(f.name, f) for f in self.fields]


@dataclass
class DerivedLine:
    name: str
    derived: DerivedFact

    @property
    def unit(self) -> Optional[str]:
        return _derived_unit(self.derived)

    @property
    def definition(self) -> str:
        """``name = expression``, as the checklist shows how it is computed."""
        return self.name + " = " + ast.to_source(self.derived.expr)


@dataclass
class ThresholdLine:
    threshold: Threshold
    label: str  # "zh en" of the fact the threshold is on
    reading: Optional[str]  # inclusive | exclusive | None
    comparisons: List[str]

    @property
    def reading_text(self) -> str:
        return _reading_text(self.reading)

    @property
    def spans(self) -> Tuple[Span, ...]:
        """Fact, legal word and value, how the word is read, the comparisons that encode it, the note."""
        t = self.threshold
        value = (_lit(" "), _val(t.value)) if t.value else ()
        comparisons = _joined([(_code_span(c),) for c in self.comparisons], _lit("，")) or (_lit("—"),)
        note = (_lit("（"), _val(t.note), _lit("）")) if t.note else ()
        return (
            _val(self.label),
            _lit("："),
            Span("strong", t.term),
            *value,
            _lit(" — "),
            _val(self.reading_text),
            _lit("；条件中 in the condition: "),
            *comparisons,
            *note,
        )


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
    #: the module's scope (every item repeats it: an item is read on its own)
    scope: Optional[str] = None

    @property
    def notices(self) -> List[Notice]:
        return [_ITEM_UNVERIFIED] if self.unverified else []

    @property
    def rows(self) -> List[MetaRow]:
        """The item's lines in the order both renderings show them. Four are blocks a renderer lays
        out from the item's lists: ``record`` (:attr:`facts`), ``computed`` (:attr:`derived`),
        ``thresholds`` (:attr:`thresholds`) and ``condition`` (:attr:`condition`)."""
        return _item_rows(self)


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

    @property
    def n_items(self) -> int:
        return sum(len(c.items) for c in self.categories)

    @property
    def flags(self) -> List[str]:
        """What the table of contents warns about (empty: nothing)."""
        return _flags(self)

    @property
    def notices(self) -> List[Notice]:
        """The warnings above the module's header, in order."""
        return _module_notices(self)

    @property
    def rows(self) -> List[MetaRow]:
        """The module's header: document, dates, jurisdiction, scope, readings, confidence, sources."""
        return _module_rows(self)


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
            elif (derived := self.vocab.derived(node.name)) is not None and self.vocab.fact(node.name) is None:
                if node.name not in self.derived:
                    self.derived.append(node.name)
                    self.visit(derived.expr, {})
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
                specs = [s for s in map(spec.field, wanted) if s is not None]
            out.append(FactLine(name, spec, specs))
        return out

    def derived_lines(self) -> List[DerivedLine]:
        # every name in self.derived was added for a derived fact the vocabulary has
        return [DerivedLine(n, d) for n in self.derived if (d := self.vocab.derived(n)) is not None]


def _walk_env(node: ast.Node, env: Dict[str, str]) -> Iterator[Tuple[ast.Node, Dict[str, str]]]:
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


def _reads(node: ast.Node, env: Dict[str, str]) -> Set[str]:
    out: Set[str] = set()
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


def _label(text: Text) -> str:
    return f"{text.zh} {text.en}" if text.en and text.en != text.zh else text.zh


def _threshold_label(rule: Rule, vocab: _Vocabulary, fact: str) -> str:
    if "." in fact:
        head, _, tail = fact.partition(".")
        list_name = rule.for_each.list_name if rule.for_each and head == rule.for_each.var else head
        spec = vocab.fact(list_name)
        item = spec.field(tail) if spec is not None else None
        if spec is not None and item is not None:
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
    scope = pretty_condition(m.scope) if m.scope is not None else None
    vocab = _Vocabulary(ir, m)
    unverified = list(m.confidence.unverified) if m.confidence else []
    categories: Dict[Optional[str], CategoryView] = {c.id: CategoryView(c, []) for c in m.categories}
    module_refs = _Refs(vocab)
    terms: List[str] = []
    for cr in cm.rules:
        item = _item_view(cr, vocab, unverified, scope)
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
        scope=scope,
        scope_facts=scope_refs.fact_lines(),
        glossary=glossary.fact_lines(),
        derived=glossary.derived_lines(),
        terms=[(t, m.threshold_reading.get(t)) for t in terms],
        unverified=unverified,
        industries=[(i, _label(ir.industries[i].name) if i in ir.industries else None) for i in m.industries],
    )


def _item_view(cr: CompiledRule, vocab: _Vocabulary, unverified: Sequence[str], scope: Optional[str]) -> ItemView:
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
    for exception in rule.unless:
        refs.visit(exception.when, env)
    thresholds = []
    for t in rule.thresholds:
        thresholds.append(
            ThresholdLine(
                threshold=t,
                label=_threshold_label(rule, vocab, t.fact),
                reading=_module_reading(vocab, rule, t.term),
                comparisons=_threshold_comparisons(rule, t.fact),
            )
        )
    return ItemView(
        rule=rule,
        unverified=rule.id in unverified,
        facts=refs.fact_lines(),
        derived=refs.derived_lines(),
        thresholds=thresholds,
        condition=pretty_condition(rule.when),
        applies_if=pretty_condition(rule.applies_if) if rule.applies_if is not None else None,
        for_each_label=for_each_label,
        scope=scope,
    )


def _module_reading(vocab: _Vocabulary, rule: Rule, term: str) -> Optional[str]:
    cm = vocab.ir.module_by_id.get(rule.module_id)
    return cm.module.threshold_reading.get(term) if cm is not None else None


# ============================================================================ shared wording


def _effective(m: Module) -> str:
    if m.effective_until is None:
        return f"{m.effective_from.isoformat()} 起施行，未设废止日期 / in force from {m.effective_from.isoformat()}, no end date"
    return (
        f"{m.effective_from.isoformat()} 至 {m.effective_until.isoformat()}（含首尾两日） / "
        f"from {m.effective_from.isoformat()} to {m.effective_until.isoformat()}, both days inclusive"
    )


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


def _num(value: object) -> str:
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


# ============================================================================ a module's header


def _flags(mv: ModuleView) -> List[str]:
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
    return flags


def _module_notices(mv: ModuleView) -> List[Notice]:
    m = mv.module
    out = []
    if m.illustration:
        out.append(_ILLUSTRATION)
    if m.completeness == "partial":
        out.append(Notice("⚠ 部分编码 Partly encoded:", m.completeness_notes or "—"))
    if mv.unverified:
        n = len(mv.unverified)
        out.append(
            Notice(
                "⚠ 未核实 Unverified:",
                f"本模块有 {n} 项内容未经核实（标为“未核实”），使用前请对照正式文本。",
                f"{n} item(s) of this module are not established; check them against the official text.",
            )
        )
    return out


def _joined(parts: Sequence[Sequence[Span]], separator: Span) -> Tuple[Span, ...]:
    out: List[Span] = []
    for i, part in enumerate(parts):
        if i:
            out.append(separator)
        out.extend(part)
    return tuple(out)


def _module_rows(mv: ModuleView) -> List[MetaRow]:
    """The header rows in the order both renderings show them: which document, where and to what it
    applies, then how far it can be relied on."""
    return _document_rows(mv) + _applicability_rows(mv) + _reliability_rows(mv)


def _row(key: str, label: str, *value: Span, detail: Optional[Tuple[str, Tuple[Span, ...]]] = None) -> MetaRow:
    return MetaRow(key, label, tuple(value), detail)


def _document_rows(mv: ModuleView) -> List[MetaRow]:
    """The module and its document: ids, title and number, issuer, dates, what it replaces."""
    m = mv.module
    d = m.document
    version = (_lit("，版本 version "), _val(m.version)) if m.version else ()
    part = (_lit("，"), _val(d.part)) if d.part else ()
    rows = [
        _row("module", "模块 Module", _code_span(m.id), _lit("（系列 series "), _code_span(m.series), *version, _lit("）")),
        _row("document", "文件 Document", _lit("《"), _val(d.title), _lit("》"), _val(d.number), *part),
        _row("issuer", "发布机关 Issuer", _val(d.issuer.zh), _lit(" / "), _val(d.issuer.en)),
    ]
    if d.issued:
        rows.append(_row("issued", "发布日期 Issued", _val(d.issued.isoformat())))
    rows.append(_row("effective", "施行 Effective", _val(_effective(m))))
    if m.supersedes:
        rows.append(_row("supersedes", "替代 Supersedes", _code_span(m.supersedes)))
    if m.superseded_by:
        rows.append(_row("superseded_by", "被替代 Superseded by", _code_span(m.superseded_by)))
    return rows


def _applicability_rows(mv: ModuleView) -> List[MetaRow]:
    """Where and to what the module applies: jurisdiction, industries, scope, the modules it builds on."""
    m = mv.module
    industries = [(_code_span(i),) + ((_lit(" "), _val(name)) if name else ()) for i, name in mv.industries]
    rows = [
        _row("jurisdiction", "适用地区 Jurisdiction", _val(_jurisdiction(m))),
        _row("industry", "行业 Industry", *_joined(industries, _lit(", "))),
    ]
    if mv.scope:
        detail = None
        if mv.scope_facts:
            facts = [(_val(f.display_name), _lit("（"), _code_span(f.name), _lit("）")) for f in mv.scope_facts]
            detail = ("需记录 Record", _joined(facts, _lit("；")))
        rows.append(
            _row(
                "scope",
                "模块适用范围 Module scope",
                Span("condition", mv.scope),
                Span("note", "不成立时本模块各项不适用 / when false, no item of this module applies"),
                detail=detail,
            )
        )
    if m.imports:
        rows.append(_row("imports", "引用事实 Imports", *_joined([(_code_span(i),) for i in m.imports], _lit(", "))))
    if m.extends:
        rows.append(_row("extends", "补充 Extends", _code_span(m.extends)))
    return rows


def _reliability_rows(mv: ModuleView) -> List[MetaRow]:
    """How the module reads thresholds and how far it can be relied on: readings, confidence,
    unverified items, completeness, the official text and the sources."""
    m = mv.module
    d = m.document
    rows = []
    if mv.terms:
        terms = [(Span("term", t), _lit("："), _val(_reading_text(r))) for t, r in mv.terms]
        rows.append(_row("terms", "阈值用语 Threshold words", *_joined(terms, Span("break"))))
    if m.confidence:
        notes = (_lit(" — "), _val(m.confidence.notes)) if m.confidence.notes else ()
        rows.append(_row("confidence", "可信度 Confidence", _val(_confidence_level(m.confidence.level)), *notes))
    if mv.unverified:
        rows.append(
            _row("unverified", "⚠ 未核实条目 Unverified items", *_joined([(_code_span(r),) for r in mv.unverified], _lit(", ")))
        )
    completeness = "完整 / complete" if m.completeness == "complete" else "部分 / partial"
    notes = (_lit(" — "), _val(m.completeness_notes)) if m.completeness_notes else ()
    rows.append(_row("completeness", "完整性 Completeness", _lit(completeness), *notes))
    if d.url:
        rows.append(_row("url", "正式文本 Official text", Span("link", d.url)))
    for title, url in m.sources:
        link = (_lit(" "), Span("link", url)) if url else ()
        rows.append(_row("source", "来源 Source", _val(title), *link))
    return rows


# ============================================================================ an item's lines


def _item_rows(item: ItemView) -> List[MetaRow]:
    """Citation, what to check, the list it runs over, applicability, scope, the facts to record,
    computed facts, thresholds, the condition, notes."""
    r = item.rule
    rows = [_row("citation", "依据 Citation", _val(r.citation.rendered), Span("rule_id", r.id))]
    if r.description:
        rows.append(_row("check", "检查内容 What to check", _val(r.description)))
    if item.for_each_label and r.for_each is not None:  # the label is set for a rule with for_each
        rows.append(
            _row(
                "for_each",
                "逐项判定 For each item of",
                _val(item.for_each_label),
                _lit("（"),
                _code_span(r.for_each.list_name),
                _lit("，记作 as "),
                _code_span(r.for_each.var),
                _lit("）"),
            )
        )
    if item.applies_if:
        rows.append(
            _row(
                "applies_if",
                "适用条件 Applies if",
                Span("condition", item.applies_if),
                Span("note", "不成立时不适用 / not applicable when false"),
            )
        )
    if item.scope:
        rows.append(_row("scope", "模块适用范围 Module scope", _code_span(item.scope)))
    rows.append(_row("record", "需记录 Record"))
    if item.derived:
        rows.append(_row("computed", "计算 Computed"))
    if item.thresholds:
        rows.append(_row("thresholds", "阈值 Thresholds"))
    rows.append(
        _row("condition", "判定条件 Condition", _lit("（成立即为重大事故隐患 / true means this major hazard is present）"))
    )
    for exception in r.unless:
        rows.append(
            _row(
                "unless",
                "除外情形 Except where",
                _val(f"{exception.label.zh} / {exception.label.en}"),
                _lit("（"),
                _val(exception.citation.rendered),
                _lit("）："),
                Span("condition", pretty_condition(exception.when)),
                Span("note", "成立时不构成该项隐患 / when true, this item is not a hazard"),
                *_presumption_notes(exception),
            )
        )
    if r.notes:
        rows.append(_row("notes", "说明 Notes", _val(r.notes)))
    return rows


def _presumption_notes(exception: RuleException) -> List[Span]:
    """What the exception presumes of each fact it reads when the record does not say."""
    out = []
    for name, presumed in exception.presumed:
        zh, en = ("是", "true") if presumed.value else ("否", "false")
        out.append(
            Span(
                "note",
                f"未记录 {name} 时推定为{zh}：{presumed.reason.zh}（{presumed.source}） / "
                f"not recorded: presumed {en}: {presumed.reason.en}",
            )
        )
    return out


# ============================================================================ for forms (safetyrules.service.form)


def fact_unit(spec: FactSpec) -> Optional[str]:
    """The unit a form shows beside a number (none for dimensionless numbers and literals)."""
    return _unit(spec)


def condition_facts(
    ir: RuleSetIR, module: Module, condition: Optional[ast.Node], for_each: Optional[str] = None, var: Optional[str] = None
) -> List[str]:
    """The base facts a condition reads (through derived facts too), in order of first reading: a form
    asks the facts of a scope or an ``applies_if`` before the items they show or hide."""
    if condition is None:
        return []
    refs = _Refs(_Vocabulary(ir, module))
    refs.visit(condition, {var: for_each} if var and for_each else {})
    return list(refs.facts)
