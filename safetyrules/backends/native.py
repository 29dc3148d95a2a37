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

import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..ir import CompiledModule, RuleSetIR
from ..evaluation import Backend, Decisions, ModuleVector, Selection, engine_info, interpret_module
from ..expr import ast
from ..expr.language import FUNCTIONS
from ..expr.types import NUMBER
from ..interpreter import UNKNOWN, Interpreter, ItemBinding
from ..model import Rule
from ..records import FAST_NUMBER_LIMIT, Record, RecordParser

if TYPE_CHECKING:
    from .compiled import CompiledLane

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")

#: relative tolerance below which a float comparison is re-decided exactly (float error is ~1e-16)
TIE_TOLERANCE = 1e-9


class _NotFast(Exception):
    """This expression is outside the generated fast path; its rule is left to the interpreter."""


class _Fallback(Exception):
    """Raised inside generated code when an exact re-check finds something only the interpreter can decide."""


@dataclass
class _Slot:
    code: str
    mag: Optional[str] = None  # running error-magnitude expression; None when the value is exact
    nullable: bool = True  # may evaluate to None (unknown)


_SIMPLE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|-?[0-9][0-9.e+-]*|C\[[0-9]+\])$")


class _ModuleGenerator:
    """Generates one module's three-valued decision function (None is unknown)."""

    def __init__(self, ir: RuleSetIR, module: CompiledModule) -> None:
        self.ir = ir
        self.module = module
        self.constants: List[Any] = []
        self.comparisons: List[ast.Compare] = []
        self.fact_locals: Dict[str, str] = {}
        self.derived_locals: Dict[str, _Slot] = {}
        self.lines: List[str] = []
        self.tmp = 0
        # item variables in scope: rule variable -> (generated local, list fact, key field)
        self.bound: Dict[str, Tuple[str, str, Optional[str]]] = {}
        self.items = 0

    def bind_item(self, var: str, list_name: str) -> str:
        spec = (
            self.ir.vocabularies.get(self.module.module.industries[0], self.ir.facts).get(list_name) or self.ir.facts[list_name]
        )
        self.items += 1
        local = f"i{self.items}"
        self.bound[var] = (local, list_name, spec.key)
        return local

    def bindings_arg(self) -> str:
        """How ex() re-creates the current item bindings for an exact re-check."""
        if not self.bound:
            return ""
        names = tuple((var, lst, key) for var, (_, lst, key) in self.bound.items())
        locals_ = ", ".join(local for local, _, _ in self.bound.values())
        return f", {self.const(names)}, ({locals_},)"

    # ----------------------------------------------------------------- names and constants
    def const(self, value: Any) -> str:
        self.constants.append(value)
        return f"C[{len(self.constants) - 1}]"

    def number_literal(self, value: Fraction) -> Tuple[str, bool]:
        """Source for a number literal, and whether its float is exactly that decimal."""
        if value.denominator == 1 and abs(value) < FAST_NUMBER_LIMIT:
            return repr(int(value)), True
        as_float = float(value)
        return repr(as_float), Fraction(repr(as_float)) == value

    def fact(self, name: str) -> str:
        local = self.fact_locals.get(name)
        if local is None:
            local = f"v{len(self.fact_locals)}"
            self.fact_locals[name] = local
        return local

    def temp(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    def derived(self, name: str) -> _Slot:
        if name not in self.derived_locals:
            slot = self.expr(self.ir.derived[name].expr)
            index = len(self.derived_locals)
            local = f"d{index}"
            self.lines.append(f"    {local} = {slot.code}")
            mag = None
            if slot.mag is not None:
                mag = f"m{index}"
                self.lines.append(f"    {mag} = ({slot.mag}) if {local} is not None else 0.0")
            self.derived_locals[name] = _Slot(local, mag, slot.nullable)
        return self.derived_locals[name]

    def bind(self, slot: _Slot) -> Tuple[str, str]:
        """(expression that evaluates and names the value, the name to use afterwards)."""
        if _SIMPLE.match(slot.code):
            return slot.code, slot.code
        t = self.temp()
        return f"({t} := {slot.code})", t

    def guarded(self, slots: Sequence[_Slot], make: Callable[[List[str]], str], zero_divisor: int = -1) -> str:
        """``make(names)`` evaluated only when every nullable operand is known (else None)."""
        checks, names = [], []
        for i, slot in enumerate(slots):
            if slot.nullable or i == zero_divisor:
                first, name = self.bind(slot)
                checks.append(f"not {first}" if i == zero_divisor else f"{first} is None")
            else:
                name = slot.code
            names.append(name)
        body = make(names)
        if not checks:
            return f"({body})"
        return f"(None if {' or '.join(checks)} else {body})"

    # ----------------------------------------------------------------- expressions
    def expr(self, node: ast.Node) -> _Slot:
        if isinstance(node, ast.Number):
            code, exact = self.number_literal(node.value)
            return _Slot(code, None if exact else repr(abs(float(node.value))), False)
        if isinstance(node, (ast.String, ast.DateLiteral)):
            return _Slot(self.const(node.value), None, False)
        if isinstance(node, ast.Boolean):
            return _Slot("True" if node.value else "False", None, False)
        if isinstance(node, ast.InspectionDate):
            return _Slot("day", None, False)
        if isinstance(node, ast.Name):
            if node.name in self.ir.derived:
                return self.derived(node.name)
            return _Slot(self.fact(node.name))
        if isinstance(node, ast.ItemField):
            if node.var not in self.bound or not _IDENTIFIER.match(node.field_name):
                raise _NotFast()
            return _Slot(f"{self.bound[node.var][0]}.get({node.field_name!r})")
        if isinstance(node, ast.Quantifier):
            return self.quantifier(node)
        if isinstance(node, ast.Negate):
            inner = self.expr(node.operand)
            return _Slot(self.guarded([inner], lambda n: f"-{n[0]}"), inner.mag, inner.nullable)
        if isinstance(node, ast.Not):
            inner = self.expr(node.operand)
            return _Slot(self.guarded([inner], lambda n: f"not {n[0]}"), None, inner.nullable)
        if isinstance(node, (ast.And, ast.Or)):
            return self.logic(node)
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
            return _Slot(self.guarded([operand], lambda n: f"{n[0]} {op} ({', '.join(options)},)"), None, operand.nullable)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _NotFast()

    def quantifier(self, node: ast.Quantifier) -> _Slot:
        """any / all / count over a list, three-valued per item (helpers _any3, _all3, _count3)."""
        lst = self.fact(node.list_name)
        t = self.temp()
        if node.condition is None or node.var is None:  # count(list): the parser sets both or neither
            return _Slot(f"(None if ({t} := {lst}) is None else len({t}))")
        outer = self.bound.get(node.var)
        local = self.bind_item(node.var, node.list_name)
        try:
            cond = self.expr(node.condition)
        finally:
            if outer is None:
                del self.bound[node.var]
            else:
                self.bound[node.var] = outer
        helper = {"any": "_any3", "all": "_all3", "count": "_count3"}[node.kind]
        return _Slot(f"(None if ({t} := {lst}) is None else {helper}({cond.code} for {local} in {t}))")

    def logic(self, node: Union[ast.And, ast.Or]) -> _Slot:
        """Kleene and/or: a decisive operand (False for and, True for or) settles it, else unknown wins."""
        decisive = "False" if isinstance(node, ast.And) else "True"
        other = "True" if decisive == "False" else "False"
        slots = [self.expr(o) for o in node.operands]
        if not any(s.nullable for s in slots):
            word = " and " if decisive == "False" else " or "
            return _Slot("(" + word.join(s.code for s in slots) + ")", None, False)
        firsts, names = [], []
        for s in slots:
            first, name = self.bind(s) if s.nullable else (s.code, s.code)
            firsts.append(first)
            names.append((name, s.nullable))
        settle = " or ".join(f"{f} is {decisive}" for f in firsts)
        unknown = " or ".join(f"{n} is None" for n, nullable in names if nullable)
        return _Slot(f"({decisive} if {settle} else (None if {unknown} else {other}))", None, True)

    def arith(self, node: ast.Arith) -> _Slot:
        if ast.type_of(node.left).kind != NUMBER:
            raise _NotFast()
        left, right = self.expr(node.left), self.expr(node.right)
        op = node.op
        if op == "/":
            code = self.guarded([left, right], lambda n: f"{n[0]} / {n[1]}", zero_divisor=1)
        else:
            code = self.guarded([left, right], lambda n: f"{n[0]} {op} {n[1]}")
        lm = left.mag if left.mag is not None else f"abs({left.code})"
        rm = right.mag if right.mag is not None else f"abs({right.code})"
        if op in "+-":
            mag = f"({lm} + {rm})"
        elif op == "*":
            mag = f"({lm} * {rm})"
        else:
            # rounding-error bound of a/b: (err(a) + |a/b| err(b)) / |b|
            mag = f"(({lm} + abs({left.code} / {right.code}) * {rm}) / abs({right.code}))"
        return _Slot(code, mag, left.nullable or right.nullable or op == "/")

    def compare(self, node: ast.Compare) -> _Slot:
        left, right = self.expr(node.left), self.expr(node.right)
        op = node.op
        if left.mag is None and right.mag is None:  # exact (non-numbers never carry an error bound): no tie to re-check
            return _Slot(self.guarded([left, right], lambda n: f"{n[0]} {op} {n[1]}"), None, left.nullable or right.nullable)
        k = len(self.comparisons)
        self.comparisons.append(node)
        lm = left.mag if left.mag is not None else f"abs({left.code})"
        rm = right.mag if right.mag is not None else f"abs({right.code})"
        tol = repr(TIE_TOLERANCE)

        items = self.bindings_arg()

        def make(n: List[str]) -> str:
            return f"(ex({k}{items}) if abs({n[0]} - {n[1]}) <= {tol} * ({lm} + {rm}) else {n[0]} {op} {n[1]})"

        # both sides are named first so that the tie test reuses them
        checks: List[str] = []
        names: List[str] = []
        for slot in (left, right):
            if slot.nullable:
                t = self.temp()
                checks.append(f"({t} := {slot.code}) is None")
                names.append(t)
            else:
                names.append(slot.code if _SIMPLE.match(slot.code) else f"({slot.code})")
        if not checks:
            return _Slot(f"({make(names)})", None, False)
        return _Slot(f"(None if {' or '.join(checks)} else {make(names)})", None, True)

    def call(self, node: ast.Call) -> _Slot:
        func = node.func
        if func == "known":
            arg = node.args[0]
            if isinstance(arg, ast.Name):
                if arg.name in self.ir.derived:
                    return _Slot(f"({self.derived(arg.name).code} is not None)", None, False)
                return _Slot(f"({self.fact(arg.name)} is not None)", None, False)
            if isinstance(arg, ast.ItemField):
                return _Slot(f"({self.expr(arg).code} is not None)", None, False)
            raise _NotFast()
        args = [self.expr(a) for a in node.args]
        if func == "if":
            cond, a, b = args
            c_first, c_name = self.bind(cond)
            ta, tb = self.temp(), self.temp()
            code = (
                f"({a.code} if {c_first} is True else ({b.code} if {c_name} is False else "
                f"({ta} if ({ta} := {a.code}) is not None and {ta} == ({tb} := {b.code}) else None)))"
            )
            mag = None
            if a.mag is not None or b.mag is not None:
                am = a.mag if a.mag is not None else f"abs({a.code})"
                bm = b.mag if b.mag is not None else f"abs({b.code})"
                mag = f"max({am}, {bm})"
            return _Slot(code, mag, True)
        function = FUNCTIONS[func]
        apply = self.const(function.approximate)  # the language table's float implementation
        code = self.guarded(args, lambda n: f"{apply}({', '.join(n)})")
        nullable = any(a.nullable for a in args)
        if function.error == "exact" or all(a.mag is None for a in args):
            return _Slot(code, None, nullable)
        # "selects": the result is one of the arguments (up to sign), so its error is at most theirs
        mags = [a.mag if a.mag is not None else f"abs({a.code})" for a in args]
        return _Slot(code, mags[0] if len(mags) == 1 else f"max({', '.join(mags)})", nullable)

    def for_each_statement(self, index: int, rule: Rule) -> str:
        """A rule decided per item, as the interpreter does: matched if an item matches, undetermined
        if none does but some cannot be decided, not applicable when no item applies."""
        fe = rule.for_each
        if fe is None:  # pragma: no cover - generate() sends only rules over a list here
            raise _NotFast()
        lst = self.fact(fe.list_name)
        lines = [f"    _L = {lst}", "    if _L is None:"]
        # applies_if when it does not read the item: decided once, before the list
        applies_outside = (
            rule.applies_if
            if rule.applies_if is not None
            and not any(isinstance(n, ast.ItemField) and n.var == fe.var for n in ast.walk(rule.applies_if))
            else None
        )
        if applies_outside is not None:
            applies = self.expr(applies_outside)
            lines += [
                f"        if {applies.code} is False:",
                f"            na.append({index})",
                "        else:",
                f"            unknown.append({index})",
            ]
        else:
            lines.append(f"        unknown.append({index})")
        local = self.bind_item(fe.var, fe.list_name)
        try:
            lines += [
                "    else:",
                "        _mk = []",
                "        _uk = []",
                "        _n = 0",
                f"        for _j, {local} in enumerate(_L):",
            ]
            if rule.applies_if is not None:
                applies = self.expr(rule.applies_if)
                lines += [f"            _a = {applies.code}", "            if _a is False:", "                continue"]
            else:
                lines.append("            _a = True")
            when = self.expr(rule.decides)
            lines += [
                "            _n += 1",
                f"            _w = {when.code}",
                "            if _w is True:",
                "                if _a is True:",
                "                    _mk.append(_j)",
                "                else:",
                "                    _uk.append(_j)",
                "            elif _w is None:",
                "                _uk.append(_j)",
                "        if _mk:",
                f"            hits.append({index})",
                f"            items[{index}] = (_mk, _uk)",
                "        elif _uk:",
                f"            unknown.append({index})",
                f"            items[{index}] = (_mk, _uk)",
                "        elif _n == 0:",
                f"            na.append({index})",
            ]
        finally:
            del self.bound[fe.var]
        return "\n".join(lines)

    # ----------------------------------------------------------------- the module function
    def generate(self) -> Tuple[str, Tuple[int, ...]]:
        """Source of ``decide(V, day, C, ex, hits, unknown, na, items)`` and the rules it leaves to the interpreter.

        It returns the module scope (True, False or None) and appends rule indices to ``hits``
        (matched), ``unknown`` (undetermined) and ``na`` (applies_if false), and for a rule over a list
        the positions of its matched and undetermined items to ``items``; every other rule it
        decides is not matched. A rule that does not match costs one test.
        """
        m = self.module
        scope_code: Optional[str] = "True"
        if m.module.scope is not None:
            try:
                scope_code = self.expr(m.module.scope).code
            except _NotFast:
                scope_code = None
        statements: List[str] = []
        slow: List[int] = []
        for index, compiled in enumerate(m.rules):
            rule = compiled.rule
            saved = (len(self.lines), dict(self.derived_locals), dict(self.fact_locals))
            try:
                if rule.for_each is not None:
                    statements.append(self.for_each_statement(index, rule))
                    continue
                when = self.expr(rule.decides)
                if rule.applies_if is not None:
                    applies = self.expr(rule.applies_if)
                    three = (
                        f"    _a = {applies.code}\n"
                        f"    if _a is False:\n        na.append({index})\n"
                        f"    else:\n"
                        f"        _w = {when.code}\n"
                        f"        if _w is True:\n            (hits if _a else unknown).append({index})\n"
                        f"        elif _w is None:\n            unknown.append({index})"
                    )
                elif when.nullable:
                    three = (
                        f"    _w = {when.code}\n"
                        f"    if _w:\n        hits.append({index})\n"
                        f"    elif _w is None:\n        unknown.append({index})"
                    )
                else:
                    three = f"    if {when.code}:\n        hits.append({index})"
                statements.append(three)
            except _NotFast:
                del self.lines[saved[0] :]
                self.derived_locals, self.fact_locals = saved[1], saved[2]
                self.bound = {}
                slow.append(index)
        for name in self.fact_locals:
            if not _IDENTIFIER.match(name):  # the schema guarantees it; never emit anything else
                raise ValueError(f"fact name {name!r} is not an identifier")
        loads = [f"    {local} = V.get({name!r})" for name, local in self.fact_locals.items()]
        body = ["def decide(V, day, C, ex, hits, unknown, na, items):"] + loads + self.lines
        if scope_code is None:
            body.append("    return 0")
        else:
            body.append(f"    _s = {scope_code}")
            body.append("    if _s is False:")
            body.append("        return False")
            body.extend(statements)
            body.append("    return _s")
        return "\n".join(body) + "\n", tuple(slow)


def _any3(results: Iterable[Optional[bool]]) -> Optional[bool]:
    """Kleene or over the items of a list."""
    outcome: Optional[bool] = False
    for w in results:
        if w is True:
            return True
        if w is None:
            outcome = None
    return outcome


def _all3(results: Iterable[Optional[bool]]) -> Optional[bool]:
    """Kleene and over the items of a list."""
    outcome: Optional[bool] = True
    for w in results:
        if w is False:
            return False
        if w is None:
            outcome = None
    return outcome


def _count3(results: Iterable[Optional[bool]]) -> Optional[int]:
    """How many items satisfy the condition; unknown if any item cannot be decided."""
    n = 0
    for w in results:
        if w is None:
            return None
        if w:
            n += 1
    return n


#: the positions of a rule over a list's matched and undetermined items
_ItemPositions = Dict[int, Tuple[List[int], List[int]]]
#: a generated module function: ``decide(V, day, C, ex, hits, unknown, na, items)`` -> the scope
#: (True, False, None) or 0 when it gave up; ``ex`` re-decides a near-tie exactly (``_run_fast``)
_Decide = Callable[
    [Mapping[str, Any], date, Tuple[Any, ...], Callable[..., bool], List[int], List[int], List[int], _ItemPositions],
    Union[bool, int, None],
]


@dataclass(frozen=True)
class _CompiledModuleCode:
    function: _Decide
    constants: Tuple[Any, ...]
    comparisons: Tuple[ast.Compare, ...]
    slow: Tuple[int, ...]  # rules the generated code leaves to the interpreter
    source: str


def _compile_module(ir: RuleSetIR, module: CompiledModule) -> _CompiledModuleCode:
    gen = _ModuleGenerator(ir, module)
    source, slow = gen.generate()
    namespace: Dict[str, Any] = {
        "__builtins__": {"abs": abs, "min": min, "max": max, "len": len, "enumerate": enumerate},
        "_any3": _any3,
        "_all3": _all3,
        "_count3": _count3,
    }
    code = compile(source, f"<safetyrules native: {module.id}>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from validated IR values only (see module docstring)
    return _CompiledModuleCode(namespace["decide"], tuple(gen.constants), tuple(gen.comparisons), slow, source)


class NativeBackend(Backend):
    """Generated code for complete records; the reference interpreter for everything else."""

    name = "native"

    def __init__(self, ir: RuleSetIR, *, compiled: bool = True) -> None:
        super().__init__(ir)
        self._modules = {cm.key: cm for cm in list(ir.modules) + [v.module for v in ir.variants]}
        #: generated code by module key, made when a module first judges a record the C lane declined:
        #: generating every module of the mining pack costs 0.2 s that plain records never need
        self._code: Dict[str, _CompiledModuleCode] = {}
        #: the compiled evaluator, which decides plain records in one C call (None: not built, or off)
        self.lane: Optional[CompiledLane] = None
        if compiled:
            from . import compiled as compiled_backend

            if compiled_backend.AVAILABLE:
                self.lane = compiled_backend.CompiledLane(
                    ir, RecordParser(ir.vocabularies, ir.derived), engine_info(ir), self.name
                )
                self.decide_plain = self.lane.run

    def generated_source(self, module_id: str) -> str:
        """The generated Python source of one module (for review and debugging)."""
        return self._code_for(module_id).source  # a provincial variant is "<module id>@<supplement id>"

    def _code_for(self, key: str) -> _CompiledModuleCode:
        code = self._code.get(key)
        if code is None:  # two threads may both generate it: the same code, and either one is kept
            code = self._code[key] = _compile_module(self.ir, self._modules[key])
        return code

    def decide(self, record: Record, selection: Selection) -> Decisions:
        interp = Interpreter(self.ir, record, selection.day)  # exact re-checks, and the report's explanations
        decisions = Decisions(interpreter=interp)
        values = record.values
        for cm in selection.modules:
            code = self._code_for(cm.key)
            if record.fast:
                hits: List[int] = []
                unknown: List[int] = []
                na: List[int] = []
                items: _ItemPositions = {}
                scope = self._run_fast(code, values, record.inspection_date, interp, hits, unknown, na, items)
                if scope is not None and scope != 0:
                    decisions.scopes[cm.id] = bool(scope)
                    if scope is not False:
                        interpreted = {index: interp.rule(cm.rules[index]) for index in code.slow}
                        decisions.vectors[cm.id] = ModuleVector(tuple(hits), tuple(unknown), tuple(na), interpreted, items)
                    continue
            interpret_module(cm, interp, decisions)
        return decisions

    @staticmethod
    def _run_fast(
        code: _CompiledModuleCode,
        values: Mapping[str, Any],
        day: date,
        interp: Interpreter,
        hits: List[int],
        unknown: List[int],
        na: List[int],
        items: _ItemPositions,
    ) -> Union[bool, int, None]:
        def exact(k: int, names: Sequence[Tuple[str, str, Optional[str]]] = (), items: Sequence[Mapping[str, Any]] = ()) -> bool:
            bindings = {  # an item of a list without a key field is named 'None', as the interpreter names it
                var: ItemBinding(list_name, str(None if key is None else item.get(key)), item)
                for (var, list_name, key), item in zip(names, items)
            }
            value = interp.eval(code.comparisons[k], bindings).value
            if value is UNKNOWN:
                raise _Fallback()
            return bool(value)  # a comparison: True or False once known

        try:
            return code.function(values, day, code.constants, exact, hits, unknown, na, items)
        except (_Fallback, ZeroDivisionError, OverflowError):
            return 0
