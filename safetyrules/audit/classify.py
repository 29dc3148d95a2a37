"""Classing recorded findings and rules against what the facts decide.

Definitions (also in docs/audit.md and in every report):

* **confirmed** -- a finding whose cited criterion is matched by the record's facts.
* **unsupported** -- a finding whose cited criterion is in force but not matched (or does not apply to
  the site), and no *neighbouring* criterion is matched in its place.
* **miscited** -- a finding whose cited criterion is not matched while a neighbouring criterion is
  matched and not recorded by any other finding of the record. *Neighbours* of a rule are, nearest
  first: (1) the other rules of the same module at the same place in the document (sub-rules of one
  item: same citation); (2) the rules of the same module in the same category (the module's
  ``categories``), or, for a rule without a category, under the same article. One finding stands for
  one hazard: it is taken to mean the nearest matched, unrecorded neighbour (ties by rule order), which
  is named in ``instead`` and not counted again as missed; other matched neighbours stay missed.
* **missed** -- a criterion the facts match that no finding of the record cites (nor claims through
  miscited or superseded).
* **undetermined** -- a finding whose cited criterion the facts cannot decide (``source: finding``), or a
  criterion in force that the facts cannot decide and no finding cites (``source: rule``). Never read as
  compliant.
* **superseded** -- a finding citing a criterion whose module is not in force on the inspection date
  (e.g. a 2020 coal rule on a 2026-08 record). When a version in force has a rule at the same place in the
  document (same series and locator), it is given as ``current`` with its outcome; if it is matched it
  is claimed by the finding and not counted as missed.

A finding names its criterion by ``rule`` (a rule id) or ``citation`` (the rendered citation, e.g.
``《…》第（四）项``). One citation can cover several rules (an item encoded as sub-rules): the finding
then stands for all the rules at that place that are in force, and is confirmed when any of them is
matched. A finding that names a criterion no loaded module has, or is otherwise malformed, makes its
record an error row (reason ``unknown_criterion`` or ``invalid_finding``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ..errors import did_you_mean
from ..records import parse_date

if TYPE_CHECKING:
    from ..ir import RuleSetIR
    from ..model import Module
    from ..report import Report

#: a row of an audit's output (a result, an error, a classed entry, a rectification row): JSON, with
#: the fields docs/audit.md lists
Row = Dict[str, Any]

CLASSES = ("confirmed", "unsupported", "miscited", "missed", "undetermined", "superseded")
STATUSES = ("listed", "assigned", "rectifying", "rectified", "verified", "closed")
#: statuses at which a hazard counts as rectified (整改销号 done or under verification)
RECTIFIED_STATUSES = frozenset(("rectified", "verified", "closed"))
DATE_KEYS = ("listed_on", "assigned_on", "deadline", "rectified_on", "verified_on", "closed_on")
#: ``history``: the status history (整改销号 steps), a list of {"status", "on"} in date order;
#: ``reinspection``: the record_id of the re-inspection that verified the closure (optional link)
FINDING_KEYS = ("rule", "citation", "status") + DATE_KEYS + ("id", "item", "note", "history", "reinspection")


class FindingError(Exception):
    """A finding cannot be classed; ``reason`` is ``unknown_criterion`` or ``invalid_finding``."""

    def __init__(self, reason: str, problems: Sequence[Tuple[str, str]]):
        self.reason = reason
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p}: {m}" for p, m in self.problems))


@dataclass(frozen=True)
class Finding:
    """A validated finding: the rules it cites and its closed-loop status."""

    index: int
    cited: str  # as written: the rule id or the citation text
    rules: Tuple[str, ...]  # candidate rule ids, in rule order
    status: Optional[str]
    dates: Tuple[Tuple[str, str], ...]
    id: Optional[str] = None
    history: Tuple[Tuple[str, str], ...] = ()  # (status, on) in date order
    reinspection: Optional[str] = None

    def date(self, key: str) -> Optional[str]:
        for k, v in self.dates:
            if k == key:
                return v
        return None


class CriterionIndex:
    """Lookups over a compiled rule set: citations, neighbours, versions. Built once per process."""

    def __init__(self, ir: RuleSetIR) -> None:
        self.ir = ir
        self.order: Dict[str, int] = {rid: i for i, rid in enumerate(ir.rules)}
        self.module_of: Dict[str, Module] = {}
        self.rendered: Dict[str, str] = {}
        self.by_citation: Dict[str, List[str]] = {}
        self.by_place: Dict[Tuple[str, str], List[str]] = {}
        groups: Dict[Tuple[str, str], List[str]] = {}
        self.group_of: Dict[str, Tuple[str, str]] = {}
        for rid, compiled in ir.rules.items():
            rule = compiled.rule
            module = ir.module_by_id[rule.module_id].module
            self.module_of[rid] = module
            text = rule.citation.rendered
            self.rendered[rid] = text
            self.by_citation.setdefault(text, []).append(rid)
            self.by_place.setdefault((module.series, rule.citation.locator), []).append(rid)
            if rule.category is not None:
                key = (rule.module_id, "category:" + rule.category.id)
            elif rule.citation.article is not None:
                key = (rule.module_id, f"article:{rule.citation.article}")
            else:
                key = (rule.module_id, "rule:" + rid)
            groups.setdefault(key, []).append(rid)
            self.group_of[rid] = key
        self.groups = {k: tuple(v) for k, v in groups.items()}
        self._neighbours: Dict[str, Tuple[str, ...]] = {}

    def neighbours(self, rule_id: str) -> Tuple[str, ...]:
        """Nearest first: same module and citation, then same module and category (or article)."""
        cached = self._neighbours.get(rule_id)
        if cached is not None:
            return cached
        near = [
            r for r in self.by_citation[self.rendered[rule_id]] if r != rule_id and self.module_of[r] is self.module_of[rule_id]
        ]
        far = [r for r in self.groups[self.group_of[rule_id]] if r != rule_id and r not in near]
        self._neighbours[rule_id] = out = tuple(near + far)
        return out

    def in_force(self, rule_id: str, day: date) -> bool:
        return self.module_of[rule_id].in_force(day)

    def current_of(self, rule_id: str, day: date) -> Tuple[str, ...]:
        """Rules at the same place in a version of the same series that is in force on ``day``."""
        module = self.module_of[rule_id]
        place = (module.series, self.ir.rules[rule_id].rule.citation.locator)
        return tuple(r for r in self.by_place.get(place, ()) if r != rule_id and self.module_of[r].in_force(day))

    # ------------------------------------------------------------------ findings
    def parse_findings(self, findings: Sequence[Mapping[str, Any]]) -> Tuple[Finding, ...]:
        problems: List[Tuple[str, str]] = []
        unknown = False
        out: List[Finding] = []
        for i, f in enumerate(findings):
            path = f"$.findings[{i}]"
            for key in f:
                if key not in FINDING_KEYS:
                    problems.append((f"{path}.{key}", f"unknown key{did_you_mean(str(key), FINDING_KEYS)}"))
            rule_id, citation = f.get("rule"), f.get("citation")
            status = f.get("status")
            if status is not None and status not in STATUSES:
                problems.append(
                    (
                        f"{path}.status",
                        f"{status!r} is not one of {', '.join(STATUSES)}"
                        + (did_you_mean(status, STATUSES) if isinstance(status, str) else ""),
                    )
                )
            dates = []
            for key in DATE_KEYS:
                value = f.get(key)
                if value is None:
                    continue
                if not _is_date(value):
                    problems.append((f"{path}.{key}", f"expected a date YYYY-MM-DD, got {value!r}"))
                else:
                    dates.append((key, value))
            history = _parse_history(f.get("history"), path, problems)
            if history and status is None:
                status = history[-1][0]
            elif history and status is not None and status != history[-1][0]:
                problems.append((f"{path}.status", f"{status!r} is not the last status of its history ({history[-1][0]!r})"))
            fid = f.get("id")
            if fid is not None and (not isinstance(fid, (str, int)) or isinstance(fid, bool)):
                problems.append((f"{path}.id", f"expected a text or whole-number id, got {fid!r}"))
                fid = None
            link = f.get("reinspection")
            if link is not None and not (isinstance(link, str) and link):
                problems.append((f"{path}.reinspection", f"expected the record_id of the re-inspection record, got {link!r}"))
                link = None
            rules: Tuple[str, ...] = ()
            cited: Optional[str] = ""
            if rule_id is None and citation is None:
                problems.append((path, "a finding needs 'rule' (a rule id) or 'citation' (the rendered citation)"))
            elif rule_id is not None:
                cited = rule_id
                if not isinstance(rule_id, str) or rule_id not in self.ir.rules:
                    unknown = True
                    hint = did_you_mean(rule_id, self.ir.rules) if isinstance(rule_id, str) else ""
                    problems.append((f"{path}.rule", f"no loaded criterion has the id {rule_id!r}{hint}"))
                else:
                    rules = (rule_id,)
                    if citation is not None and citation != self.rendered[rule_id]:
                        problems.append(
                            (f"{path}.citation", f"{citation!r} is not the citation of {rule_id} ({self.rendered[rule_id]})")
                        )
            else:
                cited = citation
                found = self.by_citation.get(citation) if isinstance(citation, str) else None
                if not found:
                    unknown = True
                    hint = did_you_mean(citation, self.by_citation) if isinstance(citation, str) else ""
                    problems.append((f"{path}.citation", f"no loaded criterion is cited as {citation!r}{hint}"))
                else:
                    rules = tuple(found)
            out.append(
                Finding(
                    i,
                    cited if isinstance(cited, str) else repr(cited),
                    rules,
                    status,
                    tuple(dates),
                    None if fid is None else str(fid),
                    history,
                    link,
                )
            )
        if problems:
            raise FindingError("unknown_criterion" if unknown else "invalid_finding", problems)
        return tuple(out)


def _parse_history(value: Any, path: str, problems: List[Tuple[str, str]]) -> Tuple[Tuple[str, str], ...]:
    """The status history as (status, on) pairs; problems are added for a malformed one."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append((f"{path}.history", 'expected a list of {"status": ..., "on": YYYY-MM-DD}'))
        return ()
    out: List[Tuple[str, str]] = []
    for j, step in enumerate(value):
        where = f"{path}.history[{j}]"
        if not isinstance(step, dict) or set(step) - {"status", "on", "by", "note"}:
            problems.append((where, 'expected {"status": ..., "on": YYYY-MM-DD} (optional "by", "note")'))
            continue
        st, on = step.get("status"), step.get("on")
        if st not in STATUSES:
            problems.append((f"{where}.status", f"{st!r} is not one of {', '.join(STATUSES)}"))
            continue
        if not isinstance(on, str) or not _is_date(on):
            problems.append((f"{where}.on", f"expected a date YYYY-MM-DD, got {on!r}"))
            continue
        if out and on < out[-1][1]:
            problems.append(
                (f"{where}.on", f"{on} is before the previous step ({out[-1][1]}): the history must be in date order")
            )
            continue
        out.append((st, on))
    return tuple(out)


