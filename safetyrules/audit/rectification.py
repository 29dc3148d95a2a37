"""整改销号 checked against re-inspections: was a closed major hazard really gone?

The campaign loop is: a major hazard is listed (清单), assigned (交办), rectified and closed (销号), and a
re-inspection of the same site verifies the closure. A recorded "closed" says only that the paperwork
was done; the audit asks what the facts of the next inspection of the same site say.

For every recorded finding, as of the report date D:

* **closed_still_present** -- rectified/verified/closed, and the first re-inspection after the closure
  that decides the criterion finds it *matched*: the hazard is still there (or back).
* **verified_closed** -- rectified/verified/closed, and that re-inspection finds the criterion *not
  matched* (or not applicable to the site any more): the closure is borne out by facts.
* **closure_not_evidenced** -- rectified/verified/closed, but no re-inspection decides it: none of the
  same site after the closure (up to D), the linked record is absent or of another site, or the
  re-inspections cannot decide the criterion (its facts were not recorded). ``reason`` says which.
* **open_overdue** -- not rectified as of D and its deadline is before D (``days_overdue``).
* **open** -- not rectified as of D, within its deadline or without one.

A *re-inspection* of a finding is a result row of the input with the same ``site.id``, another
``record_id``, and an inspection date on or after the closure date and on or before D; the finding's
``reinspection`` key, when given, names it instead (and it must be of the same site). The criterion
checked is the one the finding stands for: the cited rule, the neighbour a miscited finding was taken
to mean (``instead``), or, when the cited version is not in force on the re-inspection date, the
rule at the same place in the version that is. The first re-inspection (by date, then input order)
whose outcome for it is matched or not matched decides: a later recurrence is a new hazard, which the
audit of that record reports (missed, if nobody recorded it).

The rows are joined after the pass over the input, from compact per-record events kept by the
:class:`~safetyrules.audit.metrics.Aggregate` for records with a site id: memory grows with the
number of such records (some 100 bytes each), not with their facts.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .classify import RECTIFIED_STATUSES, Row

if TYPE_CHECKING:
    from .classify import CriterionIndex

RECT_CLASSES = ("closed_still_present", "verified_closed", "closure_not_evidenced", "open_overdue", "open")

RECT_TEXT = {
    "closed_still_present": "recorded as rectified/closed, but the first re-inspection that decides it still finds the criterion matched",
    "verified_closed": "recorded as rectified/closed, and a re-inspection of the same site finds the criterion no longer matched",
    "closure_not_evidenced": "recorded as rectified/closed, but no re-inspection of the same site decides the criterion",
    "open_overdue": "not rectified as of the report date, and its deadline has passed",
    "open": "not rectified as of the report date, within its deadline or without one",
}

RECT_DEFINITIONS = {
    "recorded_rectification_rate": "findings recorded as rectified, verified or closed as of the report date ÷ recorded major hazards",
    "verified_rectification_rate": "findings classed verified_closed (a re-inspection of the same site no longer matches the "
    "criterion) ÷ recorded major hazards",
    "closure_verification_rate": "verified_closed ÷ findings recorded as rectified, verified or closed (how many closures the facts bear out)",
    "closed_still_present": RECT_TEXT["closed_still_present"],
    "closure_not_evidenced": RECT_TEXT["closure_not_evidenced"],
}


def loop_state(status: Optional[str], history: Sequence[Tuple[str, str]], dates: Dict[str, str]) -> Tuple[str, str]:
    """(final status, closure date) of a finding. The closure date is when it last entered a rectified
    status (from its history), else the first of rectified_on, verified_on, closed_on; '' if unknown."""
    if history:
        final = history[-1][0]
        done = ""
        if final in RECTIFIED_STATUSES:
            for st, on in reversed(history):
                if st not in RECTIFIED_STATUSES:
                    break
                done = on
        return final, done or (dates.get("rectified_on") or dates.get("verified_on") or dates.get("closed_on") or "")
    return status or "", dates.get("rectified_on") or dates.get("verified_on") or dates.get("closed_on") or ""


def status_as_of(status: str, history: Sequence[Tuple[str, str]], done: str, as_of: str) -> Tuple[bool, str]:
    """(rectified as of the date, the status then)."""
    if history:
        then = ""
        for st, on in history:
            if on <= as_of:
                then = st
        return then in RECTIFIED_STATUSES, then
    return status in RECTIFIED_STATUSES and (not done or done <= as_of), status


# An event: what the join needs of one result row with a site id.
#   (site_id, inspection_date, record_id, industry, matched, undetermined, where, findings)
# where = "source:line"; findings = tuple of finding facts (see finding_facts).
#: (finding index, id, class, rule, instead, current, status, done, deadline, history, linked re-inspection)
FindingFacts = Tuple[
    int, Optional[str], str, str, Optional[str], Optional[str], str, str, str, Tuple[Tuple[str, str], ...], Optional[str]
]
Event = Tuple[Optional[str], str, str, str, Tuple[str, ...], Tuple[str, ...], str, Tuple[FindingFacts, ...]]
#: a re-inspection of a site: (inspection date, position in the input or -1 when linked, its event)
Visit = Tuple[str, int, Event]


def finding_facts(e: Row) -> FindingFacts:
    """The compact form of a finding entry kept for the join."""
    history = tuple((h["status"], h["on"]) for h in e.get("history", ()))
    dates: Dict[str, str] = {k: e[k] for k in ("rectified_on", "verified_on", "closed_on") if k in e}
    status, done = loop_state(e.get("status"), history, dates)
    return (
        e["finding"],
        e.get("id"),
        e["class"],
        e["rule"],
        e.get("instead"),
        e.get("current"),
        status,
        done,
        e.get("deadline", ""),
        history,
        e.get("reinspection"),
    )


def event_of(row: Row) -> Optional[Event]:
    site = row.get("site_id")
    findings = tuple(finding_facts(e) for e in row["entries"] if e["source"] == "finding")
    if site is None and not findings:
        return None
    where = f"{row['source']}:{row.get('line', row.get('row'))}"
    return (
        site,
        row["inspection_date"],
        row["record_id"],
        row["industry"],
        tuple(row["matched"]),
        tuple(row["undetermined"]),
        where,
        findings,
    )


def _outcome(
    index: CriterionIndex, rule: str, day: date, industry: str, matched: Sequence[str], undetermined: Sequence[str]
) -> Tuple[str, str]:
    """(outcome, rule checked) of the finding's criterion on a re-inspection."""
    candidates: Tuple[str, ...] = (rule,) if index.in_force(rule, day) else index.current_of(rule, day)
    if not candidates:
        return "not_evaluated", rule
    for r in candidates:
        if r in matched:
            return "matched", r
    for r in candidates:
        if r in undetermined:
            return "undetermined", r
    r = candidates[0]
    if industry not in index.module_of[r].industries:
        return "not_evaluated", r
    return "not_matched", r


