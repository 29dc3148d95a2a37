"""Results: what an evaluation returns, as immutable data with a stable JSON form.

The JSON form is documented in docs/results.md and has a JSON Schema
(``safetyrules/schemas/result.schema.json``). It carries enough to replay the evaluation: the record
id and date, the date the modules were chosen by, the module versions applied, the pack versions and
the library version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, List, Optional, Tuple

RESULT_SCHEMA_VERSION = 1

MAJOR_HAZARD_FOUND = "major_hazard_found"
UNDETERMINED = "undetermined"
NO_MAJOR_HAZARD_FOUND = "no_major_hazard_found"
NO_APPLICABLE_CRITERIA = "no_applicable_criteria"


@dataclass(frozen=True)
class Evidence:
    """One test that decided a determination: the expression, the values it read, its truth value."""

    expr: str
    result: Optional[bool]
    values: Tuple[Tuple[str, Any], ...]
    item: Optional[str] = None

    def to_json(self) -> dict:
        out = {"expr": self.expr, "result": _tri(self.result), "values": dict(self.values)}
        if self.item is not None:
            out["item"] = self.item
        return out


@dataclass(frozen=True)
class Determination:
    """A matched criterion: a major accident hazard, with its exact citation and evidence."""

    rule_id: str
    title: Dict[str, str]
    citation: Dict[str, Any]
    module: Dict[str, Any]
    category: Optional[Dict[str, Any]]
    severity: str
    evidence: Tuple[Evidence, ...]
    facts: Tuple[Tuple[str, Any], ...]
    item: Optional[str] = None
    list_name: Optional[str] = None

    def to_json(self) -> dict:
        out = {
            "rule_id": self.rule_id,
            "title": self.title,
            "citation": self.citation,
            "module": self.module,
            "category": self.category,
            "severity": self.severity,
            "facts": _facts_json(self.facts),
            "evidence": [e.to_json() for e in self.evidence],
        }
        if self.item is not None:
            out["item"] = {"list": self.list_name, "key": self.item}
        return out


@dataclass(frozen=True)
class UndeterminedRule:
    """A criterion that the recorded facts cannot decide. Never to be read as compliant."""

    rule_id: str
    title: Dict[str, str]
    citation: Dict[str, Any]
    module_id: str
    needs: Tuple[str, ...]
    items: Tuple[str, ...] = ()

    def to_json(self) -> dict:
        out = {
            "rule_id": self.rule_id,
            "title": self.title,
            "citation": self.citation,
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

    def to_json(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.module_id:
            out["module_id"] = self.module_id
        return out


@dataclass(frozen=True)
class Report:
    """The result of evaluating one inspection record."""

    record_id: str
    inspection_date: date
    as_of: date
    backend: str
    determinations: Tuple[Determination, ...]
    undetermined: Tuple[UndeterminedRule, ...]
    not_matched: Tuple[str, ...]
    not_applicable: Tuple[str, ...]
    modules_applied: Tuple[Dict[str, Any], ...]
    modules_not_applicable: Tuple[Dict[str, Any], ...]
    notices: Tuple[Notice, ...]
    engine: Dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """major_hazard_found | undetermined | no_major_hazard_found | no_applicable_criteria."""
        if not self.modules_applied and not self.determinations:
            return NO_APPLICABLE_CRITERIA
        if self.determinations:
            return MAJOR_HAZARD_FOUND
        if self.undetermined:
            return UNDETERMINED
        return NO_MAJOR_HAZARD_FOUND

    @property
    def matched_rule_ids(self) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(d.rule_id for d in self.determinations))

    def outcome_of(self, rule_id: str) -> str:
        """matched | not_matched | undetermined | not_applicable | not_evaluated."""
        if any(d.rule_id == rule_id for d in self.determinations):
            return "matched"
        if any(u.rule_id == rule_id for u in self.undetermined):
            return "undetermined"
        if rule_id in self.not_matched:
            return "not_matched"
        if rule_id in self.not_applicable:
            return "not_applicable"
        return "not_evaluated"

    def to_json(self) -> dict:
        return {
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
            "modules_applied": list(self.modules_applied),
            "modules_not_applicable": list(self.modules_not_applicable),
            "notices": [n.to_json() for n in self.notices],
            "engine": dict(self.engine, backend=self.backend),
        }


def _tri(value: Optional[bool]):
    return "unknown" if value is None else value


def _facts_json(facts) -> dict:
    return {k: v for k, v in facts}
