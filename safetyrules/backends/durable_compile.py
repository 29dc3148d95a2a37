"""IR -> durable-rules ruleset definitions (the compiling half of the durable backend).

Nothing here imports durable-rules: this module turns the typed IR into plain JSON ruleset
definitions plus the Python tables that give their consequents a meaning, so it can be tested (and
its output inspected) on a Python where durable-rules does not import.

How a rule is represented (see docs/durable.md for the full argument):

* Every condition (module scope, ``applies_if``, ``when``) is compiled twice, into the durable
  conditions under which it is definitely TRUE and definitely FALSE on the known facts, with
  negation pushed down to the atoms and presence compiled in (a test on an absent property never
  matches). Neither firing means UNKNOWN: Kleene's three-valued logic falls out of two-valued
  pattern matching.
* The record is asserted as *facts* (never events, which the first matching rule would consume):
  its base facts as properties of a few "chunk" facts of at most ``CHUNK_PROPERTIES`` properties
  each (durable-rules fails on facts with more than 255 properties), and one fact per list item.
* Exactness: a number is never given to durable-rules as a float. For each numeric term (a fact, an
  item field or a derived fact) the literals it is compared with directly are collected at compile
  time and sorted; a value is asserted as its exact *rank code* among them (``2i+1`` when it equals
  the ``i``-th literal, ``2i`` when it lies strictly between literals ``i-1`` and ``i``), computed
  with exact rationals. ``x > L_j`` is then the integer comparison ``code > 2j+1``, which
  durable-rules decides exactly. Dates are asserted as day ordinals (integers).
* Derived facts are forward-chained: a durable rule per derived fact fires on the facts it is
  computed from (its record chunk and the derived facts it reads), and its consequent computes the
  value exactly (shared Python arithmetic over the typed tree, the reference interpreter's) and
  asserts it as a new fact, which the rules reading it then match.
* Atoms that are not a term compared with literals (arithmetic such as ``a > b * 110%``, two facts
  compared, quantifiers, ``if``) are *computed atoms*: a durable rule fires on the facts the atom
  reads and its consequent decides the atom exactly in shared Python code, asserting its truth as a
  fact (nothing when unknown). The boolean structure above the atoms stays in durable-rules.
* A condition whose TRUE/FALSE form would need more than ``MAX_CLAUSES`` alternatives is split
  with an intermediate "node" fact (Tseitin style) decided by its own pair of durable rules.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from datetime import date
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Union

from ..ir import CompiledModule, CompiledRule, RuleSetIR
from ..expr import ast
from ..expr.language import COMPARISONS
from ..expr.types import BOOLEAN, DATE, ENUM, LIST, NUMBER, STRING, Type
from ..model import FactSpec
from ..records import exact

#: properties per record chunk fact (durable-rules fails above 255; keep a wide margin)
CHUNK_PROPERTIES = 100
#: alternatives (durable rules) one condition polarity may expand to before a node fact is introduced
MAX_CLAUSES = 8
#: facts one durable rule may join (the engine keeps at most 16 per frame)
MAX_JOIN = 8
#: durable rules per ruleset. Measured here: rulesets of 101 durable rules of the shapes this compiler
#: emits fail (error 303, then heap corruption) and 151 single-comparison ones crash, while 91 work;
#: 48 keeps a margin of about two. tests/backends/test_durable.py checks both sides.
DEFAULT_BUDGET = 48

_FLIP = {symbol: c.flipped for symbol, c in COMPARISONS.items()}
_NEGATE = {symbol: c.negation for symbol, c in COMPARISONS.items()}
_DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}

#: one fact a durable rule joins: ("r", chunk), ("it", 0) (the list item), ("d", idx), ("c", idx), ("n", idx)
Slot = Tuple[str, int]
ITEM_SLOT: Slot = ("it", 0)
#: one durable-rules test on a fact's properties (JSON)
Test = Dict[str, Any]
#: a conjunction of tests, per fact joined
Clause = Dict[Slot, List[Test]]
#: a list as one industry declares it: (list fact name, its item field names)
ListKey = Tuple[str, Tuple[str, ...]]
#: the literals a numeric term is ranked among: ("f", fact or derived fact) or ("i", list, item field)
RankKey = Union[Tuple[str, str], Tuple[str, ListKey, str]]
#: ("scope", module key) or ("rule", module key, rule id); a module key names a provincial variant too
UnitKey = Tuple[str, ...]
#: a literal's value as the syntax tree holds it
LiteralValue = Union[Fraction, str, bool, date]


@dataclass
class Term:
    """Where a directly testable value lives, and how it is encoded."""

    slot: Slot
    prop: str
    kind: str  # number | date | plain
    rank_key: Optional[RankKey] = None


@dataclass
class AtomDef:
    """A computed atom: decided exactly in a consequent, asserted as ``{t: c<idx>, [k], b}``."""

    index: int
    node: ast.Node
    item_level: bool
    derived: Tuple[int, ...]  # derived facts it reads (joined, forward-chained)
    list_name: Optional[ListKey] = None
    var: Optional[str] = None


@dataclass
class NodeDef:
    """An intermediate truth fact ``{t: n<idx>, [k], b}`` decided by durable rules."""

    index: int
    item_level: bool
    true_clauses: List[Clause]
    false_clauses: List[Clause]
    list_name: Optional[ListKey] = None


@dataclass
class DerivedDef:
    index: int
    name: str
    kind: str
    rank_key: RankKey
    deps: Tuple[int, ...]  # direct derived dependencies


@dataclass
class Unit:
    """The durable rules of one IR rule (or of one module's scope), with what they rely on."""

    key: UnitKey
    parts: Dict[str, Tuple[List[Clause], List[Clause]]]  # part -> (true clauses, false clauses)
    item_parts: FrozenSet[str]  # parts decided per list item
    list_slot: Optional[int] = None
    atoms: FrozenSet[int] = frozenset()
    nodes: FrozenSet[int] = frozenset()
    derived: FrozenSet[int] = frozenset()
    base_facts: FrozenSet[str] = frozenset()

    def weight(self) -> int:
        return sum(len(t) + len(f) for t, f in self.parts.values())


class UnsupportedCondition(Exception):
    pass


class Compilation:
    """Compiles every module of an IR into units of durable clauses, over shared tables."""

    def __init__(self, ir: RuleSetIR) -> None:
        self.ir = ir
        self.atoms: List[AtomDef] = []
        self.nodes: List[NodeDef] = []
        self.derived: Dict[str, DerivedDef] = {}
        #: a list is keyed by (name, field names): one list name may be declared differently per industry
        self.lists: Dict[ListKey, int] = {}
        self.list_fields: Dict[ListKey, Dict[str, Tuple[int, FactSpec]]] = {}
        self._vocab: Mapping[str, FactSpec] = ir.facts
        self.ranks: Dict[RankKey, List[Fraction]] = {}
        self.units: Dict[UnitKey, Unit] = {}
        self.module_units: Dict[str, List[UnitKey]] = {}
        self._ctx_var: Optional[str] = None
        self._ctx_list: Optional[ListKey] = None
        self._cur_atoms: Set[int] = set()
        self._cur_nodes: Set[int] = set()
        self._cur_derived: Set[int] = set()
        self._atom_memo: Dict[Tuple[ast.Node, Optional[str], Optional[ListKey]], AtomDef] = {}
        #: every base fact's place: name -> (chunk, property); chunk 0 also holds the inspection date
        names = sorted(ir.facts)
        self.layout: Dict[str, Tuple[int, str]] = {name: (i // CHUNK_PROPERTIES, f"p{i}") for i, name in enumerate(names)}
        # national modules, and their variants as provincial supplements change them (keyed by cm.key)
        modules = list(ir.modules) + [v.module for v in ir.variants]
        for cm in modules:
            self._collect_literals(cm)
        self.ranks = {k: sorted(set(v)) for k, v in self.ranks.items()}
        for cm in modules:
            self.module_units[cm.key] = self._compile_module(cm)

    # ----------------------------------------------------------------- vocabulary helpers
    def spec(self, name: str) -> FactSpec:
        return self._vocab.get(name) or self.ir.facts[name]

    def list_key(self, list_name: str) -> ListKey:
        """The key of a list as the current module's industry declares it (registered on first use)."""
        spec = self.spec(list_name)
        key = (list_name, tuple(f.name for f in spec.fields))
        if key not in self.lists:
            self.lists[key] = len(self.lists)
            self.list_fields[key] = {f.name: (i, f) for i, f in enumerate(spec.fields)}
        return key

    def fact_slot(self, name: str) -> Tuple[int, str]:
        return self.layout[name]

    def list_index(self, key: ListKey) -> int:
        return self.lists[key]

    def derived_def(self, name: str) -> DerivedDef:
        d = self.derived.get(name)
        if d is None:
            expr = self.ir.derived[name].expr
            deps = tuple(self.derived_def(n.name).index for n in _direct_names(expr) if n.name in self.ir.derived)
            # a derived fact is a number, a date or a plain value (no quantifier returns a list)
            kind = _kind(ast.type_of(expr)) or "plain"
            d = DerivedDef(len(self.derived), name, kind, ("f", name), tuple(sorted(set(deps))))
            self.derived[name] = d
        return d

    def derived_closure(self, indices: Iterable[int]) -> FrozenSet[int]:
        by_index = {d.index: d for d in self.derived.values()}
        out: Set[int] = set()
        todo = list(indices)
        while todo:
            i = todo.pop()
            if i in out:
                continue
            out.add(i)
            todo.extend(by_index[i].deps)
        return frozenset(out)

    # ----------------------------------------------------------------- direct terms
    def term(self, node: ast.Node) -> Optional[Term]:
        """The durable location of a value that can be tested directly, or None."""
        if isinstance(node, ast.InspectionDate):
            return Term(("r", 0), "dt", "date")
        if isinstance(node, ast.Name):
            kind = _kind(node.ty)
            if kind is None:
                return None
            if node.name in self.ir.derived:
                d = self.derived_def(node.name)
                self._cur_derived.add(d.index)
                return Term(("d", d.index), "v", kind, ("f", node.name))
            chunk, prop = self.fact_slot(node.name)
            return Term(("r", chunk), prop, kind, ("f", node.name))
        if isinstance(node, ast.ItemField) and node.var == self._ctx_var and self._ctx_list is not None:
            kind = _kind(node.ty)
            if kind is None:
                return None
            idx = self.list_fields[self._ctx_list][node.field_name][0]
            return Term(ITEM_SLOT, f"f{idx}", kind, ("i", self._ctx_list, node.field_name))
        return None

    def _direct(self, node: ast.Node) -> Optional[Tuple[ast.Node, str, Tuple[Optional[LiteralValue], ...]]]:
        """(term node, op, literal values) for an atom durable-rules can test directly, else None."""
        if isinstance(node, ast.Compare):
            left, right, op = node.left, node.right, node.op
            if _literal(left) is not None and _literal(right) is None:
                left, right, op = right, left, _FLIP[op]
            lit = _literal(right)
            if lit is None or not _is_term_node(left, self._ctx_var):
                return None
            kind = _kind(left.ty)
            if kind == "plain" and op not in ("==", "!="):
                return None
            return left, op, (lit,)
        if isinstance(node, ast.Member):
            lits = tuple(_literal(o) for o in node.options)
            if any(v is None for v in lits) or not _is_term_node(node.operand, self._ctx_var):
                return None
            return node.operand, ("not in" if node.negated else "in"), lits
        return None

    def _collect_literals(self, cm: CompiledModule) -> None:
        def visit(node: ast.Node, var: Optional[str], list_name: Optional[ListKey]) -> None:
            self._ctx_var, self._ctx_list = var, list_name
            for n in ast.walk(node):
                direct = self._direct(n)
                if direct is None:
                    continue
                term_node, _, lits = direct
                key = _rank_key(term_node, list_name)
                if key is not None and _kind(term_node.ty) == "number":
                    self.ranks.setdefault(key, []).extend(
                        v for v in lits if isinstance(v, Fraction)
                    )  # a number: every literal is one

        self._vocab = self.ir.vocabularies.get(cm.module.industries[0], self.ir.facts)
        if cm.module.scope is not None:
            visit(cm.module.scope, None, None)
        for cr in cm.rules:
            fe = cr.rule.for_each
            var: Optional[str] = fe.var if fe else None
            lst = self.list_key(fe.list_name) if fe else None
            visit(cr.rule.decides, var, lst)
            if cr.rule.applies_if is not None:
                visit(cr.rule.applies_if, var, lst)
        self._ctx_var = self._ctx_list = None

    def literal_code(self, term: Term, value: Any) -> Any:
        if term.kind == "number":
            return rank_code(self.ranks.get(term.rank_key, ()) if term.rank_key is not None else (), value)
        if term.kind == "date":
            return value.toordinal()
        return value

    # ----------------------------------------------------------------- conditions -> clauses
    def clauses(self, node: ast.Node, pol: bool) -> List[Clause]:
        """Alternatives (each {slot: [tests]}, a conjunction) under which ``node`` is ``pol``."""
        if isinstance(node, ast.Not):
            return self.clauses(node.operand, not pol)
        if isinstance(node, ast.Boolean):
            return [{}] if node.value == pol else []
        if isinstance(node, (ast.And, ast.Or)):
            conjunctive = isinstance(node, ast.And) == pol
            parts = [self.clauses(o, pol) for o in node.operands]
            if not conjunctive:
                return _union([c for p in parts for c in p])
            return self._product(node, parts, pol)
        leaf = self._leaf(node, pol)
        if leaf is not None:
            return leaf
        return self._atom_clause(node, pol)

    def _product(self, node: Union[ast.And, ast.Or], parts: List[List[Clause]], pol: bool) -> List[Clause]:
        out: List[Clause] = [{}]
        for operand, part in zip(node.operands, parts):
            if len(out) * len(part) > MAX_CLAUSES and len(part) > 1:
                part = self._node_clause(operand, pol)
            if len(out) * len(part) > MAX_CLAUSES and len(out) > 1:
                raise UnsupportedCondition("too many alternatives")  # pragma: no cover - guarded by nodes
            out = [_merge(a, b) for a in out for b in part]
        return _union(out)

    def _node_clause(self, node: ast.Node, pol: bool) -> List[Clause]:
        item_level = _reads_var(node, self._ctx_var)
        index = len(self.nodes)
        nd = NodeDef(index, item_level, [], [], self._ctx_list if item_level else None)
        self.nodes.append(nd)
        if item_level:
            nd.true_clauses = self._item_clauses(node, True)
            nd.false_clauses = self._item_clauses(node, False)
        else:
            nd.true_clauses = self.clauses(node, True)
            nd.false_clauses = self.clauses(node, False)
        self._cur_nodes.add(index)
        return [{("n", index): [{"b": pol}]}]

    def _leaf(self, node: ast.Node, pol: bool) -> Optional[List[Clause]]:
        direct = self._direct(node)
        if direct is not None:
            term_node, op, lits = direct
            term = self.term(term_node)
            if term is None:
                return None
            codes = [self.literal_code(term, v) for v in lits]
            if op in ("in", "not in"):
                member = (op == "in") == pol
                if member:
                    tests = [{term.prop: c} for c in codes]
                    test = tests[0] if len(tests) == 1 else {"$or": tests}
                    return [{term.slot: [test]}]
                tests = [{"$ex": {term.prop: 1}}] + [{"$neq": {term.prop: c}} for c in codes]
                return [{term.slot: tests}]
            if not pol:
                op = _NEGATE[op]
            code = codes[0]
            if op == "==":
                return [{term.slot: [{term.prop: code}]}]
            tests = [{_DURABLE_OP[op]: {term.prop: code}}]
            if op == "!=":
                tests.insert(0, {"$ex": {term.prop: 1}})
            return [{term.slot: tests}]
        if isinstance(node, ast.Call) and node.func == "known":
            term = self.term(node.args[0]) if _is_term_node(node.args[0], self._ctx_var, known=True) else None
            if term is None:
                arg = node.args[0]
                if isinstance(arg, ast.Name) and ast.type_of(arg).kind == LIST:
                    chunk, prop = self.fact_slot(arg.name)
                    term = Term(("r", chunk), prop, "plain")
                else:
                    return None
            return [{term.slot: [{("$ex" if pol else "$nex"): {term.prop: 1}}]}]
        if isinstance(node, (ast.Name, ast.ItemField)) and ast.type_of(node).kind == BOOLEAN:
            term = self.term(node) if _is_term_node(node, self._ctx_var) else None
            if term is None:
                return None
            return [{term.slot: [{term.prop: pol}]}]
        return None

    def _atom_clause(self, node: ast.Node, pol: bool) -> List[Clause]:
        item_level = _reads_var(node, self._ctx_var)
        memo_key = (node, self._ctx_var if item_level else None, self._ctx_list if item_level else None)
        known = self._atom_memo.get(memo_key)
        if known is not None:
            self._cur_atoms.add(known.index)
            self._cur_derived.update(known.derived)
            return [{("c", known.index): [{"b": pol}]}]
        derived = tuple(sorted({self.derived_def(n.name).index for n in _direct_names(node) if n.name in self.ir.derived}))
        index = len(self.atoms)
        self._atom_memo[memo_key] = AtomDef(
            index, node, item_level, derived, self._ctx_list if item_level else None, self._ctx_var if item_level else None
        )
        self.atoms.append(self._atom_memo[memo_key])
        self._cur_atoms.add(index)
        self._cur_derived.update(derived)
        return [{("c", index): [{"b": pol}]}]

    # ----------------------------------------------------------------- modules
    def _begin(self, var: Optional[str] = None, list_name: Optional[ListKey] = None) -> None:
        self._ctx_var, self._ctx_list = var, list_name
        self._cur_atoms, self._cur_nodes, self._cur_derived = set(), set(), set()

    def _finish(
        self,
        key: UnitKey,
        parts: Dict[str, Tuple[List[Clause], List[Clause]]],
        item_parts: Iterable[str],
        base_facts: Iterable[str],
        list_slot: Optional[int] = None,
    ) -> Unit:
        nodes = set(self._cur_nodes)
        unit = Unit(
            key,
            parts,
            frozenset(item_parts),
            list_slot,
            frozenset(self._cur_atoms),
            frozenset(nodes),
            self.derived_closure(self._cur_derived),
            frozenset(base_facts),
        )
        self.units[key] = unit
        self._ctx_var = self._ctx_list = None
        return unit

    def _compile_module(self, cm: CompiledModule) -> List[UnitKey]:
        self._vocab = self.ir.vocabularies.get(cm.module.industries[0], self.ir.facts)
        keys: List[UnitKey] = []
        if cm.module.scope is not None:
            self._begin()
            parts = {"scope": (self.clauses(cm.module.scope, True), self.clauses(cm.module.scope, False))}
            keys.append(self._finish(("scope", cm.key), parts, (), cm.scope_base_facts).key)
        for cr in cm.rules:
            keys.append(self._compile_rule(cr, cm.key).key)
        return keys

    def _compile_rule(self, cr: CompiledRule, module_key: str) -> Unit:
        rule = cr.rule
        fe = rule.for_each
        lkey = self.list_key(fe.list_name) if fe else None
        self._begin(fe.var if fe else None, lkey)
        parts: Dict[str, Tuple[List[Clause], List[Clause]]] = {}
        item_parts: Set[str] = set()
        list_slot = self.list_index(lkey) if lkey is not None else None
        for part, node in (("when", rule.decides), ("applies", rule.applies_if)):
            if node is None:
                continue
            if fe and _reads_var(node, fe.var):
                item_parts.add(part)
                parts[part] = (self._item_clauses(node, True), self._item_clauses(node, False))
            else:
                saved = self._ctx_var
                self._ctx_var = None  # record-level: decided once, shared by every item
                parts[part] = (self.clauses(node, True), self.clauses(node, False))
                self._ctx_var = saved
        return self._finish(("rule", module_key, rule.id), parts, item_parts, cr.base_facts, list_slot)

    def _item_clauses(self, node: ast.Node, pol: bool) -> List[Clause]:
        out: List[Clause] = []
        for clause in self.clauses(node, pol):
            clause = dict(clause)
            clause.setdefault(ITEM_SLOT, [])
            out.append(clause)
        return out


# ---------------------------------------------------------------------- helpers


def rank_code(literals: Sequence[Fraction], value: Any) -> int:
    """The exact position of ``value`` among the sorted ``literals`` (see the module docstring)."""
    v = exact(value) if not isinstance(value, Fraction) else value
    i = bisect.bisect_left(literals, v)
    if i < len(literals) and literals[i] == v:
        return 2 * i + 1
    return 2 * i


def _kind(ty: Optional[Type]) -> Optional[str]:
    if ty is None:
        return None
    if ty.kind == NUMBER:
        return "number"
    if ty.kind == DATE:
        return "date"
    if ty.kind in (BOOLEAN, ENUM, STRING):
        return "plain"
    return None


def _literal(node: ast.Node) -> Optional[LiteralValue]:
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, (ast.String, ast.Boolean, ast.DateLiteral)):
        return node.value
    return None


def _is_term_node(node: ast.Node, var: Optional[str], known: bool = False) -> bool:
    if isinstance(node, ast.InspectionDate):
        return not known
    if isinstance(node, ast.Name):
        return node.ty is not None and node.ty.kind != LIST
    if isinstance(node, ast.ItemField):
        return var is not None and node.var == var
    return False


def _rank_key(node: ast.Node, list_name: Optional[ListKey]) -> Optional[RankKey]:
    if isinstance(node, ast.Name):
        return ("f", node.name)  # derived facts share the namespace of facts (names cannot clash)
    if isinstance(node, ast.ItemField) and list_name is not None:
        return ("i", list_name, node.field_name)
    return None


def _reads_var(node: ast.Node, var: Optional[str]) -> bool:
    return var is not None and any(isinstance(n, ast.ItemField) and n.var == var for n in ast.walk(node))


def _direct_names(node: ast.Node) -> List[ast.Name]:
    bound = {n.var for n in ast.walk(node) if isinstance(n, ast.Quantifier) and n.var}
    return [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.name not in bound]


def _merge(a: Clause, b: Clause) -> Clause:
    out = {k: list(v) for k, v in a.items()}
    for k, v in b.items():
        out.setdefault(k, []).extend(v)
    return out


def _union(clauses: List[Clause]) -> List[Clause]:
    """Alternatives; alternatives that all test one and the same fact become a single ``$or``."""
    if any(not c for c in clauses):
        return [{}]
    if len(clauses) > 1 and all(len(c) == 1 for c in clauses) and len({next(iter(c)) for c in clauses}) == 1:
        slot = next(iter(clauses[0]))
        alts = [_conj(c[slot]) for c in clauses]
        return [{slot: [{"$or": alts}]}]
    return clauses


def _conj(tests: List[Test]) -> Test:
    return tests[0] if len(tests) == 1 else {"$and": list(tests)}
