"""``safetyrules diff OLD NEW``: what a revision of a criteria document changes, rule by rule.

A standards office reviewing a revision (e.g. the coal criteria of 2020 and of 2026) asks which items
were added, which were removed, and which became stricter or more lenient. Rules of two versions are
paired by the part of their id after the module id (``coal-mine-2020.a4.i1`` ~ ``coal-mine-2026.a4.i1``),
then by citation, then by zh title. A paired rule whose condition changed is classified by comparing
the two conditions' syntax trees:

* **tightened** -- the new condition holds on every record the old one held on, and on more: a lower
  threshold for 超过/以上 (``x > 110%`` -> ``x > 100%``), an inclusive bound where it was exclusive, an
  extra alternative (``a`` -> ``a or b``), a dropped conjunct (``a and b`` -> ``a``), more enum values
  in ``in [...]``, a wider ``applies_if``: more situations are major hazards;
* **loosened** -- the reverse: fewer situations are major hazards;
* **changed** -- both directions at once, or a change the comparison cannot order (another fact,
  another structure): a person has to read it. The report never guesses a direction.

Under ``not`` a change counts the other way round. A threshold written as ``fact * 110%`` is ordered by
its percentage on the assumption that the other factor is not negative (capacities, areas, counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Set, Tuple

from .expr import ast

if TYPE_CHECKING:
    from .model import Module, Rule

BROADER, NARROWER = 1, -1
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class Effect:
    direction: int  # BROADER: matches more records; NARROWER: fewer
    what: str


class _Unordered(Exception):
    """The two conditions differ in a way that has no direction."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _src(node: Optional[ast.Node]) -> str:
    return ast.to_source(node) if node is not None else "(none)"


