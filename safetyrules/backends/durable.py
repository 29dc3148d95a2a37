"""The durable-rules backend: the compiled rule set executed as durable-rules rulesets.

durable_rules 2.0.28 (its last release, 2020) has known faults; this backend contains each of them
(tests/backends/test_durable.py has a regression test for every one):

* rulesets are process-global and a name cannot be registered twice: every ruleset gets a name
  unique to this backend instance and process, and ``close()`` deletes them;
* ``post``/``assert`` raise ``MessageNotHandledException`` when no rule matches: the engine's low-level
  API is driven directly and "not handled" is read as "nothing fired";
* each session keeps state until deleted: every record is judged in a fresh session whose state is
  deleted afterwards, also when something fails;
* large rule networks corrupt the heap: a module is split across several rulesets of bounded
  network weight (``durable_compile.DEFAULT_BUDGET``, with the margin measured by a test);
* events are consumed by the first rule matching them: records are asserted as facts;
* a condition with ``or`` fires once per true branch: firings are collected into sets keyed by
  rule, part and item, so one record never gets a determination twice;
* no type checking: the IR is type-checked, and values are asserted in their declared type only;
* exceptions in consequents are stored silently: consequents are run by this module, and any
  exception is raised as :class:`EvaluationError` after the session has been cleaned up;
* facts with more than 255 properties fail: a record is asserted as chunk facts of at most
  ``CHUNK_PROPERTIES`` properties;
* it does not import on Python 3.13: the import error becomes a :class:`SafetyRulesError` that says
  which Pythons work and that the native backend needs nothing.

durable-rules keeps process-global state and is not thread-safe, so all access goes through one
process-wide lock: threads may share a RuleSet on this backend, but they take turns inside it.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
from datetime import date
from fractions import Fraction
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Sequence, Set, Tuple

from ..ir import CompiledRule, RuleSetIR
from ..errors import EvaluationError, SafetyRulesError
from ..evaluation import Backend, Decisions, Selection
from ..expr.types import DATE, LIST, NUMBER
from ..interpreter import UNKNOWN, Interpreter, ItemBinding, Value
from ..records import Record, exact
from . import durable_compile as dc

#: every call into durable-rules, from every backend instance, is serialised by this lock
_ENGINE_LOCK = threading.RLock()
_NAMES = itertools.count(1)

_UNSUPPORTED_PYTHON = (
    "the durable backend needs durable-rules 2.0.28, which builds and imports on CPython 3.11 and 3.12 only "
    "(this is Python {version}); install it with `pip install 'safetyrules[durable]'` on CPython <= 3.12, "
    "or use the native backend (the default), which needs nothing else"
)


class _Engine(Protocol):
    """The calls this backend makes into durable-rules' C extension (which has no type information)."""

    def create_ruleset(self, name: str, definition: str) -> int: ...
    def delete_ruleset(self, handle: int) -> None: ...
    def assert_facts(self, handle: int, facts: str) -> Tuple[int, int]: ...
    def assert_fact(self, handle: int, fact: str) -> Tuple[int, int]: ...
    def start_action_for_state(self, handle: int, state_handle: int) -> Optional[Sequence[Any]]: ...
    def complete_and_start_action(self, handle: int, state_handle: int) -> Optional[str]: ...
    def abandon_action(self, handle: int, state_handle: int) -> None: ...
    def delete_state(self, handle: int, sid: str) -> None: ...


#: what a durable action means: ("decide", unit key, part, polarity, per item), ("node", index,
#: polarity), ("atom", index), ("derive", index) or ("open",) (read by _consequent)
Descriptor = Tuple[Any, ...]
#: (unit key, part) -> list item (None: the record) -> the truth value a durable rule fired with
Fired = Dict[Tuple[dc.UnitKey, str], Dict[Optional[int], bool]]
#: a fact as asserted into durable-rules (JSON)
Fact = Dict[str, Any]


