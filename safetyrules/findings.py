"""The inspector's finding on a criterion: what decides a rule the recorded facts cannot.

Inspectors often record a conclusion ("超能力生产，经核实") without the figures behind it. A record may
carry such findings (``inspector_findings``), each naming a rule (and, for a rule over a list, an item),
``present`` or ``absent``, with a note and the evidence the inspector relied on. The facts decide first:

- where the facts cannot decide the rule (undetermined), the finding decides it, and the report says so
  (a determination ``decided_by: inspector_finding``, or the rule not matched by the finding): it is
  never mixed up with a determination from facts;
- where the facts decide it, the finding either agrees or contradicts them, and a contradiction is
  listed for auditors; the facts' outcome stands.

Findings are applied to a report after any backend has decided the record, so every backend gives the
same result with them. This is a separate thing from a record's ``findings`` (the closed-loop list of
recorded hazards that ``safetyrules audit`` compares with the facts), which the engine does not read.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .errors import RecordError, did_you_mean
from .ir import RuleSetIR
from .report import (
    AGREES,
    CONTRADICTS,
    DECIDED,
    NOT_EVALUATED,
    Determination,
    Explanation,
    FindingResult,
    InspectorFinding,
    Report,
    UndeterminedRule,
)

#: the record key holding the inspector's findings
RECORD_KEY = "inspector_findings"
FINDING_VALUES = ("present", "absent")
_KEYS = ("rule", "finding", "item", "note", "evidence", "inspector", "id")


def parse_findings(raw: Any, ir: RuleSetIR, record_id: Optional[str]) -> Tuple[InspectorFinding, ...]:
    """The findings of a record, checked: every problem is named by its JSON path (RecordError)."""
    if raw is None:
        return ()
    problems: List[Tuple[str, str]] = []
    if not isinstance(raw, list):
        raise RecordError(record_id, [(f"$.{RECORD_KEY}", "expected a list of findings")])
    out: List[InspectorFinding] = []
    seen: Dict[Tuple[str, Optional[str]], int] = {}
    for i, entry in enumerate(raw):
        path = f"$.{RECORD_KEY}[{i}]"
        if not isinstance(entry, dict):
            problems.append((path, 'expected {"rule": ..., "finding": "present" | "absent"}'))
            continue
        before = len(problems)
        for key in entry:
            if key not in _KEYS:
                problems.append((f"{path}.{key}", f"unknown key{did_you_mean(str(key), _KEYS)}"))
        rule_id, finding = entry.get("rule"), entry.get("finding")
        if not isinstance(rule_id, str):
            problems.append((f"{path}.rule", "required: the id of the rule the finding is on"))
        elif rule_id not in ir.rules:
            problems.append((f"{path}.rule", f"no loaded rule has the id {rule_id!r}{did_you_mean(rule_id, ir.rules)}"))
        if finding not in FINDING_VALUES:
            problems.append((f"{path}.finding", f"required: 'present' or 'absent', got {finding!r}"))
        item = entry.get("item")
        if item is not None:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                problems.append((f"{path}.item", f"expected the key of a list item, got {item!r}"))
            elif isinstance(rule_id, str) and rule_id in ir.rules and ir.rules[rule_id].rule.for_each is None:
                problems.append((f"{path}.item", f"rule {rule_id!r} is not over a list: a finding on it names no item"))
        evidence = entry.get("evidence", ())
        if isinstance(evidence, str):
            evidence = (evidence,)
        if not isinstance(evidence, (list, tuple)) or not all(isinstance(e, str) for e in evidence):
            problems.append((f"{path}.evidence", "expected a text or a list of texts (what the inspector relied on)"))
        for key in ("note", "inspector"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                problems.append((f"{path}.{key}", f"expected a text, got {entry[key]!r}"))
        fid = entry.get("id")
        if fid is not None and (isinstance(fid, bool) or not isinstance(fid, (str, int))):
            problems.append((f"{path}.id", f"expected a text or whole-number id, got {fid!r}"))
        if len(problems) > before or not isinstance(rule_id, str):  # a rule id that is not a text is a problem above
            continue
        target = (rule_id, None if item is None else str(item))
        if target in seen:
            problems.append(
                (path, f"a second finding on the same rule{' and item' if item is not None else ''} (first: [{seen[target]}])")
            )
            continue
        seen[target] = i
        out.append(
            InspectorFinding(
                rule_id=rule_id,
                present=finding == "present",
                item=target[1],
                note=entry.get("note") or "",
                evidence=tuple(evidence),
                inspector=entry.get("inspector"),
                id=None if fid is None else str(fid),
            )
        )
    if problems:
        raise RecordError(record_id, problems)
    return tuple(out)


def apply_findings(report: Report, findings: Sequence[InspectorFinding], ir: RuleSetIR) -> Report:
    """The report with the findings applied: undetermined rules (or items) decided by them, and every
    finding listed with how it stood against the facts."""
    if not findings:
        return report
    determinations: List[Determination] = list(report.determinations)
    undetermined: Dict[str, UndeterminedRule] = {u.rule_id: u for u in report.undetermined}
    results: List[FindingResult] = []
    absent: List[str] = []
    for f in findings:
        outcome = _facts_outcome(report, f)
        if outcome == "undetermined":
            results.append(FindingResult(f, outcome, DECIDED))
            entry = undetermined[f.rule_id]
            if f.item is not None and not entry.items and not f.present:
                continue  # the list is not recorded: one item found absent leaves the others undecided
            remaining = tuple(k for k in entry.items if k != f.item) if f.item is not None else ()
            if remaining:
                undetermined[f.rule_id] = UndeterminedRule(
                    entry.rule_id, entry.title, entry.citation, entry.module_id, entry.explanation, remaining
                )
            else:
                del undetermined[f.rule_id]
            if f.present:
                determinations.append(_by_finding(ir, f, entry))
            elif not remaining and f.rule_id not in {d.rule_id for d in determinations}:
                absent.append(f.rule_id)
        elif outcome == "not_evaluated":
            results.append(FindingResult(f, outcome, NOT_EVALUATED))
        else:
            agrees = (outcome == "matched") == f.present
            results.append(FindingResult(f, outcome, AGREES if agrees else CONTRADICTS))
    return report.with_findings(tuple(determinations), tuple(undetermined.values()), tuple(results), tuple(absent))


def _facts_outcome(report: Report, f: InspectorFinding) -> str:
    """The rule's outcome from the facts, for the item the finding names where it names one."""
    outcome = report.outcome_of(f.rule_id)
    if f.item is None or outcome in ("not_applicable", "not_evaluated"):
        return outcome
    if any(d.rule_id == f.rule_id and d.item == f.item for d in report.determinations):
        return "matched"
    if any(u.rule_id == f.rule_id and f.item in u.items for u in report.undetermined):
        return "undetermined"
    if outcome == "undetermined" and not any(u.rule_id == f.rule_id and u.items for u in report.undetermined):
        return "undetermined"  # the list itself is not recorded: no item is decided
    return "not_matched"


def _by_finding(ir: RuleSetIR, f: InspectorFinding, entry: UndeterminedRule) -> Determination:
    """A determination made by the inspector's finding: no evidence from facts; what would decide it
    from facts is kept (``needs``), so that the record can be completed."""
    rule = ir.rules[f.rule_id].rule
    return Determination(
        rule_id=rule.id,
        title=entry.title,
        citation=entry.citation,
        module=dict(ir.module_by_id[rule.module_id].module_json),
        category={"id": rule.category.id, "title": rule.category.title.to_json()} if rule.category else None,
        severity=rule.severity,
        explanation=Explanation(((), (), ())),
        item=f.item,
        list_name=rule.for_each.list_name if f.item is not None and rule.for_each else None,
        decided_by="inspector_finding",
        finding=f.to_json() | {"needs": list(entry.needs)},
    )
