"""What every backend shares: choosing the modules in force, and turning decisions into a report.

A backend only *decides*: for each rule of the selected modules, matched / not_matched /
undetermined / not_applicable. Explaining -- evidence for matches, the missing facts of
undetermined rules -- is done here, once, by the reference interpreter, so that every backend's
reports are explained identically. A backend decision the interpreter does not reproduce is raised
as an error rather than reported.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import partial
from datetime import date
from typing import Any, Callable, ClassVar, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, cast

from .ir import CompiledModule, CompiledRule, OverlayVariant, RuleSetIR
from .ir.ruleset import ModuleJson
from .errors import EvaluationError
from .interpreter import UNKNOWN, Atom, Interpreter, ItemBinding, Presumed, Reads, RuleVerdict, _display
from .ir.lowered import OUTCOMES
from .expr.types import DATE, LIST, NUMBER
from .model import FactSpec, ForEach, Rule
from .records import Record, RecordParser, check_value
from .report import Determination, Evidence, Explanation, Notice, PresumptionUsed, Report, ReportBody, RuleIds, UndeterminedRule


@dataclass(frozen=True)
class Selection:
    """The modules that judge one record: in force on the day, for its industry and jurisdiction."""

    day: date
    modules: Tuple[CompiledModule, ...]
    notices: Tuple[Notice, ...]


@dataclass(frozen=True)
class ModuleVector:
    """A module decided in one go, by rule index: matched, not applicable, and rules decided by the
    interpreter (with their verdicts); every other rule of the module is not matched."""

    hits: Tuple[int, ...]
    undetermined: Tuple[int, ...]
    not_applicable: Tuple[int, ...]
    interpreted: Mapping[int, RuleVerdict]
    #: for a rule over a list: positions of its matched and of its undetermined items
    items: Mapping[int, Tuple[Sequence[int], Sequence[int]]] = field(default_factory=dict)


@dataclass
class Decisions:
    """A backend's answer for one record: per rule id in ``outcomes`` (``verdicts`` may carry ready
    explanations from the interpreter), or per module in ``vectors``."""

    scopes: Dict[str, Optional[bool]] = field(default_factory=dict)
    outcomes: Dict[str, str] = field(default_factory=dict)
    verdicts: Dict[str, RuleVerdict] = field(default_factory=dict)
    vectors: Dict[str, ModuleVector] = field(default_factory=dict)
    #: the reference interpreter the backend used for this record, if any (the report reuses it)
    interpreter: Optional[Interpreter] = None


#: what a backend that decides plain records in one call returns: (report head, the layout of the
#: outcomes, the outcome bytes, a snapshot of the record) -- data, made into a report by
#: :func:`safetyrules.report.deferred_report` and read through :class:`OutcomeLayout`
PlainDecision = Tuple[Tuple[Any, ...], "OutcomeLayout", bytes, Dict[str, Any]]


#: a determination's explanation: its evidence, the facts it read, the presumptions that decided it
ExplainedFacts = Tuple[Tuple[Evidence, ...], Reads, Tuple[PresumptionUsed, ...]]
#: a rule over a list: the positions of its matched items and of its undetermined ones
ItemPositions = Tuple[Sequence[int], Sequence[int]]


def _for_each(rule: Rule) -> ForEach:
    """The list a rule runs over; only called for rules that have one."""
    if rule.for_each is None:
        raise EvaluationError(f"internal error: rule {rule.id} is not over a list")
    return rule.for_each


class Backend(ABC):
    """An executor of the compiled rule set. Implementations live in ``safetyrules.backends``.

    Every backend decides parsed records (:meth:`decide`). A backend may also decide the plainest
    records -- dicts as they come from JSON -- in one call, without making a :class:`Record`
    (:attr:`decide_plain`): it returns a :data:`PlainDecision`, or None to decline, and the caller
    then parses the record (which names any problem) and calls :meth:`decide`.
    """

    name: ClassVar[str] = "abstract"
    #: ``decide_plain(raw, as_of, jurisdiction)``, when the backend has such an entry
    decide_plain: Optional[Callable[[Any, Optional[date], Optional[str]], Optional[PlainDecision]]] = None

    def __init__(self, ir: RuleSetIR, *, compiled: bool = True):
        self.ir = ir

    @abstractmethod
    def decide(self, record: Record, selection: Selection) -> Decisions:
        """Decide every rule of ``selection.modules`` for ``record``."""

    def close(self) -> None:  # noqa: B027 - optional: only backends that hold engine state override it
        """Release engine resources (durable-rules keeps process-global state)."""


def engine_info(ir: RuleSetIR) -> Dict[str, Any]:
    """What a report says produced it: the library and the packs, with their versions, and whether
    exceptions read presumptions (false in strict mode)."""
    from . import __version__
    from .packs import describe as describe_pack

    return {
        "library": "safetyrules",
        "library_version": __version__,
        "packs": [describe_pack(p) for p in ir.packs],
        "presumptions": ir.presumptions,
    }


def select_modules(ir: RuleSetIR, record: Record, as_of: Optional[date] = None, jurisdiction: Optional[str] = None) -> Selection:
    day = as_of or record.inspection_date
    region = jurisdiction or record.region
    candidates = [
        m
        for m in ir.modules
        if record.industry in m.module.industries
        and (m.module.jurisdiction.level == "national" or m.module.jurisdiction.code == region)
    ]
    chosen = tuple(m for m in candidates if m.module.in_force(day))
    notices: List[Notice] = []
    if region and ir.variants:
        # A provincial supplement in force changes the national modules it extends, for its province.
        in_force_ids = {m.id for m in chosen}
        swap: Dict[str, OverlayVariant] = {}
        for v in ir.variants:
            if v.region == region and v.overlay_module_id in in_force_ids and v.base_module_id in in_force_ids:
                if v.base_module_id in swap:
                    notices.append(
                        Notice(
                            "OVERLAY-CONFLICT",
                            f"two supplements change {v.base_module_id}; only {swap[v.base_module_id].overlay_module_id} is applied",
                        )
                    )
                    continue
                swap[v.base_module_id] = v
        if swap:
            chosen = tuple(swap[m.id].module if m.id in swap else m for m in chosen)
            for v in swap.values():
                summary = "; ".join(f"{c.rule_id} {c.action}" for c in v.changes)
                notices.append(
                    Notice(
                        "OVERLAY",
                        f"{v.base_module_id} is applied as changed by {v.overlay_module_id} for {region}: {summary}",
                        v.overlay_module_id,
                    )
                )
    by_series: Dict[str, List[CompiledModule]] = {}
    for m in candidates:
        by_series.setdefault(m.module.series, []).append(m)
    for series, versions in sorted(by_series.items()):
        not_started = all(day < v.module.effective_from for v in versions)
        if not_started and chosen:
            continue  # a standard that does not exist yet is no gap, while others judge the record
        if not any(v.module.in_force(day) for v in versions):
            spans = ", ".join(
                f"{v.id} {v.module.effective_from.isoformat()}–{v.module.effective_until.isoformat() if v.module.effective_until else ''}"
                for v in sorted(versions, key=lambda v: v.module.effective_from)
            )
            notices.append(
                Notice("NO-VERSION-IN-FORCE", f"no version of {series!r} is in force on {day.isoformat()} (versions: {spans})")
            )
    for m in chosen:
        if m.module.completeness == "partial":
            notices.append(
                Notice(
                    "PARTIALLY-ENCODED",
                    f"《{m.module.document.title}》{m.module.document.number} is only partly encoded: "
                    f"{m.module.completeness_notes or 'see the module metadata'}. Items not encoded were not checked.",
                    m.id,
                )
            )
        if m.module.illustration:
            notices.append(Notice("ILLUSTRATION", f"module {m.id} is an illustration, not a real document", m.id))
    # A document in force with none of its items encoded judged nothing: it is not "applied", so a
    # record that only it covers is "no criteria applied" (not compliant), never "no hazard found".
    chosen = tuple(m for m in chosen if m.rules or m.module.completeness != "partial")
    if not candidates:
        notices.append(Notice("NO-MODULES", f"no loaded module covers industry {record.industry!r}"))
    return Selection(day, chosen, tuple(notices))


def build_report(
    ir: RuleSetIR,
    record: Record,
    selection: Selection,
    decisions: Decisions,
    backend: str,
    engine_info: Mapping[str, object],
) -> Report:
    determinations, undetermined, not_matched, not_applicable, applied, skipped = report_lists(
        ir, record, selection, decisions, backend
    )
    return Report(
        record.record_id,
        record.inspection_date,
        selection.day,
        backend,
        determinations,
        undetermined,
        not_matched,
        not_applicable,
        applied,
        skipped,
        selection.notices,
        dict(engine_info),
    )


def report_lists(ir: RuleSetIR, record: Record, selection: Selection, decisions: Decisions, backend: str) -> ReportBody:
    """A report's lists from a backend's decisions: (determinations, undetermined, not_matched,
    not_applicable, modules_applied, modules_not_applicable), explanations deferred."""
    return _Lists(ir, record, selection, decisions, backend).build()


class _Lists:
    """Builds one report's lists. Explanations are deferred to the reference interpreter, which also
    re-checks every decision it explains: a backend decision it does not reproduce is an error."""

    def __init__(self, ir: RuleSetIR, record: Record, selection: Selection, decisions: Decisions, backend: str):
        self.record = record
        self.selection = selection
        self.decisions = decisions
        self.backend = backend
        self.interp = decisions.interpreter or Interpreter(ir, record, selection.day)
        self.determinations: List[Determination] = []
        self.undetermined: List[UndeterminedRule] = []

    def build(self) -> ReportBody:
        decisions = self.decisions
        not_matched, not_applicable = RuleIds(), RuleIds()
        applied, skipped = [], []
        for cm in self.selection.modules:
            m = cm.module
            scope = decisions.scopes.get(cm.id, True)
            if scope is False:
                skipped.append({"id": cm.id, "reason": "out of scope", "scope": m.scope_text})
                not_applicable.add_all(cm.rule_ids)
                continue
            applied.append(m._summary_json)
            scope_needs = frozenset() if scope is not None else self.interp.scope(cm).needs
            module_json = cm.module_json
            vector = decisions.vectors.get(cm.id)
            if vector is not None and not (vector.hits or vector.undetermined or vector.not_applicable or vector.interpreted):
                not_matched.add_all(cm.rule_ids)  # the common case: nothing in this module applies to the site
                continue
            if vector is not None:
                interpreted = vector.interpreted
                interpreted_nm = {i for i, v in interpreted.items() if v.outcome == "not_matched"}
                interpreted_na = {i for i, v in interpreted.items() if v.outcome == "not_applicable"}
                special = {*vector.hits, *vector.undetermined, *vector.not_applicable, *interpreted}
                # lists keep the modules' rule order, whichever way each rule was decided
                not_matched.add_all_but(cm.rule_ids, special - interpreted_nm)
                not_applicable.add_indices(cm.rule_ids, sorted({*vector.not_applicable, *interpreted_na}))
                undetermined_set = set(vector.undetermined)
                for index in sorted({*vector.hits, *undetermined_set, *interpreted} - interpreted_nm - interpreted_na):
                    compiled = cm.rules[index]
                    verdict = interpreted.get(index)
                    if verdict is not None:
                        outcome = verdict.outcome
                    else:
                        outcome = "undetermined" if index in undetermined_set else "matched"
                    if scope is None and outcome == "matched":
                        outcome = "undetermined"
                    if verdict is None:
                        self.decided(compiled, outcome, scope, scope_needs, module_json, vector.items.get(index))
                    else:
                        self.explain(compiled, outcome, verdict, scope, scope_needs, module_json)
                continue
            for compiled in cm.rules:
                given = decisions.outcomes.get(compiled.id)
                if given is None:
                    raise EvaluationError(f"backend {self.backend!r} gave no decision for rule {compiled.id}")
                if given == "not_matched":
                    not_matched.add(compiled.id)
                elif given == "not_applicable":
                    not_applicable.add(compiled.id)
                else:
                    self.explain(compiled, given, decisions.verdicts.get(compiled.id), scope, scope_needs, module_json)
        return (tuple(self.determinations), tuple(self.undetermined), not_matched, not_applicable, tuple(applied), tuple(skipped))

    def decided(
        self,
        compiled: CompiledRule,
        outcome: str,
        scope: Optional[bool],
        scope_needs: FrozenSet[str],
        module_json: ModuleJson,
        positions: Optional[ItemPositions] = None,
    ) -> None:
        """A rule the backend decided matched or undetermined, explained when read (a rule over a
        list with its items' positions: each matched item on its own)."""
        if positions is not None and not (scope is None and positions[0]):
            self.explain_items(compiled, outcome, positions, scope, scope_needs, module_json)
        else:
            self.explain(compiled, outcome, None, scope, scope_needs, module_json)

    def from_outcomes(self, out: bytes, offsets: Tuple[int, ...], item_positions: Callable[[Tuple[int, ...]], Any]) -> ReportBody:
        """The report's lists from compact decisions: one byte per module scope, then one per rule
        (see :class:`OutcomeLayout`); the rules not matched and not applicable are listed from the
        bytes when read. ``item_positions(program rule indices)`` gives the matched and undetermined
        items of rules over lists."""
        not_matched, not_applicable = RuleIds(), RuleIds()
        applied: List[Dict[str, Any]] = []
        skipped: List[Dict[str, Any]] = []
        #: (module, scope, matched and undetermined rule indices, their item positions by index)
        decided: List[Tuple[CompiledModule, Optional[bool], Tuple[int, ...], Tuple[int, ...], Dict[int, Any]]] = []
        #: (a module's item positions, rule index in the module, rule index in the program)
        over_items: List[Tuple[Dict[int, Any], int, int]] = []
        n_modules = len(offsets)
        for m, (cm, offset) in enumerate(zip(self.selection.modules, offsets)):
            scope = _SCOPES[out[m]]
            if scope is False:
                skipped.append({"id": cm.id, "reason": "out of scope", "scope": cm.module.scope_text})
                not_applicable.add_all(cm.rule_ids)
                continue
            applied.append(cm.module._summary_json)
            part = out[offset : offset + len(cm.rules)]
            if not part.strip(b"\x00"):
                not_matched.add_all(cm.rule_ids)  # the common case: nothing in this module applies to the site
                continue
            not_matched.add_where(cm.rule_ids, part.translate(_MASKS[0]))
            not_applicable.add_where(cm.rule_ids, part.translate(_MASKS[3]))
            hits, undetermined = _positions(part, 1), _positions(part, 2)
            items: Dict[int, Any] = {}
            decided.append((cm, scope, hits, undetermined, items))
            first = offset - n_modules
            over_items.extend((items, i, first + i) for i in hits + undetermined if cm.rules[i].rule.for_each is not None)
        if over_items:
            # which items matched and which are undetermined, so that each is explained on its own
            found = item_positions(tuple(r for _, _, r in over_items))
            for items, i, r in over_items:
                if found and r in found:
                    items[i] = found[r]
        for cm, scope, hits, undetermined, items in decided:
            scope_needs = frozenset() if scope is not None else self.interp.scope(cm).needs
            module_json = cm.module_json
            for index in sorted(hits + undetermined):
                outcome = "matched" if index in hits else "undetermined"
                self.decided(cm.rules[index], outcome, scope, scope_needs, module_json, items.get(index))
        return (tuple(self.determinations), tuple(self.undetermined), not_matched, not_applicable, tuple(applied), tuple(skipped))

    # ----------------------------------------------------------------- explanations (on first use)
    def checked_verdict(
        self, compiled: CompiledRule, outcome: str, scope: Optional[bool], verdict: Optional[RuleVerdict] = None
    ) -> RuleVerdict:
        """The interpreter's verdict (given, or worked out now), which must agree with the backend."""
        verdict = verdict or self.interp.rule(compiled)
        expected = verdict.outcome
        if scope is None and expected == "matched":
            expected = "undetermined"
        if expected != outcome:
            raise EvaluationError(
                f"backend {self.backend!r} decided {outcome} for rule {compiled.id} on record {self.record.record_id}, "
                f"but the reference semantics give {expected}"
            )
        return verdict

    def evidence(self, compiled: CompiledRule, outcome: str, scope: Optional[bool]) -> ExplainedFacts:
        return _evidence_and_facts(self.checked_verdict(compiled, outcome, scope))

    def needs(self, compiled: CompiledRule, outcome: str, scope: Optional[bool], scope_needs: FrozenSet[str]) -> Tuple[str, ...]:
        return tuple(sorted(self.checked_verdict(compiled, outcome, scope).needs | scope_needs))

    def item_evidence(self, compiled: CompiledRule, position: int, key: str) -> ExplainedFacts:
        rule = compiled.rule
        for_each = _for_each(rule)
        entry = self.record.values[for_each.list_name][position]
        binding = ItemBinding(for_each.list_name, key, entry)
        verdict = self.interp._decide(rule, {for_each.var: binding})
        if verdict.outcome != "matched":
            raise EvaluationError(
                f"backend {self.backend!r} matched rule {compiled.id} on item {binding.key} of record "
                f"{self.record.record_id}, but the reference semantics give {verdict.outcome}"
            )
        return _evidence_and_facts(verdict)

    def explain_items(
        self,
        compiled: CompiledRule,
        outcome: str,
        positions: ItemPositions,
        scope: Optional[bool],
        scope_needs: FrozenSet[str],
        module_json: ModuleJson,
    ) -> None:
        """A rule over a list decided by the backend with its items' positions: one determination per
        matched item, each explained on first use, and the undetermined items' missing facts likewise."""
        list_name = _for_each(compiled.rule).list_name
        matched, unknown_items = positions
        keys = _item_keys(self.record.values, list_name, self.interp.vocabulary[list_name])
        if outcome == "matched":
            for j in matched:
                key = keys(j)
                lazy = Explanation(compute=partial(self.item_evidence, compiled, j, key))
                self.determinations.append(_determination(compiled, module_json, lazy, item=key))
            if not unknown_items:
                return
        lazy = Explanation(compute=partial(self.needs, compiled, outcome, scope, scope_needs))
        self.undetermined.append(_undetermined(compiled, lazy, tuple(keys(j) for j in unknown_items)))

    def explain(
        self,
        compiled: CompiledRule,
        outcome: str,
        verdict: Optional[RuleVerdict],
        scope: Optional[bool],
        scope_needs: FrozenSet[str],
        module_json: ModuleJson,
    ) -> None:
        rule = compiled.rule
        if verdict is None and rule.for_each is None:
            # Decided by the backend alone: explain on first use (one interpreter run per rule, cached).
            if outcome == "matched":
                lazy = Explanation(compute=partial(self.evidence, compiled, outcome, scope))
                self.determinations.append(_determination(compiled, module_json, lazy))
            else:
                lazy = Explanation(compute=partial(self.needs, compiled, outcome, scope, scope_needs))
                self.undetermined.append(_undetermined(compiled, lazy))
            return
        verdict = self.checked_verdict(compiled, outcome, scope, verdict)
        if outcome == "matched":
            self.determinations.extend(_determinations(compiled, verdict, module_json))
            if not verdict.undetermined_items:
                return
            # Matched on some items, undecided on others: the others still need facts.
        needs = Explanation(tuple(sorted(verdict.needs | scope_needs)))
        self.undetermined.append(_undetermined(compiled, needs, tuple(k for k, _ in verdict.undetermined_items)))


def _item_keys(values: Mapping[str, Any], list_name: str, spec: FactSpec) -> Callable[[int], str]:
    """The key naming the item at a position of a recorded list, as the interpreter names it
    (``str`` of its normalised key). A plain record's list is not normalised for this: only a key
    of a whole-number field written 3.0 reads otherwise (a date key's text is its ISO form)."""
    key_field = spec.key
    if isinstance(values, _PlainValues):
        entries = values.raw(list_name)
        whole = any(f.name == key_field and f.type.kind == NUMBER and f.type.integer for f in spec.fields)

        def plain_key(j: int) -> str:
            key = entries[j].get(key_field)
            return str(int(key) if whole and type(key) is float else key)

        return plain_key
    parsed = values[list_name]
    return lambda j: str(parsed[j].get(key_field))


def _undetermined(compiled: CompiledRule, explanation: Explanation, items: Tuple[str, ...] = ()) -> UndeterminedRule:
    rule = compiled.rule
    entry = _new(UndeterminedRule)
    entry.__dict__.update(
        rule_id=rule.id,
        title=rule.title._json,
        citation=rule.citation._json,
        module_id=rule.module_id,
        explanation=explanation,
        items=items,
    )
    return entry


def _determination(
    compiled: CompiledRule, module_json: ModuleJson, explanation: Explanation, item: Optional[str] = None
) -> Determination:
    # made from the rule's constant fields, worked out once per rule: a report may hold many
    fields = dict(_determination_fields(compiled, module_json), explanation=explanation)
    if item is not None:
        fields["item"] = item
        fields["list_name"] = compiled.rule.for_each.list_name if compiled.rule.for_each else None
    determination = _new(Determination)
    determination.__dict__.update(fields)
    return determination


_new = object.__new__


def _determination_fields(compiled: CompiledRule, module_json: ModuleJson) -> Dict[str, Any]:
    cache = compiled.__dict__.get("_determination_fields")
    if cache is None or cache[0] is not module_json:
        rule = compiled.rule
        category = {"id": rule.category.id, "title": rule.category.title._json} if rule.category else None
        fields = {
            "rule_id": rule.id,
            "title": rule.title._json,
            "citation": rule.citation._json,
            "module": module_json,
            "category": category,
            "severity": rule.severity,
            "item": None,
            "list_name": None,
            "overlay": rule.overlay.to_json() if rule.overlay is not None else None,
        }
        cache = (module_json, fields)
        compiled.__dict__["_determination_fields"] = cache  # frozen dataclass: a private memo, not a field
    return cache[1]


def _evidence_and_facts(verdict: RuleVerdict) -> ExplainedFacts:
    return (_evidence(verdict.atoms), verdict.reads, _presumptions(verdict.presumed))


def _presumptions(presumed: Presumed) -> Tuple[PresumptionUsed, ...]:
    return tuple(
        PresumptionUsed(name, p.value, p.reason._json, p.source, exception.label._json, exception.citation.rendered)
        for name, p, exception in presumed
    )


def _determinations(compiled: CompiledRule, verdict: RuleVerdict, module_json: ModuleJson) -> List[Determination]:
    if compiled.rule.for_each is None:
        return [_determination(compiled, module_json, Explanation(_evidence_and_facts(verdict)))]
    return [
        _determination(compiled, module_json, Explanation((_evidence(atoms), reads, _presumptions(presumed))), item=key)
        for key, atoms, reads, presumed in verdict.matched_items
    ]


def _evidence(atoms: Iterable[Atom]) -> Tuple[Evidence, ...]:
    return tuple(_evidence_of(a.expr, a.result, tuple(_shown(r) for r in a.reads), a.item) for a in atoms)


_PLAIN = frozenset({str, bool, int, float, type(None)})


def _shown(read: Tuple[str, Any]) -> Tuple[str, Any]:
    """A read as evidence shows it: JSON values as they are, others (dates, exact numbers) displayed."""
    return read if type(read[1]) in _PLAIN else (read[0], _display(read[1]))


def _evidence_of(expr: str, result: Optional[bool], values: Tuple[Tuple[str, Any], ...], item: Optional[str]) -> Evidence:
    """``Evidence(...)`` without the frozen dataclass's per-field checks (many per report)."""
    evidence = _new(Evidence)
    evidence.__dict__.update(expr=expr, result=result, values=values, item=item)
    return evidence


def interpret_module(cm: CompiledModule, interp: Interpreter, decisions: Decisions) -> None:
    """Decide one module's rules with the reference interpreter, keeping the explanations."""
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


def interpret_all(ir: RuleSetIR, record: Record, selection: Selection) -> Decisions:
    """Decide every selected rule with the reference interpreter."""
    interpreter = Interpreter(ir, record, selection.day)
    decisions = Decisions(interpreter=interpreter)
    for cm in selection.modules:
        interpret_module(cm, interpreter, decisions)
    return decisions


# --------------------------------------------------------------------------- compact decisions


class OutcomeLayout:
    """How compact decisions map to rules, for the records of one industry, region and date.

    A backend that decides a whole program at once (the compiled evaluator) answers with one byte per
    module scope and one per rule, in program order; this is what those positions mean (the modules
    in force, the rule at each position) and how to turn them into a report's lists, explained the
    way every backend's decisions are. Rules over lists of items need the positions of their matched
    and undetermined items: ``item_positions(facts, attributes, today, rule positions)`` asks the
    backend for them when a report is read, not while deciding.
    """

    __slots__ = (
        "ir",
        "parse",
        "day",
        "today",
        "selection",
        "offsets",
        "n_modules",
        "rule_ids",
        "position",
        "item_positions",
        "backend",
        "vocabulary",
        "checked",
    )

    def __init__(
        self,
        ir: RuleSetIR,
        parse: RecordParser,
        day: date,
        selection: Selection,
        offsets: Tuple[int, ...],
        item_positions: Callable[..., Optional[Mapping[int, Tuple[Sequence[int], Sequence[int]]]]],
        backend: str,
        industry: Optional[str] = None,
        positions: Optional[Tuple[Tuple[Optional[str], ...], Dict[str, int]]] = None,
    ):
        self.ir, self.parse, self.day, self.selection, self.offsets = ir, parse, day, selection, offsets
        self.today = day.toordinal()  # the inspection date that rules read (as_of only chooses versions)
        self.n_modules = len(selection.modules)
        #: rule id at each position of the outcome bytes (after the module scopes), and the reverse
        #: (``positions``: as :func:`outcome_positions` gives them for these modules, worked out once)
        self.rule_ids, self.position = positions or outcome_positions(selection.modules)
        self.item_positions = item_positions
        self.backend = backend
        #: the vocabulary the decided records were checked against (by the backend) and the facts
        #: whose values the general check would normalise; None: explanations parse the record
        self.vocabulary: Optional[Mapping[str, FactSpec]] = ir.vocabularies.get(industry) if industry else None
        self.checked = _checked_facts(self.vocabulary)

    def matched_ids(self, decided: PlainDecision) -> Tuple[str, ...]:
        # positions past the module scopes all hold rule ids
        return cast(Tuple[str, ...], tuple(self.rule_ids[i] for i in _positions(decided[2], 1, self.n_modules)))

    def undetermined_ids(self, decided: PlainDecision) -> Tuple[str, ...]:
        return cast(Tuple[str, ...], tuple(self.rule_ids[i] for i in _positions(decided[2], 2, self.n_modules)))

    def outcome(self, decided: PlainDecision, rule_id: str) -> str:
        i = self.position.get(rule_id)
        return "not_evaluated" if i is None else OUTCOMES[decided[2][i]]

    def record(self, decided: PlainDecision) -> "_DeferredRecord":
        """The decided record as explanations read it (its values are not checked a second time)."""
        snapshot = decided[3]
        return _DeferredRecord(snapshot["record_id"], self.day, self.parse, snapshot, self.vocabulary, self.checked)

    def build(self, decided: PlainDecision) -> ReportBody:
        """The report's lists from the outcome bytes, explained as every backend's are."""
        _, _, out, snapshot = decided
        record = self.record(decided)
        site = snapshot.get("site") or {}
        facts, attributes, today = snapshot["facts"], site.get("attributes") or None, self.today
        lists = _Lists(self.ir, record, self.selection, Decisions(), self.backend)  # type: ignore[arg-type]
        return lists.from_outcomes(out, self.offsets, lambda rules: self.item_positions(facts, attributes, today, rules))


def outcome_positions(modules: Sequence[CompiledModule]) -> Tuple[Tuple[Optional[str], ...], Dict[str, int]]:
    """The rule id at each position of compact outcome bytes (None at the module scopes), and the
    position of each rule id."""
    rule_ids = (None,) * len(modules) + tuple(rid for cm in modules for rid in cm.rule_ids)
    return rule_ids, {rid: i for i, rid in enumerate(rule_ids) if rid is not None}


#: module scope bytes of compact decisions (Kleene truth values), as the report reads them
_SCOPES = (False, True, None)
#: per outcome code, the bytes.translate table that turns outcome bytes into a mask of that code
_MASKS = tuple(bytes(1 if b == code else 0 for b in range(256)) for code in range(4))


def _positions(part: bytes, code: int, start: int = 0) -> Tuple[int, ...]:
    """The indices of ``code`` in ``part`` from ``start`` (few: matched and undetermined rules are rare)."""
    out = []
    i = part.find(code, start)
    while i >= 0:
        out.append(i)
        i = part.find(code, i + 1)
    return tuple(out)


class _DeferredRecord:
    """The record as the reference interpreter reads it, for explanations only (the decisions are
    made). The compiled evaluator accepted the record, so each value it holds is already one the
    general check accepts: its values are read from the snapshot as that check would normalise them
    (dates as dates, whole numbers of whole-number facts as ints), fact by fact when first read, and
    the rest of the record (site, findings) is validated the general way when first asked for."""

    def __init__(
        self,
        record_id: str,
        inspection_date: date,
        parse: RecordParser,
        raw: Dict[str, Any],
        vocabulary: Optional[Mapping[str, FactSpec]] = None,
        checked: FrozenSet[str] = frozenset(),
    ):
        self.record_id = record_id
        self.inspection_date = inspection_date
        site = raw["site"]
        self.industry = site["industry"]
        self.region = site.get("region")
        self._parse, self._raw = parse, raw
        self._record: Optional[Record] = None
        if vocabulary is not None:
            self.values: Any = _PlainValues(raw, vocabulary, checked, self._parsed_values)

    def _parsed_values(self) -> Mapping[str, Any]:
        return self._parsed().values

    def _parsed(self) -> Record:
        record = self._record
        if record is None:
            record = self._record = self._parse(self._raw)
        return record

    def __getattr__(self, name: str) -> Any:  # values, site, findings, fast: read through once, then kept
        if name.startswith("_"):
            raise AttributeError(name)
        record = self._parsed()
        self.values, self.site, self.findings, self.fast = record.values, record.site, record.findings, record.fast
        return getattr(record, name)


class _PlainValues:
    """A plain record's facts and site attributes as :func:`records.parse_record` gives them, each
    worked out when first read: most are the recorded value itself; a date, a whole number of a
    whole-number fact given as 3.0, and a list whose items hold either are checked (and normalised)
    by the general checker. A value that checker refuses -- which the compiled evaluator has not
    accepted -- sends every read to the general parser, which raises the error."""

    __slots__ = ("_merged", "_raw", "_vocabulary", "_checked", "_done", "_fallback")

    def __init__(
        self,
        raw: Dict[str, Any],
        vocabulary: Mapping[str, FactSpec],
        checked: FrozenSet[str],
        fallback: Callable[[], Mapping[str, Any]],
    ):
        self._raw, self._vocabulary, self._checked, self._fallback = raw, vocabulary, checked, fallback
        self._merged: Optional[Dict[str, Any]] = None
        self._done: Dict[str, Any] = {}

    def _all(self) -> Dict[str, Any]:
        merged = self._merged
        if merged is None:
            raw = self._raw
            merged = dict(raw.get("facts") or ())
            attributes = raw["site"].get("attributes")
            if attributes:
                merged.update(attributes)
            self._merged = merged
        return merged

    def get(self, name: str, default: Any = None) -> Any:
        done = self._done
        if name in done:
            return done[name]
        value = self._all().get(name)
        if value is not None and name in self._checked:
            problems: List[Tuple[str, str]] = []
            value = check_value(self._vocabulary[name], value, name, problems)
            if problems:
                value = self._fallback().get(name)
        done[name] = value
        return default if value is None else value

    def raw(self, name: str) -> Any:
        """The value as recorded (not normalised)."""
        return self._all().get(name)

    def __getitem__(self, name: str) -> Any:
        if name not in self._all():
            raise KeyError(name)
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._all()


def record_of(report: Report) -> Optional[Any]:
    """The record of a report the compiled evaluator made and nothing has read yet, as its
    explanations read it: facts read from the decided record, not checked a second time (the
    evaluator accepted it). None for any other report (then parse the record)."""
    pending = report._pending
    if pending is None:
        return None
    record: Any = pending[1].record(pending)
    return record


#: id(vocabulary) -> (vocabulary, its facts changed_by_check): a layout is made for each plan (industry,
#: region, day), and working the set out anew was a tenth of an audit's time on realistic mining records
_CHECKED: Dict[int, Tuple[Mapping[str, FactSpec], FrozenSet[str]]] = {}


def _checked_facts(vocabulary: Optional[Mapping[str, FactSpec]]) -> FrozenSet[str]:
    if vocabulary is None:
        return frozenset()
    hit = _CHECKED.get(id(vocabulary))
    if hit is not None and hit[0] is vocabulary:
        return hit[1]
    checked = frozenset(n for n, spec in vocabulary.items() if changed_by_check(spec))
    if len(_CHECKED) > 256:
        _CHECKED.clear()
    _CHECKED[id(vocabulary)] = (vocabulary, checked)
    return checked


def changed_by_check(spec: FactSpec) -> bool:
    """Whether the general check may change a valid value of this fact: dates become dates, a whole
    number of a whole-number fact written 3.0 becomes 3, and lists whose items hold either."""
    kind = spec.type.kind
    if kind == LIST:
        return any(changed_by_check(f) for f in spec.fields)
    return kind == DATE or (kind == NUMBER and bool(spec.type.integer))