def _is_date(value: Any) -> bool:
    """YYYY-MM-DD, as records read dates (Python alone would also take week dates such as 2026-W01-1)."""
    return isinstance(value, str) and parse_date(value) is not None


def classify(
    index: CriterionIndex, report: Report, findings: Sequence[Finding], industry: str = ""
) -> Tuple[List[Row], List[str]]:
    """Entries for one evaluated record: one per finding, then one per missed rule (in rule order).

    Returns ``(entries, undetermined_rule_ids)`` where the second lists rules the facts cannot decide
    and no finding cites (class *undetermined*, source *rule*).
    """
    # Only rule ids and outcomes are read: a report from the compiled evaluator answers them from
    # its compact decisions, without building its lists.
    matched_ids = report.matched_rule_ids
    undetermined_ids = list(report.undetermined_rule_ids)
    if not findings:  # most records: every matched rule is missed, every undetermined one stays so
        result = [
            {"class": "missed", "source": "rule", "rule": rid, "citation": index.rendered[rid], "outcome": "matched"}
            for rid in matched_ids
        ]
        return result, undetermined_ids
    day = report.inspection_date
    matched_set = set(matched_ids)
    out_of = report.outcome_of  # matched on some items wins over undecided on others

    # Rules that findings account for: cited ones in force, and superseded findings' current versions.
    cited: Set[str] = set()
    live: List[Tuple[Finding, Tuple[str, ...]]] = []
    stale: List[Tuple[Finding, Tuple[str, ...]]] = []
    for f in findings:
        in_force = tuple(r for r in f.rules if index.in_force(r, day))
        if in_force:
            live.append((f, in_force))
            cited.update(in_force)
        else:
            current = tuple(dict.fromkeys(c for r in f.rules for c in index.current_of(r, day)))
            stale.append((f, current))
    claimed: Set[str] = set()
    entries: Dict[int, Row] = {}
    for f, current in stale:
        e = _entry(f, "superseded", f.rules[0], index)
        module = index.module_of[f.rules[0]]
        e["reason"] = (
            f"{module.id} is in force {module.effective_from.isoformat()} – "
            f"{module.effective_until.isoformat() if module.effective_until else ''}, not on {day.isoformat()}"
        )
        if current:
            matched = [c for c in current if out_of(c) == "matched"]
            e["current"] = matched[0] if matched else current[0]
            e["current_outcome"] = out_of(e["current"])
            claimed.update(c for c in matched if c not in cited)
        entries[f.index] = e
    for f, rules in live:
        outcomes = [out_of(r) for r in rules]
        if "matched" in outcomes:
            e = _entry(f, "confirmed", rules[outcomes.index("matched")], index)
        elif "undetermined" in outcomes:
            e = _entry(f, "undetermined", rules[outcomes.index("undetermined")], index)
        else:
            instead = None
            for r in rules:
                for n in index.neighbours(r):
                    if n in matched_set and n not in cited and n not in claimed:
                        instead = n
                        break
                if instead:
                    break
            if instead:
                e = _entry(f, "miscited", rules[0], index)
                e["instead"] = instead
                e["instead_citation"] = index.rendered[instead]
                claimed.add(instead)
            else:
                e = _entry(f, "unsupported", rules[0], index)
                if outcomes[0] == "not_evaluated":
                    e["reason"] = f"{index.module_of[rules[0]].id} does not cover industry {industry!r} or this region"
        e["outcome"] = outcomes[rules.index(e["rule"])] if e["rule"] in rules else out_of(e["rule"])
        entries[f.index] = e
    result = [entries[i] for i in sorted(entries)]
    for rid in matched_ids:
        if rid not in cited and rid not in claimed:
            result.append(
                {"class": "missed", "source": "rule", "rule": rid, "citation": index.rendered[rid], "outcome": "matched"}
            )
    return result, list(dict.fromkeys(r for r in undetermined_ids if r not in cited))


def _entry(f: Finding, klass: str, rule_id: str, index: CriterionIndex) -> Row:
    e: Row = {"class": klass, "source": "finding", "finding": f.index, "rule": rule_id, "citation": index.rendered[rule_id]}
    if f.cited != rule_id:
        e["cited"] = f.cited
    if f.status is not None:
        e["status"] = f.status
    for k, v in f.dates:
        e[k] = v
    if f.id is not None:
        e["id"] = f.id
    if f.history:
        e["history"] = [{"status": st, "on": on} for st, on in f.history]
    if f.reinspection is not None:
        e["reinspection"] = f.reinspection
    return e