def judge(events: Iterable[Event], index: CriterionIndex, as_of: str) -> Tuple[List[Row], Dict[str, Any]]:
    """Rectification rows (one per recorded finding, in input order) and their figures."""
    events = list(events)
    by_site: Dict[str, List[Visit]] = {}
    by_record: Dict[str, List[int]] = {}
    for i, ev in enumerate(events):
        if ev[0] is not None:
            by_site.setdefault(ev[0], []).append((ev[1], i, ev))
        by_record.setdefault(ev[2], []).append(i)
    for visits in by_site.values():
        visits.sort(key=lambda v: (v[0], v[1]))
    rows: List[Row] = []
    for ev in events:
        site, day, record_id, industry, _, _, where, findings = ev
        for idx, fid, klass, rule, instead, current, status, done, deadline, history, link in findings:
            row: Dict[str, Any] = {
                "record_id": record_id,
                "finding": idx,
                "where": where,
                "inspection_date": day,
                "industry": industry,
                "rule": rule,
                "citation": index.rendered.get(rule, ""),
                "audit_class": klass,
                "status": status,
            }
            if fid is not None:
                row["id"] = fid
            if site is not None:
                row["site_id"] = site
            if deadline:
                row["deadline"] = deadline
            rectified, then = status_as_of(status, history, done, as_of)
            row["status_as_of"] = then
            if not rectified:
                if deadline and deadline < as_of:
                    row["class"] = "open_overdue"
                    row["days_overdue"] = (date.fromisoformat(as_of) - date.fromisoformat(deadline)).days
                else:
                    row["class"] = "open"
                rows.append(row)
                continue
            since = done or day
            row["closed_on"] = done or None
            target = instead or current or rule
            if target != rule:
                row["checked_rule"] = target
            if link is not None:
                found = [events[i] for i in by_record.get(link, ())]
                visits = [(v[1], -1, v) for v in found if v[0] == site and site is not None]
                if not found:
                    _not_evidenced(row, f"the linked re-inspection {link!r} is not in the input")
                elif not visits:
                    _not_evidenced(row, f"the linked re-inspection {link!r} is not of the same site")
                else:
                    _decide(row, index, target, visits, since, as_of, linked=True)
                rows.append(row)
                continue
            if site is None:
                _not_evidenced(row, "the record has no site.id: re-inspections cannot be matched")
                rows.append(row)
                continue
            visits = [v for v in by_site.get(site, ()) if v[2][2] != record_id]
            _decide(row, index, target, visits, since, as_of, linked=False)
            rows.append(row)
    return rows, figures(rows)


