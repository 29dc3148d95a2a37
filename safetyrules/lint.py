"""Lint: consistency checks over a compiled rule set, beyond schema and type errors.

Each finding is a :class:`~safetyrules.errors.Diagnostic` -- the type loading reports its problems
with -- with a stable code, a severity (error, warning, note) and a location. Errors are things that
make a module say something other than its document (a threshold word read the wrong way, two versions
in force on one day); warnings are likely mistakes; notes list what an author should know (content
marked unverified, partly encoded documents).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
import re
from typing import Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from .errors import SEVERITIES, Diagnostic
from .ir import CompiledModule, RuleSetIR
from .ir.ruleset import direct_reads
from .model import FactSpec, Rule
from .expr import ast
from .expr.language import COMPARISONS


def lint_ir(ir: RuleSetIR) -> List[Diagnostic]:
    findings: List[Diagnostic] = []
    findings += _threshold_readings(ir)
    findings += _threshold_words(ir)
    findings += _versions(ir)
    findings += _undeclared_industries(ir)
    findings += _unused_facts(ir)
    findings += _constant_conditions(ir)
    findings += _duplicate_conditions(ir)
    findings += _metadata_notes(ir)
    findings += _ids_and_citations(ir)
    findings += _subsumed(ir)
    findings += _restating_facts(ir)
    findings += _exceptions(ir)
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.location.path, f.location.line, f.code))


def _mentions(node: ast.Node, fact: str, list_name: Optional[str] = None) -> bool:
    """Whether a comparison reads ``fact`` (a fact, derived fact, ``var.field`` or ``list.field``)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.name == fact:
            return True
        if isinstance(n, ast.ItemField):
            names = {f"{n.var}.{n.field_name}", n.field_name}
            if list_name:
                names.add(f"{list_name}.{n.field_name}")
            # an item variable bound by any/all/count: the field name is what is known
            if fact in names or (list_name is None and fact.split(".")[-1] == n.field_name and "." in fact):
                return True
    return False


def _threshold_readings(ir: RuleSetIR) -> List[Diagnostic]:
    out = []
    for cm in ir.modules:
        reading = cm.module.threshold_reading
        for cr in cm.rules:
            rule = cr.rule
            for t in rule.thresholds:
                mode = reading.get(t.term)
                # a threshold may decide the item (when) or whether it applies (applies_if: voltage classes...)
                conditions = (rule.when,) + ((rule.applies_if,) if rule.applies_if is not None else ())
                compares = [n for c in conditions for n in ast.walk(c) if isinstance(n, ast.Compare) and n.op not in ("==", "!=")]
                relevant = [n for n in compares if _mentions(n, t.fact, rule.for_each.list_name if rule.for_each else None)]
                if not relevant:
                    out.append(
                        Diagnostic(
                            "L-THRESHOLD-UNUSED",
                            severity="warning",
                            message=f"rule {rule.id}: threshold on {t.fact!r} ({t.term}) but no comparison reads it",
                            location=rule.location,
                        )
                    )
                    continue
                for n in relevant:
                    inclusive = n.op in (">=", "<=")
                    if mode == "inclusive" and not inclusive or mode == "exclusive" and inclusive:
                        out.append(
                            Diagnostic(
                                "L-THRESHOLD-READING",
                                severity="error",
                                message=f"rule {rule.id}: {t.term} is read as {mode} in this document, but "
                                f"'{ast.to_source(n)}' uses {n.op!r}",
                                location=rule.location,
                            )
                        )
    return out


# ---------------------------------------------------------------- threshold words in the rule's own text