def _fmt(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def _threshold(node: ast.Node) -> Optional[Tuple[Optional[str], Fraction]]:
    """(the rest of the side, the literal) for a number literal, or ``expr * literal`` (literal last or first)."""
    if isinstance(node, ast.Number):
        return None, node.value
    if isinstance(node, ast.Arith) and node.op == "*":
        if isinstance(node.right, ast.Number):
            return _src(node.left), node.right.value
        if isinstance(node.left, ast.Number):
            return _src(node.right), node.left.value
    return None


def _compare_effects(a: ast.Compare, b: ast.Compare, polarity: int) -> List[Effect]:
    def oriented(c: ast.Compare) -> Optional[Tuple[ast.Node, str, Tuple[Optional[str], Fraction]]]:
        # the other side, the operator with the threshold on the right, the threshold
        right = _threshold(c.right)
        if right is not None:
            return c.left, c.op, right
        left = _threshold(c.left)
        if left is not None:
            return c.right, _FLIP[c.op], left
        return None

    oa, ob = oriented(a), oriented(b)
    if oa is None or ob is None or oa[0] != ob[0]:
        raise _Unordered(f"'{_src(a)}' became '{_src(b)}'")
    (_, op_a, ta), (_, op_b, tb) = oa, ob
    if ta[0] != tb[0] or {op_a, op_b} - {">", ">="} and {op_a, op_b} - {"<", "<="}:
        raise _Unordered(f"'{_src(a)}' became '{_src(b)}'")
    lower = op_a in (">", ">=")  # the hazard lies above the threshold
    va, vb = ta[1], tb[1]
    if va == vb:
        if op_a == op_b:
            return []
        broader = op_b in (">=", "<=")  # the boundary itself now counts
    else:
        broader = vb < va if lower else vb > va
        if (op_a != op_b) and ((op_b in (">=", "<=")) != broader):
            raise _Unordered(f"'{_src(a)}' became '{_src(b)}' (the value and the inclusivity moved in opposite directions)")
    direction = (BROADER if broader else NARROWER) * polarity
    return [Effect(direction, f"'{_src(a)}' became '{_src(b)}'")]


def condition_effects(a: Optional[ast.Node], b: Optional[ast.Node], polarity: int = 1) -> List[Effect]:
    """How condition ``b`` differs from ``a``: effects with a direction, or :class:`_Unordered`."""
    if a == b:
        return []
    if a is None or b is None:
        raise _Unordered(f"'{_src(a)}' became '{_src(b)}'")
    if isinstance(a, ast.Not) and isinstance(b, ast.Not):
        return condition_effects(a.operand, b.operand, -polarity)
    if isinstance(a, ast.Compare) and isinstance(b, ast.Compare):
        return _compare_effects(a, b, polarity)
    if (
        isinstance(a, (ast.And, ast.Or))
        and type(a) is type(b)
        or isinstance(a, (ast.And, ast.Or)) != isinstance(b, (ast.And, ast.Or))
    ):
        return _junction_effects(a, b, polarity)
    if isinstance(a, ast.Member) and isinstance(b, ast.Member) and a.operand == b.operand and a.negated == b.negated:
        old, new = {_src(o) for o in a.options}, {_src(o) for o in b.options}
        sign = -1 if a.negated else 1
        if old < new:
            return [Effect(BROADER * polarity * sign, f"'{_src(a)}' became '{_src(b)}' (added {', '.join(sorted(new - old))})")]
        if new < old:
            return [
                Effect(NARROWER * polarity * sign, f"'{_src(a)}' became '{_src(b)}' (removed {', '.join(sorted(old - new))})")
            ]
    if (
        isinstance(a, ast.Quantifier)
        and isinstance(b, ast.Quantifier)
        and a.kind == b.kind
        and a.kind in ("any", "all")
        and a.list_name == b.list_name
        and a.var == b.var
    ):
        return condition_effects(a.condition, b.condition, polarity)
    raise _Unordered(f"'{_src(a)}' became '{_src(b)}'")


def _junction_effects(a: ast.Node, b: ast.Node, polarity: int) -> List[Effect]:
    """``and``/``or``: operands paired by their text; extra or missing operands widen or narrow."""
    kind = ast.Or if isinstance(a, ast.Or) or isinstance(b, ast.Or) else ast.And
    ops_a = list(a.operands) if isinstance(a, kind) else [a]
    ops_b = list(b.operands) if isinstance(b, kind) else [b]
    if isinstance(a, (ast.And, ast.Or)) and isinstance(b, (ast.And, ast.Or)) and type(a) is not type(b):
        raise _Unordered(f"'{_src(a)}' became '{_src(b)}'")
    effects: List[Effect] = []
    rest_a = [o for o in ops_a if o not in ops_b]
    rest_b = [o for o in ops_b if o not in ops_a]
    if len(rest_a) == len(rest_b):  # the same operands, some changed in place (in order)
        for x, y in zip(rest_a, rest_b):
            effects += condition_effects(x, y, polarity)
        return effects
    if rest_a and rest_b:
        raise _Unordered(f"'{_src(a)}' became '{_src(b)}'")
    # only added (rest_b) or only removed (rest_a) operands
    added = bool(rest_b)
    widens = (kind is ast.Or) == added  # an extra alternative, or one condition fewer to meet
    listed = ", ".join(f"'{_src(o)}'" for o in (rest_b or rest_a))
    word = "or" if kind is ast.Or else "and"
    return [Effect((BROADER if widens else NARROWER) * polarity, f"{'added' if added else 'removed'} {word} {listed}")]


# ------------------------------------------------------------------------------------------ pairing


@dataclass(frozen=True)
class RuleChange:
    kind: str  # added | removed | tightened | loosened | changed | reworded | unchanged
    old: Optional[str]
    new: Optional[str]
    citation: str
    title: str
    details: Tuple[str, ...] = ()

    def to_json(self) -> Dict[str, Any]:
        return {
            "change": self.kind,
            "old": self.old,
            "new": self.new,
            "citation": self.citation,
            "title": self.title,
            "details": list(self.details),
        }


@dataclass
class RevisionDiff:
    old_module: str
    new_module: str
    module_changes: List[str] = field(default_factory=list)
    rules: List[RuleChange] = field(default_factory=list)

    def of_kind(self, kind: str) -> List[RuleChange]:
        return [r for r in self.rules if r.kind == kind]

    def to_json(self) -> Dict[str, Any]:
        counts = {
            k: len(self.of_kind(k)) for k in ("added", "removed", "tightened", "loosened", "changed", "reworded", "unchanged")
        }
        return {
            "old": self.old_module,
            "new": self.new_module,
            "counts": counts,
            "module_changes": self.module_changes,
            "rules": [r.to_json() for r in self.rules if r.kind != "unchanged"],
        }


def _suffix(rule: Rule, module_id: str) -> str:
    return rule.id[len(module_id) + 1 :] if rule.id.startswith(module_id + ".") else rule.id


def _citation_key(rule: Rule) -> Tuple[object, ...]:
    c = rule.citation
    return (c.section, c.article, c.paragraph, c.item, str(c.sub_item) if c.sub_item is not None else None, c.clause, c.table)


def _rendered(rule: Rule) -> str:
    try:
        return rule.citation.to_json()["locator"]
    except Exception:  # pragma: no cover - every citation renders
        return rule.id


def _similar(a: Rule, b: Rule) -> float:
    import difflib

    return difflib.SequenceMatcher(None, a.title.zh, b.title.zh).ratio()


#: paired by id or citation only when their titles are this alike: a revision renumbers articles, and
#: 第九条第（四）项 of the old text may be another item altogether in the new one
SAME_ITEM = 0.45
#: paired by title alone when this alike (an item moved to another article)
MOVED_ITEM = 0.6


def _pair(
    old_rules: Sequence[Rule], new_rules: Sequence[Rule], old_id: str, new_id: str
) -> Tuple[List[Tuple[Rule, Rule]], List[Rule], List[Rule]]:
    pairs: List[Tuple[Rule, Rule]] = []
    left, right = list(old_rules), list(new_rules)
    for key in (lambda r, m: r.title.zh, lambda r, m: _suffix(r, m), lambda r, m: _citation_key(r)):
        index: Dict[object, List[Rule]] = {}
        for r in right:
            index.setdefault(key(r, new_id), []).append(r)
        still = []
        for r in left:
            matches = [m for m in index.get(key(r, old_id), ()) if m in right and _similar(r, m) >= SAME_ITEM]
            if matches:
                other = max(matches, key=lambda m: _similar(r, m))
                pairs.append((r, other))
                right.remove(other)
            else:
                still.append(r)
        left = still
    # items that moved: the most alike titles first
    scored = sorted(((_similar(a, b), i, j) for i, a in enumerate(left) for j, b in enumerate(right)), reverse=True)
    used_a: Set[int] = set()
    used_b: Set[int] = set()
    for score, i, j in scored:
        if score < MOVED_ITEM:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((left[i], right[j]))
    return pairs, [a for i, a in enumerate(left) if i not in used_a], [b for j, b in enumerate(right) if j not in used_b]


def diff_modules(old: Module, new: Module) -> RevisionDiff:
    """Compare two versions (``model.Module``) of a criteria document."""
    out = RevisionDiff(old.id, new.id)
    for label, a, b in (
        ("document", f"《{old.document.title}》{old.document.number}", f"《{new.document.title}》{new.document.number}"),
        (
            "effective",
            f"{old.effective_from} – {old.effective_until or '…'}",
            f"{new.effective_from} – {new.effective_until or '…'}",
        ),
        ("scope", old.scope_text or "(all sites)", new.scope_text or "(all sites)"),
        ("industry", ", ".join(old.industries), ", ".join(new.industries)),
    ):
        if a != b:
            out.module_changes.append(f"{label}: {a} -> {b}")
    old_facts, new_facts = {f.name for f in old.facts}, {f.name for f in new.facts}
    if new_facts - old_facts:
        out.module_changes.append(f"facts added: {', '.join(sorted(new_facts - old_facts))}")
    if old_facts - new_facts:
        out.module_changes.append(f"facts removed: {', '.join(sorted(old_facts - new_facts))}")
    changed_words = {
        t: (old.threshold_reading.get(t), new.threshold_reading.get(t))
        for t in set(old.threshold_reading) | set(new.threshold_reading)
        if old.threshold_reading.get(t) != new.threshold_reading.get(t)
    }
    for term, (was, now) in sorted(changed_words.items()):
        out.module_changes.append(f"threshold reading of {term}: {was or 'default'} -> {now or 'default'}")

    pairs, removed, added = _pair(old.rules, new.rules, old.id, new.id)
    for r in removed:
        out.rules.append(RuleChange("removed", r.id, None, _rendered(r), r.title.zh))
    for r in added:
        out.rules.append(RuleChange("added", None, r.id, _rendered(r), r.title.zh, (f"when {r.when_text}",)))
    for old_rule, new_rule in pairs:
        out.rules.append(_rule_change(old_rule, new_rule))
    order = {"removed": 0, "added": 1, "tightened": 2, "loosened": 3, "changed": 4, "reworded": 5, "unchanged": 6}
    out.rules.sort(key=lambda r: (order[r.kind], r.new or r.old))
    return out


def _rule_change(a: Rule, b: Rule) -> RuleChange:
    notes: List[str] = []
    if a.title != b.title:
        notes.append(f"title: {a.title.zh} -> {b.title.zh}")
    if _citation_key(a) != _citation_key(b):
        notes.append(f"citation: {_rendered(a)} -> {_rendered(b)}")
    if (a.for_each and (a.for_each.list_name, a.for_each.var)) != (b.for_each and (b.for_each.list_name, b.for_each.var)):
        return RuleChange(
            "changed", a.id, b.id, _rendered(b), b.title.zh, tuple(notes + ["for_each changed: read both conditions"])
        )
    effects: List[Effect] = []
    try:
        # a major hazard is `applies_if and when`: an item moved from one to the other is no change
        effects += condition_effects(_hazard(a), _hazard(b))
    except _Unordered as exc:
        return RuleChange(
            "changed",
            a.id,
            b.id,
            _rendered(b),
            b.title.zh,
            tuple(notes + [exc.what, f"old: when {a.when_text}", f"new: when {b.when_text}"]),
        )
    directions = {e.direction for e in effects}
    details = tuple(
        notes + [e.what + (" (more records match)" if e.direction == BROADER else " (fewer records match)") for e in effects]
    )
    if not effects:
        return RuleChange("reworded" if notes else "unchanged", a.id, b.id, _rendered(b), b.title.zh, tuple(notes))
    if directions == {BROADER}:
        return RuleChange("tightened", a.id, b.id, _rendered(b), b.title.zh, details)
    if directions == {NARROWER}:
        return RuleChange("loosened", a.id, b.id, _rendered(b), b.title.zh, details)
    return RuleChange("changed", a.id, b.id, _rendered(b), b.title.zh, details + ("some parts wider, some narrower: read both",))


def _hazard(rule: Rule) -> ast.Expr:
    """The condition under which the rule finds a major hazard: ``applies_if and when``, flattened."""
    if rule.applies_if is None:
        return rule.when
    operands: List[ast.Expr] = []
    for part in (rule.applies_if, rule.when):
        operands.extend(part.operands if isinstance(part, ast.And) else (part,))
    return ast.And(tuple(operands))


def render_text(d: RevisionDiff) -> str:
    counts = d.to_json()["counts"]
    lines = [f"{d.old_module} -> {d.new_module}: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)]
    for c in d.module_changes:
        lines.append(f"  module {c}")
    marks = {"added": "+", "removed": "-", "tightened": "↑", "loosened": "↓", "changed": "~", "reworded": "="}
    words = {
        "tightened": "tightened (more situations are major hazards)",
        "loosened": "loosened (fewer situations are major hazards)",
        "changed": "changed (no single direction: read both)",
        "reworded": "reworded or renumbered (same condition)",
        "added": "added",
        "removed": "removed",
    }
    for kind in ("removed", "added", "tightened", "loosened", "changed", "reworded"):
        group = d.of_kind(kind)
        if not group:
            continue
        lines.append(f"{words[kind]} ({len(group)}):")
        for r in group:
            ids = r.new or r.old if r.kind in ("added", "removed") else (r.new if _suffix_same(r) else f"{r.old} -> {r.new}")
            lines.append(f"  {marks[kind]} {r.citation}  {r.title}  ({ids})")
            for detail in r.details:
                lines.append(f"      {detail}")
    return "\n".join(lines)


def _suffix_same(r: RuleChange) -> bool:
    return bool(r.old and r.new and r.old.split(".", 1)[-1] == r.new.split(".", 1)[-1])
