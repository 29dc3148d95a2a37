"""Hostile and careless input: any JSON value at any place of a record.

The records start almost valid for a pack (drawn from its vocabulary by ``tests.strategies``), then
one to three places are replaced by any JSON value: nulls, booleans, integers beyond every float,
NaN and infinities, text with lone surrogates, deep lists and objects, objects with odd keys. Values
only Python can pass (tuples, sets, bytes, ``str`` subclasses, dates) come from ``python_values``.
"""

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from tests.strategies import record_strategy, version_dates

#: values that found faults before (issue 12) or sit at a limit
AWKWARD_NUMBERS = [
    0,
    -1,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    2**63,
    2**64,
    10**300,
    10**400,
    -(10**400),
    1e308,
    -1e308,
    5e-324,
    float("nan"),
    float("inf"),
    float("-inf"),
    -0.0,
]
AWKWARD_TEXTS = [
    "",
    " ",
    "\ud800",
    "a\udfffb",
    "\x00",
    "2026-02-30",
    "2026-13-01",
    "０",
    "NaN",
    "true",
    "coal_mine",
    "demo",
    "underground",
    "$.facts",
    "a" * 300,
    "é\u0301",
    "🔥",
    "\u202e",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(AWKWARD_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(AWKWARD_TEXTS),
)
json_keys = st.one_of(st.text(max_size=10), st.sampled_from(AWKWARD_TEXTS))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(json_keys, children, max_size=4)),
    max_leaves=16,
)


class RaisingStr(str):
    """A ``str`` subclass whose comparison raises: only Python callers can pass one."""

    def __eq__(self, other):
        raise RuntimeError("compared")

    __hash__ = str.__hash__


python_values = st.one_of(
    st.tuples(st.integers()),
    st.frozensets(st.integers(), max_size=2),
    st.binary(max_size=4),
    st.sampled_from([Decimal("1.5"), date(2026, 8, 1), RaisingStr("underground"), RaisingStr("x"), object()]),
)


def places(value, path=()):
    """Every place in a record where a value can stand: (path of keys/indices) tuples."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(places(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(places(v, path + (i,)))
    return out


def put(record, path, value):
    """A copy of ``record`` with ``value`` at ``path`` (the root itself when the path is empty)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(record, dict):
        copy = dict(record)
        copy[head] = put(record.get(head), rest, value)
        return copy
    copy = list(record)
    copy[head] = put(copy[head], rest, value)
    return copy


def hostile_records(ir, industry, values=json_values):
    """Records of the industry with one to three places (existing, or a new key beside one) replaced."""
    base = record_strategy(ir, industry, version_dates(ir, industry))

    @st.composite
    def build(draw):
        record = draw(base)
        for _ in range(draw(st.integers(1, 3))):
            spots = places(record)
            path = draw(st.sampled_from(spots))
            if draw(st.booleans()) and path and isinstance(path[-1], str):
                path = path[:-1] + (draw(json_keys),)  # a new key beside an existing one
            record = put(record, path, draw(values))
        return record

    return build()