def _import_engine() -> _Engine:
    """The durable-rules C extension, or a SafetyRulesError saying why it cannot be used here."""
    version = ".".join(map(str, sys.version_info[:3]))
    try:
        import durable_rules_engine  # noqa: F401  (the C extension of durable-rules)
        from durable import engine as _durable_engine  # noqa: F401  (checks the Python half imports too)
    except ImportError as exc:
        raise SafetyRulesError(_UNSUPPORTED_PYTHON.format(version=version) + f" (import failed: {exc})") from exc
    engine: _Engine = durable_rules_engine
    return engine


class _Ruleset:
    """One durable-rules ruleset: its definition and what its actions mean."""

    def __init__(
        self,
        name: str,
        definition: Dict[str, Any],
        actions: List[Descriptor],
        chunks: Iterable[int],
        lists: Iterable[dc.ListKey],
        units: Iterable[dc.UnitKey],
    ) -> None:
        self.name = name
        self.definition = definition
        self.actions = actions  # index -> descriptor
        self.chunks = tuple(sorted(chunks))
        self.lists = tuple(sorted(lists, key=repr))
        self.units = tuple(units)
        self.handle: Optional[int] = None

    def live_handle(self) -> int:
        """The engine's handle of this ruleset; it has none before it is created and once deleted."""
        if self.handle is None:
            raise EvaluationError(f"durable ruleset {self.name} is not loaded (the backend was closed)")
        return self.handle


