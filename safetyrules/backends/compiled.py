"""The compiled evaluator: the IR lowered to a flat program that C code decides.

This is the native backend's fast lane. For the modules that judge a record (one industry, the
versions in force on one day), the typed IR is lowered once into a table of fact slots and an array
of nodes -- a tree stored as indices, children before parents -- which ``safetyrules._evaluator``
(C, built with the package) evaluates with three-valued logic and exact tie-breaking. Lowering
emits opcodes and validated numbers only: no rule or record text becomes code.

A module that uses what the lowered form does not have -- a rule that reads a text fact, membership
in options that are not literals, item variables nested more than eight deep -- is not lowered, and
records judged by it take the general path (the generated Python of :mod:`.native` and the
reference interpreter), which is also where every record goes that the C code declines: an unknown
fact, a wrong type, a value outside its enum or bounds, a number beyond float precision, an invalid
list of items. Property tests check that both paths give identical reports.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from functools import cached_property
from datetime import date
from fractions import Fraction
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple, Union, cast

from ..ir import CompiledModule, RuleSetIR
from ..evaluation import OutcomeLayout, PlainDecision, outcome_positions, select_modules
from ..expr import ast
from ..expr.language import ARITHMETIC, FUNCTIONS
from ..expr.types import BOOLEAN, DATE, ENUM, LIST, NUMBER, STRING
from ..model import FactSpec, Rule
from ..records import FAST_NUMBER_LIMIT, PLAIN_RECORD_KEYS, SITE_KEYS, Record, RecordParser, parse_date
from ..report import MAJOR_HAZARD_FOUND, NO_APPLICABLE_CRITERIA, NO_MAJOR_HAZARD_FOUND, UNDETERMINED, Notice
from ..ir.lowered import (
    ABI_VERSION,
    B_AND,
    B_CMP_BOOL,
    B_CMP_CODE,
    B_CMP_NUM,
    B_DERIVED,
    B_FACT,
    B_IF,
    B_KNOWN_DERIVED,
    B_KNOWN_FACT,
    B_KNOWN_ITEM,
    B_LIT,
    B_MEMBER,
    B_NOT,
    B_OR,
    COMPARE,
    C_DERIVED,
    C_FACT,
    C_IF,
    C_LIT,
    C_TODAY,
    I_BOOL,
    I_CODE,
    I_NUM,
    K_BOOL,
    K_DATE,
    K_ENUM,
    K_IGNORE,
    K_LIST,
    K_NUM,
    K_REJECT,
    MAX_VARS,
    Node,
    N_DERIVED,
    N_FACT,
    N_IF,
    N_LIT,
    N_NEG,
    OPCODES,
    Q_ALL,
    Q_ANY,
    Q_COUNT,
    SF_HI,
    SF_INTEGER,
    SF_LO,
)
from .native import TIE_TOLERANCE


# --------------------------------------------------------------------------- the C evaluator's tables and interface

#: how the evaluator checks and reads one value (a fact, or a field of a list's items):
#: (kind, flags, lo, hi, enum codes or None)
FieldSlot = Tuple[int, int, float, float, Optional[Dict[str, int]]]
#: a list's fields: (field names, each field's FieldSlot, index of the key field)
ListFields = Tuple[Tuple[str, ...], List[FieldSlot], int]
#: one slot of a program: a FieldSlot, or a list's (K_LIST, 0, 0.0, 0.0, None, ListFields)
SlotRow = Union[FieldSlot, Tuple[int, int, float, float, None, ListFields]]
#: one module of a program: (scope node or -1, first rule, rule count)
ModuleRow = Tuple[int, int, int]
#: one rule of a program: (applies_if node or -1, when node, list slot or -1, item variable,
#: applies_if decidable without an item)
RuleRow = Tuple[int, int, int, int, int]
#: an item variable in scope: (variable index, list slot, list declaration)
Binding = Tuple[int, int, FactSpec]
#: item positions per rule over a recorded list: {rule: (matched item positions, undetermined ones)}
ItemPositions = Dict[int, Tuple[Tuple[int, ...], Tuple[int, ...]]]


class _Program(Protocol):
    """``safetyrules._evaluator.Program``: one lowered program (facts and attributes are checked in C)."""

    def run(self, facts: object, attributes: object, today: int, /) -> Optional[bytes]: ...

    def items(self, facts: object, attributes: object, today: int, rules: Tuple[int, ...], /) -> Optional[ItemPositions]: ...


class _Lane(Protocol):
    """``safetyrules._evaluator.Lane``: decides a plain record in one call, or declines (None)."""

    def run(self, record: object, as_of: Optional[date], jurisdiction: Optional[str], /) -> Optional[PlainDecision]: ...


#: (industry, region, inspection date as given, as_of, jurisdiction): the raw values are the record's, unchecked
PlanKey = Tuple[object, object, object, Optional[date], Optional[str]]
#: what the C lane reads for a plan key: (program, today, day, as_of, notices, engine, layout)
Plan = Tuple[_Program, int, date, date, Tuple[Notice, ...], Dict[str, Any], OutcomeLayout]


class _Evaluator(Protocol):
    """The ``safetyrules._evaluator`` extension module, as this file uses it."""

    ABI_VERSION: int

    def Program(  # the extension's class
        self,
        slotmap: Dict[str, int],
        slots: List[SlotRow],
        nodes: List[Node],
        kids: List[int],
        derived_roots: List[int],
        modules: List[ModuleRow],
        rules: List[RuleRow],
        tie_tolerance: float,
        /,
    ) -> _Program: ...

    def Lane(  # the extension's class
        self,
        plans: Dict[PlanKey, Optional[Plan]],
        owner: CompiledLane,
        backend: str,
        record_keys: Tuple[str, ...],
        site_keys: Tuple[str, ...],
        statuses: Tuple[str, str, str, str],
        /,
    ) -> _Lane: ...


def _load_evaluator() -> Tuple[Optional[_Evaluator], Optional[str]]:
    try:
        _evaluator = importlib.import_module("safetyrules._evaluator")
    except ImportError as exc:
        return None, f"the compiled evaluator is not built ({exc}); install with a C compiler"
    if getattr(_evaluator, "ABI_VERSION", None) != ABI_VERSION:
        return None, (
            f"the compiled evaluator is stale (ABI {getattr(_evaluator, 'ABI_VERSION', None)}, expected "
            f"{ABI_VERSION}); rebuild it with pip install -e ."
        )
    return cast(_Evaluator, _evaluator), None  # a C module: its interface is the protocol above


_evaluator, UNAVAILABLE_REASON = _load_evaluator()
#: whether the C evaluator is importable and current
AVAILABLE = _evaluator is not None

_INT64 = 2**63 - 1

#: module scope bytes as run() returns them
SCOPES = (False, True, None)


class NotLowerable(Exception):
    """The module uses something the lowered form does not have; its records take the general path."""


def _value_kind(kind: Optional[str]) -> int:
    """0 number, 1 truth value, 2 code (enum value or date)."""
    if kind == NUMBER:
        return 0
    if kind == BOOLEAN:
        return 1
    if kind in (ENUM, DATE):
        return 2
    raise NotLowerable(f"values of type {kind}")


class _Lowering:
    """Lowers the modules that judge one industry's records into one program's tables."""

    def __init__(self, ir: RuleSetIR, industry: str):
        self.ir = ir
        self.vocabulary: Mapping[str, FactSpec] = ir.vocabularies[industry]
        self.slotmap = {name: i for i, name in enumerate(self.vocabulary)}
        self.codes: Dict[str, int] = {}
        self.nodes: List[Node] = []
        self.kids: List[int] = []
        self.derived_index: Dict[str, int] = {}
        self.derived_roots: List[int] = []
        #: item variables in scope: name -> (variable index, list slot, list declaration)
        self.bound: Dict[str, Binding] = {}

    # ----------------------------------------------------------------- tables
    def code_of(self, text: str) -> int:
        return self.codes.setdefault(text, len(self.codes))

    def emit(
        self, op: int, a: int = 0, b: int = 0, c: int = 0, d: float = 0.0, num: int = 0, den: int = 0, exact: int = 0
    ) -> int:
        self.nodes.append((op, a, b, c, d, num, den, exact))
        return len(self.nodes) - 1

    def slots(self) -> List[SlotRow]:
        out: List[SlotRow] = []
        for spec in self.vocabulary.values():
            if spec.type.kind == LIST:
                fields = tuple(f.name for f in spec.fields)
                if spec.key not in fields:
                    out.append((K_REJECT, 0, 0.0, 0.0, None))
                    continue
                specs = [self.slot(f) for f in spec.fields]
                out.append((K_LIST, 0, 0.0, 0.0, None, (fields, specs, fields.index(spec.key))))
            else:
                out.append(self.slot(spec))
        return out

    def slot(self, spec: FactSpec) -> FieldSlot:
        """How the evaluator checks and reads a value of this declaration (a fact or an item field)."""
        kind = spec.type.kind
        if kind == NUMBER:
            flags, lo, hi = (SF_INTEGER if spec.type.integer else 0), 0.0, 0.0
            if spec.minimum is not None:
                flags, lo = flags | SF_LO, _exact_float(spec.minimum)
            if spec.maximum is not None:
                flags, hi = flags | SF_HI, _exact_float(spec.maximum)
            return (K_NUM, flags, lo, hi, None)
        if kind == BOOLEAN:
            return (K_BOOL, 0, 0.0, 0.0, None)
        if kind == ENUM:
            return (K_ENUM, 0, 0.0, 0.0, {v: self.code_of(v) for v, _ in spec.values})
        if kind == DATE:
            return (K_DATE, 0, 0.0, 0.0, None)
        if kind == STRING:  # text is only type-checked: a rule that reads text is not lowered
            return (K_IGNORE, 0, 0.0, 0.0, None)
        return (K_REJECT, 0, 0.0, 0.0, None)

    # ----------------------------------------------------------------- expressions
    def fact_slot(self, name: str, kind: Optional[str]) -> int:
        if kind in (STRING, LIST):
            raise NotLowerable(f"fact {name!r} of type {kind}")
        slot = self.slotmap.get(name)
        if slot is None:
            raise NotLowerable(f"fact {name!r} is not in this industry's vocabulary")
        return slot

    def derived(self, name: str) -> int:
        index = self.derived_index.get(name)
        if index is None:
            expr = self.ir.derived[name].expr
            root = self.lower(expr)
            index = len(self.derived_roots)
            self.derived_roots.append(root)
            self.derived_index[name] = index
        return index

    def lower(self, node: ast.Node) -> int:
        kind = node.ty.kind if node.ty is not None else None
        if isinstance(node, ast.Number):
            return self.number(node.value)
        if isinstance(node, ast.String):
            return self.emit(C_LIT, num=self.code_of(node.value))
        if isinstance(node, ast.Boolean):
            return self.emit(B_LIT, a=1 if node.value else 0)
        if isinstance(node, ast.DateLiteral):
            return self.emit(C_LIT, num=node.value.toordinal())
        if isinstance(node, ast.InspectionDate):
            return self.emit(C_TODAY)
        if isinstance(node, ast.Name):
            if node.name in self.ir.derived:
                index = self.derived(node.name)
                return self.emit((N_DERIVED, B_DERIVED, C_DERIVED)[_value_kind(kind)], a=index)
            slot = self.fact_slot(node.name, kind)
            return self.emit((N_FACT, B_FACT, C_FACT)[_value_kind(kind)], a=slot)
        if isinstance(node, ast.ItemField):
            var, slot, field = self.item_field(node)
            return self.emit((I_NUM, I_BOOL, I_CODE)[_value_kind(kind)], a=var, b=slot, c=field)
        if isinstance(node, ast.Quantifier):
            return self.quantifier(node)
        if isinstance(node, ast.Negate):
            return self.emit(N_NEG, a=self.lower(node.operand))
        if isinstance(node, ast.Not):
            return self.emit(B_NOT, a=self.lower(node.operand))
        if isinstance(node, (ast.And, ast.Or)):
            # cheapest first: a decisive operand (false for and, true for or) skips the costly ones;
            # Kleene logic gives the same value in any order
            operands = [self.lower(o) for o in sorted(node.operands, key=lambda o: _cost(o, self.ir.derived))]
            start = len(self.kids)
            self.kids.extend(operands)
            return self.emit(B_AND if isinstance(node, ast.And) else B_OR, a=start, b=len(operands))
        if isinstance(node, ast.Arith):
            if ast.type_of(node.left).kind != NUMBER or ast.type_of(node.right).kind != NUMBER:
                raise NotLowerable(f"arithmetic on {ast.type_of(node.left).kind}")
            left, right = self.lower(node.left), self.lower(node.right)
            return self.emit(OPCODES[ARITHMETIC[node.op].opcode], a=left, b=right)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Member):
            return self.member(node)
        if isinstance(node, ast.Call):
            return self.call(node, kind)
        raise NotLowerable(type(node).__name__)

    def rule(self, rule: Rule) -> RuleRow:
        """(applies_if, when, list slot, item variable, applies_if decidable without an item)."""
        if rule.for_each is None:
            applies = self.lower(rule.applies_if) if rule.applies_if is not None else -1
            return (applies, self.lower(rule.decides), -1, 0, 0)
        var = rule.for_each.var
        # applies_if that reads no item is decided first when the list is not recorded
        global_applies = int(
            rule.applies_if is not None
            and not any(isinstance(n, ast.ItemField) and n.var == var for n in ast.walk(rule.applies_if))
        )
        index, slot, outer = self.bind(var, rule.for_each.list_name)
        try:
            applies = self.lower(rule.applies_if) if rule.applies_if is not None else -1
            when = self.lower(rule.decides)
        finally:
            self.unbind(var, outer)
        return (applies, when, slot, index, global_applies)

    # ----------------------------------------------------------------- lists of items
    def list_slot(self, name: str) -> Tuple[int, FactSpec]:
        spec = self.vocabulary.get(name)
        if spec is None or spec.type.kind != LIST or spec.key not in {f.name for f in spec.fields}:
            raise NotLowerable(f"list {name!r}")
        return self.slotmap[name], spec

    def bind(self, var: str, list_name: str) -> Tuple[int, int, Optional[Binding]]:
        """Bind an item variable (shadowing an outer one of the same name); returns (index, slot, outer)."""
        slot, spec = self.list_slot(list_name)
        index = max([v[0] + 1 for v in self.bound.values()] + [0])
        if index >= MAX_VARS:
            raise NotLowerable("item variables nested too deep")
        outer = self.bound.get(var)
        self.bound[var] = (index, slot, spec)
        return index, slot, outer

    def unbind(self, var: str, outer: Optional[Binding]) -> None:
        if outer is None:
            del self.bound[var]
        else:
            self.bound[var] = outer

    def item_field(self, node: ast.ItemField) -> Tuple[int, int, int]:
        if node.var not in self.bound:
            raise NotLowerable(f"unbound item variable {node.var!r}")
        index, slot, spec = self.bound[node.var]
        names = [f.name for f in spec.fields]
        if node.field_name not in names:
            raise NotLowerable(f"field {node.field_name!r}")
        field = spec.fields[names.index(node.field_name)]
        if field.type.kind not in (NUMBER, BOOLEAN, ENUM, DATE):
            raise NotLowerable(f"item field of type {field.type.kind}")
        return index, slot, names.index(node.field_name)

    def quantifier(self, node: ast.Quantifier) -> int:
        if node.condition is None:
            slot, _ = self.list_slot(node.list_name)
            return self.emit(Q_COUNT, a=slot, b=0, c=-1)
        var = cast(str, node.var)  # the parser gives a quantifier a condition only with its variable
        index, slot, outer = self.bind(var, node.list_name)
        try:
            condition = self.lower(node.condition)
        finally:
            self.unbind(var, outer)
        op = {"any": Q_ANY, "all": Q_ALL, "count": Q_COUNT}[node.kind]
        return self.emit(op, a=slot, b=index, c=condition)

    def number(self, value: Fraction) -> int:
        as_float = float(value)
        if not math.isfinite(as_float):
            raise NotLowerable(f"number {value}")
        # order-faithful when the literal is its double's shortest repr (as recorded values are)
        exact = Fraction(repr(as_float)) == value and abs(value) < FAST_NUMBER_LIMIT
        fits = abs(value.numerator) <= _INT64 and value.denominator <= _INT64
        return self.emit(
            N_LIT, d=as_float, num=value.numerator if fits else 0, den=value.denominator if fits else 0, exact=int(exact)
        )

    def compare(self, node: ast.Compare) -> int:
        kind = ast.type_of(node.left).kind
        op = COMPARE[node.op]
        if kind == NUMBER:
            return self.emit(B_CMP_NUM, a=self.lower(node.left), b=self.lower(node.right), c=op)
        if kind == BOOLEAN and node.op in ("==", "!="):
            return self.emit(B_CMP_BOOL, a=self.lower(node.left), b=self.lower(node.right), c=op)
        if kind == DATE or (kind == ENUM and node.op in ("==", "!=")):
            return self.emit(B_CMP_CODE, a=self.lower(node.left), b=self.lower(node.right), c=op)
        raise NotLowerable(f"comparison of {kind} with {node.op}")

    def member(self, node: ast.Member) -> int:
        kind = ast.type_of(node.operand).kind
        if kind not in (ENUM, DATE) or not all(isinstance(o, (ast.String, ast.DateLiteral)) for o in node.options):
            # options that are facts read as "not found" when unknown, not as unknown: general path
            raise NotLowerable(f"membership of {kind} in non-literal options")
        operand = self.lower(node.operand)
        options = cast(Tuple[Union[ast.String, ast.DateLiteral], ...], node.options)  # tested just above
        codes = [self.code_of(o.value) if isinstance(o, ast.String) else o.value.toordinal() for o in options]
        start = len(self.kids)
        self.kids.extend(codes)
        return self.emit(B_MEMBER, a=operand, b=start, c=len(codes), d=1.0 if node.negated else 0.0)

    def call(self, node: ast.Call, kind: Optional[str]) -> int:
        func = node.func
        if func == "known":
            arg = node.args[0]
            if isinstance(arg, ast.ItemField):
                var, slot, field = self.item_field(arg)
                return self.emit(B_KNOWN_ITEM, a=var, b=slot, c=field)
            if not isinstance(arg, ast.Name):
                raise NotLowerable("known() of an expression")
            if arg.name in self.ir.derived:
                reader = self.lower(arg)
                return self.emit(B_KNOWN_DERIVED, a=reader, b=_value_kind(ast.type_of(arg).kind))
            return self.emit(B_KNOWN_FACT, a=self.fact_slot(arg.name, ast.type_of(arg).kind))
        args = [self.lower(a) for a in node.args]
        if func == "if":
            op = (N_IF, B_IF, C_IF)[_value_kind(kind)]
            return self.emit(op, a=args[0], b=args[1], c=args[2])
        return self.emit(OPCODES[FUNCTIONS[func].opcode], *args)


def _cost(node: ast.Node, derived: Mapping[str, Any]) -> int:
    """A rough evaluation cost: arithmetic (with its tie check), derived facts and lists cost most."""
    total = 0
    for n in ast.walk(node):
        if isinstance(n, ast.Quantifier):
            total += 20
        elif isinstance(n, ast.Arith):
            total += 6 if n.op == "/" else 3
        elif isinstance(n, ast.Name) and n.name in derived:
            total += 4
        else:
            total += 1
    return total


def _exact_float(bound: Any) -> float:
    """A declared bound as a double, when the double is exactly that bound (bounds are compared in C)."""
    as_float = float(bound)
    if Fraction(as_float) != Fraction(bound):
        raise NotLowerable(f"bound {bound} is not a double")
    return as_float


@dataclass(frozen=True)
class ProgramTables:
    """The lowered program as data, exactly as the C evaluator receives it (and as ``safetyrules ir
    --lowered`` prints it)."""

    slot_names: Tuple[str, ...]
    slots: Tuple[SlotRow, ...]
    nodes: Tuple[Node, ...]
    kids: Tuple[int, ...]
    derived_roots: Tuple[int, ...]
    module_rows: Tuple[ModuleRow, ...]
    rule_rows: Tuple[RuleRow, ...]


@dataclass(frozen=True)
class CompiledProgram:
    """One industry's modules in force, lowered: ``program.run(facts, attributes, today)`` decides them."""

    modules: Tuple[CompiledModule, ...]
    program: _Program
    #: offset of each module's first rule outcome in run()'s result (after the module scope bytes)
    offsets: Tuple[int, ...]
    tables: ProgramTables

    @cached_property
    def positions(self) -> Tuple[Tuple[Optional[str], ...], Dict[str, int]]:
        """The rule id at each position of run()'s result, and each rule's position: shared by the
        plans of every day and region this program judges (see :class:`OutcomeLayout`)."""
        return outcome_positions(self.modules)