#: words that put the hazard above a value (超过9人: more than nine) ...
_LOWER_WORDS = ("超过", "大于", "高于", "多于", "超出", "以上", "及以上", "达到", "达", "不少于", "不低于", "不小于")
#: ... and below it (不足3米: less than three metres)
_UPPER_WORDS = ("以下", "及以下", "以内", "小于", "低于", "少于", "不足", "不满", "不超过", "不大于")
#: explicit comparisons that no reading changes
_EXPLICIT = {
    "大于等于": ">=",
    "大于或等于": ">=",
    "小于等于": "<=",
    "小于或等于": "<=",
    "≥": ">=",
    "≤": "<=",
    ">=": ">=",
    "<=": "<=",
}
_PREFIX_WORDS = sorted(set(_LOWER_WORDS + _UPPER_WORDS) - {"以上", "及以上", "以下", "及以下", "以内"}, key=len, reverse=True)
_SUFFIX_WORDS = ("及以上", "及以下", "以上", "以下", "以内")
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十]{1,3})"
#: a word, then (a few characters naming what it is compared with: 超过核定生产能力的110%) a number
_WORD_RE = re.compile("|".join(map(re.escape, sorted(list(_EXPLICIT) + _PREFIX_WORDS, key=len, reverse=True))))
_AFTER_WORD_RE = re.compile(r"([^\d，,、；;。:：（）()]{0,12}?)" + _NUMBER + r"\s*(%|％)?")
#: a number, an optional unit (a few characters, no punctuation or digits), then 以上/以下/以内
_SUFFIX_RE = re.compile(_NUMBER + r"\s*(%|％)?\s*([^\d\s，,、；;。:：（）()]{0,4}?)\s*(" + "|".join(_SUFFIX_WORDS) + ")")
#: negation earlier in the same clause turns the hazard round: 未配备不少于2名 is fewer than two
_NEGATION_RE = re.compile("(未|没有|无)")
_CLAUSE_BREAK = re.compile(r"[，,；;。、（）()]")
#: ranks and classes, where 以上 means a smaller number (一级 is above 二级)
_RANKS = ("等", "级", "类")
_OPPOSITE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}


def _zh_number(text: str) -> Optional[Fraction]:
    if text[0].isdigit():
        return Fraction(text)
    if text in _ZH_DIGITS:
        return Fraction(_ZH_DIGITS[text])
    if "十" in text:  # 十, 十二, 二十, 二十五
        tens, _, units = text.partition("十")
        if (tens and tens not in _ZH_DIGITS) or (units and units not in _ZH_DIGITS):
            return None
        return Fraction((_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[units] if units else 0))
    return None


@dataclass(frozen=True)
class ThresholdPhrase:
    """A threshold written in a rule's own words: ``超过9人`` is (超过, 9, '>')."""

    word: str
    number: Fraction
    percent: bool
    op: str  # the comparison the words call for, the value on the right: fact <op> number
    text: str  # the phrase as written


