"""Results: what an evaluation returns, as immutable data with a stable JSON form.

The JSON form is documented in docs/results.md and has a JSON Schema
(``safetyrules/schemas/result.schema.json``). It carries enough to replay the evaluation: the record
id and date, the date the modules were chosen by, the module versions applied, the pack versions and
the library version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import compress
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Literal,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypedDict,
    Union,
    overload,
)

RESULT_SCHEMA_VERSION = 1

#: a report's verdict: typed, so that a misspelt status in an app (``== "major_hazard_fond"``) fails
#: type checking (mypy --strict-equality) instead of silently never matching
Status = Literal["major_hazard_found", "undetermined", "no_major_hazard_found", "no_applicable_criteria"]
#: what a report says of one rule
Outcome = Literal["matched", "not_matched", "undetermined", "not_applicable", "not_evaluated"]

MAJOR_HAZARD_FOUND: Status = "major_hazard_found"
UNDETERMINED: Status = "undetermined"
NO_MAJOR_HAZARD_FOUND: Status = "no_major_hazard_found"
NO_APPLICABLE_CRITERIA: Status = "no_applicable_criteria"


class _CitationBase(TypedDict):
    document: str
    document_number: str
    locator: str
    rendered: str


class CitationJson(_CitationBase, total=False):
    """A citation as reports give it (``Citation.to_json()``): exact to the item, rendered from its
    structure; the parts a document does not use are left out."""

    article: int
    paragraph: int
    item: int
    sub_item: Union[int, str]
    section: str
    clause: str
    table: str


#: how RuleIds keeps its parts until asked: one id, all of a module's ids, all but some positions, or
#: the given positions
_Part = Union[
    Tuple[Literal["one"], str],
    Tuple[Literal["all"], Tuple[str, ...]],
    Tuple[Literal["but"], Tuple[str, ...], FrozenSet[int]],
    Tuple[Literal["idx"], Tuple[str, ...], Tuple[int, ...]],
    Tuple[Literal["mask"], Tuple[str, ...], bytes],
]


class RuleIds(Sequence[str]):
    """An ordered, immutable list of rule ids, materialised on first use.

    Most rules of a pack are not matched by a given record; a report keeps them as (module rule ids,
    exceptions) and lists them only when asked, so that evaluating a record does not pay for
    copying a hundred ids it may never show.
    """

    __slots__ = ("_parts", "_items", "_set")

    def __init__(self) -> None:
        self._parts: List[_Part] = []
        self._items: Optional[Tuple[str, ...]] = None
        self._set: Optional[FrozenSet[str]] = None

    # building (before freeze)
    def add(self, rule_id: str) -> None:
        self._parts.append(("one", rule_id))

    def add_all(self, ids: Tuple[str, ...]) -> None:
        self._parts.append(("all", ids))

    def add_all_but(self, ids: Tuple[str, ...], excluded: Iterable[int]) -> None:
        self._parts.append(("but", ids, frozenset(excluded)))

    def add_indices(self, ids: Tuple[str, ...], indices: Iterable[int]) -> None:
        self._parts.append(("idx", ids, tuple(indices)))

    def add_where(self, ids: Tuple[str, ...], mask: bytes) -> None:
        """The ids at the non-zero bytes of ``mask`` (one byte per id): picked out in C when listed."""
        self._parts.append(("mask", ids, mask))

    def _materialise(self) -> Tuple[str, ...]:
        if self._items is None:
            out: List[str] = []
            for part in self._parts:
                if part[0] == "one":
                    out.append(part[1])
                elif part[0] == "all":
                    out.extend(part[1])
                elif part[0] == "but":
                    ids, excluded = part[1], part[2]
                    start = 0
                    for i in sorted(excluded):  # few: the matched and undetermined rules
                        out.extend(ids[start:i])
                        start = i + 1
                    out.extend(ids[start:])
                elif part[0] == "mask":
                    out.extend(compress(part[1], part[2]))
                else:
                    out.extend(part[1][i] for i in part[2])
            self._items = tuple(out)
            self._parts = []
        return self._items

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Tuple[str, ...]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[str, Tuple[str, ...]]:
        return self._materialise()[index]

    def __len__(self) -> int:
        return len(self._materialise())

    def __iter__(self) -> Iterator[str]:
        return iter(self._materialise())

    def __contains__(self, rule_id: object) -> bool:
        if self._set is None:
            self._set = frozenset(self._materialise())
        return rule_id in self._set

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other)  # type: ignore[arg-type]  # equal to any sequence of the same ids, as before

    def __hash__(self) -> int:
        return hash(self._materialise())

    def __repr__(self) -> str:
        return f"RuleIds({self._materialise()!r})"

    def __reduce__(self) -> Tuple[Callable[[Iterable[str]], RuleIds], Tuple[Tuple[str, ...]]]:
        return (_rule_ids_from, (self._materialise(),))


def _rule_ids_from(items: Iterable[str]) -> "RuleIds":
    ids = RuleIds()
    ids.add_all(tuple(items))
    return ids


@dataclass(frozen=True)
class Evidence:
    """One test that decided a determination: the expression, the values it read, its truth value."""

    expr: str
    result: Optional[bool]
    values: Tuple[Tuple[str, Any], ...]
    item: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        result = self.result
        values = {k: v if type(v) in _JSON_SCALARS else _json_value(v) for k, v in self.values}
        out: Dict[str, Any] = {"expr": self.expr, "result": "unknown" if result is None else result, "values": values}
        if self.item is not None:
            out["item"] = self.item
        return out


#: how an inspector's finding stood against the facts (see safetyrules.findings)
DECIDED = "decided"  # the facts could not decide the rule: the finding did
AGREES = "agrees"
CONTRADICTS = "contradicts"
NOT_EVALUATED = "not_evaluated"  # the rule's module is not in force for this record (or not of its industry)


@dataclass(frozen=True)
class InspectorFinding:
    """One finding as recorded."""

    rule_id: str
    present: bool
    item: Optional[str] = None
    note: str = ""
    evidence: Tuple[str, ...] = ()
    inspector: Optional[str] = None
    id: Optional[str] = None

    @property
    def finding(self) -> str:
        return "present" if self.present else "absent"

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"rule_id": self.rule_id, "finding": self.finding}
        if self.item is not None:
            out["item"] = self.item
        if self.note:
            out["note"] = self.note
        if self.evidence:
            out["evidence"] = list(self.evidence)
        if self.inspector is not None:
            out["inspector"] = self.inspector
        if self.id is not None:
            out["id"] = self.id
        return out


@dataclass(frozen=True)
class FindingResult:
    """A finding as the report reads it: what the facts decided, and how the finding stood against them."""

    finding: InspectorFinding
    #: the rule's outcome from the facts alone (matched, not_matched, undetermined, not_applicable, not_evaluated)
    facts_outcome: str
    #: decided | agrees | contradicts | not_evaluated
    result: str

    @property
    def contradicts(self) -> bool:
        return self.result == CONTRADICTS

    def to_json(self) -> Dict[str, Any]:
        return dict(self.finding.to_json(), facts_outcome=self.facts_outcome, result=self.result)


@dataclass(frozen=True)
class PresumptionUsed:
    """A presumption that decided an exception: the fact (or item field) not recorded, the value the
    exception read for it, and why the law supports reading it so."""

    fact: str
    value: bool
    reason: Dict[str, str]
    source: str
    #: the exception that read it: its label and the rendered citation of the clause creating it
    exception: Dict[str, str]
    exception_citation: str

    def to_json(self) -> Dict[str, Any]:
        return {
            "fact": self.fact,
            "value": self.value,
            "reason": dict(self.reason),
            "source": self.source,
            "exception": {"label": dict(self.exception), "citation": self.exception_citation},
        }


class Explanation:
    """Evidence and facts of a determination, or the missing facts of an undetermined rule.

    Either given, or computed on first use by the reference interpreter: a backend decides quickly,
    and the explanation of the (few) matched and undetermined rules is worked out when a report is
    read or serialised. Computing it also re-checks the backend's decision against the reference
    semantics and raises EvaluationError if they differ.
    """

    __slots__ = ("_compute", "_value")

    # Any: a determination's (evidence, facts) or an undetermined rule's needs; Determination and
    # UndeterminedRule give each its type. (Not generic: the backends name the bare class.)
    def __init__(self, value: Any = None, compute: Optional[Callable[[], Any]] = None) -> None:
        self._value = value
        self._compute = compute

    def get(self) -> Any:
        if self._value is None:
            assert self._compute is not None, "an Explanation is made with a value or a way to compute it"
            self._value = self._compute()
            self._compute = None
        return self._value

    def __reduce__(self) -> Tuple[Type[Explanation], Tuple[Any, None]]:
        return (Explanation, (self.get(), None))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Explanation) and bool(self.get() == other.get())

    def __hash__(self) -> int:
        return hash(self.get())


@dataclass(frozen=True)
class Determination:
    """A matched criterion: a major accident hazard, with its exact citation and evidence."""

    # title, citation, module and category are shared with the compiled rules: read them, do not
    # change them (to_json() returns copies)
    rule_id: str
    title: Dict[str, str]
    citation: CitationJson
    module: Dict[str, Any]
    category: Optional[Dict[str, Any]]
    severity: str
    explanation: Explanation = field(repr=False)
    item: Optional[str] = None
    list_name: Optional[str] = None
    #: how a provincial supplement changed this criterion (its citation and reason), if it did
    overlay: Optional[Dict[str, Any]] = None
    #: facts, or inspector_finding where the facts could not decide and the inspector's finding did
    decided_by: str = "facts"
    #: the inspector's finding that decided it (with the facts that would decide it: ``needs``)
    finding: Optional[Dict[str, Any]] = None

    @property
    def evidence(self) -> Tuple[Evidence, ...]:
        """The tests that decided it, with the values they read."""
        evidence: Tuple[Evidence, ...] = self.explanation.get()[0]
        return evidence

    @property
    def facts(self) -> Tuple[Tuple[str, Any], ...]:
        """Every fact and derived value the rule read, with its value."""
        facts: Tuple[Tuple[str, Any], ...] = self.explanation.get()[1]
        return facts

    @property
    def presumptions(self) -> Tuple[PresumptionUsed, ...]:
        """The presumptions that ruled the criterion's exceptions out (empty in strict mode): each
        an unrecorded fact read as its declaration presumes."""
        presumptions: Tuple[PresumptionUsed, ...] = self.explanation.get()[2]
        return presumptions

    def to_json(self) -> Dict[str, Any]:
        evidence, facts, presumptions = self.explanation.get()
        category = self.category
        out: Dict[str, Any] = {
            "rule_id": self.rule_id,
            "title": dict(self.title),
            "citation": dict(self.citation),
            "module": dict(self.module),
            "category": {"id": category["id"], "title": dict(category["title"])} if category else None,
            "severity": self.severity,
            "facts": _facts_json(facts),
            "evidence": [e.to_json() for e in evidence],
        }
        if self.item is not None:
            out["item"] = {"list": self.list_name, "key": self.item}
        if self.overlay is not None:
            out["overlay"] = self.overlay
        if presumptions:
            out["presumptions"] = [p.to_json() for p in presumptions]
        if self.decided_by != "facts":
            out["decided_by"] = self.decided_by
            out["finding"] = dict(self.finding or {})
        return out


@dataclass(frozen=True)
class UndeterminedRule:
    """A criterion that the recorded facts cannot decide. Never to be read as compliant."""

    rule_id: str
    title: Dict[str, str]
    citation: CitationJson
    module_id: str
    explanation: Explanation = field(repr=False)
    items: Tuple[str, ...] = ()

    @property
    def needs(self) -> Tuple[str, ...]:
        """The facts (or list item fields) that would decide it."""
        needs: Tuple[str, ...] = self.explanation.get()
        return needs

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "rule_id": self.rule_id,
            "title": dict(self.title),
            "citation": dict(self.citation),
            "module_id": self.module_id,
            "needs": list(self.needs),
        }
        if self.items:
            out["items"] = list(self.items)
        return out


@dataclass(frozen=True)
class Notice:
    code: str
    message: str
    module_id: Optional[str] = None

    def to_json(self) -> Dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.module_id:
            out["module_id"] = self.module_id
        return out


#: a report's lists: determinations, undetermined, not_matched, not_applicable, modules_applied,
#: modules_not_applicable
ReportBody = Tuple[
    Tuple[Determination, ...],
    Tuple[UndeterminedRule, ...],
    Sequence[str],
    Sequence[str],
    Tuple[Dict[str, Any], ...],
    Tuple[Dict[str, Any], ...],
]

_FIELDS = (
    "record_id",
    "inspection_date",
    "as_of",
    "backend",
    "determinations",
    "undetermined",
    "not_matched",
    "not_applicable",
    "modules_applied",
    "modules_not_applicable",
    "notices",
    "engine",
    "inspector_findings",
    "absent_by_finding",
)


class Report:
    """The result of evaluating one inspection record. Immutable.

    Its verdict is known when it is made; its lists (determinations, undetermined rules, the rules
    not matched...) may be built on first use from the backend's compact decisions, and the
    evidence in them on first use again, so that an application that only asks for the status of a
    hundred thousand records does not pay for a hundred thousand explanations.
    """

    # Fields are read-only properties over three private slots, so that a deferred report is made
    # with three stores (deferred_report below): _head = (record_id, inspection_date, as_of, backend,
    # notices, engine[, status when deferred]), _body = the lists or None until built, and _pending =
    # a backend's compact decision (head, layout, outcome bytes, record snapshot), whose layout
    # (safetyrules.evaluation.OutcomeLayout) answers matched_ids, undetermined_ids, outcome and build.
    __slots__ = ("_head", "_body", "_pending", "_findings")
    _head: Tuple[Any, ...]  # its fields' types are those of the properties below
    _body: Optional[ReportBody]
    _pending: Any  # None, or a backend's compact decision as above (its layout is duck-typed)
    #: the inspector's findings as they stood against the facts, and the rules they decided absent
    _findings: Tuple[Tuple[FindingResult, ...], Tuple[str, ...]]

    def __init__(
        self,
        record_id: str,
        inspection_date: date,
        as_of: date,
        backend: str,
        determinations: Tuple[Determination, ...],
        undetermined: Tuple[UndeterminedRule, ...],
        not_matched: Sequence[str],
        not_applicable: Sequence[str],
        modules_applied: Tuple[Dict[str, Any], ...],
        modules_not_applicable: Tuple[Dict[str, Any], ...],
        notices: Tuple[Notice, ...],
        engine: Optional[Dict[str, Any]] = None,
        inspector_findings: Tuple[FindingResult, ...] = (),
        absent_by_finding: Tuple[str, ...] = (),
    ) -> None:
        self._head = (record_id, inspection_date, as_of, backend, notices, dict(engine or {}))
        self._body = (determinations, undetermined, not_matched, not_applicable, modules_applied, modules_not_applicable)
        self._pending = None
        self._findings = (inspector_findings, absent_by_finding)

    def with_findings(
        self,
        determinations: Tuple[Determination, ...],
        undetermined: Tuple[UndeterminedRule, ...],
        inspector_findings: Tuple[FindingResult, ...],
        absent_by_finding: Tuple[str, ...],
    ) -> "Report":
        """This report with the inspector's findings applied (see :mod:`safetyrules.findings`)."""
        return Report(
            self.record_id,
            self.inspection_date,
            self.as_of,
            self.backend,
            determinations,
            undetermined,
            self.not_matched,
            self.not_applicable,
            self.modules_applied,
            self.modules_not_applicable,
            self.notices,
            self._head[5],
            inspector_findings,
            absent_by_finding,
        )

    @property
    def inspector_findings(self) -> Tuple[FindingResult, ...]:
        """The record's inspector's findings, each with the facts' outcome and how it stood against it."""
        return self._findings[0]

    @property
    def contradictions(self) -> Tuple[FindingResult, ...]:
        """Findings that the recorded facts contradict (the facts' outcome stands): what auditors look for."""
        return tuple(f for f in self._findings[0] if f.contradicts)

    @property
    def absent_by_finding(self) -> Tuple[str, ...]:
        """Rules the facts could not decide and the inspector found absent (not matched, by finding)."""
        return self._findings[1]

    @property
    def record_id(self) -> str:
        record_id: str = self._head[0]
        return record_id

    @property
    def inspection_date(self) -> date:
        inspection_date: date = self._head[1]
        return inspection_date

    @property
    def as_of(self) -> date:
        """The date the module versions were chosen by."""
        as_of: date = self._head[2]
        return as_of

    @property
    def backend(self) -> str:
        backend: str = self._head[3]
        return backend

    @property
    def notices(self) -> Tuple[Notice, ...]:
        notices: Tuple[Notice, ...] = self._head[4]
        return notices

    def _materialise(self) -> ReportBody:
        body = self._body
        if body is None:
            pending = self._pending
            body = self._body = pending[1].build(pending)
            self._pending = None
        return body

    @property
    def determinations(self) -> Tuple[Determination, ...]:
        return self._materialise()[0]

    @property
    def undetermined(self) -> Tuple[UndeterminedRule, ...]:
        return self._materialise()[1]

    @property
    def not_matched(self) -> Sequence[str]:
        return self._materialise()[2]

    @property
    def not_applicable(self) -> Sequence[str]:
        return self._materialise()[3]

    @property
    def modules_applied(self) -> Tuple[Dict[str, Any], ...]:
        return self._materialise()[4]

    @property
    def modules_not_applicable(self) -> Tuple[Dict[str, Any], ...]:
        return self._materialise()[5]

    @property
    def engine(self) -> Dict[str, Any]:
        """Library and pack versions (a copy)."""
        return dict(self._head[5])

    @property
    def status(self) -> Status:
        """major_hazard_found | undetermined | no_major_hazard_found | no_applicable_criteria."""
        if self._body is None:
            status: Status = self._head[6]  # a deferred report is made with its status
            return status
        if not self.modules_applied and not self.determinations:
            return NO_APPLICABLE_CRITERIA
        if self.determinations:
            return MAJOR_HAZARD_FOUND
        if self.undetermined:
            return UNDETERMINED
        return NO_MAJOR_HAZARD_FOUND

    @property
    def matched_rule_ids(self) -> Tuple[str, ...]:
        """The criteria met, once each (a rule over a list may be met by several items)."""
        if self._body is None:
            pending = self._pending
            matched: Tuple[str, ...] = pending[1].matched_ids(pending)
            return matched
        return tuple(dict.fromkeys(d.rule_id for d in self.determinations))

    @property
    def undetermined_rule_ids(self) -> Tuple[str, ...]:
        """The criteria the facts cannot decide (not met by any item either)."""
        if self._body is None:
            pending = self._pending
            undetermined: Tuple[str, ...] = pending[1].undetermined_ids(pending)
            return undetermined
        matched = set(self.matched_rule_ids)
        return tuple(dict.fromkeys(u.rule_id for u in self.undetermined if u.rule_id not in matched))

    def outcome_of(self, rule_id: str) -> Outcome:
        """matched | not_matched | undetermined | not_applicable | not_evaluated."""
        if self._body is None:
            pending = self._pending
            outcome: Outcome = pending[1].outcome(pending, rule_id)
            return outcome
        if any(d.rule_id == rule_id for d in self.determinations):
            return "matched"
        if any(u.rule_id == rule_id for u in self.undetermined):
            return "undetermined"
        if rule_id in self.not_matched or rule_id in self._findings[1]:
            return "not_matched"
        if rule_id in self.not_applicable:
            return "not_applicable"
        return "not_evaluated"

    def _fields(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Report):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # holds dicts, as the dataclass it replaces did

    def __repr__(self) -> str:
        return "Report(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS) + ")"

    def __reduce__(self) -> Tuple[Type[Report], Tuple[Any, ...]]:
        return (Report, self._fields())

    def to_json(self) -> Dict[str, Any]:
        out = {
            "schema_version": RESULT_SCHEMA_VERSION,
            "record_id": self.record_id,
            "inspection_date": self.inspection_date.isoformat(),
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "counts": {
                "matched": len(self.matched_rule_ids),
                "determinations": len(self.determinations),
                "undetermined": len(self.undetermined),
                "not_matched": len(self.not_matched),
                "not_applicable": len(self.not_applicable),
            },
            "determinations": [d.to_json() for d in self.determinations],
            "undetermined": [u.to_json() for u in self.undetermined],
            "not_matched": list(self.not_matched),
            "not_applicable": list(self.not_applicable),
            "modules_applied": [dict(m) for m in self.modules_applied],
            "modules_not_applicable": list(self.modules_not_applicable),
            "notices": [n.to_json() for n in self.notices],
            "engine": dict(self._head[5], backend=self.backend),
        }
        if self._findings[0]:  # only a record with the inspector's findings has these keys
            out.update(self._findings_json())
        return out

    def _findings_json(self) -> Dict[str, Any]:
        results, absent = self._findings
        return {
            "inspector_findings": [f.to_json() for f in results],
            "not_matched_by_finding": list(absent),
            "contradictions": sum(1 for f in results if f.contradicts),
        }