def lower_modules(ir: RuleSetIR, industry: str, modules: Sequence[CompiledModule]) -> CompiledProgram:
    """Lower ``modules`` (all judging ``industry``); raises :class:`NotLowerable`."""
    if _evaluator is None:  # not AVAILABLE
        raise NotLowerable(UNAVAILABLE_REASON)
    lowering = _Lowering(ir, industry)
    module_rows: List[ModuleRow] = []
    rule_rows: List[RuleRow] = []
    offsets: List[int] = []
    for cm in modules:
        scope = lowering.lower(cm.module.scope) if cm.module.scope is not None else -1
        module_rows.append((scope, len(rule_rows), len(cm.rules)))
        offsets.append(len(modules) + len(rule_rows))
        for compiled in cm.rules:
            rule_rows.append(lowering.rule(compiled.rule))
    tables = ProgramTables(
        tuple(lowering.slotmap),
        tuple(lowering.slots()),
        tuple(lowering.nodes),
        tuple(lowering.kids),
        tuple(lowering.derived_roots),
        tuple(module_rows),
        tuple(rule_rows),
    )
    program = _evaluator.Program(
        lowering.slotmap,
        list(tables.slots),
        list(tables.nodes),
        list(tables.kids),
        list(tables.derived_roots),
        list(tables.module_rows),
        list(tables.rule_rows),
        TIE_TOLERANCE,
    )
    return CompiledProgram(tuple(modules), program, tuple(offsets), tables)