def threshold_phrases(text: str, reading: Mapping[str, str]) -> Iterator[ThresholdPhrase]:
    """The thresholds a zh text states, each with the comparison its word calls for under ``reading``
    (a word the reading does not know is skipped). A negation earlier in the clause (未、没有、无)
    turns the comparison round, because the hazard is then the value *not* reaching the threshold."""
    # per number (by its position): the word next to it governs; a word further before it
    # (高于洪水位1米以上) yields to a 以上/以下 right after the number
    # (rank, start, word or None for a rank, number text, percent, phrase); rank 9 stands for none yet
    by_number: Dict[int, Tuple[int, int, Optional[str], str, bool, str]] = {}
    none_yet = (9, 0, None, "", False, "")
    for w in _WORD_RE.finditer(text):
        m = _AFTER_WORD_RE.match(text, w.end())
        if m is None:
            continue
        gap = m.group(1)
        if gap.strip() and (len(w.group(0)) < 2 or _WORD_RE.search(gap)):
            continue  # a nearer word governs the number; a one-character word (达) only right before it
        rank = 0 if not gap.strip() else 2
        by_number[m.start(2)] = min(
            by_number.get(m.start(2), none_yet),
            (rank, w.start(), w.group(0), m.group(2), bool(m.group(3)), text[w.start() : m.end()]),
        )
    for m in _SUFFIX_RE.finditer(text):
        if m.group(3)[:1] in _RANKS:
            by_number[m.start(1)] = (1, m.start(), None, m.group(1), False, m.group(0))  # 三等及以上: a rank, not judged
            continue
        by_number[m.start(1)] = min(
            by_number.get(m.start(1), none_yet), (1, m.start(), m.group(4), m.group(1), bool(m.group(2)), m.group(0))
        )
    found = sorted((v[1], v[2], v[3], v[4], v[5]) for v in by_number.values() if v[2] is not None)
    for start, word, number_text, percent, phrase in found:
        number = _zh_number(number_text)
        if number is None:
            continue
        if word in _EXPLICIT:
            op = _EXPLICIT[word]
        else:
            mode = reading.get(word) or reading.get(word.lstrip("及"))
            if word.startswith("及"):
                mode = "inclusive"  # 及以上 / 及以下 say so themselves
            if mode not in ("inclusive", "exclusive"):
                continue
            lower = word in _LOWER_WORDS
            op = (">=" if mode == "inclusive" else ">") if lower else ("<=" if mode == "inclusive" else "<")
        clause = _CLAUSE_BREAK.split(text[:start])[-1]
        if _NEGATION_RE.search(clause):
            op = _OPPOSITE[op]
        yield ThresholdPhrase(word, number, percent, op, phrase)


def _literal_matches(node: ast.Node, phrase: ThresholdPhrase) -> bool:
    if not isinstance(node, ast.Number):
        return False
    if node.percent:
        return node.value * 100 == phrase.number
    return node.value == phrase.number


def _oriented(compare: ast.Compare, phrase: ThresholdPhrase) -> Optional[str]:
    """The comparison's operator with the side holding the phrase's number on the right, or None."""
    right = any(_literal_matches(n, phrase) for n in ast.walk(compare.right))
    left = any(_literal_matches(n, phrase) for n in ast.walk(compare.left))
    if right == left:  # neither, or both sides: nothing to say
        return None
    return compare.op if right else _FLIP[compare.op]


def _compares_with_polarity(node: ast.Node, negated: bool = False) -> Iterator[Tuple[ast.Compare, bool]]:
    """Ordering comparisons under ``node``, each with whether an odd number of ``not`` wrap it
    (``not (width_m >= 20)`` states the hazard ``width_m < 20``)."""
    if isinstance(node, ast.Not):
        yield from _compares_with_polarity(node.operand, not negated)
        return
    if isinstance(node, ast.Compare) and node.op in _FLIP:
        yield node, negated
    for child in ast.children(node):
        yield from _compares_with_polarity(child, negated)


def _threshold_words(ir: RuleSetIR) -> List[Diagnostic]:
    """A comparison whose direction or inclusivity contradicts the threshold words of the rule's zh title
    or description (read by the module's ``threshold_reading``), whether or not ``thresholds:`` is given.
    Only comparisons with the phrase's own number are judged, so a unit conversion is never flagged."""
    out = []
    for cm in ir.modules:
        reading = cm.module.threshold_reading
        for cr in cm.rules:
            rule = cr.rule
            conditions = (rule.when,) + ((rule.applies_if,) if rule.applies_if is not None else ())
            compares = [(n, negated) for c in conditions for n, negated in _compares_with_polarity(c)]
            if not compares:
                continue
            phrases = list(threshold_phrases(rule.title.zh, reading))
            if not phrases and rule.description:
                phrases = list(threshold_phrases(rule.description, reading))
            for phrase in phrases:
                oriented = [(n, _oriented(n, phrase), negated) for n, negated in compares]
                ops = [(n, _OPPOSITE[op] if negated else op) for n, op, negated in oriented if op is not None]
                if not ops or any(op == phrase.op for _, op in ops):
                    continue  # no comparison with this number, or one reads it as written
                n, op = ops[0]
                shown = f"not ({ast.to_source(n)})" if any(m is n and neg for m, neg in compares) else ast.to_source(n)
                out.append(
                    Diagnostic(
                        "L-THRESHOLD-WORD",
                        severity="error",
                        message=f"rule {rule.id}: the text says '{phrase.text}', which reads as '{phrase.op} {phrase.text and _fmt(phrase)}' "
                        f"in this module ({phrase.word}: {reading.get(phrase.word, 'explicit')}), but '{shown}' "
                        f"reads as {op!r}; write it as the words read, or set module.threshold_reading if this document "
                        f"defines {phrase.word} otherwise",
                        location=rule.location,
                    )
                )
    return out