_new_report = object.__new__


def deferred_report(decided: Tuple[Any, ...]) -> Report:
    """A report from a backend's compact decision (see ``safetyrules.evaluation.PlainDecision``): its
    status is known now, its lists are built from the decision when first read."""
    report = _new_report(Report)
    report._head = decided[0]
    report._body = None
    report._pending = decided
    report._findings = _NO_FINDINGS
    return report


_NO_FINDINGS: Tuple[Tuple[FindingResult, ...], Tuple[str, ...]] = ((), ())


def _tri(value: Optional[bool]) -> Union[bool, str]:
    return "unknown" if value is None else value


#: values that are their own JSON form (the bulk of recorded facts)
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _facts_json(facts: Iterable[Tuple[str, Any]]) -> Dict[str, object]:
    scalars = _JSON_SCALARS
    return {k: v if type(v) in scalars else _json_value(v) for k, v in facts}


def _json_value(value: object) -> object:
    """A recorded value as JSON: dates (parsed when the record was checked) back to YYYY-MM-DD."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, Fraction)):  # exact numbers a Python caller passed
        return int(value) if value == int(value) else float(value)
    if isinstance(value, list):
        return [{k: _json_value(v) for k, v in item.items()} if isinstance(item, dict) else _json_value(item) for item in value]
    return value
