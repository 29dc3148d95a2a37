"""The native backend: generated Python code over the IR, with an exact fast path.

For each module the compiler's typed IR is turned into one Python function that decides all the
module's rules for a record that has every fact the module reads. Generation follows the way
fastjsonschema turns a schema into code: every name in the generated source is made by this module
(``v0``, ``d3``), numbers are emitted with ``repr`` of validated ``int``/``float`` values, and every
other constant (strings, dates, enum values) is passed in a tuple, so no rule or record text ever
becomes source code.

Exactness: a comparison between recorded values and literals is decided exactly by the floats
themselves (a recorded decimal is the float whose shortest repr it is, and that map preserves order).
A comparison involving arithmetic is computed in floats together with a running bound on its rounding
error; when the two sides are closer than that bound -- a possible tie, such as
``7150 > 6500 * 110%`` -- it is re-decided exactly by the reference interpreter.

Anything outside the fast path -- a record missing some of the module's facts (three-valued logic),
rules over lists of items, numbers beyond float precision, a division by zero -- is decided by the
reference interpreter, so the fast path never has to be right about the hard cases, only fast about
the common one. Property tests check that both give identical reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..compiler import CompiledModule, CompiledRule, RuleSetIR
from ..evaluation import Backend, Decisions, Selection
from ..expr import ast
from ..expr.types import BOOLEAN, DATE, NUMBER
from ..interpreter import UNKNOWN, Interpreter
from ..records import Record

#: relative tolerance below which a float comparison is re-decided exactly (float error is ~1e-16)
TIE_TOLERANCE = 1e-9
#: recorded numbers beyond this magnitude go to the exact interpreter (floats are exact integers below 2**53)
FAST_NUMBER_LIMIT = 2**53


class _NotFast(Exception):
    """This expression is outside the generated fast path; its rule is left to the interpreter."""


class _Fallback(Exception):
    """Raised inside generated code when an exact re-check finds something only the interpreter can decide."""


@dataclass
class _Slot:
    code: str
    mag: Optional[str]  # running error-magnitude expression; None when the value is exact


class _ModuleGenerator:
    def __init__(self, ir: RuleSetIR, module: CompiledModule):
        self.ir = ir
        self.module = module
        self.constants: List[Any] = []
        self.comparisons: List[ast.Compare] = []
        self.fact_locals: Dict[str, str] = {}
        self.derived_locals: Dict[str, Tuple[str, Optional[str]]] = {}
        self.lines: List[str] = []
        self.tmp = 0

    # ----------------------------------------------------------------- names and constants
    def const(self, value: Any) -> str:
        self.constants.append(value)
        return f"C[{len(self.constants) - 1}]"

    def number_literal(self, value: Fraction) -> Tuple[str, bool]:
        """Source for a number literal, and whether its float is exactly that decimal."""
        if value.denominator == 1 and abs(value) < FAST_NUMBER_LIMIT:
            return repr(int(value)), True
        as_float = float(value)
        exact = Fraction(repr(as_float)) == value
        return repr(as_float), exact

    def fact(self, name: str) -> str:
        local = self.fact_locals.get(name)
        if local is None:
            local = f"v{len(self.fact_locals)}"
            self.fact_locals[name] = local
        return local

    def derived(self, name: str) -> _Slot:
        if name not in self.derived_locals:
            d = self.ir.derived[name]
            slot = self.expr(d.expr)
            local = f"d{len(self.derived_locals)}"
            self.lines.append(f"    {local} = {slot.code}")
            mag_local = None
            if slot.mag is not None:
                mag_local = f"m{len(self.derived_locals)}"
                self.lines.append(f"    {mag_local} = {slot.mag}")
            self.derived_locals[name] = (local, mag_local)
        local, mag_local = self.derived_locals[name]
        return _Slot(local, mag_local)

    # ----------------------------------------------------------------- expressions
    def expr(self, node: ast.Node) -> _Slot:
        if isinstance(node, ast.Number):
            code, exact = self.number_literal(node.value)
            return _Slot(code, None if exact else f"abs({code})")
        if isinstance(node, (ast.String, ast.DateLiteral)):
            return _Slot(self.const(node.value), None)
        if isinstance(node, ast.Boolean):
            return _Slot("True" if node.value else "False", None)
        if isinstance(node, ast.InspectionDate):
            return _Slot("day", None)
        if isinstance(node, ast.Name):
            if node.name in self.ir.derived:
                return self.derived(node.name)
            if node.ty.kind == "list":
                raise _NotFast()
            return _Slot(self.fact(node.name), None)
        if isinstance(node, (ast.ItemField, ast.Quantifier)):
            raise _NotFast()
        if isinstance(node, ast.Negate):
            inner = self.expr(node.operand)
            return _Slot(f"(-{inner.code})", inner.mag)
        if isinstance(node, ast.Not):
            return _Slot(f"(not {self.expr(node.operand).code})", None)
        if isinstance(node, ast.And):
            return _Slot("(" + " and ".join(self.expr(o).code for o in node.operands) + ")", None)
        if isinstance(node, ast.Or):
            return _Slot("(" + " or ".join(self.expr(o).code for o in node.operands) + ")", None)
        if isinstance(node, ast.Arith):
            return self.arith(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Member):
            operand = self.expr(node.operand)
            if operand.mag is not None:
                raise _NotFast()
            options = []
            for o in node.options:
                slot = self.expr(o)
                if slot.mag is not None:
                    raise _NotFast()
                options.append(slot.code)
            op = "not in" if node.negated else "in"
            return _Slot(f"({operand.code} {op} ({', '.join(options)},))", None)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _NotFast()

    def _mag(self, slot: _Slot) -> str:
        return slot.mag if slot.mag is not None else f"abs({slot.code})"

    def arith(self, node: ast.Arith) -> _Slot:
        if node.left.ty.kind != NUMBER:
            raise _NotFast()
        left, right = self.expr(node.left), self.expr(node.right)
        code = f"({left.code} {node.op} {right.code})"
        lm, rm = self._mag(left), self._mag(right)
        if node.op in "+-":
            mag = f"({lm} + {rm})"
        elif node.op == "*":
            mag = f"({lm} * {rm})"
        else:
            # error bound of a/b: (err(a) + |a/b| err(b)) / |b|
            mag = f"(({lm} + abs({code}) * {rm}) / abs({right.code}))"
        return _Slot(code, mag)

    def compare(self, node: ast.Compare) -> _Slot:
        left, right = self.expr(node.left), self.expr(node.right)
        op = node.op
        if left.mag is None and right.mag is None:
            return _Slot(f"({left.code} {op} {right.code})", None)
        k = len(self.comparisons)
        self.comparisons.append(node)
        self.tmp += 1
        lv, rv = f"_l{self.tmp}", f"_r{self.tmp}"
        tol = repr(TIE_TOLERANCE)
        code = (
            f"(ex({k}) if abs(({lv} := {left.code}) - ({rv} := {right.code})) <= {tol} * ({self._mag(left)} + {self._mag(right)}) "
            f"else ({lv} {op} {rv}))"
        )
        return _Slot(code, None)

    def call(self, node: ast.Call) -> _Slot:
        func = node.func
        if func == "known":
            arg = node.args[0]
            if isinstance(arg, ast.Name) and arg.name not in self.ir.derived:
                return _Slot("True", None)  # the fast path runs only when every base fact is recorded
            raise _NotFast()
        args = [self.expr(a) for a in node.args]
        if func == "if":
            cond, a, b = args
            mag = None
            if a.mag is not None or b.mag is not None:
                mag = f"({self._mag(a)} if {cond.code} else {self._mag(b)})"
            return _Slot(f"({a.code} if {cond.code} else {b.code})", mag)
        if func in ("min", "max"):
            mag = None
            if args[0].mag is not None or args[1].mag is not None:
                mag = f"max({self._mag(args[0])}, {self._mag(args[1])})"
            return _Slot(f"{func}({args[0].code}, {args[1].code})", mag)
        if func == "abs":
            return _Slot(f"abs({args[0].code})", args[0].mag)
        if func == "days_between":
            return _Slot(f"({args[1].code} - {args[0].code}).days", None)
        raise _NotFast()

    # ----------------------------------------------------------------- the module function
    def generate(self) -> Tuple[str, Tuple[Optional[int], ...], Tuple[str, ...]]:
        """Source of ``decide(V, day, C, ex)`` -> (scope, outcomes); outcome per rule:
        True matched, False not matched, 0 not applicable, None left to the interpreter."""
        m = self.module
        scope_code = "True"
        if m.module.scope is not None:
            try:
                scope_code = self.expr(m.module.scope).code
            except _NotFast:
                scope_code = None
        outcome_codes: List[str] = []
        fast_rules: List[Optional[int]] = []
        for index, compiled in enumerate(m.rules):
            rule = compiled.rule
            saved = (len(self.lines), dict(self.derived_locals), dict(self.fact_locals), len(self.constants), len(self.comparisons))
            try:
                if rule.for_each is not None:
                    raise _NotFast()
                when = self.expr(rule.when).code
                if rule.applies_if is not None:
                    applies = self.expr(rule.applies_if).code
                    code = f"((0) if not {applies} else {when})"
                else:
                    code = when
                outcome_codes.append(code)
                fast_rules.append(index)
            except _NotFast:
                del self.lines[saved[0]:]
                self.derived_locals, self.fact_locals = saved[1], saved[2]
                outcome_codes.append("None")
                fast_rules.append(None)
        loads = [f"    {local} = V[{self.const(name)}]" for name, local in self.fact_locals.items()]
        body = ["def decide(V, day, C, ex):"] + loads + self.lines
        if scope_code is None:
            body.append("    return None, None")
        else:
            body.append(f"    if not {scope_code}:")
            body.append("        return False, None")
            body.append("    return True, (" + "".join(f"{c}, " for c in outcome_codes) + ")")
        return "\n".join(body) + "\n", tuple(fast_rules), tuple(self.fact_locals)


@dataclass(frozen=True)
class _CompiledModuleCode:
    function: Callable
    constants: Tuple[Any, ...]
    comparisons: Tuple[ast.Compare, ...]
    needed: frozenset  # base facts that must all be recorded for the fast path
    source: str


def _compile_module(ir: RuleSetIR, module: CompiledModule) -> Optional[_CompiledModuleCode]:
    gen = _ModuleGenerator(ir, module)
    source, _, _ = gen.generate()
    namespace: Dict[str, Any] = {"__builtins__": {"abs": abs, "min": min, "max": max}}
    code = compile(source, f"<safetyrules native: {module.id}>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from validated IR values only (see module docstring)
    needed = set(module.scope_base_facts)
    for compiled in module.rules:
        needed |= compiled.base_facts
    return _CompiledModuleCode(namespace["decide"], tuple(gen.constants), tuple(gen.comparisons), frozenset(needed), source)


def _fast_number(value: Any) -> bool:
    t = type(value)
    if t is float:
        return -FAST_NUMBER_LIMIT < value < FAST_NUMBER_LIMIT
    if t is int:
        return -FAST_NUMBER_LIMIT < value < FAST_NUMBER_LIMIT
    return True


class NativeBackend(Backend):
    """Generated code for complete records; the reference interpreter for everything else."""

    name = "native"

    def __init__(self, ir: RuleSetIR):
        super().__init__(ir)
        self._code: Dict[str, _CompiledModuleCode] = {cm.id: _compile_module(ir, cm) for cm in ir.modules}

    def generated_source(self, module_id: str) -> str:
        """The generated Python source of one module (for review and debugging)."""
        return self._code[module_id].source

    def decide(self, record: Record, selection: Selection) -> Decisions:
        decisions = Decisions()
        values = record.values
        interp: Optional[Interpreter] = None
        fast_ok = all(_fast_number(v) for v in values.values())
        for cm in selection.modules:
            code = self._code[cm.id]
            result = None
            if fast_ok and values.keys() >= code.needed:
                if interp is None:
                    interp = Interpreter(self.ir, record, selection.day)
                result = self._run_fast(code, values, record.inspection_date, interp)
            if result is None or result[0] is None:
                if interp is None:
                    interp = Interpreter(self.ir, record, selection.day)
                self._interpret_module(cm, interp, decisions)
                continue
            scope, outcomes = result
            decisions.scopes[cm.id] = scope
            if not scope:
                for compiled in cm.rules:
                    decisions.outcomes[compiled.id] = "not_applicable"
                continue
            for compiled, outcome in zip(cm.rules, outcomes):
                if outcome is None:
                    verdict = interp.rule(compiled)
                    decisions.outcomes[compiled.id] = verdict.outcome
                    decisions.verdicts[compiled.id] = verdict
                elif outcome is True:
                    decisions.outcomes[compiled.id] = "matched"
                elif outcome is False:
                    decisions.outcomes[compiled.id] = "not_matched"
                else:
                    decisions.outcomes[compiled.id] = "not_applicable"
        return decisions

    @staticmethod
    def _run_fast(code: _CompiledModuleCode, values, day: date, interp: Interpreter):
        def exact(k: int) -> bool:
            value = interp.eval(code.comparisons[k], {}).value
            if value is UNKNOWN:
                raise _Fallback()
            return value

        try:
            return code.function(values, day, code.constants, exact)
        except (_Fallback, ZeroDivisionError, OverflowError):
            return None

    @staticmethod
    def _interpret_module(cm: CompiledModule, interp: Interpreter, decisions: Decisions) -> None:
        scope = interp.scope(cm)
        tri = None if scope.value is UNKNOWN else bool(scope.value)
        decisions.scopes[cm.id] = tri
        for compiled in cm.rules:
            if tri is False:
                decisions.outcomes[compiled.id] = "not_applicable"
                continue
            verdict = interp.rule(compiled)
            outcome = verdict.outcome
            if tri is None and outcome == "matched":
                outcome = "undetermined"
            decisions.outcomes[compiled.id] = outcome
            decisions.verdicts[compiled.id] = verdict