def _fmt(phrase: ThresholdPhrase) -> str:
    value = phrase.number
    text = str(value.numerator) if value.denominator == 1 else str(float(value))
    return text + ("%" if phrase.percent else "")


def _undeclared_industries(ir: RuleSetIR) -> List[Diagnostic]:
    """Modules loaded without their pack may name any industry; say when no pack, loaded or
    installed, declares it (a typo, or a pack still to be written)."""
    undeclared = [(cm, i) for cm in ir.modules for i in cm.module.industries if i not in ir.industries]
    if not undeclared:
        return []
    from .loader import discover_packs, read_pack

    installed: Set[str] = set()
    for folder in discover_packs().values():
        src, _ = read_pack(folder)
        if src:
            installed.update(i.id for i in src.pack.industries)
    return [
        Diagnostic(
            "L-INDUSTRY-UNDECLARED",
            severity="warning",
            message=f"module {cm.id} names industry {industry!r}, which no pack declares (pack.yaml, industries:)",
            location=cm.module.location,
        )
        for cm, industry in undeclared
        if industry not in installed
    ]


def _versions(ir: RuleSetIR) -> List[Diagnostic]:
    out = []
    for series, versions in ir.series().items():
        by_jurisdiction: Dict[str, List[CompiledModule]] = {}
        for v in versions:
            by_jurisdiction.setdefault(str(v.module.jurisdiction.code), []).append(v)
        for group in by_jurisdiction.values():
            group.sort(key=lambda v: v.module.effective_from)
            for a, b in zip(group, group[1:]):
                ma, mb = a.module, b.module
                if ma.effective_until is None or ma.effective_until >= mb.effective_from:
                    out.append(
                        Diagnostic(
                            "L-VERSION-OVERLAP",
                            severity="error",
                            message=f"series {series!r}: {ma.id} and {mb.id} are both in force on {mb.effective_from.isoformat()}",
                            location=mb.location,
                        )
                    )
                elif ma.effective_until + timedelta(days=1) != mb.effective_from:
                    out.append(
                        Diagnostic(
                            "L-VERSION-GAP",
                            severity="warning",
                            message=f"series {series!r}: no version in force from {(ma.effective_until + timedelta(days=1)).isoformat()} "
                            f"to {(mb.effective_from - timedelta(days=1)).isoformat()}",
                            location=mb.location,
                        )
                    )
                if mb.supersedes not in (None, ma.id):
                    out.append(
                        Diagnostic(
                            "L-SUPERSESSION",
                            severity="error",
                            message=f"{mb.id} supersedes {mb.supersedes!r}, but its predecessor in {series!r} is {ma.id}",
                            location=mb.location,
                        )
                    )
                if ma.superseded_by not in (None, mb.id):
                    out.append(
                        Diagnostic(
                            "L-SUPERSESSION",
                            severity="error",
                            message=f"{ma.id} is superseded_by {ma.superseded_by!r}, but its successor in {series!r} is {mb.id}",
                            location=ma.location,
                        )
                    )
            for v in group:
                m = v.module
                for ref, word in ((m.supersedes, "supersedes"), (m.superseded_by, "superseded_by")):
                    if ref and ref not in ir.module_by_id:
                        out.append(
                            Diagnostic(
                                "L-SUPERSESSION",
                                severity="warning",
                                message=f"{m.id} {word} {ref!r}, which is not loaded",
                                location=m.location,
                            )
                        )
    return out


