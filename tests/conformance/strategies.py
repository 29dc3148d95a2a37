"""Hypothesis strategies for well-typed condition expressions, rule modules and matching records.

The generator is type-directed: ``expressions(ty, ctx, depth)`` draws the source text of an
expression of the requested type (a condition, a number of a unit, a date, an enum, a text) from the
whole grammar, and every term carries the type the language gives it, so that what is built from it
type-checks by construction. A refusal by the type checker is therefore a generator bug, reported by
the test that loads the module, never filtered away.

Numbers come from a small pool shared by literals and records (with percentages and exact multiples),
so that comparisons land on ties (``output_t > capacity_t * 110%`` with 7150 and 6500) often; dates
sit around the inspection dates; facts and item fields may be missing or recorded as null, so the
three-valued paths are exercised.

The functions come from the language's own table (``safetyrules/expr/language.py``): a function declared
there is generated here without further work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple

from hypothesis import strategies as st

from safetyrules.expr.language import ARITHMETIC
from safetyrules.expr.language import COMPARISONS as LANGUAGE_COMPARISONS
from safetyrules.expr.language import FUNCTIONS as LANGUAGE_FUNCTIONS
from safetyrules.expr.language import Function
from safetyrules.expr.types import ANY_UNIT, DIMENSIONLESS, NUMBER, divide_units, multiply_units, unify_units

# ----------------------------------------------------------------------------------- vocabulary


def _enum(*values: str) -> dict:
    return {"type": "enum", "values": {v: {"zh": v, "en": v} for v in values}}


def _label(name: str, spec: dict) -> dict:
    return dict({"label": {"zh": name, "en": name}}, **spec)


KINDS = ("underground", "open_pit", "mixed")
ZONES = ("intake", "return")
MINE_TYPES = ("underground", "open_pit")

#: The module's facts, as written in YAML (tests.helpers.module_text adds the top-level labels).
FACTS: Dict[str, dict] = {
    "output_t": {"type": "number", "unit": "t", "minimum": 0},
    "capacity_t": {"type": "number", "unit": "t", "minimum": 0},
    "gas_pct": {"type": "number", "unit": "%", "minimum": 0, "maximum": 100},
    "overdue_d": {"type": "number", "unit": "d"},
    "ratio": {"type": "number"},
    "margin": {"type": "number"},
    "workers": {"type": "integer", "minimum": 0},
    "flag": {"type": "boolean"},
    # presumed where an exception reads it unrecorded (conditions read it as recorded)
    "other": {"type": "boolean", "presumed": {"value": False, "reason": {"zh": "推定", "en": "presumed"}, "source": "test"}},
    "kind": _enum(*KINDS),
    "backup_kind": _enum(*KINDS),
    "mine_type": dict(_enum(*MINE_TYPES), site=True),
    "checked_on": {"type": "date"},
    "due_on": {"type": "date"},
    "operator": {"type": "string"},
    "faces": {
        "type": "list",
        "key": "id",
        "fields": {
            "id": _label("id", {"type": "string"}),
            "ch4_pct": _label("ch4_pct", {"type": "number", "unit": "%", "minimum": 0, "maximum": 100}),
            "load_t": _label("load_t", {"type": "number", "unit": "t"}),
            "zone": _label("zone", _enum(*ZONES)),
            "powered": _label(
                "powered",
                {"type": "boolean", "presumed": {"value": True, "reason": {"zh": "推定", "en": "presumed"}, "source": "test"}},
            ),
            "inspected_on": _label("inspected_on", {"type": "date"}),
        },
    },
    "crews": {
        "type": "list",
        "key": "name",
        "fields": {
            "name": _label("name", {"type": "string"}),
            "size": _label("size", {"type": "integer", "minimum": 0}),
            "lead_kind": _label("lead_kind", _enum(*KINDS)),
        },
    },
}

#: Item variables a quantifier or for_each may bind, per list (none is a fact name).
ITEM_VARS = {"faces": ("f", "g"), "crews": ("c", "k")}

INSPECTION_DATES = (date(2024, 2, 29), date(2024, 5, 1), date(2026, 7, 1))
DAY_OFFSETS = (0, 1, -1, 30, -30, 365, -365, 366, -366)

#: Numbers shared by literals and records: thresholds, their neighbours and exact multiples.
NUMBERS = (
    "0",
    "1",
    "2",
    "3",
    "10",
    "100",
    "0.1",
    "0.2",
    "0.3",
    "0.5",
    "0.99",
    "1.0",
    "1.01",
    "1.1",
    "2.5",
    "1950",
    "6500",
    "7150",
    "7150.01",
    "-1",
    "-0.5",
)
PERCENTS = ("110%", "100%", "50%", "10%", "1%", "0.5%")
FACTORS = ("1", "1.1", "0.5", "2", "0.1")
TEXTS = ("A", "B", "it's", "")


# ----------------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Ty:
    """The language's type of a term: kind, and the unit of a number or the values of an enum."""

    kind: str  # condition | number | date | enum | string
    unit: Optional[str] = None
    values: Optional[FrozenSet[str]] = None

    def accepts(self, other: "Ty") -> bool:
        """Whether a term of type ``other`` can stand where this type is asked for."""
        if self.kind != other.kind:
            return False
        if self.kind == "number":
            return unify_units(other.unit, self.unit) == self.unit
        if self.kind == "enum":
            return self.values == other.values
        return True