# --------------------------------------------------------------------------- the fast lane

_EMPTY: Dict[str, Any] = {}


class CompiledLane:
    """Decides plain records (dicts from JSON) on the compiled evaluator, or declines (None).

    Declining is the rule for anything unusual -- a malformed envelope, a fact the C code does not
    accept, a module it cannot run -- and the caller then takes the general path, which gives the
    same report or the proper error. The envelope checks, the plan lookup, the run and the copy of
    the record are one C call (:attr:`run`), which returns what was decided as data
    (:data:`safetyrules.evaluation.PlainDecision`); on the first record of an industry, region and
    date it calls :meth:`add_plan` to choose the module versions and lower them.
    """

    def __init__(self, ir: RuleSetIR, parse: RecordParser, engine: Dict[str, Any], backend: str = "native"):
        self._ir = ir
        self._parse = parse
        self._engine = engine
        self._backend = backend
        #: (industry, region, inspection date as given, as_of, jurisdiction) -> plan tuple or None
        self._plans: Dict[PlanKey, Optional[Plan]] = {}
        #: (industry, module keys) -> the lowered program, or None when they are not lowered
        self._programs: Dict[Tuple[str, Tuple[str, ...]], Optional[CompiledProgram]] = {}
        statuses = (NO_APPLICABLE_CRITERIA, MAJOR_HAZARD_FOUND, UNDETERMINED, NO_MAJOR_HAZARD_FOUND)
        if _evaluator is None:  # callers make a lane only when AVAILABLE (this was an AttributeError on None)
            raise RuntimeError(f"no compiled lane: {UNAVAILABLE_REASON}")
        lane = _evaluator.Lane(self._plans, self, backend, PLAIN_RECORD_KEYS, SITE_KEYS, statuses)
        #: run(record, as_of, jurisdiction) -> PlainDecision | None
        self.run = lane.run

    def program_for(self, industry: str, modules: Sequence[CompiledModule]) -> Optional[CompiledProgram]:
        key = (industry, tuple(cm.key for cm in modules))
        if key not in self._programs:
            try:
                self._programs[key] = lower_modules(self._ir, industry, modules)
            except NotLowerable:
                self._programs[key] = None
        return self._programs[key]

    def _plan(
        self, industry: Any, region: Any, day_raw: Any, as_of: Optional[date], jurisdiction: Optional[str]
    ) -> Optional[Plan]:
        """The plan tuple the C lane reads: (program, today, day, as_of, notices, engine, layout)."""
        if not isinstance(industry, str) or industry not in self._ir.vocabularies:
            return None
        if region is not None and not isinstance(region, str):
            return None
        day = parse_date(day_raw)
        if day is None:
            return None
        probe = Record(record_id="", inspection_date=day, industry=industry, region=region, values=_EMPTY)
        selection = select_modules(self._ir, probe, as_of, jurisdiction)
        program = self.program_for(industry, selection.modules)
        if program is None:
            return None
        layout = OutcomeLayout(
            self._ir,
            self._parse,
            day,
            selection,
            program.offsets,
            program.program.items,
            self._backend,
            industry=industry,
            positions=program.positions,
        )
        return (program.program, layout.today, day, selection.day, selection.notices, self._engine, layout)

    def add_plan(self, raw: Dict[str, Any], as_of: Optional[date], jurisdiction: Optional[str]) -> None:
        """Make the plan for a record whose envelope the C lane accepted (called by the C lane)."""
        site = raw["site"]
        key = (site.get("industry"), site.get("region"), raw.get("inspection_date"), as_of, jurisdiction)
        if len(self._plans) > 4096:
            self._plans.clear()
        self._plans[key] = self._plan(*key)
