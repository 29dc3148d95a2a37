"""Hypothesis strategies that generate inspection records from a loaded vocabulary.

Numbers are drawn from the pack's own literals, their neighbours and simple multiples, so that
values exactly at a threshold (including ties after arithmetic, such as 7150 against 6500 * 110%)
come up often; any fact may be missing, so three-valued paths are exercised too.
"""

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import strategies as st

from safetyrules.expr import ast

BASE_NUMBERS = [0, 1, 2, 3, 5, 10, 20, 100, 6500, 7150, 1950, 0.3, 0.6, 0.9, 1.1, 0.99, 1.0, 1.01]


def number_pool(ir):
    literals = set()
    for cm in ir.modules:
        nodes = [cm.module.scope] if cm.module.scope is not None else []
        for cr in cm.rules:
            nodes.append(cr.rule.when)
            if cr.rule.applies_if is not None:
                nodes.append(cr.rule.applies_if)
        for d in ir.derived.values():
            nodes.append(d.expr)
        for node in nodes:
            for n in ast.walk(node):
                if isinstance(n, ast.Number):
                    literals.add(n.value)
    pool = set(Fraction(str(x)) for x in BASE_NUMBERS)
    for v in list(literals)[:400]:
        pool |= {v, v + Fraction(1, 100), v - Fraction(1, 100), v * 10, v * 100}
    out = []
    for v in sorted(pool):
        if v.denominator == 1:
            out.append(int(v))
        else:
            out.append(float(round(v, 6)))
    return out


def value_strategy(spec, pool, day):
    kind = spec.type.kind
    if kind == "number":
        if spec.type.integer:
            ints = sorted({int(x) for x in pool if float(x).is_integer() and abs(x) < 10**9})
            s = st.sampled_from(ints or [0, 1, 2])
        else:
            s = st.sampled_from(pool)
        if spec.minimum is not None:
            s = s.filter(lambda x, m=spec.minimum: x >= m)
        if spec.maximum is not None:
            s = s.filter(lambda x, m=spec.maximum: x <= m)
        return s
    if kind == "boolean":
        return st.booleans()
    if kind == "enum":
        return st.sampled_from([v for v, _ in spec.values])
    if kind == "string":
        return st.sampled_from(["a", "b", "c"])
    if kind == "date":
        return st.integers(-400, 400).map(lambda d: (day + timedelta(days=d)).isoformat())
    raise AssertionError(kind)


def record_strategy(ir, industry, dates):
    vocab = ir.vocabularies[industry]
    pool = number_pool(ir)

    @st.composite
    def build(draw):
        day = draw(st.sampled_from(dates))
        complete = draw(st.booleans())  # complete records take the native fast path
        facts, attributes = {}, {}
        for name, spec in sorted(vocab.items()):
            if not complete and draw(st.integers(0, 9)) < 2:  # about one fact in five is not recorded
                continue
            if spec.type.kind == "list":
                items = []
                for i in range(draw(st.integers(0, 3))):
                    item = {spec.key: f"{name[:3]}-{i}"}
                    for f in spec.fields:
                        if f.name == spec.key or (not complete and draw(st.integers(0, 9)) < 2):
                            continue
                        item[f.name] = draw(value_strategy(f, pool, day))
                    items.append(item)
                value = items
            else:
                value = draw(value_strategy(spec, pool, day))
            (attributes if spec.site else facts)[name] = value
        return {
            "record_id": "gen",
            "inspection_date": day.isoformat(),
            "site": {"industry": industry, "attributes": attributes},
            "facts": facts,
        }

    return build()


def version_dates(ir, industry):
    """Dates on both sides of every version change of the industry's modules."""
    days = {date(2026, 8, 1)}
    for cm in ir.modules:
        if industry in cm.module.industries:
            start = cm.module.effective_from
            days |= {start, start - timedelta(days=1)}
            if cm.module.effective_until:
                days |= {cm.module.effective_until, cm.module.effective_until + timedelta(days=1)}
    return sorted(days)
