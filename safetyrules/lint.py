"""Lint: consistency checks over a compiled rule set, beyond schema and type errors.

Each finding has a stable code, a severity (error, warning, note) and a location. Errors are things
that make a module say something other than its document (a threshold word read the wrong way, two
versions in force on one day); warnings are likely mistakes; notes list what an author should know
(content marked unverified, partly encoded documents).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Dict, List, Optional, Tuple

from .compiler import RuleSetIR
from .errors import Location
from .expr import ast


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.code} {self.message}"

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
        }


def lint_ir(ir: RuleSetIR) -> List[Finding]:
    findings: List[Finding] = []
    findings += _threshold_readings(ir)
    findings += _versions(ir)
    findings += _undeclared_industries(ir)
    findings += _unused_facts(ir)
    findings += _constant_conditions(ir)
    findings += _duplicate_conditions(ir)
    findings += _metadata_notes(ir)
    findings += _ids_and_citations(ir)
    findings += _subsumed(ir)
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.location.path, f.location.line, f.code))


def _mentions(node: ast.Node, fact: str, list_name=None) -> bool:
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


def _threshold_readings(ir: RuleSetIR) -> List[Finding]:
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
                    out.append(Finding("L-THRESHOLD-UNUSED", "warning",
                                       f"rule {rule.id}: threshold on {t.fact!r} ({t.term}) but no comparison reads it", rule.location))
                    continue
                for n in relevant:
                    inclusive = n.op in (">=", "<=")
                    if mode == "inclusive" and not inclusive or mode == "exclusive" and inclusive:
                        out.append(Finding(
                            "L-THRESHOLD-READING", "error",
                            f"rule {rule.id}: {t.term} is read as {mode} in this document, but "
                            f"'{ast.to_source(n)}' uses {n.op!r}",
                            rule.location,
                        ))
    return out


def _undeclared_industries(ir: RuleSetIR) -> List[Finding]:
    """Modules loaded without their pack may name any industry; say when no pack, loaded or
    installed, declares it (a typo, or a pack still to be written)."""
    undeclared = [(cm, i) for cm in ir.modules for i in cm.module.industries if i not in ir.industries]
    if not undeclared:
        return []
    from .loader import discover_packs, read_pack

    installed = set()
    for folder in discover_packs().values():
        src, _ = read_pack(folder)
        if src:
            installed.update(i.id for i in src.pack.industries)
    return [
        Finding("L-INDUSTRY-UNDECLARED", "warning",
                f"module {cm.id} names industry {industry!r}, which no pack declares (pack.yaml, industries:)",
                cm.module.location)
        for cm, industry in undeclared
        if industry not in installed
    ]


def _versions(ir: RuleSetIR) -> List[Finding]:
    out = []
    for series, versions in ir.series().items():
        by_jurisdiction: Dict[str, list] = {}
        for v in versions:
            by_jurisdiction.setdefault(str(v.module.jurisdiction.code), []).append(v)
        for group in by_jurisdiction.values():
            group.sort(key=lambda v: v.module.effective_from)
            for a, b in zip(group, group[1:]):
                ma, mb = a.module, b.module
                if ma.effective_until is None or ma.effective_until >= mb.effective_from:
                    out.append(Finding("L-VERSION-OVERLAP", "error",
                                       f"series {series!r}: {ma.id} and {mb.id} are both in force on {mb.effective_from.isoformat()}",
                                       mb.location))
                elif ma.effective_until + timedelta(days=1) != mb.effective_from:
                    out.append(Finding("L-VERSION-GAP", "warning",
                                       f"series {series!r}: no version in force from {(ma.effective_until + timedelta(days=1)).isoformat()} "
                                       f"to {(mb.effective_from - timedelta(days=1)).isoformat()}", mb.location))
                if mb.supersedes not in (None, ma.id):
                    out.append(Finding("L-SUPERSESSION", "error", f"{mb.id} supersedes {mb.supersedes!r}, but its predecessor in {series!r} is {ma.id}", mb.location))
                if ma.superseded_by not in (None, mb.id):
                    out.append(Finding("L-SUPERSESSION", "error", f"{ma.id} is superseded_by {ma.superseded_by!r}, but its successor in {series!r} is {mb.id}", ma.location))
            for v in group:
                m = v.module
                for ref, word in ((m.supersedes, "supersedes"), (m.superseded_by, "superseded_by")):
                    if ref and ref not in ir.module_by_id:
                        out.append(Finding("L-SUPERSESSION", "warning", f"{m.id} {word} {ref!r}, which is not loaded", m.location))
    return out


def _unused_facts(ir: RuleSetIR) -> List[Finding]:
    used = set()
    for cm in ir.modules:
        used |= cm.scope_base_facts
        for cr in cm.rules:
            used |= cr.base_facts
    for d in ir.derived.values():
        used |= d.reads
    out = []
    for name, spec in ir.facts.items():
        if name not in used:
            out.append(Finding("L-UNUSED-FACT", "warning", f"fact {name!r} is declared but no rule, scope or derived fact reads it", spec.location))
    return out


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
            if (lo is not None and (v < lo or (v == lo and lo_strict))) or (hi is not None and (v > hi or (v == hi and hi_strict))):
                return True
            lo = hi = v
            lo_strict = hi_strict = False
    if lo is None or hi is None:
        return False
    return lo > hi or (lo == hi and (lo_strict or hi_strict))


def _constant_conditions(ir: RuleSetIR) -> List[Finding]:
    out = []
    for cm in ir.modules:
        for cr in cm.rules:
            for node in ast.walk(cr.rule.when):
                if isinstance(node, ast.And):
                    per_fact: Dict[str, list] = {}
                    for o in node.operands:
                        b = _bounds(o)
                        if b:
                            per_fact.setdefault(b[0], []).append((b[1], b[2]))
                    for fact, cons in per_fact.items():
                        if _interval_empty(cons):
                            out.append(Finding("L-NEVER-TRUE", "error",
                                               f"rule {cr.id}: the conditions on {fact} can never all be true ({ast.to_source(node)})",
                                               cr.rule.location))
                if isinstance(node, ast.Or):
                    per_fact = {}
                    for o in node.operands:
                        b = _bounds(o)
                        if b:
                            per_fact.setdefault(b[0], []).append((b[1], b[2]))
                    negate = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}
                    for fact, cons in per_fact.items():
                        usable = [(negate[op], v) for op, v in cons if op != "=="]
                        if len(usable) == len(cons) and _interval_empty(usable):
                            out.append(Finding("L-ALWAYS-TRUE", "error",
                                               f"rule {cr.id}: one of the conditions on {fact} is always true when it is recorded ({ast.to_source(node)})",
                                               cr.rule.location))
                if isinstance(node, ast.Boolean) and node is cr.rule.when:
                    out.append(Finding("L-CONSTANT", "error", f"rule {cr.id}: the condition is the constant {node.value}", cr.rule.location))
    return out


def _duplicate_conditions(ir: RuleSetIR) -> List[Finding]:
    out = []
    for cm in ir.modules:
        seen: Dict[tuple, str] = {}
        for cr in cm.rules:
            r = cr.rule
            key = (ast.to_source(r.when), ast.to_source(r.applies_if) if r.applies_if else None,
                   r.for_each.list_name if r.for_each else None)
            if key in seen:
                out.append(Finding("L-DUPLICATE-RULE", "warning",
                                   f"rule {r.id} has the same condition as {seen[key]}", r.location))
            else:
                seen[key] = r.id
    return out


def _metadata_notes(ir: RuleSetIR) -> List[Finding]:
    out = []
    for cm in ir.modules:
        m = cm.module
        if m.confidence:
            for rid in m.confidence.unverified:
                if rid not in ir.rules:
                    out.append(Finding("L-UNVERIFIED-UNKNOWN", "warning", f"confidence.unverified names {rid!r}, which is not a rule", m.location))
                else:
                    out.append(Finding("L-UNVERIFIED", "note", f"rule {rid} is marked unverified: {m.confidence.notes[:160]}", ir.rules[rid].rule.location))
            if m.confidence.level in ("low", "medium"):
                out.append(Finding("L-CONFIDENCE", "note", f"module {m.id} confidence is {m.confidence.level}: {m.confidence.notes[:160]}", m.location))
        if m.completeness == "partial":
            out.append(Finding("L-PARTIAL", "note", f"module {m.id} is only partly encoded: {m.completeness_notes[:200]}", m.location))
        if m.illustration:
            out.append(Finding("L-ILLUSTRATION", "note", f"module {m.id} is an illustration, not a real document", m.location))
        if not cm.rules and m.completeness != "partial":
            has_facts = bool(m.facts or m.derived)
            if not has_facts:
                out.append(Finding("L-EMPTY", "warning", f"module {m.id} has no rules and no facts", m.location))
    return out


def _ids_and_citations(ir: RuleSetIR) -> List[Finding]:
    """Stable ids follow their module (``<module id>.<...>``); citations are complete and of one style."""
    out = []
    for cm in ir.modules:
        styles = set()
        for cr in cm.rules:
            r = cr.rule
            if not r.id.startswith(cm.id + "."):
                out.append(Finding("L-ID-PREFIX", "warning", f"rule id {r.id!r} does not start with its module id {cm.id!r}: ids must stay stable across versions of a pack", r.location))
            c = r.citation
            if c.sub_item is not None and c.item is None:
                out.append(Finding("L-CITATION", "error", f"rule {r.id}: a sub-item (目) is cited without its item (项)", r.location))
            if c.article is None and c.item is None and c.section is None and c.clause is None:
                out.append(Finding("L-CITATION", "error", f"rule {r.id}: the citation names no article, item, section or clause", r.location))
            styles.add("article" if c.article is not None else "section" if c.section else "clause" if c.clause else "item")
        if len(styles) > 1:
            out.append(Finding("L-CITATION-STYLE", "warning", f"module {cm.id} mixes citation styles ({', '.join(sorted(styles))}); a document numbers its items one way", cm.module.location))
    return out


def _conjuncts(node: ast.Node) -> frozenset:
    if isinstance(node, ast.And):
        return frozenset(ast.to_source(o) for o in node.operands)
    return frozenset({ast.to_source(node)})


def _subsumed(ir: RuleSetIR) -> List[Finding]:
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
                    out.append(Finding(
                        "L-SUBSUMED", "warning",
                        f"rule {a.id} is subsumed by {b.id}: its condition is {b.id}'s plus more, so every record it matches {b.id} matches too",
                        a.rule.location,
                    ))
    return out
