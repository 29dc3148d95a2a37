"""Campaign metrics: counters that merge, and the figures computed from them.

Workers count their own part into an :class:`Aggregate`; the parts' aggregates are added up in input
order. Everything is a counter keyed by small values (industry, region, month, rule id, closed-loop
dates), so memory does not grow with the number of records, and the sum does not depend on which
worker counted what: a Dask run and a local run give the same figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING, AbstractSet, Any, Dict, FrozenSet, List, Optional, Set, Tuple

from .classify import CLASSES, RECTIFIED_STATUSES, Row
from .rectification import Event, event_of, judge, loop_state

if TYPE_CHECKING:
    from ..model import Module
    from .classify import CriterionIndex

ERROR_EXAMPLES = 20
DIMENSIONS = ("industry", "region", "month", "inspector", "site")
NO_REGION = "(none)"
#: drill-down: the first records of each class, and of each criterion, kept with their evidence
SAMPLES_PER_CLASS = 20
SAMPLES_PER_CRITERION = 3


def sample_limit(key: str) -> int:
    """How many records the drill-down keeps under a key (``class:<c>`` or ``rule:<id>``)."""
    return SAMPLES_PER_CLASS if key.startswith("class:") else SAMPLES_PER_CRITERION


RECT_EXAMPLES = 50

DEFINITIONS = {
    "inspections": "input records audited (result rows); error rows are not inspections",
    "recorded_major_hazards": "findings recorded by inspectors in the audited records (each finding counts once)",
    "recorded_per_1000": "recorded major hazards × 1000 ÷ inspections",
    "confirmed_per_1000": "findings classed confirmed × 1000 ÷ inspections (the recorded hazards the facts support)",
    "determined_per_1000": "criteria the facts match (one per rule and record, recorded or not) × 1000 ÷ inspections",
    "rectification_rate": "recorded major hazards rectified as of the report date ÷ recorded major hazards. A finding is "
    "rectified as of D when its status is rectified, verified or closed and the first of its rectified_on, verified_on, "
    "closed_on dates (if any is given) is on or before D",
    "overdue_open": "recorded major hazards with a deadline before the report date that are not rectified as of the report date",
    "report_date": "the as-of date of the closed-loop figures: --report-date, or else the latest inspection date in the input",
    "month": "the inspection date's calendar month (YYYY-MM)",
    "classes": "confirmed, unsupported, miscited, missed, undetermined, superseded: see docs/audit.md",
    "verified_rectification_rate": "recorded major hazards classed verified_closed (a re-inspection of the same site no longer "
    "matches the criterion) ÷ recorded major hazards: the rectification rate the facts bear out",
    "closed_still_present": "findings recorded as rectified/closed whose first deciding re-inspection still matches the criterion",
    "closure_not_evidenced": "findings recorded as rectified/closed that no re-inspection of the same site decides",
    "inspector_findings": "the inspector's findings on items (a record's inspector_findings) by how they stood against the "
    "facts: decided (the facts could not decide the rule), agrees, contradicts (the facts decide otherwise), not_evaluated",
}


def _version_label(module: Optional[Module]) -> str:
    """Which version of a document a rule belongs to: the 2020 and 2026 coal texts share article
    numbers, so a citation alone does not say which text it is."""
    if module is None:
        return ""
    until = module.effective_until.isoformat() if module.effective_until else "…"
    version = f"{module.version} " if module.version else ""
    return f"{version}{module.effective_from.isoformat()} – {until}"


#: what the figures read of one row: (matched rules, undetermined rules, (class, source, rule) per entry)
_Shape = Tuple[Tuple[str, ...], Tuple[str, ...], Tuple[Tuple[str, str, str], ...]]
#: (industry, region, inspection date, status) and the shape
_Signature = Tuple[str, str, str, str, Tuple[str, ...], Tuple[str, ...], Tuple[Tuple[str, str, str], ...]]
#: the non-zero (counter, count) pairs one row of a shape adds
_Vector = Tuple[Tuple[str, int], ...]
#: a finding's status history: (status, date) pairs
_History = Tuple[Tuple[str, str], ...]
#: a finding in the closed loop: (status, deadline, done date, history)
_LoopKey = Tuple[str, str, str, _History]


def _shape_vector(matched: Tuple[str, ...], undetermined: Tuple[str, ...], entries: Tuple[Tuple[str, str, str], ...]) -> _Vector:
    """The non-zero counts one row of this shape adds to a breakdown (as in ``_expand``)."""
    c: Counter[str] = Counter(
        inspections=1, matched=len(matched), hazard_records=1 if matched else 0, undetermined_rules=len(undetermined)
    )
    recorded = 0
    for klass, source, _ in entries:
        c[klass] += 1
        if source == "finding":
            recorded += 1
    c["recorded"] = recorded
    c["with_findings"] = 1 if recorded else 0
    return tuple((k, v) for k, v in c.items() if v)


def _bump(table: Dict[str, Counter[str]], key: str, field: str, n: int = 1) -> None:
    c = table.get(key)
    if c is None:
        c = table[key] = Counter()
    c[field] += n


class Aggregate:
    """Counts of one part, or of many parts added together."""

    def __init__(self) -> None:
        self.records = 0
        self.results = 0
        self.errors = 0
        self.error_reasons: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.inspector_findings: Counter[str] = Counter()  # decided / agrees / contradicts / not_evaluated
        self.classes: Counter[str] = Counter()  # "class" and "class/source"
        self.dims: Dict[str, Dict[str, Counter[str]]] = {d: {} for d in DIMENSIONS}
        self.criteria: Dict[str, Counter[str]] = {}
        self.loop: Counter[_LoopKey] = Counter()  # (status, deadline, done, history) -> findings
        self.loop_by_industry: Counter[Tuple[str, str, str, str, _History]] = Counter()  # (industry, *loop key) -> findings
        self.first_date: Optional[str] = None
        self.last_date: Optional[str] = None
        self.error_examples: List[Row] = []
        self._pending: Dict[_Signature, int] = {}
        self._pending_who: Dict[Tuple[str, str, _Shape], int] = {}
        self.events: List[Event] = []  # for the 整改销号 join (rectification.py)
        self.samples: Dict[str, List[Row]] = {}  # "class:<c>" / "rule:<id>" -> drill-down details
        self.rectification_rows: List[Row] = []  # set by summarize

    # ------------------------------------------------------------------ counting
    def add_error(self, row: Row) -> None:
        self.records += 1
        self.errors += 1
        self.error_reasons[row["error"]["reason"]] += 1
        if len(self.error_examples) < ERROR_EXAMPLES:
            self.error_examples.append(row)

    def add_result(self, row: Row, full: AbstractSet[str] = frozenset()) -> bool:
        """Count a result row. Rows are first tallied by what the figures read from them (a signature:
        industry, region, date, matched and undetermined rules, classed entries), and signatures are
        expanded into the tables once per part: far fewer dictionary updates than one per row.

        Returns whether the row's record is wanted for the drill-down: one of its classes or criteria
        has room in this part's samples and is not in ``full`` (keys that earlier parts filled)."""
        self.records += 1
        self.results += 1
        shape: _Shape = (
            tuple(row["matched"]),
            tuple(row["undetermined"]),
            tuple((e["class"], e["source"], e["rule"]) for e in row["entries"]),
        )
        sig = (row["industry"], row.get("region") or NO_REGION, row["inspection_date"], row["status"]) + shape
        self._pending[sig] = self._pending.get(sig, 0) + 1
        # inspector and site take many values (a signature per row): counted apart, by the row's shape
        who = (row.get("inspector") or NO_REGION, row.get("site_id") or NO_REGION, shape)
        self._pending_who[who] = self._pending_who.get(who, 0) + 1
        for e in row["entries"]:
            if e["source"] == "finding":
                history = tuple((h["status"], h["on"]) for h in e.get("history", ()))
                status, done = loop_state(e.get("status"), history, e)
                deadline = e.get("deadline", "")
                self.loop[(status, deadline, done, history)] += 1
                self.loop_by_industry[(row["industry"], status, deadline, done, history)] += 1
        self.inspector_findings.update(row.get("inspector_findings") or {})
        ev = event_of(row)
        if ev is not None:
            self.events.append(ev)
        return self._wants_sample(row, full)

    def _sample_keys(self, row: Row) -> List[str]:
        keys = [f"class:{e['class']}" for e in row["entries"]]
        if row["undetermined"]:
            keys.append("class:undetermined")
        keys += [f"rule:{e['rule']}" for e in row["entries"]]
        keys += [f"rule:{r}" for r in row["undetermined"][:3]]
        return list(dict.fromkeys(keys))

    def _wants_sample(self, row: Row, full: AbstractSet[str] = frozenset()) -> bool:
        samples = self.samples
        for key in self._sample_keys(row):
            if key not in full and len(samples.get(key, ())) < sample_limit(key):
                return True
        return False

    def add_sample(self, row: Row, detail: Row, full: AbstractSet[str] = frozenset()) -> None:
        """Keep ``detail`` (the row's record with its evidence) under every class and criterion of the
        row that has room: the first records in input order, whichever worker counted them. Keys in
        ``full`` are left out: earlier parts hold their samples, and :meth:`merge` would drop these."""
        for key in self._sample_keys(row):
            if key in full:
                continue
            lst = self.samples.setdefault(key, [])
            if len(lst) < sample_limit(key):
                lst.append(detail)

    def _expand(self) -> None:
        pending, self._pending = self._pending, {}
        vectors: Dict[_Shape, _Vector] = {}
        who, self._pending_who = self._pending_who, {}
        for (inspector, site, shape), n in who.items():
            vec = vectors.get(shape)
            if vec is None:
                vec = vectors[shape] = _shape_vector(*shape)
            for dim, key in (("inspector", inspector), ("site", site)):
                table = self.dims[dim]
                c = table.get(key)
                if c is None:
                    c = table[key] = Counter()
                for field, v in vec:
                    c[field] += v * n
        for (industry, region, day, status, matched, undetermined, entries), n in pending.items():
            if self.first_date is None or day < self.first_date:
                self.first_date = day
            if self.last_date is None or day > self.last_date:
                self.last_date = day
            self.statuses[status] += n
            counts: Counter[str] = Counter()
            counts["inspections"] = n
            counts["matched"] = len(matched) * n
            counts["hazard_records"] = n if matched else 0
            recorded = 0
            for klass, source, rule in entries:
                self.classes[klass] += n
                self.classes[f"{klass}/{source}"] += n
                counts[klass] += n
                _bump(self.criteria, rule, klass, n)
                if source == "finding":
                    recorded += 1
                    _bump(self.criteria, rule, "recorded", n)
            counts["recorded"] = recorded * n
            counts["with_findings"] = n if recorded else 0
            for rule in matched:
                _bump(self.criteria, rule, "matched", n)
            for rule in undetermined:
                _bump(self.criteria, rule, "undetermined_rule", n)
            self.classes["undetermined/rule"] += len(undetermined) * n
            self.classes["undetermined"] += len(undetermined) * n
            counts["undetermined_rules"] = len(undetermined) * n
            for dim, key in (("industry", industry), ("region", region), ("month", day[:7])):
                table = self.dims[dim]
                c = table.get(key)
                if c is None:
                    table[key] = counts.copy()
                else:
                    c.update(counts)

    def __getstate__(self) -> Dict[str, Any]:
        self._expand()
        return self.__dict__

    def merge(self, other: "Aggregate") -> "Aggregate":
        """Add ``other`` (a later part) into this one."""
        self._expand()
        other._expand()
        self.records += other.records
        self.results += other.results
        self.errors += other.errors
        self.error_reasons.update(other.error_reasons)
        self.statuses.update(other.statuses)
        self.inspector_findings.update(other.inspector_findings)
        self.classes.update(other.classes)
        for dim in DIMENSIONS:
            mine = self.dims[dim]
            for key, c in other.dims[dim].items():
                if key in mine:
                    mine[key].update(c)
                else:
                    mine[key] = Counter(c)
        for rule, c in other.criteria.items():
            if rule in self.criteria:
                self.criteria[rule].update(c)
            else:
                self.criteria[rule] = Counter(c)
        self.loop.update(other.loop)
        self.loop_by_industry.update(other.loop_by_industry)
        for d in (other.first_date,):
            if d is not None and (self.first_date is None or d < self.first_date):
                self.first_date = d
        for d in (other.last_date,):
            if d is not None and (self.last_date is None or d > self.last_date):
                self.last_date = d
        self.events.extend(other.events)
        for key, lst in other.samples.items():
            kept = self.samples.setdefault(key, [])
            kept.extend(lst[: max(sample_limit(key) - len(kept), 0)])
        room = ERROR_EXAMPLES - len(self.error_examples)
        if room > 0:
            self.error_examples.extend(other.error_examples[:room])
        return self