class _Builder:
    """Packs a module's units into rulesets and turns clauses into durable-rules JSON."""

    def __init__(self, comp: dc.Compilation, prefix: str, budget: int) -> None:
        self.comp = comp
        self.prefix = prefix
        self.budget = budget
        self.count = 0

    def module_rulesets(self, module_id: str) -> List[_Ruleset]:
        """The module's units packed in order into rulesets of at most ``budget`` durable rules."""
        out: List[_Ruleset] = []
        group: List[dc.Unit] = []
        current: Optional[_Ruleset] = None
        for key in self.comp.module_units[module_id]:
            unit = self.comp.units[key]
            candidate = self.build(group + [unit])
            if len(candidate.definition) > self.budget:
                if not group or current is None:  # this unit alone is over the budget
                    raise SafetyRulesError(
                        f"rule {key[-1]} needs {len(candidate.definition)} durable rules, more than one ruleset may "
                        f"safely hold ({self.budget}); simplify its condition or use the native backend"
                    )
                out.append(current)
                group, candidate = [unit], self.build([unit])
                if len(candidate.definition) > self.budget:
                    raise SafetyRulesError(
                        f"rule {key[-1]} needs {len(candidate.definition)} durable rules, more than one ruleset may "
                        f"safely hold ({self.budget}); simplify its condition or use the native backend"
                    )
            else:
                group = group + [unit]
            current = candidate
        out.append(current if current is not None else self.build([]))
        for rs in out:
            self.count += 1
            rs.name = f"{self.prefix}-{self.count}"
        return out

    # ------------------------------------------------------------------ JSON
    def build(self, units: List[dc.Unit]) -> _Ruleset:
        comp = self.comp
        name = ""  # named when the packing is final
        rules: Dict[str, Any] = {}
        actions: List[Descriptor] = []
        chunks: Set[int] = {0}
        lists: Set[dc.ListKey] = set()
        atoms: Set[int] = set()
        nodes: Set[int] = set()
        derived: Set[int] = set()

        def add(clause: dc.Clause, descriptor: Descriptor, list_name: Optional[dc.ListKey]) -> None:
            name = f"a{len(actions)}"
            actions.append(descriptor)
            rules[name] = {"all": self.patterns(clause, list_name, chunks)}

        for unit in units:
            list_name: Optional[dc.ListKey] = None
            if unit.list_slot is not None:
                list_name = next(key for key, i in comp.lists.items() if i == unit.list_slot)
                lists.add(list_name)
            for part, (true_clauses, false_clauses) in unit.parts.items():
                per_item = part in unit.item_parts
                for pol, clauses in ((True, true_clauses), (False, false_clauses)):
                    for clause in clauses:
                        add(clause, ("decide", unit.key, part, pol, per_item), list_name if per_item else None)
            atoms |= unit.atoms
            nodes |= unit.nodes
            derived |= unit.derived
            for fact in unit.base_facts:
                spec = comp.ir.facts.get(fact)
                if spec is not None:
                    chunks.add(comp.layout[fact][0])
        for n in sorted(nodes):
            nd = comp.nodes[n]
            if nd.list_name:
                lists.add(nd.list_name)
            for pol, clauses in ((True, nd.true_clauses), (False, nd.false_clauses)):
                for clause in clauses:
                    add(clause, ("node", n, pol), nd.list_name)
        for a in sorted(atoms):
            ad = comp.atoms[a]
            derived |= comp.derived_closure(ad.derived)
            clause = {("r", 0): []}
            if ad.item_level and ad.list_name is not None:  # an item-level atom belongs to a list
                lists.add(ad.list_name)
                clause[dc.ITEM_SLOT] = []
            for d in ad.derived:
                clause[("d", d)] = []
            add(clause, ("atom", a), ad.list_name)
        # Every session must run at least one action: durable-rules' delete_state frees an invalid
        # pointer (heap corruption, then a crash) for a session in which no action ever ran.
        add({("r", 0): []}, ("open",), None)
        by_index = {d.index: d for d in comp.derived.values()}
        for d in sorted(derived):
            dd = by_index[d]
            clause = {("r", 0): []}
            for dep in dd.deps:
                clause[("d", dep)] = []
            add(clause, ("derive", d), None)
        for d in sorted(derived):
            for fact in _base_names(comp, by_index[d].name):
                chunks.add(comp.layout[fact][0])
        return _Ruleset(name, rules, actions, chunks, lists, [u.key for u in units])

    def patterns(self, clause: dc.Clause, list_name: Optional[dc.ListKey], chunks: Set[int]) -> List[Dict[str, Any]]:
        comp = self.comp
        order = {"it": 0, "r": 1, "d": 2, "c": 3, "n": 4}
        slots = sorted(clause, key=lambda s: (order[s[0]], s[1:]))
        if not slots:
            slots = [("r", 0)]
        if len(slots) > dc.MAX_JOIN:
            raise SafetyRulesError(f"a condition joins {len(slots)} facts; durable-rules allows {dc.MAX_JOIN} here")
        out: List[Dict[str, Any]] = []
        for slot in slots:
            kind = slot[0]
            tests: List[dc.Test] = []
            if kind == "it":
                if list_name is None:  # pragma: no cover - the compiler joins items only in rules over a list
                    raise SafetyRulesError("internal error: a durable clause joins a list item outside a rule over a list")
                tests.append({"t": f"i{comp.lists[list_name]}"})
            elif kind == "r":
                chunks.add(slot[1])
                tests.append({"t": f"r{slot[1]}"})
            elif kind == "d":
                tests.append({"t": f"d{slot[1]}"})
            else:
                tests.append({"t": f"{kind}{slot[1]}"})
                item_level = (comp.atoms if kind == "c" else comp.nodes)[slot[1]].item_level
                if item_level:
                    tests.append({"k": {"it": "k"}})
            tests.extend(clause.get(slot, ()))
            alias = "it" if kind == "it" else f"{kind}{slot[1]}"
            out.append({alias: tests[0] if len(tests) == 1 else {"$and": tests}})
        return out


def _base_names(comp: dc.Compilation, derived_name: str) -> List[str]:
    d = comp.ir.derived[derived_name]
    return [r for r in d.reads if r in comp.layout]