def _unused_facts(ir: RuleSetIR) -> List[Diagnostic]:
    used: Set[str] = set()
    for cm in ir.modules:
        used |= cm.scope_base_facts
        for cr in cm.rules:
            used |= cr.base_facts
    for d in ir.derived.values():
        used |= d.reads
    out = []
    for name, spec in ir.facts.items():
        if name not in used:
            out.append(
                Diagnostic(
                    "L-UNUSED-FACT",
                    severity="warning",
                    message=f"fact {name!r} is declared but no rule, scope or derived fact reads it",
                    location=spec.location,
                )
            )
    return out


def _bounds_by_fact(operands: Sequence[ast.Node]) -> Dict[str, List[Tuple[str, Fraction]]]:
    """The operands that bound one fact by a literal (``x > 3``), grouped by fact."""
    per_fact: Dict[str, List[Tuple[str, Fraction]]] = {}
    for o in operands:
        b = _bounds(o)
        if b:
            per_fact.setdefault(b[0], []).append((b[1], b[2]))
    return per_fact


def _bounds(node: ast.Node) -> Optional[Tuple[str, str, Fraction]]:
    """(fact, op, literal) for a comparison of a fact with a number literal, fact on the left."""
    if not isinstance(node, ast.Compare):
        return None
    flip = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
    left, right, op = node.left, node.right, node.op
    if isinstance(left, ast.Number) and isinstance(right, (ast.Name, ast.ItemField)):
        left, right, op = right, left, flip[op]
    if isinstance(left, (ast.Name, ast.ItemField)) and isinstance(right, ast.Number):
        return (ast.to_source(left), op, right.value)
    return None


def _interval_empty(constraints: List[Tuple[str, Fraction]]) -> bool:
    lo, lo_strict, hi, hi_strict = None, False, None, False
    for op, v in constraints:
        if op in (">", ">=") and (lo is None or v > lo or (v == lo and op == ">")):
            lo, lo_strict = v, op == ">"
        if op in ("<", "<=") and (hi is None or v < hi or (v == hi and op == "<")):
            hi, hi_strict = v, op == "<"
        if op == "==":
            if (lo is not None and (v < lo or (v == lo and lo_strict))) or (
                hi is not None and (v > hi or (v == hi and hi_strict))
            ):
                return True
            lo = hi = v
            lo_strict = hi_strict = False
    if lo is None or hi is None:
        return False
    return lo > hi or (lo == hi and (lo_strict or hi_strict))


def _constant_conditions(ir: RuleSetIR) -> List[Diagnostic]:
    out = []
    for cm in ir.modules:
        for cr in cm.rules:
            for node in ast.walk(cr.rule.when):
                if isinstance(node, ast.And):
                    for fact, cons in _bounds_by_fact(node.operands).items():
                        if _interval_empty(cons):
                            out.append(
                                Diagnostic(
                                    "L-NEVER-TRUE",
                                    severity="error",
                                    message=f"rule {cr.id}: the conditions on {fact} can never all be true ({ast.to_source(node)})",
                                    location=cr.rule.location,
                                )
                            )
                if isinstance(node, ast.Or):
                    for fact, cons in _bounds_by_fact(node.operands).items():
                        usable = [(COMPARISONS[op].negation, v) for op, v in cons if op != "=="]
                        if len(usable) == len(cons) and _interval_empty(usable):
                            out.append(
                                Diagnostic(
                                    "L-ALWAYS-TRUE",
                                    severity="error",
                                    message=f"rule {cr.id}: one of the conditions on {fact} is always true when it is recorded ({ast.to_source(node)})",
                                    location=cr.rule.location,
                                )
                            )
                if isinstance(node, ast.Boolean) and node is cr.rule.when:
                    out.append(
                        Diagnostic(
                            "L-CONSTANT",
                            severity="error",
                            message=f"rule {cr.id}: the condition is the constant {node.value}",
                            location=cr.rule.location,
                        )
                    )
    return out


