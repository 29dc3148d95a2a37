"""The reference semantics: a three-valued, exact interpreter over the IR that explains itself.

This is the definition of what a rule means. Every backend must agree with it (property tests check
that), and it is also the shared explanation code: once a backend has decided that a rule matched or
is undetermined, this interpreter re-derives the evidence (which facts, which values, which
comparisons decided it) and the list of missing facts. It is deliberately simple rather than fast;
the fast path lives in the native backend's generated code.

Semantics: numbers are exact rationals (recorded decimals are read as written); a fact not recorded
is UNKNOWN; ``and``/``or``/``not`` follow Kleene's strong three-valued logic; division by zero is
UNKNOWN; quantifiers over a list are the Kleene ``or``/``and`` of their items.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Tuple, Union, cast

from .ir import CompiledModule, CompiledRule, RuleSetIR
from .model import Presumption, Rule, RuleException
from .expr import ast
from .expr.language import ARITHMETIC, COMPARISONS, FUNCTIONS
from .expr.types import NUMBER
from .records import Record, exact


#: presumptions used in deciding: (the fact or item field read, its presumption, the exception that read it)
Presumed = Tuple[Tuple[str, Presumption, RuleException], ...]


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> Tuple[Callable[[], "_Unknown"], Tuple[()]]:
        return (_unknown, ())


def _unknown() -> "_Unknown":
    return UNKNOWN


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Atom:
    """One elementary test as evaluated: its text, the values it read and its truth value."""

    expr: str
    result: Optional[bool]  # None: unknown
    reads: Tuple[Tuple[str, Any], ...]
    item: Optional[str] = None


class Value(NamedTuple):
    """An expression's value with what decided it. (A named tuple: the interpreter makes one per
    node it evaluates, and explanations are what it is for.)"""

    value: Any
    needs: FrozenSet[str] = frozenset()
    atoms: Tuple[Atom, ...] = ()
    reads: Tuple[Tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ItemBinding:
    list_name: str
    key: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class RuleVerdict:
    """The outcome of one rule on one record, with its explanation."""

    outcome: str  # matched | not_matched | undetermined | not_applicable
    atoms: Tuple[Atom, ...] = ()
    reads: Tuple[Tuple[str, Any], ...] = ()
    needs: FrozenSet[str] = frozenset()
    matched_items: Tuple[Tuple[str, Tuple[Atom, ...], Tuple[Tuple[str, Any], ...], Presumed], ...] = ()
    undetermined_items: Tuple[Tuple[str, FrozenSet[str]], ...] = ()
    #: the presumptions an exception was ruled out (or held) by
    presumed: Presumed = ()


Reads = Tuple[Tuple[str, Any], ...]
#: an expression node's evaluation method: (interpreter, node, item bindings) -> value
_Method = Callable[["Interpreter", Any, Mapping[str, "ItemBinding"]], "Value"]


def _merge_reads(*groups: Reads) -> Reads:
    """The reads of several values in order, each name once with its first value. (Every value's
    reads already hold each name once, so one group, or two with one empty, is its own merge.)"""
    if len(groups) == 2:
        first, second = groups
        if not second:
            return first
        if not first:
            return second
    elif len(groups) == 1:
        return groups[0]
    seen: Dict[str, Any] = {}
    for group in groups:
        for name, value in group:
            seen.setdefault(name, value)
    return tuple(seen.items())


_new = object.__new__


def _atom_of(expr: str, result: Optional[bool], reads: Tuple[Tuple[str, Any], ...], item: Optional[str] = None) -> Atom:
    """``Atom(expr, result, reads, item)`` without the frozen dataclass's per-field checks (the
    interpreter makes one per elementary test it evaluates)."""
    atom = _new(Atom)
    atom.__dict__.update(expr=expr, result=result, reads=reads, item=item)
    return atom


def _truth(v: Any) -> Optional[bool]:
    return None if v is UNKNOWN else v


class Interpreter:
    """Evaluates expressions of one rule set on one record. Not shared between threads."""

    def __init__(self, ir: RuleSetIR, record: Record, day: Optional[date] = None):
        self.ir = ir
        self.record = record
        self.day = day or record.inspection_date
        self._derived: Dict[str, Value] = {}
        self._facts: Dict[str, Value] = {}  # recorded facts as read (values are immutable)
        self.vocabulary = ir.vocabularies.get(record.industry, ir.facts)
        #: while an exception is evaluated (presumptions on): the presumptions it has used so far, and
        #: those it may use (by fact name, or ``list.field`` for an item field)
        self._presuming: Optional[Tuple[List[Tuple[str, Presumption]], Mapping[str, Presumption]]] = None

    # ------------------------------------------------------------------ facts
    def fact(self, name: str) -> Value:
        if name in self.ir.derived:
            return self.derived(name)
        known = self._facts.get(name)
        if known is not None:
            return known
        raw = self.record.values.get(name)
        if raw is None:
            read = Value(UNKNOWN, frozenset({name}), (), ((name, None),))
        else:
            spec = self.vocabulary[name]
            read = Value(exact(raw) if spec.type.kind == NUMBER else raw, _NOTHING, (), ((name, raw),))
        self._facts[name] = read
        return read

    def derived(self, name: str) -> Value:
        cached = self._derived.get(name)
        if cached is None:
            d = self.ir.derived[name]
            presuming, self._presuming = self._presuming, None  # a presumption is an exception's own reading
            try:
                inner = self.eval(d.expr, {})
            finally:
                self._presuming = presuming
            shown = _display(inner.value)
            cached = Value(inner.value, inner.needs, inner.atoms, _merge_reads(inner.reads, ((name, shown),)))
            self._derived[name] = cached
        return cached

    # ------------------------------------------------------------------ expressions
    def eval(self, node: ast.Node, items: Mapping[str, ItemBinding]) -> Value:
        method: _Method = _METHODS[type(node)]
        return method(self, node, items)

    def _Number(self, node: ast.Number, items: Mapping[str, ItemBinding]) -> Value:
        return Value(node.value)

    def _String(self, node: ast.String, items: Mapping[str, ItemBinding]) -> Value:
        return Value(node.value)

    def _Boolean(self, node: ast.Boolean, items: Mapping[str, ItemBinding]) -> Value:
        return Value(node.value)

    def _DateLiteral(self, node: ast.DateLiteral, items: Mapping[str, ItemBinding]) -> Value:
        return Value(node.value)

    def _InspectionDate(self, node: ast.InspectionDate, items: Mapping[str, ItemBinding]) -> Value:
        day = self.record.inspection_date
        return Value(day, reads=(("inspection_date", day.isoformat()),))

    def _presumed(self, label: str, key: str) -> Optional[Value]:
        """An unrecorded fact (``key``: its name, or ``list.field``) read by an exception, as its
        presumption has it; None where it has none, or presumptions are off."""
        if self._presuming is None:
            return None
        used, presumptions = self._presuming
        presumption = presumptions.get(key)
        if presumption is None:
            return None
        used.append((label, presumption))
        value = presumption.value
        return Value(value, _NOTHING, (), ((label, value),))

    def _Name(self, node: ast.Name, items: Mapping[str, ItemBinding]) -> Value:
        v = self.fact(node.name)
        if v.value is UNKNOWN and self._presuming is not None:
            v = self._presumed(node.name, node.name) or v
        if ast.type_of(node).kind == "boolean":
            atom = _atom_of(node.name, _truth(v.value), v.reads)
            return Value(v.value, v.needs, (atom,), v.reads)
        return v

    def _ItemField(self, node: ast.ItemField, items: Mapping[str, ItemBinding]) -> Value:
        binding = items[node.var]
        label = f"{binding.list_name}[{binding.key}].{node.field_name}"
        raw = binding.values.get(node.field_name)
        if raw is None and self._presuming is not None:
            presumed = self._presumed(label, f"{binding.list_name}.{node.field_name}")
            if presumed is not None:
                raw = presumed.value
        if raw is None:
            return Value(UNKNOWN, frozenset({label}), (), ((label, None),))
        kind = ast.type_of(node).kind
        value = exact(raw) if kind == NUMBER else raw
        v = Value(value, frozenset(), (), ((label, raw),))
        if kind == "boolean":
            return Value(value, _NOTHING, (_atom_of(label, raw, v.reads, binding.key),), v.reads)
        return v

    def _Negate(self, node: ast.Negate, items: Mapping[str, ItemBinding]) -> Value:
        v = self.eval(node.operand, items)
        return v if v.value is UNKNOWN else Value(-v.value, v.needs, v.atoms, v.reads)

    def _Not(self, node: ast.Not, items: Mapping[str, ItemBinding]) -> Value:
        v = self.eval(node.operand, items)
        return Value(UNKNOWN if v.value is UNKNOWN else (not v.value), v.needs, v.atoms, v.reads)

    def _Arith(self, node: ast.Arith, items: Mapping[str, ItemBinding]) -> Value:
        left, right = self.eval(node.left, items), self.eval(node.right, items)
        reads = _merge_reads(left.reads, right.reads)
        if left.value is UNKNOWN or right.value is UNKNOWN:
            return Value(UNKNOWN, left.needs | right.needs, (), reads)
        operator = ARITHMETIC[node.op]
        value = operator.exact(left.value, right.value)
        if value is None:
            return Value(UNKNOWN, frozenset({f"{ast.to_source(node.right)} ({operator.undefined})"}), (), reads)
        return Value(value, reads=reads)

    def _atom(self, node: ast.Node, result: Any, needs: FrozenSet[str], reads: Reads, items: Mapping[str, ItemBinding]) -> Value:
        item = None
        if items:
            item = next(iter(items.values())).key if len(items) == 1 else ",".join(b.key for b in items.values())
        atom = _atom_of(ast.source_of(node), _truth(result), reads, item)
        return Value(result, needs if result is UNKNOWN else _NOTHING, (atom,), reads)

    def _Compare(self, node: ast.Compare, items: Mapping[str, ItemBinding]) -> Value:
        left, right = self.eval(node.left, items), self.eval(node.right, items)
        reads = _merge_reads(left.reads, right.reads)
        if left.value is UNKNOWN or right.value is UNKNOWN:
            return self._atom(node, UNKNOWN, left.needs | right.needs, reads, items)
        result = COMPARISONS[node.op].holds(left.value, right.value)
        return self._atom(node, result, frozenset(), reads, items)

    def _Member(self, node: ast.Member, items: Mapping[str, ItemBinding]) -> Value:
        operand = self.eval(node.operand, items)
        if operand.value is UNKNOWN:
            return self._atom(node, UNKNOWN, operand.needs, operand.reads, items)
        options = [self.eval(o, items).value for o in node.options]
        found = operand.value in options
        return self._atom(node, (not found) if node.negated else found, frozenset(), operand.reads, items)

    def _And(self, node: ast.And, items: Mapping[str, ItemBinding]) -> Value:
        return self._kleene(node, items, decisive=False)

    def _Or(self, node: ast.Or, items: Mapping[str, ItemBinding]) -> Value:
        return self._kleene(node, items, decisive=True)

    def _kleene(self, node: Union[ast.And, ast.Or], items: Mapping[str, ItemBinding], decisive: bool) -> Value:
        """Kleene and (decisive=False) / or (decisive=True): one decisive operand settles it."""
        results = [self.eval(o, items) for o in node.operands]
        reads = _merge_reads(*(r.reads for r in results))
        settling = [r for r in results if r.value is decisive]
        if settling:
            return Value(decisive, frozenset(), tuple(a for r in settling for a in r.atoms), reads)
        unknown = [r for r in results if r.value is UNKNOWN]
        if unknown:
            needs = frozenset().union(*(r.needs for r in unknown))
            return Value(UNKNOWN, needs, tuple(a for r in unknown for a in r.atoms), reads)
        return Value(not decisive, frozenset(), tuple(a for r in results for a in r.atoms), reads)

    def _Call(self, node: ast.Call, items: Mapping[str, ItemBinding]) -> Value:
        func = node.func
        if func == "known":
            arg = node.args[0]
            if isinstance(arg, ast.ItemField):
                binding = items[arg.var]
                present = binding.values.get(arg.field_name) is not None
                label = f"{binding.list_name}[{binding.key}].{arg.field_name}"
                shown = binding.values.get(arg.field_name)
            else:
                name = cast(ast.Name, arg).name  # known() takes a fact name or an item field (type checker)
                v = self.fact(name)
                present = v.value is not UNKNOWN
                label, shown = name, (None if not present else _display(v.value))
            return self._atom(node, present, frozenset(), ((label, shown),), items)
        args = [self.eval(a, items) for a in node.args]
        reads = _merge_reads(*(a.reads for a in args))
        if func == "if":
            cond, a, b = args
            if cond.value is UNKNOWN:
                if a.value is not UNKNOWN and a.value == b.value:
                    return Value(a.value, frozenset(), cond.atoms, reads)
                return Value(UNKNOWN, cond.needs | a.needs | b.needs, cond.atoms, reads)
            chosen = a if cond.value else b
            return Value(chosen.value, chosen.needs, cond.atoms + chosen.atoms, reads)
        if any(a.value is UNKNOWN for a in args):
            return Value(UNKNOWN, frozenset().union(*(a.needs for a in args)), (), reads)
        return Value(FUNCTIONS[func].exact(*(a.value for a in args)), reads=reads)

    def _Quantifier(self, node: ast.Quantifier, items: Mapping[str, ItemBinding]) -> Value:
        lst = self.fact(node.list_name)
        if lst.value is UNKNOWN:
            if node.kind == "count" and node.condition is None:
                return Value(UNKNOWN, lst.needs, (), lst.reads)
            atom = _atom_of(ast.source_of(node), None, lst.reads)
            return Value(UNKNOWN, lst.needs, (atom,), lst.reads)
        entries = lst.value
        if node.condition is None or node.var is None:  # count(list): the parser sets both or neither
            return Value(Fraction(len(entries)), reads=((node.list_name, f"{len(entries)} items"),))
        spec = self.vocabulary[node.list_name]
        results = []
        var = node.var
        for entry in entries:
            binding = ItemBinding(node.list_name, str(entry.get(spec.key)), entry)
            results.append(self.eval(node.condition, {**items, var: binding}))
        reads = _merge_reads(*(r.reads for r in results))
        if node.kind == "count":
            unknown = [r for r in results if r.value is UNKNOWN]
            if unknown:
                return Value(UNKNOWN, frozenset().union(*(r.needs for r in unknown)), (), reads)
            n = sum(1 for r in results if r.value is True)
            atoms = tuple(a for r in results if r.value is True for a in r.atoms)
            return Value(Fraction(n), frozenset(), atoms, reads)
        decisive = node.kind == "any"
        settling = [r for r in results if r.value is decisive]
        if settling:
            return Value(decisive, frozenset(), tuple(a for r in settling for a in r.atoms), reads)
        unknown = [r for r in results if r.value is UNKNOWN]
        if unknown:
            return Value(
                UNKNOWN, frozenset().union(*(r.needs for r in unknown)), tuple(a for r in unknown for a in r.atoms), reads
            )
        atom = _atom_of(ast.source_of(node), not decisive, ((node.list_name, f"{len(entries)} items"),))
        return Value(not decisive, _NOTHING, (atom,), reads)

    # ------------------------------------------------------------------ modules and rules
    def scope(self, module: CompiledModule) -> Value:
        if module.module.scope is None:
            return Value(True)
        return self.eval(module.module.scope, {})

    def rule(self, compiled: CompiledRule) -> RuleVerdict:
        """Decide one rule (the module's scope is the caller's business)."""
        rule = compiled.rule
        if rule.for_each is None:
            return self._decide(rule, {})
        lst = self.fact(rule.for_each.list_name)
        if lst.value is UNKNOWN:
            if rule.applies_if is not None and not _reads_var(rule.applies_if, rule.for_each.var):
                applies = self.eval(rule.applies_if, {})
                if applies.value is False:
                    return RuleVerdict("not_applicable", applies.atoms, applies.reads)
                if applies.value is UNKNOWN:
                    return RuleVerdict(
                        "undetermined", applies.atoms, _merge_reads(applies.reads, lst.reads), applies.needs | lst.needs
                    )
            return RuleVerdict("undetermined", (), lst.reads, lst.needs)
        spec = self.vocabulary[rule.for_each.list_name]
        matched, undetermined, applicable = [], [], 0
        for entry in lst.value:
            binding = ItemBinding(rule.for_each.list_name, str(entry.get(spec.key)), entry)
            verdict = self._decide(rule, {rule.for_each.var: binding})
            if verdict.outcome != "not_applicable":
                applicable += 1
            if verdict.outcome == "matched":
                matched.append((binding.key, verdict.atoms, verdict.reads, verdict.presumed))
            elif verdict.outcome == "undetermined":
                undetermined.append((binding.key, verdict.needs))
        needs = frozenset().union(*(n for _, n in undetermined)) if undetermined else frozenset()
        if matched:
            return RuleVerdict("matched", (), (), needs, tuple(matched), tuple(undetermined))
        if undetermined:
            return RuleVerdict("undetermined", (), (), needs, (), tuple(undetermined))
        if applicable == 0:
            return RuleVerdict("not_applicable", (), lst.reads)
        return RuleVerdict("not_matched", (), lst.reads)

    def _decide(self, rule: Rule, items: Mapping[str, ItemBinding]) -> RuleVerdict:
        if rule.applies_if is not None:
            applies = self.eval(rule.applies_if, items)
            if applies.value is False:
                return RuleVerdict("not_applicable", applies.atoms, applies.reads)
            if applies.value is UNKNOWN:
                when, presumed = self._condition(rule, items)
                if when.value is False:
                    # Whether or not it applies, the hazard is absent.
                    return RuleVerdict("not_matched", when.atoms, _merge_reads(applies.reads, when.reads), presumed=presumed)
                return RuleVerdict(
                    "undetermined",
                    applies.atoms + when.atoms,
                    _merge_reads(applies.reads, when.reads),
                    applies.needs | when.needs,
                )
            pre_atoms, pre_reads = applies.atoms, applies.reads
        else:
            pre_atoms, pre_reads = (), ()
        when, presumed = self._condition(rule, items)
        reads = _merge_reads(pre_reads, when.reads)
        if when.value is True:
            return RuleVerdict("matched", pre_atoms + when.atoms, reads, presumed=presumed)
        if when.value is False:
            return RuleVerdict("not_matched", when.atoms, reads, presumed=presumed)
        return RuleVerdict("undetermined", when.atoms, reads, when.needs)

    def _condition(self, rule: Rule, items: Mapping[str, ItemBinding]) -> Tuple[Value, Presumed]:
        """``when`` and none of the exceptions, in Kleene's logic, with the presumptions that decided it.

        A matched rule's evidence is its ``when``; an excepted one's is the exception that held. The
        recorded values the exceptions read join the facts; presumed ones are listed as presumptions.
        """
        when = self.eval(rule.when, items)
        if not rule.unless or when.value is False:
            return when, ()
        held = [self._exception(exception, items) for exception in rule.unless]
        holding = [(v, p) for v, p in held if v.value is True]
        if holding:
            reads = _merge_reads(*(v.reads for v, _ in holding))
            return Value(False, _NOTHING, tuple(a for v, _ in holding for a in v.atoms), reads), _flat(p for _, p in holding)
        reads = _merge_reads(when.reads, *(v.reads for v, _ in held))  # presumed values are not among them
        unknown = [v for v, _ in held if v.value is UNKNOWN]
        if unknown:
            needs = frozenset().union(*(v.needs for v in unknown)) | (when.needs if when.value is UNKNOWN else _NOTHING)
            return Value(UNKNOWN, needs, when.atoms + tuple(a for v in unknown for a in v.atoms), reads), ()
        return Value(when.value, when.needs, when.atoms, reads), _flat(p for _, p in held)

    @contextmanager
    def presuming(self, exception: RuleException) -> Iterator[List[Tuple[str, Presumption]]]:
        """Evaluate as ``exception`` does: unrecorded facts with a presumption read as presumed (when
        the rule set judges with presumptions); yields the list of presumptions read."""
        used: List[Tuple[str, Presumption]] = []
        active = self.ir.presumptions and exception.presumed
        saved, self._presuming = self._presuming, ((used, dict(exception.presumed)) if active else None)
        try:
            yield used
        finally:
            self._presuming = saved

    def _exception(self, exception: RuleException, items: Mapping[str, ItemBinding]) -> Tuple[Value, Presumed]:
        """Whether an exception holds, reading unrecorded facts with a presumption as presumed (when the
        rule set judges with presumptions), and the presumptions that decided it: none where the
        recorded facts alone decide it."""
        with self.presuming(exception) as used:
            value = self.eval(exception.when, items)
        if not used:
            return value, ()
        if self.eval(exception.when, items).value is not UNKNOWN:
            return value, ()  # the recorded facts decide it: the presumptions read did not matter
        # the values read are shown as presumptions, not as recorded facts
        presumed = dict(used)
        reads = tuple(r for r in value.reads if r[0] not in presumed)
        return Value(value.value, value.needs, value.atoms, reads), tuple((f, p, exception) for f, p in presumed.items())


def _flat(groups: Iterable[Presumed]) -> Presumed:
    """The presumptions of several exceptions, each fact once (with the first exception that read it)."""
    seen: Dict[str, Tuple[str, Presumption, RuleException]] = {}
    for group in groups:
        for entry in group:
            seen.setdefault(entry[0], entry)
    return tuple(seen.values())


#: each expression node class's evaluation method (one table lookup per node, not a name lookup)
_METHODS = {
    cls: getattr(Interpreter, "_" + cls.__name__)
    for cls in vars(ast).values()
    if isinstance(cls, type) and issubclass(cls, ast.Node) and hasattr(Interpreter, "_" + cls.__name__)
}
_NOTHING: FrozenSet[str] = frozenset()


def _reads_var(node: ast.Node, var: str) -> bool:
    return any(isinstance(n, ast.ItemField) and n.var == var for n in ast.walk(node))


def _display(value: Any) -> Any:
    """A JSON-friendly rendering of an interpreter value (exact numbers as int, decimal or float)."""
    if value is UNKNOWN:
        return None
    if isinstance(value, Fraction):
        return number_json(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return f"{len(value)} items"
    return value


def number_json(value: Fraction) -> Union[int, float]:
    """An int when whole, else the nearest float: a recorded decimal shows as written, a repeating
    fraction (a ratio) rounded. Decisions were made on the exact value."""
    if value.denominator == 1:
        return int(value.numerator)
    return float(value)