class DurableBackend(Backend):
    """Decides rules in durable-rules; see the module docstring and docs/durable.md."""

    name = "durable"

    def __init__(self, ir: RuleSetIR, *, compiled: bool = True, budget: int = dc.DEFAULT_BUDGET) -> None:
        super().__init__(ir)
        self._engine = _import_engine()
        self.compilation = dc.Compilation(ir)
        prefix = f"safetyrules-{os.getpid()}-{next(_NAMES)}"
        builder = _Builder(self.compilation, prefix, budget)
        modules = list(ir.modules) + [v.module for v in ir.variants]
        self.rulesets: Dict[str, List[_Ruleset]] = {cm.key: builder.module_rulesets(cm.key) for cm in modules}
        self._by_derived = {d.index: d for d in self.compilation.derived.values()}
        self._sessions = itertools.count(1)
        self._closed = False
        with _ENGINE_LOCK:
            try:
                for group in self.rulesets.values():
                    for rs in group:
                        rs.handle = self._engine.create_ruleset(rs.name, json.dumps(rs.definition, ensure_ascii=False))
            except BaseException:
                self.close()
                raise

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        with _ENGINE_LOCK:
            if self._closed:
                return
            self._closed = True
            for group in self.rulesets.values():
                for rs in group:
                    if rs.handle is not None:
                        try:
                            self._engine.delete_ruleset(rs.handle)
                        except Exception:  # pragma: no cover - nothing more can be done
                            pass
                        rs.handle = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    def ruleset_sizes(self) -> Dict[str, List[int]]:
        """Number of durable rules in each ruleset, per module (for tests and docs)."""
        return {mid: [len(rs.definition) for rs in group] for mid, group in self.rulesets.items()}

    # ------------------------------------------------------------------ deciding
    def decide(self, record: Record, selection: Selection) -> Decisions:
        if self._closed:
            raise EvaluationError("the durable backend was closed")
        fired: Fired = {}
        chunk_cache: Dict[int, Fact] = {}
        item_cache: Dict[dc.ListKey, List[Fact]] = {}
        for cm in selection.modules:
            for rs in self.rulesets[cm.key]:
                facts = [self._chunk(record, c, chunk_cache) for c in rs.chunks]
                for list_name in rs.lists:
                    facts.extend(self._items(record, list_name, item_cache))
                self._run(rs, record, selection, facts, fired)
        return self._aggregate(record, selection, fired)

    def _run(self, rs: _Ruleset, record: Record, selection: Selection, facts: List[Fact], fired: Fired) -> None:
        engine = self._engine
        errors: List[str] = []
        with _ENGINE_LOCK:
            handle = rs.live_handle()
            sid = str(next(self._sessions))
            for f in facts:
                f["sid"] = sid
            asserted_nodes: Set[Tuple[int, Optional[int]]] = set()
            state_handle = None
            try:
                code, state_handle = engine.assert_facts(handle, json.dumps(facts, ensure_ascii=False))
                # code 1 is durable's MessageNotHandled: it reports that *some* fact of the batch matched
                # no rule (the Python API raises then, even when other facts did match); not an error.
                if code not in (0, 1, 3):
                    raise EvaluationError(f"durable-rules refused the record's facts (code {code})")
                result = engine.start_action_for_state(handle, state_handle)
                message = result[1] if result else None
                while message:
                    for action_name, matched in json.loads(message).items():
                        try:
                            self._consequent(rs, action_name, matched, record, selection, sid, fired, asserted_nodes)
                        except Exception as exc:  # surfaced below, never stored silently
                            errors.append(f"{type(exc).__name__}: {exc}")
                    if errors:
                        engine.abandon_action(handle, state_handle)
                        break
                    message = engine.complete_and_start_action(handle, state_handle)
            finally:
                try:
                    engine.delete_state(handle, sid)
                except Exception:
                    pass
        if errors:
            raise EvaluationError(
                f"durable backend: a consequent failed in ruleset {rs.name} on record {record.record_id}: {errors[0]}"
            )

    # ------------------------------------------------------------------ consequents
    def _consequent(
        self,
        rs: _Ruleset,
        action_name: str,
        matched: Mapping[str, Mapping[str, Any]],
        record: Record,
        selection: Selection,
        sid: str,
        fired: Fired,
        asserted_nodes: Set[Tuple[int, Optional[int]]],
    ) -> None:
        descriptor = rs.actions[int(action_name[1:])]
        kind = descriptor[0]
        if kind == "open":
            return
        item = matched.get("it")
        k = item["k"] if item is not None else None
        if kind == "decide":
            _, unit_key, part, pol, per_item = descriptor
            slot = fired.setdefault((unit_key, part), {})
            key = k if per_item else None
            prior = slot.get(key)
            if prior is not None and prior != pol:
                raise EvaluationError(f"{unit_key[-1]} {part} decided both true and false")
            slot[key] = pol
            return
        comp = self.compilation
        if kind == "node":
            _, n, pol = descriptor
            if (n, k) in asserted_nodes:
                return  # an `or` fired again: the node is already decided
            asserted_nodes.add((n, k))
            fact: Fact = {"id": f"n{n}" if k is None else f"n{n}_{k}", "sid": sid, "t": f"n{n}", "b": pol}
            if k is not None:
                fact["k"] = k
            self._assert(rs, fact)
            return
        interp = self._interpreter(record, selection, matched)
        if kind == "atom":
            ad = comp.atoms[descriptor[1]]
            items: Dict[str, ItemBinding] = {}
            if ad.item_level:
                if ad.var is None or ad.list_name is None or k is None:  # pragma: no cover - joined with an item
                    raise EvaluationError(f"durable action {action_name} decides an item atom without an item")
                items = {ad.var: self._binding(record, ad.list_name, k)}
            value = interp.eval(ad.node, items).value
            fact = {"id": f"c{ad.index}" if k is None else f"c{ad.index}_{k}", "sid": sid, "t": f"c{ad.index}"}
            if k is not None:
                fact["k"] = k
            if value is not UNKNOWN:
                fact["b"] = bool(value)
            self._assert(rs, fact)
            return
        if kind == "derive":
            dd = self._by_derived[descriptor[1]]
            value = interp.derived(dd.name).value
            fact = {"id": f"d{dd.index}", "sid": sid, "t": f"d{dd.index}"}
            if value is not UNKNOWN:
                fact["v"] = self._code(dd.kind, dd.rank_key, value)
                fact["x"] = _exact_text(value)
            self._assert(rs, fact)
            return
        raise EvaluationError(f"unknown durable action {descriptor!r}")  # pragma: no cover

    def _assert(self, rs: _Ruleset, fact: Fact) -> None:
        code, _ = self._engine.assert_fact(rs.live_handle(), json.dumps(fact, ensure_ascii=False))
        if code == 2:
            raise EvaluationError(f"durable-rules saw fact {fact['id']} twice")

    def _interpreter(self, record: Record, selection: Selection, matched: Mapping[str, Mapping[str, Any]]) -> Interpreter:
        """A fresh evaluator whose derived facts are exactly the values the matched facts carry."""
        interp = Interpreter(self.ir, record, selection.day)
        for alias, fact in matched.items():
            if alias.startswith("d"):
                dd = self._by_derived[int(alias[1:])]
                interp._derived[dd.name] = Value(_from_exact_text(dd, fact.get("x")))
        return interp

    def _binding(self, record: Record, list_key: dc.ListKey, k: int) -> ItemBinding:
        list_name = list_key[0]
        spec = self.ir.vocabularies.get(record.industry, self.ir.facts)[list_name]
        entry = record.values[list_name][k]
        return ItemBinding(list_name, str(entry.get(spec.key)), entry)

    # ------------------------------------------------------------------ encoding the record
    def _code(self, kind: str, rank_key: dc.RankKey, value: Any) -> Any:
        if kind == "number":
            return dc.rank_code(self.compilation.ranks.get(rank_key, ()), exact(value))
        if kind == "date":
            return value.toordinal()
        return value

    def _chunk(self, record: Record, chunk: int, cache: Dict[int, Fact]) -> Fact:
        fact = cache.get(chunk)
        if fact is None:
            comp = self.compilation
            fact = {"id": f"r{chunk}", "t": f"r{chunk}"}
            if chunk == 0:
                fact["dt"] = record.inspection_date.toordinal()
            for name, value in record.values.items():
                place = comp.layout.get(name)
                if place is None or place[0] != chunk or value is None:  # a recorded null: not recorded
                    continue
                spec = self.ir.vocabularies.get(record.industry, comp.ir.facts).get(name) or comp.ir.facts[name]
                kind = spec.type.kind
                if kind == LIST:
                    fact[place[1]] = len(value)
                elif kind == NUMBER:
                    fact[place[1]] = dc.rank_code(comp.ranks.get(("f", name), ()), exact(value))
                elif kind == DATE:
                    fact[place[1]] = value.toordinal()
                else:
                    fact[place[1]] = value
            cache[chunk] = fact
        return dict(fact)

    def _items(self, record: Record, list_key: dc.ListKey, cache: Dict[dc.ListKey, List[Fact]]) -> List[Fact]:
        out = cache.get(list_key)
        if out is None:
            comp = self.compilation
            out = []
            list_name = list_key[0]
            index = comp.list_index(list_key)
            fields = comp.list_fields[list_key]
            spec = self.ir.vocabularies.get(record.industry, self.ir.facts).get(list_name)
            entries = record.values.get(list_name) or ()
            if spec is None or tuple(f.name for f in spec.fields) != list_key[1]:
                entries = ()  # declared differently in this record's industry: not this ruleset's list
            for k, entry in enumerate(entries):
                fact: Fact = {"id": f"i{index}_{k}", "t": f"i{index}", "k": k}
                for fname, value in entry.items():
                    if value is None or fname not in fields:
                        continue
                    idx, fspec = fields[fname]
                    kind = fspec.type.kind
                    if kind == NUMBER:
                        value = dc.rank_code(comp.ranks.get(("i", list_key, fname), ()), exact(value))
                    elif kind == DATE:
                        value = value.toordinal()
                    fact[f"f{idx}"] = value
                out.append(fact)
            cache[list_key] = out
        return [dict(f) for f in out]

    # ------------------------------------------------------------------ the interpreter's table
    def _aggregate(self, record: Record, selection: Selection, fired: Fired) -> Decisions:
        decisions = Decisions()

        def tri(unit_key: dc.UnitKey, part: str, k: Optional[int] = None, present: bool = True) -> Optional[bool]:
            if not present:
                return True  # no such condition: it holds
            return fired.get((unit_key, part), {}).get(k)

        for cm in selection.modules:
            scope: Optional[bool] = True
            if cm.module.scope is not None:
                scope = tri(("scope", cm.key), "scope")
            decisions.scopes[cm.id] = scope
            for compiled in cm.rules:
                if scope is False:
                    decisions.outcomes[compiled.id] = "not_applicable"
                    continue
                outcome = self._rule_outcome(compiled, cm.key, record, tri)
                if scope is None and outcome == "matched":
                    outcome = "undetermined"
                decisions.outcomes[compiled.id] = outcome
        return decisions

    def _rule_outcome(self, compiled: CompiledRule, module_key: str, record: Record, tri: Callable[..., Optional[bool]]) -> str:
        rule = compiled.rule
        key = ("rule", module_key, rule.id)
        unit = self.compilation.units[key]
        has_applies = rule.applies_if is not None
        if rule.for_each is None:
            return _combine(tri(key, "applies", None, has_applies), tri(key, "when"))
        items = record.values.get(rule.for_each.list_name)
        if items is None:
            if has_applies and "applies" not in unit.item_parts:
                applies = tri(key, "applies")
                if applies is False:
                    return "not_applicable"
            return "undetermined"
        matched = undetermined = applicable = 0
        for k in range(len(items)):
            applies = tri(key, "applies", k if "applies" in unit.item_parts else None, has_applies)
            when = tri(key, "when", k if "when" in unit.item_parts else None)
            outcome = _combine(applies, when)
            if outcome != "not_applicable":
                applicable += 1
            if outcome == "matched":
                matched += 1
            elif outcome == "undetermined":
                undetermined += 1
        if matched:
            return "matched"
        if undetermined:
            return "undetermined"
        if applicable == 0:
            return "not_applicable"
        return "not_matched"


def _combine(applies: Optional[bool], when: Optional[bool]) -> str:
    """Interpreter._decide, on truth values: see interpreter.py."""
    if applies is False:
        return "not_applicable"
    if applies is None:
        return "not_matched" if when is False else "undetermined"
    if when is True:
        return "matched"
    if when is False:
        return "not_matched"
    return "undetermined"


def _exact_text(value: Any) -> Any:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _from_exact_text(dd: dc.DerivedDef, text: Any) -> Any:
    if text is None:
        return UNKNOWN
    if dd.kind == "number":
        return Fraction(text)
    if dd.kind == "date":
        return date.fromisoformat(text)
    return text