COND = Ty("condition")
DATE = Ty("date")
TEXT = Ty("string")


def num(unit: str) -> Ty:
    return Ty("number", unit)


def enum(values) -> Ty:
    return Ty("enum", values=frozenset(values))


UNITS = ("t", "%", "d", DIMENSIONLESS)


def _declared_type(spec: Mapping) -> Ty:
    kind = spec["type"]
    if kind in ("number", "integer"):
        return num(spec.get("unit") or DIMENSIONLESS)
    if kind == "boolean":
        return COND
    if kind == "enum":
        return enum(spec["values"])
    return Ty(kind)


BASE_TYPES: Dict[str, Ty] = {n: _declared_type(s) for n, s in FACTS.items() if s["type"] != "list"}
FIELD_TYPES: Dict[str, Dict[str, Ty]] = {
    n: {f: _declared_type(fs) for f, fs in s["fields"].items()} for n, s in FACTS.items() if s["type"] == "list"
}


@dataclass(frozen=True)
class Term:
    """Expression source text and its type. ``atomic`` terms need no parentheses as operands."""

    text: str
    ty: Ty
    atomic: bool = False

    def operand(self) -> str:
        return self.text if self.atomic else f"({self.text})"


@dataclass(frozen=True)
class Ctx:
    """What an expression may read: bound item variables (innermost last) and the derived facts so far."""

    bound: Tuple[Tuple[str, str], ...] = ()
    derived: Tuple[Tuple[str, Ty], ...] = ()

    def bind(self, var: str, list_name: str) -> "Ctx":
        return Ctx(tuple(b for b in self.bound if b[0] != var) + ((var, list_name),), self.derived)

    def names(self) -> List[Tuple[str, Ty]]:
        """Facts, derived facts and item fields in scope, with their types."""
        out = list(BASE_TYPES.items()) + list(self.derived)
        for var, list_name in self.bound:
            out += [(f"{var}.{f}", t) for f, t in FIELD_TYPES[list_name].items()]
        return out


# ----------------------------------------------------------------------------------- functions


#: The built-in functions: name -> (parameter kinds, result rule). Parameter kinds: ``cond`` a
#: condition, ``ref`` a fact, derived fact or item field name, ``date`` a date, ``T`` a term of the
#: result's type, ``num:T`` a number of the result's unit. Result rules: ``cond``, ``T`` (the type
#: asked for, any kind), ``num:T`` (a number of the unit asked for), ``num:d`` (a number of days).
def _signature(function: Function) -> Tuple[Tuple[str, ...], str]:
    """A function of the language table as the generator reads it: parameter kinds and result rule."""
    if function.result == "days":
        return tuple("date" for _ in function.params), "num:d"
    return tuple("num:T" if kind == NUMBER else kind for kind in function.params), "num:T"


