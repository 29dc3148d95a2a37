"""Seeded realistic records for a loaded pack, generated from its own vocabularies, for benchmarks.

The synthetic pack (``synthetic.py``) measures the engine on made-up rules; these records measure it on
the shipped criteria as inspections fill them in: every fact of the industry's vocabulary (a full
inspection form), site attributes from the pack's industries, an inspection date on which some of the
industry's modules are in force (40 days drawn per span of in-force versions, as a batch covers some
weeks of work), lists of 0-6 items (working faces, cranes, tanks...), and a share of
facts not recorded (default 10 %). Values are plausible rather than uniform:

* numbers lie within the declared minimum and maximum; a fifth (``near``) sit at or just either side
  of a threshold that a rule compares the fact with (the literals of the checked conditions), so that
  ties and both sides occur; the others on the side of every threshold where no hazard lies, where
  the thresholds leave room; whole numbers where the fact is declared whole;
* booleans take the value that would raise a hazard (a fact a rule reads as is: true; one it reads
  under ``not``: false) with probability ``hazard`` (2 %), as most things inspected are in order;
* enum codes, dates (within three years of the inspection) and texts are drawn uniformly.

    python benchmarks/realistic.py mining --records 3     # print three records of the mining pack
    python benchmarks/realistic.py --check                 # every shipped pack: all records valid

Records are valid by construction; ``self_check`` evaluates them and raises on the first
``RecordError``, and the test suite runs it for every shipped pack (tests/test_realistic.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Dict, Iterable, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from safetyrules.expr import ast  # noqa: E402
from safetyrules.expr.types import BOOLEAN, DATE, ENUM, LIST, NUMBER, STRING  # noqa: E402

#: the inspection dates drawn: the years the shipped texts cover
FIRST_DAY = date(2021, 1, 1)
LAST_DAY = date(2027, 12, 31)
#: inspection days drawn per span of in-force modules: a batch of inspections covers some weeks of
#: work, not every day of seven years (the engine keeps a plan per industry, region and day)
DAYS_PER_SPAN = 40
#: regions drawn for sites, besides those of provincial modules
REGIONS = ("CN-SX", "CN-NM", "CN-SD", "CN-HE", "CN-GD", "CN-JS", "CN-SC")
MAX_ITEMS = 6


@dataclass(frozen=True)
class FactHints:
    """What the rules say about the facts: the numbers they compare each with (and on which side of
    each a hazard lies), and which boolean value raises a hazard. Keys are fact names, or
    ``(list, field)`` for the fields of list items."""

    #: key -> ((threshold, op), ...): the comparison that raises a hazard, with the fact on the left
    thresholds: Dict[object, Tuple[Tuple[float, str], ...]]
    hazard_value: Dict[object, bool]
    #: key -> ((other key, op, factor), ...): a hazard when ``key op other * factor`` (measured vs design)
    relations: Dict[object, Tuple[Tuple[object, str, float], ...]]


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}


def _literal(node) -> Optional[Fraction]:
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.Negate) and isinstance(node.operand, ast.Number):
        return -node.operand.value
    return None


def _subject(node, bound: Dict[str, str]):
    """The fact (or list field) a comparison side reads, looking through ``x * 110%`` and the like."""
    if isinstance(node, ast.Name):
        return None if node.name in bound else node.name  # a bound name is an item, not a fact
    if isinstance(node, ast.ItemField) and node.var in bound:
        return (bound[node.var], node.field_name)
    if isinstance(node, ast.Arith):
        return _subject(node.left, bound)
    return None


def _factor(node) -> float:
    """k in ``y * k`` (1 for a plain ``y``)."""
    if isinstance(node, ast.Arith) and node.op == "*":
        k = _literal(node.right)
        return float(k) if k is not None else 1.0
    return 1.0


def rule_hints(ir) -> FactHints:
    thresholds: Dict[object, set] = {}
    hazard: Dict[object, bool] = {}
    relations: Dict[object, set] = {}

    def visit(node, bound: Dict[str, str], negated: bool) -> None:
        if isinstance(node, ast.Compare):
            for side, other, op in ((node.left, node.right, node.op), (node.right, node.left, _FLIP[node.op])):
                op = _NEGATE[op] if negated else op
                subject, value, other_subject = _subject(side, bound), _literal(other), _subject(other, bound)
                if subject is None:
                    continue
                if value is not None:
                    thresholds.setdefault(subject, set()).add((float(value), op))
                elif other_subject is not None and other_subject != subject and isinstance(side, (ast.Name, ast.ItemField)):
                    relations.setdefault(subject, set()).add((other_subject, op, _factor(other)))
        elif isinstance(node, (ast.Name, ast.ItemField)):
            subject = _subject(node, bound)
            if subject is not None:
                hazard.setdefault(subject, not negated)
        if isinstance(node, ast.Quantifier) and node.var and node.condition is not None:
            visit(node.condition, dict(bound, **{node.var: node.list_name}), negated)
            return
        for child in ast.children(node):
            visit(child, bound, negated ^ isinstance(node, ast.Not))

    for compiled in ir.rules.values():
        rule = compiled.rule
        bound = {rule.for_each.var: rule.for_each.list_name} if rule.for_each else {}
        visit(rule.when, bound, False)
    return FactHints(
        {k: tuple(sorted(v)) for k, v in thresholds.items()},
        hazard,
        {k: tuple(sorted(v, key=repr)) for k, v in relations.items()},
    )


class RecordGenerator:
    """Records for one loaded rule set (``RuleSet``), seeded."""

    def __init__(self, rules, seed: int = 1, missing: float = 0.10, near: float = 0.2, hazard: float = 0.02):
        self.ir = rules.ir
        self.seed = seed
        self.rnd = random.Random(seed)
        self._day_pool: Dict[str, List[date]] = {}
        self.missing = missing
        self.near = near
        self.hazard = hazard
        self.hints = rule_hints(self.ir)
        self.industries = sorted(i for i in self.ir.vocabularies if self._windows(i))
        if not self.industries:
            raise ValueError(f"no industry of this rule set has a module in force between {FIRST_DAY} and {LAST_DAY}")
        self.regions = tuple(
            sorted({m.module.jurisdiction.code for m in self.ir.modules if m.module.jurisdiction.code} | set(REGIONS))
        )

    def _days(self, industry: str) -> List[date]:
        days = self._day_pool.get(industry)
        if days is None:
            pick = random.Random(f"{industry}:{self.seed}")
            days = self._day_pool[industry] = sorted(
                {
                    start + timedelta(days=pick.randint(0, (end - start).days))
                    for start, end in self._windows(industry)
                    for _ in range(DAYS_PER_SPAN)
                }
            )
        return days

    def _windows(self, industry: str) -> List[Tuple[date, date]]:
        out = []
        for cm in self.ir.modules:
            m = cm.module
            if industry in m.industries and cm.rules:
                start = max(m.effective_from or FIRST_DAY, FIRST_DAY)
                end = min(m.effective_until or LAST_DAY, LAST_DAY)
                if start <= end:
                    out.append((start, end))
        return out

    # ----------------------------------------------------------------------------------- values
    def _bounds(self, spec, marks) -> Tuple[float, float]:
        lo = spec.minimum if spec.minimum is not None else 0.0
        if spec.maximum is not None:
            return lo, spec.maximum
        tops = [t for t, _ in marks]
        if spec.unit == "%":
            return lo, max([100.0] + [t * 1.5 for t in tops])
        return lo, max([lo + 100.0] + [t * 2 for t in tops])

    def _fit(self, spec, value: float, lo: float, hi: float) -> object:
        value = min(max(value, lo), hi)
        if spec.type.integer:
            whole = int(round(value))
            if spec.minimum is not None and whole < spec.minimum:
                whole += 1
            if spec.maximum is not None and whole > spec.maximum:
                whole -= 1
            return whole
        rounded = round(value, 2)
        return rounded if lo <= rounded <= hi else value

    def number(self, spec, key) -> object:
        rnd = self.rnd
        marks = [
            (t, op)
            for t, op in self.hints.thresholds.get(key, ())
            if (spec.minimum is None or t >= spec.minimum) and (spec.maximum is None or t <= spec.maximum)
        ]
        lo, hi = self._bounds(spec, marks)
        if marks and rnd.random() < self.near:
            t = rnd.choice(marks)[0]  # at a threshold, or just either side of it
            step = abs(t) * rnd.uniform(0.01, 0.1) or 1.0
            return self._fit(spec, rnd.choice((t, t - step, t + step)), lo, hi)
        # in order: on the side of every threshold where no hazard lies, where they leave room
        safe_lo, safe_hi, lo_open, hi_open = lo, hi, False, False
        for t, op in marks:
            if op in (">", ">=") and t <= safe_hi:
                safe_hi, hi_open = t, op == ">="
            elif op in ("<", "<=") and t >= safe_lo:
                safe_lo, lo_open = t, op == "<="
        if spec.type.integer:
            first = math.ceil(safe_lo) + (1 if lo_open and float(safe_lo).is_integer() else 0)
            last = math.floor(safe_hi) - (1 if hi_open and float(safe_hi).is_integer() else 0)
            if first <= last:
                return rnd.randint(first, last)
        elif safe_lo < safe_hi:
            return self._fit(spec, rnd.uniform(safe_lo, safe_hi), lo, hi)
        elif safe_lo == safe_hi and not (lo_open or hi_open):
            return self._fit(spec, safe_lo, lo, hi)
        return self._fit(spec, rnd.uniform(lo, hi), lo, hi)

    def relate(self, values: Dict[str, object], specs, prefix: Optional[str]) -> None:
        """Measured against design values (``x > y * 110%``): mostly in order, now and then at the
        limit or past it."""
        rnd = self.rnd
        for name in list(values):
            key = (prefix, name) if prefix else name
            spec = specs.get(name)
            if spec is None or spec.type.kind != NUMBER:
                continue
            for other, op, factor in self.hints.relations.get(key, ()):
                other_name = other[1] if isinstance(other, tuple) else other
                if (other[0] if isinstance(other, tuple) else None) != prefix:
                    continue
                base = values.get(other_name)
                if not isinstance(base, (int, float)) or isinstance(base, bool) or op in ("==", "!="):
                    continue
                limit = base * factor
                pick = rnd.random()
                if pick < self.near / 2:
                    target = limit  # a tie: decided exactly
                elif pick < self.near:
                    target = limit * rnd.choice((0.97, 1.03))
                else:
                    target = limit * (rnd.uniform(0.5, 0.95) if op in (">", ">=") else rnd.uniform(1.05, 1.5))
                lo, hi = self._bounds(spec, ())
                values[name] = self._fit(spec, target, lo, hi if spec.maximum is not None else max(hi, target))
                break

    def value(self, spec, key, day: date) -> object:
        kind = spec.type.kind
        rnd = self.rnd
        if kind == NUMBER:
            return self.number(spec, key)
        if kind == BOOLEAN:
            bad = self.hints.hazard_value.get(key)
            if bad is None:
                return rnd.random() < 0.5
            return bad if rnd.random() < self.hazard else not bad
        if kind == ENUM:
            return rnd.choice([code for code, _ in spec.values])
        if kind == DATE:
            return (day + timedelta(days=rnd.randint(-3 * 365, 3 * 365))).isoformat()
        if kind == STRING:
            return f"{spec.name}-{rnd.randint(1, 999)}"
        if kind == LIST:
            return self.items(spec, day)
        raise ValueError(f"fact {spec.name!r}: no generator for type {kind!r}")

    def items(self, spec, day: date) -> List[dict]:
        out = []
        for i in range(self.rnd.randint(0, MAX_ITEMS)):
            item: Dict[str, object] = {}
            for f in spec.fields:
                if f.name == spec.key:
                    item[f.name] = f"{spec.name}-{i + 1}" if f.type.kind == STRING else self.value(f, (spec.name, f.name), day)
                elif self.rnd.random() >= self.missing:
                    item[f.name] = self.value(f, (spec.name, f.name), day)
            self.relate(item, spec._fields_by_name, spec.name)
            out.append(item)
        if spec.key and any(f.name == spec.key and f.type.kind != STRING for f in spec.fields):
            # a key that is not a text (an enum or number): keep only the first item of each key
            seen, unique = set(), []
            for item in out:
                if item[spec.key] not in seen:
                    seen.add(item[spec.key])
                    unique.append(item)
            out = unique
        return out

    # ---------------------------------------------------------------------------------- records
    def record(self, index: int) -> dict:
        rnd = self.rnd
        industry = rnd.choice(self.industries)
        day = rnd.choice(self._days(industry))
        vocabulary = self.ir.vocabularies[industry]
        declared = self.ir.industries.get(industry)
        attribute_names = set(declared.attributes) if declared else set()
        attributes: Dict[str, object] = {}
        facts: Dict[str, object] = {}
        for name in sorted(vocabulary):
            spec = vocabulary[name]
            on_site = spec.site or name in attribute_names
            if not on_site and rnd.random() < self.missing:
                continue
            (attributes if on_site else facts)[name] = self.value(spec, name, day)
        self.relate(facts, vocabulary, None)
        return {
            "record_id": f"R-{industry}-{index:07d}",
            "inspection_date": day.isoformat(),
            "site": {
                "id": f"SITE-{rnd.randint(1, 5000):05d}",
                "industry": industry,
                "region": rnd.choice(self.regions),
                "attributes": attributes,
            },
            "facts": facts,
        }

    def records(self, n: int) -> List[dict]:
        return [self.record(i) for i in range(n)]


def records_for(rules, n: int, seed: int = 1, missing: float = 0.10) -> List[dict]:
    """``n`` seeded realistic records for a loaded rule set."""
    return RecordGenerator(rules, seed, missing).records(n)


def self_check(rules, recs: Iterable[dict]) -> Dict[str, int]:
    """Evaluate every record (raising the first RecordError, with the record's id) and count statuses."""
    from safetyrules import RecordError

    counts: Dict[str, int] = {}
    for rec in recs:
        try:
            status = rules.evaluate(rec).status
        except RecordError as exc:
            raise AssertionError(f"generated record {rec['record_id']} is invalid: {exc}") from None
        counts[status] = counts.get(status, 0) + 1
    return counts


def main() -> None:
    from safetyrules import load_rules
    from safetyrules.packs import shipped_pack_names

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packs", nargs="*", help="default: every shipped pack")
    parser.add_argument("--records", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--missing", type=float, default=0.10)
    parser.add_argument("--check", action="store_true", help="evaluate 1,000 records of each pack and count statuses")
    args = parser.parse_args()
    for pack in args.packs or shipped_pack_names():
        rules = load_rules(pack)
        if args.check:
            print(pack, self_check(rules, records_for(rules, 1000, args.seed, args.missing)))
        else:
            for rec in records_for(rules, args.records, args.seed, args.missing):
                print(json.dumps(rec, ensure_ascii=False))


if __name__ == "__main__":
    main()