def _duplicate_conditions(ir: RuleSetIR) -> List[Diagnostic]:
    out = []
    for cm in ir.modules:
        seen: Dict[Tuple[str, Optional[str], Optional[str]], str] = {}
        for cr in cm.rules:
            r = cr.rule
            key = (
                ast.to_source(r.when),
                ast.to_source(r.applies_if) if r.applies_if else None,
                r.for_each.list_name if r.for_each else None,
            )
            if key in seen:
                out.append(
                    Diagnostic(
                        "L-DUPLICATE-RULE",
                        severity="warning",
                        message=f"rule {r.id} has the same condition as {seen[key]}",
                        location=r.location,
                    )
                )
            else:
                seen[key] = r.id
    return out


def _metadata_notes(ir: RuleSetIR) -> List[Diagnostic]:
    out = []
    for cm in ir.modules:
        m = cm.module
        if m.confidence:
            for rid in m.confidence.unverified:
                if rid not in ir.rules:
                    out.append(
                        Diagnostic(
                            "L-UNVERIFIED-UNKNOWN",
                            severity="warning",
                            message=f"confidence.unverified names {rid!r}, which is not a rule",
                            location=m.location,
                        )
                    )
                else:
                    out.append(
                        Diagnostic(
                            "L-UNVERIFIED",
                            severity="note",
                            message=f"rule {rid} is marked unverified: {m.confidence.notes[:160]}",
                            location=ir.rules[rid].rule.location,
                        )
                    )
            if m.confidence.level in ("low", "medium"):
                out.append(
                    Diagnostic(
                        "L-CONFIDENCE",
                        severity="note",
                        message=f"module {m.id} confidence is {m.confidence.level}: {m.confidence.notes[:160]}",
                        location=m.location,
                    )
                )
        if m.completeness == "partial":
            out.append(
                Diagnostic(
                    "L-PARTIAL",
                    severity="note",
                    message=f"module {m.id} is only partly encoded: {m.completeness_notes[:200]}",
                    location=m.location,
                )
            )
        if m.illustration:
            out.append(
                Diagnostic(
                    "L-ILLUSTRATION",
                    severity="note",
                    message=f"module {m.id} is an illustration, not a real document",
                    location=m.location,
                )
            )
        if not cm.rules and m.completeness != "partial":
            has_facts = bool(m.facts or m.derived)
            if not has_facts:
                out.append(
                    Diagnostic(
                        "L-EMPTY", severity="warning", message=f"module {m.id} has no rules and no facts", location=m.location
                    )
                )
    return out


def _ids_and_citations(ir: RuleSetIR) -> List[Diagnostic]:
    """Stable ids follow their module (``<module id>.<...>``); citations are complete and of one style."""
    out = []
    for cm in ir.modules:
        styles = set()
        for cr in cm.rules:
            r = cr.rule
            if not r.id.startswith(cm.id + "."):
                out.append(
                    Diagnostic(
                        "L-ID-PREFIX",
                        severity="warning",
                        message=f"rule id {r.id!r} does not start with its module id {cm.id!r}: ids must stay stable across versions of a pack",
                        location=r.location,
                    )
                )
            c = r.citation
            if c.sub_item is not None and c.item is None:
                out.append(
                    Diagnostic(
                        "L-CITATION",
                        severity="error",
                        message=f"rule {r.id}: a sub-item (目) is cited without its item (项)",
                        location=r.location,
                    )
                )
            if c.article is None and c.item is None and c.section is None and c.clause is None:
                out.append(
                    Diagnostic(
                        "L-CITATION",
                        severity="error",
                        message=f"rule {r.id}: the citation names no article, item, section or clause",
                        location=r.location,
                    )
                )
            styles.add("article" if c.article is not None else "section" if c.section else "clause" if c.clause else "item")
        if len(styles) > 1:
            out.append(
                Diagnostic(
                    "L-CITATION-STYLE",
                    severity="warning",
                    message=f"module {cm.id} mixes citation styles ({', '.join(sorted(styles))}); a document numbers its items one way",
                    location=cm.module.location,
                )
            )
    return out