#: the special forms, then every ordinary function the language declares (safetyrules/expr/language.py)
FUNCTIONS: Dict[str, Tuple[Tuple[str, ...], str]] = {
    "known": (("ref",), "cond"),
    "if": (("cond", "T", "T"), "T"),
    **{name: _signature(function) for name, function in LANGUAGE_FUNCTIONS.items()},
}


def _functions_for(ty: Ty) -> List[str]:
    out = []
    for name, (_, result) in FUNCTIONS.items():
        if (
            result == "T"
            or (result == "cond" and ty == COND)
            or (result == "num:T" and ty.kind == "number")
            or (result == "num:d" and ty.kind == "number" and ty.unit == "d")
        ):
            out.append(name)
    return out


def _result_type(result: str, args: List[Term], asked: Ty) -> Ty:
    if result == "cond":
        return COND
    if result == "num:d":
        return num("d")
    typed = [a.ty for a in args if a.ty.kind == asked.kind and asked.kind != "condition"] or [asked]
    if typed[0].kind == "number":
        unit = typed[0].unit
        for t in typed[1:]:
            unit = unify_units(unit, t.unit)
        return num(unit)
    return typed[0]


@st.composite
def calls(draw, ty: Ty, ctx: Ctx, depth: int, results: Tuple[str, ...] = ()) -> Term:
    """A call of a function that can give ``ty`` (of those whose result rule is in ``results``, if given)."""
    name = draw(st.sampled_from([f for f in _functions_for(ty) if not results or FUNCTIONS[f][1] in results]))
    params, result = FUNCTIONS[name]
    args: List[Term] = []
    for kind in params:
        if kind == "cond":
            args.append(draw(expressions(COND, ctx, depth - 1)))
        elif kind == "ref":
            args.append(draw(references(ctx)))
        elif kind == "date":
            args.append(draw(expressions(DATE, ctx, depth - 1)))
        else:
            args.append(draw(expressions(ty, ctx, depth - 1)))
    return Term(f"{name}({', '.join(a.text for a in args)})", _result_type(result, args, ty), atomic=True)


@st.composite
def references(draw, ctx: Ctx) -> Term:
    """A name ``known()`` accepts: a fact (a list too), a derived fact or an item field."""
    names = [n for n, _ in ctx.names()] + [n for n, s in FACTS.items() if s["type"] == "list"]
    return Term(draw(st.sampled_from(names)), COND, atomic=True)


# ----------------------------------------------------------------------------------- expressions


def _number_literal(text: str) -> Term:
    unit = DIMENSIONLESS if text.endswith("%") else ANY_UNIT
    return Term(text, num(unit), atomic=not text.startswith("-"))


def _date_literals() -> List[str]:
    days = {d + timedelta(days=o) for d in INSPECTION_DATES for o in (0, 1, -1, 365, -366)}
    return [f"date('{d.isoformat()}')" for d in sorted(days)]


DATE_LITERALS = _date_literals()


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _names(ty: Ty, ctx: Ctx) -> List[Term]:
    """Facts, derived facts and item fields of the type asked for."""
    out = [Term(n, t, atomic=True) for n, t in ctx.names() if ty.accepts(t)]
    if ty == num(DIMENSIONLESS):
        out += [Term(f"count({n})", num(DIMENSIONLESS), atomic=True) for n in ITEM_VARS]
    if ty == DATE:
        out.append(Term("inspection_date", DATE, atomic=True))
    return out


def _literals(ty: Ty) -> List[Term]:
    if ty.kind == "number":
        return [_number_literal(x) for x in NUMBERS + (PERCENTS if ty.unit == DIMENSIONLESS else ())]
    if ty == COND:
        return [Term("true", COND, atomic=True), Term("false", COND, atomic=True)]
    if ty == DATE:
        return [Term(x, DATE, atomic=True) for x in DATE_LITERALS]
    if ty == TEXT:
        return [Term(_quote(x), TEXT, atomic=True) for x in TEXTS]
    return []