class SampleRoom:
    """The drill-down keys that the parts taken so far have filled, for the parts still to come.

    The drill-down keeps, under each class and criterion, the first records in input order
    (:meth:`Aggregate.merge`). Once the parts before a part hold enough samples of a key, nothing that
    part could add under it would be kept, so its worker need not work out evidence for it. The
    runners tell each part the keys full when it is sent (:meth:`full`), from the results taken in
    input order before then (:meth:`add`). What a part is told depends on timing and on the number of
    workers, but only keys already full are ever left out, so the samples kept are the same."""

    def __init__(self) -> None:
        self._counts: Dict[str, int] = {}
        self._full: Set[str] = set()
        self._frozen: FrozenSet[str] = frozenset()

    def add(self, agg: Aggregate) -> None:
        """Count the samples of the next part in input order."""
        grown = False
        for key, lst in agg.samples.items():
            if key in self._full or not lst:
                continue
            n = self._counts[key] = self._counts.get(key, 0) + len(lst)
            if n >= sample_limit(key):
                self._full.add(key)
                del self._counts[key]
                grown = True
        if grown:
            self._frozen = frozenset(self._full)

    def full(self) -> FrozenSet[str]:
        return self._frozen


# ---------------------------------------------------------------------------------- figures


def _rectified_as_of(status: str, done: str, as_of: str, history: _History = ()) -> bool:
    if history:
        then = ""
        for st, on in history:
            if on <= as_of:
                then = st
        return then in RECTIFIED_STATUSES
    return status in RECTIFIED_STATUSES and (not done or done <= as_of)