def _not_evidenced(row: Row, reason: str) -> None:
    row["class"] = "closure_not_evidenced"
    row["reason"] = reason


def _decide(row: Row, index: CriterionIndex, target: str, visits: Sequence[Visit], since: str, as_of: str, linked: bool) -> None:
    seen: List[Dict[str, str]] = []
    for vday, _, ev in visits:
        if vday < since or vday > as_of:
            if linked:
                _not_evidenced(
                    row,
                    f"the linked re-inspection of {vday} is "
                    + ("before the closure" if vday < since else "after the report date"),
                )
                return
            continue
        outcome, checked = _outcome(index, target, date.fromisoformat(vday), ev[3], ev[4], ev[5])
        seen.append({"record_id": ev[2], "inspection_date": vday, "where": ev[6], "outcome": outcome, "rule": checked})
        if outcome in ("matched", "not_matched"):
            row["class"] = "closed_still_present" if outcome == "matched" else "verified_closed"
            row["evidence"] = seen[-1]
            row["reinspections"] = len(seen)
            return
    row["reinspections"] = len(seen)
    if seen:
        row["evidence"] = seen[0]
        _not_evidenced(
            row,
            "the re-inspections of the same site cannot decide the criterion ("
            + ", ".join(sorted({s["outcome"] for s in seen}))
            + ")",
        )
    else:
        _not_evidenced(
            row,
            "no re-inspection of the same site on or after the closure"
            + (f" ({since})" if since else "")
            + " and up to the report date",
        )


def figures(rows: Sequence[Row]) -> Dict[str, Any]:
    classes: Counter[str] = Counter(r["class"] for r in rows)
    by_industry: Dict[str, Counter[str]] = {}
    reasons: Counter[str] = Counter()
    for r in rows:
        by_industry.setdefault(r["industry"], Counter())[r["class"]] += 1
        if "reason" in r:
            reasons[_reason_kind(r["reason"])] += 1

    def block(c: Counter[str]) -> Dict[str, Any]:
        found = sum(c.values())
        closed = c["closed_still_present"] + c["verified_closed"] + c["closure_not_evidenced"]
        out: Dict[str, Any] = {k: c[k] for k in RECT_CLASSES}
        out.update(
            findings=found,
            recorded_rectified=closed,
            recorded_rectification_rate=round(closed / found, 6) if found else None,
            verified_rectification_rate=round(c["verified_closed"] / found, 6) if found else None,
            closure_verification_rate=round(c["verified_closed"] / closed, 6) if closed else None,
        )
        return out

    return {
        **block(classes),
        "not_evidenced_reasons": dict(sorted(reasons.items())),
        "by_industry": [{"key": k, **block(by_industry[k])} for k in sorted(by_industry)],
        "definitions": {**RECT_DEFINITIONS, **{k: RECT_TEXT[k] for k in RECT_CLASSES}},
    }


def _reason_kind(reason: str) -> str:
    if reason.startswith("the linked"):
        return "linked re-inspection absent, of another site or out of dates"
    if "no site.id" in reason:
        return "no site id"
    if "cannot decide" in reason:
        return "re-inspections cannot decide the criterion"
    return "no re-inspection after the closure"


__all__ = ["RECT_CLASSES", "RECT_TEXT", "event_of", "figures", "judge", "loop_state", "status_as_of"]