def _leaves(ty: Ty, ctx: Ctx) -> Optional[st.SearchStrategy[Term]]:
    """A name (three times as often) or a literal of the type; None when there is neither."""
    names, literals = _names(ty, ctx), _literals(ty)
    parts = ([st.sampled_from(names)] * 3 if names else []) + ([st.sampled_from(literals)] if literals else [])
    return st.one_of(parts) if parts else None


def expressions(ty: Ty, ctx: Ctx, depth: int, literals: bool = True) -> st.SearchStrategy[Term]:
    """Terms whose type ``ty`` accepts, at most ``depth`` levels of operators deep; without bare
    literals at the top when ``literals`` is false (the left side of a comparison reads something)."""
    leaves = _leaves(ty, ctx) if literals else _named(ty, ctx)
    if depth <= 0:
        if leaves is None:
            leaves = _leaves(ty, ctx)
        assert leaves is not None, ty
        return leaves
    if ty == COND:
        compound = conditions(ctx, depth)
    elif ty.kind == "number":
        compound = numbers(ty.unit, ctx, depth)
    else:  # if() is the one way to build a date, an enum or a text: mostly leaves
        return st.one_of(leaves, leaves, calls(ty, ctx, depth)) if leaves is not None else calls(ty, ctx, depth)
    return st.one_of(leaves, compound) if leaves is not None else compound


def _named(ty: Ty, ctx: Ctx) -> Optional[st.SearchStrategy[Term]]:
    names = _names(ty, ctx)
    return st.sampled_from(names) if names else None


def _check(term: Term, ty: Ty) -> Term:
    assert ty.accepts(term.ty), f"generator bug: {term.text!r} is {term.ty}, asked for {ty}"
    return term


@st.composite
def strict_numbers(draw, unit: str, ctx: Ctx, depth: int) -> Term:
    """A number of exactly ``unit`` (not a bare literal): the operands of a ratio ``x / y``."""
    exact = [Term(n, t, atomic=True) for n, t in ctx.names() if t == num(unit)]
    leaf = draw(st.sampled_from(exact))
    if depth <= 0 or draw(st.booleans()):
        return leaf
    other = draw(expressions(num(unit), ctx, depth - 1))
    form = draw(st.sampled_from(["{a} + {b}", "{b} - {a}", "max({a}, {b})", "if({c}, {b}, {a})", "{a} * {r}", "-{a}"]))
    cond = draw(expressions(COND, ctx, 0)) if "{c}" in form else None
    ratio = draw(expressions(num(DIMENSIONLESS), ctx, 0)) if "{r}" in form else None
    text = form.format(a=leaf.text, b=other.operand(), c=cond.text if cond else "", r=ratio.operand() if ratio else "")
    return Term(text, num(unit))


