"""Columnar evaluation: one module's rules decided for a whole batch of records at once (numpy).

Auditors re-evaluate millions of records; deciding each rule for thousands of records in one numpy
operation removes the per-record interpreter overhead that dominates when a pack has a hundred rules
or more. The semantics are the reference interpreter's, column by column:

* a number column is float64 with NaN for "not recorded"; any comparison with NaN is false, so a
  comparison's true-mask and false-mask (``x > c`` and ``x <= c``) are exactly Kleene's;
* a condition is a pair of masks (definitely true, definitely false); ``and``/``or``/``not`` combine
  them as Kleene logic does; neither mask set means undetermined;
* comparisons involving arithmetic carry a rounding-error bound, and records where the two sides are
  closer than it -- possible ties such as 7150 against 6500 * 110% -- are re-decided exactly, one by
  one, by the interpreter.

Rules over lists of items are not columnar; the native backend decides them per record with its
generated code. Closures are built from the typed IR once per module; nothing is generated as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..compiler import CompiledModule, RuleSetIR
from ..expr import ast
from ..expr.types import BOOLEAN, DATE, ENUM, NUMBER, STRING

TIE_TOLERANCE = 1e-9
NAN = float("nan")


class NotColumnar(Exception):
    """An expression the columnar evaluator does not handle (lists of items)."""


@dataclass
class Num:
    value: np.ndarray  # float64, NaN = unknown
    mag: Optional[np.ndarray] = None  # rounding-error magnitude; None when exact


@dataclass
class Tri:
    true: np.ndarray  # bool
    false: np.ndarray  # bool


@dataclass
class Obj:
    value: np.ndarray  # object
    known: np.ndarray  # bool


class Batch:
    """The columns of one batch of records, built on first use and cached."""

    def __init__(self, records: Sequence[Any], day_ordinals: np.ndarray, exact: Callable[[int, int], Optional[bool]]):
        self.records = records
        self.n = len(records)
        self.day = day_ordinals
        self.exact = exact
        self._cache: Dict[Tuple[str, str], Any] = {}

    def column(self, name: str) -> List[Any]:
        return [r.values.get(name) for r in self.records]

    def number(self, name: str) -> Num:
        key = ("n", name)
        col = self._cache.get(key)
        if col is None:
            raw = self.column(name)
            try:
                arr = np.array(raw, dtype=float)
            except TypeError:
                arr = np.array([NAN if v is None else v for v in raw], dtype=float)
            col = self._cache[key] = Num(arr)
        return col

    def date(self, name: str) -> Num:
        key = ("d", name)
        col = self._cache.get(key)
        if col is None:
            arr = np.array([NAN if v is None else float(v.toordinal()) for v in self.column(name)], dtype=float)
            col = self._cache[key] = Num(arr)
        return col

    def boolean(self, name: str) -> Tri:
        key = ("b", name)
        col = self._cache.get(key)
        if col is None:
            raw = self.column(name)
            col = self._cache[key] = Tri(np.array([v is True for v in raw], dtype=bool), np.array([v is False for v in raw], dtype=bool))
        return col

    def obj(self, name: str) -> Obj:
        key = ("o", name)
        col = self._cache.get(key)
        if col is None:
            raw = self.column(name)
            arr = np.empty(self.n, dtype=object)
            arr[:] = raw
            col = self._cache[key] = Obj(arr, np.array([v is not None for v in raw], dtype=bool))
        return col


def _mag(col: Num) -> np.ndarray:
    return col.mag if col.mag is not None else np.abs(col.value)


_FLIP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_OPS = {
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
}


class ModuleCompiler:
    """Typed IR of one module -> closures over a Batch."""

    def __init__(self, ir: RuleSetIR, module: CompiledModule):
        self.ir = ir
        self.module = module
        self.comparisons: List[ast.Compare] = []
        self.derived_fns: Dict[str, Callable[[Batch], Any]] = {}

    def compile(self, node: ast.Node) -> Callable[[Batch], Any]:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise NotColumnar(type(node).__name__)
        return method(node)

    # ---- leaves
    def _Number(self, node):
        value = float(node.value)
        from fractions import Fraction

        exact = Fraction(repr(value)) == node.value
        return lambda b: Num(np.full(b.n, value), None if exact else np.full(b.n, abs(value)))

    def _String(self, node):
        v = node.value
        return lambda b: Obj(np.full(b.n, v, dtype=object), np.ones(b.n, dtype=bool))

    def _Boolean(self, node):
        v = node.value
        return lambda b: Tri(np.full(b.n, v), np.full(b.n, not v))

    def _DateLiteral(self, node):
        v = float(node.value.toordinal())
        return lambda b: Num(np.full(b.n, v))

    def _InspectionDate(self, node):
        return lambda b: Num(b.day)

    def _Name(self, node):
        name = node.name
        if name in self.ir.derived:
            fn = self.derived_fns.get(name)
            if fn is None:
                inner = self.compile(self.ir.derived[name].expr)
                key = ("derived", name)

                def fn(b, inner=inner, key=key):
                    col = b._cache.get(key)
                    if col is None:
                        col = b._cache[key] = inner(b)
                    return col

                self.derived_fns[name] = fn
            return fn
        kind = node.ty.kind
        if kind == NUMBER:
            return lambda b: b.number(name)
        if kind == BOOLEAN:
            return lambda b: b.boolean(name)
        if kind in (ENUM, STRING):
            return lambda b: b.obj(name)
        if kind == DATE:
            return lambda b: b.date(name)
        raise NotColumnar(kind)

    # ---- arithmetic
    def _Negate(self, node):
        inner = self.compile(node.operand)
        return lambda b: (lambda c: Num(-c.value, c.mag))(inner(b))

    def _Arith(self, node):
        left, right, op = self.compile(node.left), self.compile(node.right), node.op

        def run(b):
            l, r = left(b), right(b)
            lm, rm = _mag(l), _mag(r)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if op == "+":
                    return Num(l.value + r.value, lm + rm)
                if op == "-":
                    return Num(l.value - r.value, lm + rm)
                if op == "*":
                    return Num(l.value * r.value, lm * rm)
                zero = r.value == 0
                value = np.where(zero, NAN, l.value / np.where(zero, 1.0, r.value))
                mag = (lm + np.abs(value) * rm) / np.abs(np.where(zero, 1.0, r.value))
                return Num(value, mag)

        return run

    def _Call(self, node):
        func = node.func
        if func == "known":
            arg = node.args[0]
            if not isinstance(arg, ast.Name):
                raise NotColumnar("known of an item field")
            inner = self.compile(arg)

            def known(b):
                c = inner(b)
                if isinstance(c, Num):
                    k = ~np.isnan(c.value)
                elif isinstance(c, Tri):
                    k = c.true | c.false
                else:
                    k = c.known
                return Tri(k, ~k)

            return known
        args = [self.compile(a) for a in node.args]
        if func == "if":
            cond, a, bfn = args

            def run_if(b):
                c, x, y = cond(b), a(b), bfn(b)
                if isinstance(x, Num):
                    same = x.value == y.value
                    value = np.where(c.true, x.value, np.where(c.false, y.value, np.where(same, x.value, NAN)))
                    mag = None
                    if x.mag is not None or y.mag is not None:
                        mag = np.maximum(_mag(x), _mag(y))
                    return Num(value, mag)
                if isinstance(x, Tri):
                    t = (c.true & x.true) | (c.false & y.true) | (~c.true & ~c.false & x.true & y.true)
                    f = (c.true & x.false) | (c.false & y.false) | (~c.true & ~c.false & x.false & y.false)
                    return Tri(t, f)
                same = x.known & y.known & (x.value == y.value)
                value = np.where(c.true, x.value, np.where(c.false, y.value, np.where(same, x.value, None)))
                known = np.where(c.true, x.known, np.where(c.false, y.known, same))
                return Obj(value, known.astype(bool))

            return run_if
        if func in ("min", "max"):
            f = np.minimum if func == "min" else np.maximum

            def run_mm(b):
                x, y = args[0](b), args[1](b)
                mag = None if x.mag is None and y.mag is None else np.maximum(_mag(x), _mag(y))
                return Num(f(x.value, y.value), mag)

            return run_mm
        if func == "abs":
            return lambda b: (lambda c: Num(np.abs(c.value), c.mag))(args[0](b))
        if func == "days_between":
            return lambda b: Num(args[1](b).value - args[0](b).value)
        raise NotColumnar(func)

    # ---- conditions
    def _Not(self, node):
        inner = self.compile(node.operand)
        return lambda b: (lambda c: Tri(c.false, c.true))(inner(b))

    def _And(self, node):
        parts = [self.compile(o) for o in node.operands]

        def run(b):
            cols = [p(b) for p in parts]
            t, f = cols[0].true, cols[0].false
            for c in cols[1:]:
                t = t & c.true
                f = f | c.false
            return Tri(t, f)

        return run

    def _Or(self, node):
        parts = [self.compile(o) for o in node.operands]

        def run(b):
            cols = [p(b) for p in parts]
            t, f = cols[0].true, cols[0].false
            for c in cols[1:]:
                t = t | c.true
                f = f & c.false
            return Tri(t, f)

        return run

    def _Member(self, node):
        operand = self.compile(node.operand)
        options = [self.compile(o) for o in node.options]
        negated = node.negated

        def run(b):
            x = operand(b)
            if isinstance(x, Num):
                known = ~np.isnan(x.value)
                found = np.zeros(b.n, dtype=bool)
                for o in options:
                    found |= x.value == o(b).value
            elif isinstance(x, Tri):
                known = x.true | x.false
                found = np.zeros(b.n, dtype=bool)
                for o in options:
                    oc = o(b)
                    found |= (x.true & oc.true) | (x.false & oc.false)
            else:
                known = x.known
                found = np.zeros(b.n, dtype=bool)
                for o in options:
                    found |= (x.value == o(b).value).astype(bool)
            if negated:
                found = ~found
            return Tri(known & found, known & ~found)

        return run

    def _Compare(self, node):
        left, right, op = self.compile(node.left), self.compile(node.right), node.op
        k = len(self.comparisons)
        self.comparisons.append(node)
        kind = node.left.ty.kind

        def run(b):
            l, r = left(b), right(b)
            if isinstance(l, Tri):
                eq_t = (l.true & r.true) | (l.false & r.false)
                eq_f = (l.true & r.false) | (l.false & r.true)
                return Tri(eq_t, eq_f) if op == "==" else Tri(eq_f, eq_t)
            if isinstance(l, Obj):
                known = l.known & r.known
                eq = (l.value == r.value).astype(bool) & known
                return Tri(eq, known & ~eq) if op == "==" else Tri(known & ~eq, eq)
            with np.errstate(invalid="ignore"):
                known = ~(np.isnan(l.value) | np.isnan(r.value))
                truth = _OPS[op](l.value, r.value) & known
                false = known & ~truth
                if l.mag is None and r.mag is None:
                    return Tri(truth, false)
                close = known & (np.abs(l.value - r.value) <= TIE_TOLERANCE * (_mag(l) + _mag(r)))
            if close.any():
                truth = truth.copy()
                false = false.copy()
                for j in np.flatnonzero(close):
                    value = b.exact(k, int(j))
                    truth[j] = value is True
                    false[j] = value is False
            return Tri(truth, false)

        return run

    def _ItemField(self, node):
        raise NotColumnar("item field")

    def _Quantifier(self, node):
        raise NotColumnar("quantifier")


@dataclass
class ColumnarModule:
    """The columnar program of one module: scope, and per columnar rule its applies_if and when."""

    scope: Optional[Callable[[Batch], Tri]]
    rules: Tuple[Tuple[int, Optional[Callable], Callable], ...]
    comparisons: Tuple[ast.Compare, ...]
    scalar_rules: frozenset  # indices left to per-record evaluation

    def run(self, batch: Batch):
        """(scope true, scope false, hits, undetermined, not applicable), masks; rule masks are rows."""
        n = batch.n
        if self.scope is not None:
            s = self.scope(batch)
            s_true, s_false = s.true, s.false
        else:
            s_true, s_false = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        rows = len(self.rules)
        hit = np.zeros((rows, n), dtype=bool)
        und = np.zeros((rows, n), dtype=bool)
        na = np.zeros((rows, n), dtype=bool)
        for row, (index, applies, when) in enumerate(self.rules):
            w = when(batch)
            if applies is None:
                hit[row] = w.true
                und[row] = ~(w.true | w.false)
            else:
                a = applies(batch)
                na[row] = a.false
                hit[row] = a.true & w.true
                und[row] = ~a.false & ~(a.true & w.true) & ~w.false
        return s_true, s_false, hit, und, na


def compile_module(ir: RuleSetIR, cm: CompiledModule) -> ColumnarModule:
    comp = ModuleCompiler(ir, cm)
    scope = None
    if cm.module.scope is not None:
        scope = comp.compile(cm.module.scope)  # may raise NotColumnar: the module is then per record
    rules = []
    scalar = set()
    for index, compiled in enumerate(cm.rules):
        rule = compiled.rule
        if rule.for_each is not None:
            scalar.add(index)
            continue
        try:
            when = comp.compile(rule.when)
            applies = comp.compile(rule.applies_if) if rule.applies_if is not None else None
        except NotColumnar:
            scalar.add(index)
            continue
        rules.append((index, applies, when))
    return ColumnarModule(scope, tuple(rules), tuple(comp.comparisons), frozenset(scalar))