def _conjuncts(node: ast.Node) -> FrozenSet[str]:
    if isinstance(node, ast.And):
        return frozenset(ast.to_source(o) for o in node.operands)
    return frozenset({ast.to_source(node)})


def _subsumed(ir: RuleSetIR) -> List[Diagnostic]:
    """Rule A whose condition is rule B's plus more conjuncts adds nothing: whenever A matches, B does."""
    out = []
    for cm in ir.modules:
        shapes = []
        for cr in cm.rules:
            r = cr.rule
            context = (ast.to_source(r.applies_if) if r.applies_if else None, r.for_each.list_name if r.for_each else None)
            shapes.append((cr, context, _conjuncts(r.when)))
        for a, ctx_a, conj_a in shapes:
            for b, ctx_b, conj_b in shapes:
                if a is b or ctx_a != ctx_b:
                    continue
                if conj_b < conj_a:
                    out.append(
                        Diagnostic(
                            "L-SUBSUMED",
                            severity="warning",
                            message=f"rule {a.id} is subsumed by {b.id}: its condition is {b.id}'s plus more, so every record it matches {b.id} matches too",
                            location=a.rule.location,
                        )
                    )
    return out


# ---------------------------------------------------------------- facts that restate the criterion

#: words of a verdict rather than an observation: 符合规程, 检验合格, 措施有效, 按国家规定, compliant ...
_RESTATING_ZH = ("符合", "合格", "有效", "规定", "规程", "规范要求", "国家标准", "满足")
_RESTATING_EN = re.compile(
    r"\b(compliant|complies|comply|compliance|adequate|adequately|effective|effectively|as required|as prescribed"
    r"|per (the )?(regulations?|rules|standards?|codes?))\b",
    re.IGNORECASE,
)
_RESTATING_NAME = re.compile(r"(^|_)(compliant|adequate|effective|effectively|per_regulations?|per_standards?|per_rules)(_|$)")


def restating_words(spec: FactSpec) -> Tuple[str, ...]:
    """The verdict words a boolean fact's name or labels carry (empty for an observation)."""
    found = [w for w in _RESTATING_ZH if w in spec.label.zh]
    found += [m.group(0) for m in _RESTATING_EN.finditer(spec.label.en)]
    found += [m.group(2) for m in _RESTATING_NAME.finditer(spec.name)]
    return tuple(dict.fromkeys(found))


def _read_by_conditions(ir: RuleSetIR) -> Tuple[Set[str], Set[Tuple[str, str]]]:
    """Facts (through derived facts) and (list, field) pairs that some rule's ``when`` reads."""
    names: Set[str] = set()
    fields: Set[Tuple[str, str]] = set()
    for cm in ir.modules:
        for cr in cm.rules:
            rule = cr.rule
            bound = {rule.for_each.var: rule.for_each.list_name} if rule.for_each else {}
            for n in ast.walk(rule.when):
                if isinstance(n, ast.Quantifier) and n.var:
                    bound[n.var] = n.list_name
            for n in ast.walk(rule.when):
                if isinstance(n, ast.Name):
                    names.add(n.name)
                elif isinstance(n, ast.ItemField) and n.var in bound:
                    fields.add((bound[n.var], n.field_name))
    pending = [n for n in names if n in ir.derived]
    while pending:
        for r in ir.derived[pending.pop()].reads:
            if r not in names:
                names.add(r)
                if r in ir.derived:
                    pending.append(r)
    return names, fields