@st.composite
def numbers(draw, unit: str, ctx: Ctx, depth: int) -> Term:
    asked = num(unit)
    forms = ["arith", "negate", "call", "scale"]
    if unit == "d":
        forms.append("days")
    if unit == DIMENSIONLESS:
        forms += ["ratio", "count"]
    form = draw(st.sampled_from(forms))
    if form == "arith":
        op = draw(st.sampled_from("+-"))
        a, b = draw(expressions(asked, ctx, depth - 1)), draw(expressions(asked, ctx, depth - 1))
        term = Term(f"{a.operand()} {op} {b.operand()}", num(unify_units(a.ty.unit, b.ty.unit)))
    elif form == "negate":
        a = draw(expressions(asked, ctx, depth - 1))
        term = Term(f"-{a.operand()}", a.ty)
    elif form == "call":
        term = draw(calls(asked, ctx, depth))
    elif form == "days":  # the functions that count days
        term = draw(calls(asked, ctx, depth, results=("num:d",)))
    elif form == "scale":  # x * ratio, ratio * x, x / ratio (division by zero happens)
        a = draw(expressions(asked, ctx, depth - 1))
        r = draw(expressions(num(DIMENSIONLESS), ctx, depth - 1))
        shape = draw(st.sampled_from(["mul", "rmul", "div"]))
        if shape == "mul":
            term = Term(f"{a.operand()} * {r.operand()}", num(multiply_units(a.ty.unit, r.ty.unit)))
        elif shape == "rmul":
            term = Term(f"{r.operand()} * {a.operand()}", num(multiply_units(r.ty.unit, a.ty.unit)))
        else:
            term = Term(f"{a.operand()} / {r.operand()}", num(divide_units(a.ty.unit, r.ty.unit)))
    elif form == "ratio":  # x / y of one unit: dimensionless
        of = draw(st.sampled_from([u for u in UNITS if u != DIMENSIONLESS]))
        a, b = draw(strict_numbers(of, ctx, depth - 1)), draw(strict_numbers(of, ctx, depth - 1))
        term = Term(f"({a.text}) / ({b.text})", num(divide_units(a.ty.unit, b.ty.unit)))
    else:
        list_name = draw(st.sampled_from(sorted(ITEM_VARS)))
        var = draw(st.sampled_from(ITEM_VARS[list_name]))
        cond = draw(expressions(COND, ctx.bind(var, list_name), depth - 1))
        term = Term(f"count({var} in {list_name} where {cond.text})", num(DIMENSIONLESS), atomic=True)
    return _check(term, asked)


COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def _options(ty: Ty, draw) -> List[str]:
    if ty.kind == "number":
        pool = list(NUMBERS) + (list(PERCENTS) if ty.unit == DIMENSIONLESS else [])
    elif ty.kind == "enum":
        pool = [_quote(v) for v in sorted(ty.values)]
    elif ty == TEXT:
        pool = [_quote(x) for x in TEXTS]
    else:
        pool = ["true", "false"]
    return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))


@st.composite
def conditions(draw, ctx: Ctx, depth: int) -> Term:
    form = draw(
        st.sampled_from(
            ["compare", "threshold", "dates", "enum", "text", "bools", "member", "and", "or", "not", "quantifier", "call"]
        )
    )
    sub = depth - 1
    if form in ("compare", "threshold"):
        unit = draw(st.sampled_from(UNITS))
        a = draw(expressions(num(unit), ctx, sub, literals=False))
        b = draw(expressions(num(unit), ctx, sub))
        op = draw(st.sampled_from(COMPARISONS))
        if form == "threshold":  # a limit written as a share of another number: ties are exact
            pct = draw(st.sampled_from(PERCENTS))
            return Term(f"{a.text} {op} {b.operand()} * {pct}", COND)
        return Term(f"{a.text} {op} {b.text}", COND)
    if form == "dates":
        a, b = draw(expressions(DATE, ctx, sub, literals=False)), draw(expressions(DATE, ctx, sub))
        return Term(f"{a.text} {draw(st.sampled_from(COMPARISONS))} {b.text}", COND)
    if form == "enum":
        values = draw(st.sampled_from([v for v in (KINDS, ZONES, MINE_TYPES) if _names(enum(v), ctx)]))
        a = draw(expressions(enum(values), ctx, sub, literals=False))
        other = draw(
            st.one_of(st.sampled_from([_quote(v) for v in values]), expressions(enum(values), ctx, sub).map(lambda t: t.text))
        )
        op = draw(st.sampled_from(["==", "!="]))
        return Term(f"{other} {op} {a.text}" if draw(st.booleans()) else f"{a.text} {op} {other}", COND)
    if form == "text":
        a, b = draw(expressions(TEXT, ctx, sub, literals=False)), draw(expressions(TEXT, ctx, sub))
        return Term(f"{a.text} {draw(st.sampled_from(['==', '!=']))} {b.text}", COND)
    if form == "bools":  # conditions compared as values
        a, b = draw(expressions(COND, ctx, sub, literals=False)), draw(expressions(COND, ctx, sub))
        return Term(f"{a.operand()} {draw(st.sampled_from(['==', '!=']))} {b.operand()}", COND)
    if form == "member":
        ty = draw(st.sampled_from([num(draw(st.sampled_from(UNITS))), enum(KINDS), TEXT, COND]))
        a = draw(expressions(ty, ctx, sub, literals=False))
        word = draw(st.sampled_from(["in", "not in"]))
        return Term(f"{a.operand()} {word} [{', '.join(_options(a.ty if ty.kind == 'number' else ty, draw))}]", COND)
    if form in ("and", "or"):
        parts = draw(st.lists(expressions(COND, ctx, sub), min_size=2, max_size=3))
        return Term(f" {form} ".join(p.operand() for p in parts), COND)
    if form == "not":
        return Term(f"not {draw(expressions(COND, ctx, sub)).operand()}", COND)
    if form == "quantifier":
        list_name = draw(st.sampled_from(sorted(ITEM_VARS)))
        var = draw(st.sampled_from(ITEM_VARS[list_name]))  # may shadow an outer variable of that name
        cond = draw(expressions(COND, ctx.bind(var, list_name), sub))
        return Term(f"{draw(st.sampled_from(['any', 'all']))}({var} in {list_name} where {cond.text})", COND, atomic=True)
    return draw(calls(COND, ctx, depth))