def _per_1000(n: int, inspections: int) -> Optional[float]:
    return round(n * 1000 / inspections, 3) if inspections else None


def _rate(n: int, d: int) -> Optional[float]:
    return round(n / d, 6) if d else None


def closed_loop(loop: Counter[_LoopKey], as_of: str) -> Dict[str, Any]:
    found = sum(loop.values())
    rectified = sum(n for (status, _, done, hist), n in loop.items() if _rectified_as_of(status, done, as_of, hist))
    overdue = sum(
        n
        for (status, deadline, done, hist), n in loop.items()
        if deadline and deadline < as_of and not _rectified_as_of(status, done, as_of, hist)
    )
    open_ = found - rectified
    by_status: Counter[str] = Counter()
    for (status, _, _, _), n in loop.items():
        by_status[status or "(none)"] += n
    return {
        "found": found,
        "rectified": rectified,
        "open": open_,
        "overdue_open": overdue,
        "rectification_rate": _rate(rectified, found),
        "by_status": dict(sorted(by_status.items())),
    }


def summarize(agg: Aggregate, index: CriterionIndex, report_date: Optional[date] = None, top: int = 20) -> Dict[str, Any]:
    """The summary: reconciliation, class counts, metrics with definitions, breakdowns, top criteria."""
    agg._expand()
    as_of = report_date.isoformat() if report_date else (agg.last_date or "")
    inspections = agg.results
    recorded = sum(c["recorded"] for c in agg.criteria.values())
    matched = sum(c["matched"] for c in agg.criteria.values())
    loop = closed_loop(agg.loop, as_of)
    by_industry_loop: Dict[str, Counter[_LoopKey]] = {}
    for (industry, status, deadline, done, hist), n in agg.loop_by_industry.items():
        by_industry_loop.setdefault(industry, Counter())[(status, deadline, done, hist)] += n
    agg.rectification_rows, rect = judge(agg.events, index, as_of)
    examples: Dict[str, List[Row]] = {}
    for r in agg.rectification_rows:  # the first of each class needing action, for the reports
        if r["class"] in ("closed_still_present", "closure_not_evidenced", "open_overdue"):
            lst = examples.setdefault(r["class"], [])
            if len(lst) < RECT_EXAMPLES:
                lst.append(r)
    rect["examples"] = examples

    def dim_rows(dim: str) -> List[Row]:
        rows = []
        for key in sorted(agg.dims[dim]):
            c = agg.dims[dim][key]
            row: Dict[str, Any] = {
                "key": key,
                "inspections": c["inspections"],
                "recorded": c["recorded"],
                "matched": c["matched"],
                "hazard_records": c["hazard_records"],
                "recorded_per_1000": _per_1000(c["recorded"], c["inspections"]),
                "determined_per_1000": _per_1000(c["matched"], c["inspections"]),
            }
            for k in CLASSES:
                row[k] = c[k]
            row["undetermined"] += c["undetermined_rules"]  # findings and rules, as in "classes"
            if dim == "industry":
                cl = closed_loop(by_industry_loop.get(key, Counter()), as_of)
                row.update(rectification_rate=cl["rectification_rate"], overdue_open=cl["overdue_open"])
            rows.append(row)
        return rows

    criteria: List[Row] = []
    for rule in sorted(agg.criteria, key=lambda r: index.order.get(r, 1 << 30)):
        c = agg.criteria[rule]
        module = index.module_of.get(rule)
        entry: Row = {
            "rule": rule,
            "citation": index.rendered.get(rule, ""),
            "module": module.id if module else "",
            "module_version": _version_label(module),
            "title": index.ir.rules[rule].rule.title.zh if rule in index.ir.rules else "",
            "recorded": c["recorded"],
            "matched": c["matched"],
            "undetermined_rule": c["undetermined_rule"],
        }
        for k in CLASSES:
            entry[k] = c[k]
        entry["undetermined"] += c["undetermined_rule"]  # findings and rules, as in "classes"
        criteria.append(entry)

    def top_by(field: str) -> List[Row]:
        ranked = sorted((e for e in criteria if e[field]), key=lambda e: (-e[field], e["rule"]))
        return [
            {
                "rule": e["rule"],
                "citation": e["citation"],
                "module_version": e["module_version"],
                "title": e["title"],
                field: e[field],
            }
            for e in ranked[:top]
        ]

    classes = {k: agg.classes[k] for k in CLASSES}
    return {
        "reconciliation": {
            "records_in": agg.records,
            "results": agg.results,
            "errors": agg.errors,
            "reconciles": agg.records == agg.results + agg.errors,
        },
        "errors_by_reason": dict(sorted(agg.error_reasons.items())),
        "statuses": dict(sorted(agg.statuses.items())),
        "classes": classes,
        "classes_by_source": {k: agg.classes[k] for k in sorted(agg.classes) if "/" in k},
        "inspection_dates": {"first": agg.first_date, "last": agg.last_date},
        "report_date": as_of,
        "metrics": {
            "inspections": inspections,
            "recorded_major_hazards": recorded,
            "recorded_per_1000": _per_1000(recorded, inspections),
            "confirmed_per_1000": _per_1000(classes["confirmed"], inspections),
            "determined_major_hazards": matched,
            "determined_per_1000": _per_1000(matched, inspections),
            "rectified": loop["rectified"],
            "rectification_rate": loop["rectification_rate"],
            "open": loop["open"],
            "overdue_open": loop["overdue_open"],
            "findings_by_status": loop["by_status"],
            "verified_rectification_rate": rect["verified_rectification_rate"],
            "closed_still_present": rect["closed_still_present"],
            "closure_not_evidenced": rect["closure_not_evidenced"],
            "inspector_findings": dict(sorted(agg.inspector_findings.items())),
        },
        "definitions": DEFINITIONS,
        "by_industry": dim_rows("industry"),
        "by_region": dim_rows("region"),
        "by_month": dim_rows("month"),
        "by_inspector": dim_rows("inspector") if set(agg.dims["inspector"]) - {NO_REGION} else [],
        "by_site": dim_rows("site") if set(agg.dims["site"]) - {NO_REGION} else [],
        "rectification": rect,
        "drilldown": {k: agg.samples[k] for k in sorted(agg.samples)},
        "by_criterion": criteria,
        "top_criteria": {
            "recorded": top_by("recorded"),
            "determined": top_by("matched"),
            "missed": top_by("missed"),
            "unsupported": top_by("unsupported"),
        },
        "error_examples": agg.error_examples,
    }