def _restating_facts(ir: RuleSetIR) -> List[Diagnostic]:
    """A boolean fact whose name or label is the criterion's own verdict (符合规程, 合格, 有效, compliant),
    read by a rule's condition: the rule then only restates the inspector's conclusion. Either the fact
    gives way to the measurement or date the judgement rests on, or its declaration says why it stays
    the inspector's observation (``judgement:``). A module that declares its verdicts the inspector's
    (``module.judgement``) has them listed as notes."""
    names, fields = _read_by_conditions(ir)
    out = []
    seen = set()
    for cm in ir.modules:
        m = cm.module
        if m.id in seen:
            continue
        seen.add(m.id)
        declared = [(spec, spec.name, spec.name in names) for spec in m.facts]
        declared += [(f, f"{spec.name}.{f.name}", (spec.name, f.name) in fields) for spec in m.facts for f in spec.fields]
        for spec, shown, read in declared:
            if not read or spec.type.kind != "boolean" or spec.judgement:
                continue
            words = restating_words(spec)
            if not words:
                continue
            out.append(
                Diagnostic(
                    "L-RESTATING-FACT",
                    severity="note" if m.judgement else "warning",
                    message=f"fact {shown!r} ({spec.label.zh}) restates the criterion ({', '.join(words)}): record the "
                    "measurement or date the judgement rests on, or say why it stays the inspector's observation (judgement:)",
                    location=spec.location,
                )
            )
    return out


def _exceptions(ir: RuleSetIR) -> List[Diagnostic]:
    """An exception ("…除外") belongs in ``unless:``, where it carries its own citation and can rest on
    a presumption; written as a precondition (``and not registered_trial``) it leaves every record
    that does not mention it undetermined. Flagged: a rule whose title, description or notes name an
    exception (除外) and that has no ``unless:``; a presumption that no exception reads (it changes
    nothing); a presumed fact read outside exceptions (there it is read as recorded, which the author
    may not expect)."""
    out: List[Diagnostic] = []
    read_by_exceptions: Set[str] = set()
    read_elsewhere: Dict[str, Rule] = {}
    modules = list({cm.module.id: cm.module for cm in ir.modules}.values())
    for module in modules:
        for rule in module.rules:
            for exception in rule.unless:
                read_by_exceptions.update(direct_reads(rule, exception.when))
            for condition in (rule.when, rule.applies_if):
                if condition is not None:
                    for name in direct_reads(rule, condition):
                        read_elsewhere.setdefault(name, rule)
            if not rule.unless and any("除外" in text for text in (rule.title.zh, rule.description, rule.notes)):
                out.append(
                    Diagnostic(
                        "L-EXCEPTION-AS-PRECONDITION",
                        severity="warning",
                        message=f"rule {rule.id!r} names an exception (除外) but has no unless: write the exception there, "
                        "with its citation and, where the text puts it on the party claiming it, a presumption on its fact",
                        location=rule.location,
                    )
                )
    for module in modules:
        for spec in module.facts:
            for f, shown in [(spec, spec.name)] + [(field, f"{spec.name}.{field.name}") for field in spec.fields]:
                if f.presumed is None:
                    continue
                if shown not in read_by_exceptions:
                    out.append(
                        Diagnostic(
                            "L-PRESUMPTION-UNUSED",
                            severity="warning",
                            message=f"fact {shown!r} has a presumption, but no exception (unless:) reads it: it changes nothing",
                            location=f.location,
                        )
                    )
                elif shown in read_elsewhere:
                    out.append(
                        Diagnostic(
                            "L-PRESUMED-READ-ELSEWHERE",
                            severity="note",
                            message=f"fact {shown!r} has a presumption, which only exceptions read; rule "
                            f"{read_elsewhere[shown].id!r} reads it in its condition as recorded",
                            location=f.location,
                        )
                    )
    return out