# ----------------------------------------------------------------------------------- modules


@dataclass(frozen=True)
class GeneratedRule:
    id: str
    when: str
    applies_if: Optional[str] = None
    for_each: Optional[Tuple[str, str]] = None  # (list, variable)
    unless: Tuple[str, ...] = ()  # exceptions' conditions

    def as_dict(self) -> dict:
        out: dict = {"id": self.id, "when": self.when}
        if self.applies_if is not None:
            out["applies_if"] = self.applies_if
        if self.unless:
            out["unless"] = [
                {"when": text, "label": {"zh": f"例外{j}", "en": f"exception {j}"}, "citation": {"article": 9, "item": j + 1}}
                for j, text in enumerate(self.unless)
            ]
        if self.for_each is not None:
            out["for_each"] = {"list": self.for_each[0], "as": self.for_each[1]}
        return out


@dataclass(frozen=True)
class GeneratedModule:
    """A module's parts: derived facts (name -> (expression, type)), rules and an optional scope."""

    derived: Tuple[Tuple[str, str, Ty], ...]
    rules: Tuple[GeneratedRule, ...]
    scope: Optional[str] = None
    facts: Mapping[str, dict] = field(default_factory=lambda: FACTS)


MAX_DEPTH = 4  # operators below the top one: trees stay within five levels


@st.composite
def modules(draw, max_rules: int = 6, depth: int = MAX_DEPTH) -> GeneratedModule:
    ctx = Ctx()
    derived = []
    for i in range(draw(st.integers(0, 3))):
        ty = draw(st.sampled_from([COND, num(DIMENSIONLESS), num("t"), num("d"), DATE, enum(KINDS)]))
        term = draw(expressions(ty, ctx, draw(st.integers(1, depth - 1))))
        name = f"derived_{i}"
        derived.append((name, term.text, term.ty))
        ctx = Ctx(ctx.bound, ctx.derived + ((name, term.ty),))
    rules = []
    for i in range(draw(st.integers(1, max_rules))):
        rule_ctx, for_each = ctx, None
        if draw(st.integers(0, 2)) == 0:
            list_name = draw(st.sampled_from(sorted(ITEM_VARS)))
            var = ITEM_VARS[list_name][0]
            for_each, rule_ctx = (list_name, var), ctx.bind(var, list_name)
        when = draw(conditions(rule_ctx, draw(st.integers(1, depth))))
        applies_if = None
        if draw(st.integers(0, 3)) == 0:
            applies_if = draw(expressions(COND, draw(st.sampled_from([ctx, rule_ctx])), draw(st.integers(0, 2)))).text
        unless: Tuple[str, ...] = ()
        if draw(st.integers(0, 2)) == 0:
            count = draw(st.integers(1, 2))
            unless = tuple(draw(conditions(rule_ctx, draw(st.integers(1, 2)))).text for _ in range(count))
        rules.append(GeneratedRule(f"r{i}", when.text, applies_if, for_each, unless))
    scope = None
    if draw(st.integers(0, 4)) == 0:
        scope = draw(expressions(COND, ctx, draw(st.integers(0, 2)))).text
    return GeneratedModule(tuple(derived), tuple(rules), scope)


# ----------------------------------------------------------------------------------- records


def _json_number(value: Decimal, text: str = ""):
    """An int for an integral value written without a point, else the float of the decimal."""
    if value == value.to_integral_value() and "." not in text and "E" not in text:
        return int(value)
    return float(value)


@st.composite
def _number(draw, spec: Mapping, related: List[str]):
    """A value from the shared pool, a multiple of another recorded value, or (rarely) out of bounds."""
    choice = draw(st.integers(0, 39))
    if choice < 12 and related:
        base = Decimal(draw(st.sampled_from(related)))
        value = base * Decimal(draw(st.sampled_from(FACTORS))) + Decimal(draw(st.sampled_from(["0", "0", "0.01", "-0.01"])))
        text = ""
    else:
        text = draw(st.sampled_from(NUMBERS))
        value = Decimal(text)
    if spec["type"] == "integer" and choice != 39:
        value, text = abs(value.to_integral_value()), ""
    number = _json_number(value, text)
    if choice == 39:  # a value the declaration may not allow: every backend must refuse the record alike
        return number
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if lo is not None and number < lo:
        number = abs(number)
    if hi is not None and number > hi:
        number = hi
    return number


@st.composite
def _value(draw, spec: Mapping, day: date, related: List[str]):
    kind = spec["type"]
    if kind in ("number", "integer"):
        return draw(_number(spec, related))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "enum":
        return draw(st.sampled_from(sorted(spec["values"])))
    if kind == "date":
        return (day + timedelta(days=draw(st.sampled_from(DAY_OFFSETS)))).isoformat()
    return draw(st.sampled_from(TEXTS))


@st.composite
def _absent_or(draw, value_strategy):
    """Mostly a value; sometimes not recorded (``_MISSING``) or recorded as null (None)."""
    roll = draw(st.integers(0, 7))
    if roll == 0:
        return _MISSING
    if roll == 1:
        return None
    return draw(value_strategy)


_MISSING = object()


@st.composite
def records(draw, record_id: str = "gen") -> dict:
    day = draw(st.sampled_from(INSPECTION_DATES))
    facts: dict = {}
    attributes: dict = {}
    recorded_numbers: List[str] = []
    for name, spec in FACTS.items():
        if spec["type"] == "list":
            value = draw(_absent_or(_items(name, spec, day, recorded_numbers)))
        else:
            value = draw(_absent_or(_value(spec, day, recorded_numbers)))
        if value is _MISSING:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            recorded_numbers.append(str(value))
        (attributes if spec.get("site") else facts)[name] = value
    return {
        "record_id": record_id,
        "inspection_date": day.isoformat(),
        "site": {"industry": "demo", "attributes": attributes},
        "facts": facts,
    }


@st.composite
def _items(draw, name: str, spec: Mapping, day: date, related: List[str]) -> list:
    items = []
    for i in range(draw(st.integers(0, 4))):
        item = {spec["key"]: f"{name[0]}{i}"}
        for fname, fspec in spec["fields"].items():
            if fname == spec["key"]:
                continue
            value = draw(_absent_or(_value(fspec, day, related)))
            if value is not _MISSING:
                item[fname] = value
        items.append(item)
    return items


#: every construct of the language, as it shows in an expression's text: the functions and operators of
#: the language table, the special forms and quantifiers, literals and item fields (the conformance cases
#: and the generator must each cover them all)
CONSTRUCTS = tuple(
    [f"{name}(" for name in LANGUAGE_FUNCTIONS]
    + ["any(", "all(", "count(", "known(", "if(", "date(", "inspection_date", " in [", " not in [", "%"]
    + [f" {symbol} " for symbol in ARITHMETIC]
    + [f" {symbol} " for symbol in LANGUAGE_COMPARISONS]
    + ["not ", " and ", " or ", "."]
)
