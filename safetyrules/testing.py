"""Rule tests stored as data beside the rules, and their coverage.

Standards staff write cases in YAML (a record and the expected outcome per rule); this runner
evaluates them and reports failures as a diff of missing and unexpected outcomes with the case's
``file:line``. Coverage counts, per rule, which outcomes the passing cases assert, because a rule
that was never seen matched, not matched *and* undetermined has not been tested as the standard
reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from jsonschema import Draft202012Validator

from .errors import Diagnostic, Location, RecordError
from .loader import _Collector, jsonable, read_document
from .ruleset import RuleSet

if TYPE_CHECKING:
    from .expr import ast
    from .interpreter import ItemBinding

OUTCOMES = ("matched", "not_matched", "undetermined", "not_applicable")

_CASES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["cases"],
    "properties": {
        "description": {"type": "string"},
        "cases": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "record", "expect"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "description": {"type": "string"},
                    "record": {"type": "object"},
                    "as_of": {"type": "string", "format": "date"},
                    "presumptions": {"type": "boolean"},
                    "expect": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {
                            "anyOf": [
                                {"enum": list(OUTCOMES)},
                                {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["outcome"],
                                    "properties": {
                                        "outcome": {"enum": list(OUTCOMES)},
                                        "needs": {"type": "array", "items": {"type": "string"}},
                                        "items": {"type": "array", "items": {"type": ["string", "integer"]}},
                                        "presumed": {"type": "array", "items": {"type": "string"}},
                                    },
                                },
                            ]
                        },
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Expectation:
    rule_id: str
    outcome: str
    needs: Optional[Tuple[str, ...]] = None
    items: Optional[Tuple[str, ...]] = None
    #: the facts a matched rule's report lists as presumed (an empty tuple: none)
    presumed: Optional[Tuple[str, ...]] = None


@dataclass(frozen=True)
class Case:
    name: str
    location: Location
    record: Mapping[str, Any]
    expectations: Tuple[Expectation, ...]
    as_of: Optional[str] = None
    #: False: the case is judged strictly (no presumptions), as ``check --no-presumptions`` does
    presumptions: bool = True


@dataclass
class CaseResult:
    case: Case
    failures: List[str] = field(default_factory=list)
    passed_expectations: List[Expectation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestRun:
    results: List[CaseResult]
    diagnostics: List[Diagnostic]
    rule_ids: Tuple[str, ...]

    @property
    def failed(self) -> List[CaseResult]:
        return [r for r in self.results if not r.passed]

    def coverage(self) -> Dict[str, Dict[str, bool]]:
        """Per rule: which of matched / not_matched / undetermined a passing expectation asserted."""
        seen: Dict[str, Set[str]] = {rid: set() for rid in self.rule_ids}
        for result in self.results:
            for e in result.passed_expectations:
                if e.rule_id in seen:
                    seen[e.rule_id].add(e.outcome)
        return {rid: {o: (o in s) for o in ("matched", "not_matched", "undetermined")} for rid, s in seen.items()}

    def rule_coverage_percent(self) -> float:
        cov = self.coverage()
        if not cov:
            return 100.0
        full = sum(1 for c in cov.values() if all(c.values()))
        return 100.0 * full / len(cov)


def read_cases(path: str) -> Tuple[List[Case], List[Diagnostic]]:
    collector = _Collector()
    doc, positions, _ = read_document(path, collector)
    if positions is None:
        return [], collector.diagnostics
    errors = list(
        Draft202012Validator(_CASES_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(jsonable(doc))
    )
    for err in errors:
        where = "/".join(map(str, err.absolute_path))
        collector.add("E-TEST-FILE", f"{where}: {err.message}", positions.at(tuple(err.absolute_path)))
    if errors:
        return [], collector.diagnostics
    cases = []
    for i, raw in enumerate(doc["cases"]):
        expectations = []
        for rule_id, exp in raw["expect"].items():
            if isinstance(exp, str):
                expectations.append(Expectation(rule_id, exp))
            else:
                expectations.append(
                    Expectation(
                        rule_id,
                        exp["outcome"],
                        tuple(sorted(exp["needs"])) if "needs" in exp else None,
                        tuple(sorted(str(x) for x in exp["items"])) if "items" in exp else None,
                        tuple(sorted(exp["presumed"])) if "presumed" in exp else None,
                    )
                )
        record = jsonable(raw["record"])
        record.setdefault("record_id", f"case-{i + 1}")
        cases.append(
            Case(
                raw["name"],
                positions.at(("cases", i)),
                record,
                tuple(expectations),
                raw.get("as_of"),
                raw.get("presumptions", True),
            )
        )
    return cases, collector.diagnostics


def run_case(rules: RuleSet, case: Case) -> CaseResult:
    """Evaluate one case and compare every expectation; failures say expected vs actual."""
    from datetime import date

    result = CaseResult(case)
    try:
        report = rules.evaluate(
            case.record, as_of=date.fromisoformat(case.as_of) if case.as_of else None, presumptions=case.presumptions
        )
    except RecordError as exc:
        result.failures.append("the record is invalid: " + "; ".join(f"{p}: {m}" for p, m in exc.problems))
        return result
    for e in case.expectations:
        if e.rule_id not in rules.ir.rules:
            result.failures.append(f"{e.rule_id}: no such rule is loaded")
            continue
        actual = report.outcome_of(e.rule_id)
        if actual == "not_evaluated":
            # the rule's module is not in force on the case's date, or not for this industry
            actual = "not_applicable"
        problems = []
        if actual != e.outcome:
            problems.append(f"expected {e.outcome}, got {actual}")
        elif e.needs is not None and e.outcome == "undetermined":
            got = next(u.needs for u in report.undetermined if u.rule_id == e.rule_id)
            missing, unexpected = sorted(set(e.needs) - set(got)), sorted(set(got) - set(e.needs))
            if missing or unexpected:
                problems.append(f"needs differ: missing {missing}, unexpected {unexpected}")
        elif e.items is not None and e.outcome == "matched":
            got_items = sorted(str(d.item) for d in report.determinations if d.rule_id == e.rule_id)
            missing, unexpected = sorted(set(e.items) - set(got_items)), sorted(set(got_items) - set(e.items))
            if missing or unexpected:
                problems.append(f"matched items differ: missing {missing}, unexpected {unexpected}")
        if e.presumed is not None and not problems:
            got_presumed = sorted({p.fact for d in report.determinations if d.rule_id == e.rule_id for p in d.presumptions})
            if got_presumed != list(e.presumed):
                problems.append(f"presumptions differ: expected {list(e.presumed)}, got {got_presumed}")
        if problems:
            result.failures.append(f"{e.rule_id}: " + "; ".join(problems))
        else:
            result.passed_expectations.append(e)
    return result


def run_cases(rules: RuleSet, files: Sequence[str]) -> TestRun:
    results: List[CaseResult] = []
    diagnostics: List[Diagnostic] = []
    for path in files:
        cases, diags = read_cases(path)
        diagnostics.extend(diags)
        results.extend(run_case(rules, case) for case in cases)
    return TestRun(results, diagnostics, tuple(rules.ir.rules))


# ------------------------------------------------------------------ condition and threshold coverage

_ORDERING = ("<", "<=", ">", ">=")


def _atoms(node: ast.Node, inside_quantifier: bool = False) -> Iterator[ast.Node]:
    """The elementary tests of a condition (not those inside a quantifier, which counts as one)."""
    from .expr import ast

    if isinstance(node, (ast.And, ast.Or)):
        for o in node.operands:
            yield from _atoms(o)
    elif isinstance(node, ast.Not):
        yield from _atoms(node.operand)
    elif isinstance(node, ast.Call) and node.func == "if" and node.ty is not None and node.ty.kind == "boolean":
        # a condition that decides from a measurement when it is recorded and from a finding otherwise:
        # each branch and the choice between them must be seen both ways, not only the whole
        for arg in node.args:
            yield from _atoms(arg)
    elif isinstance(node, (ast.Compare, ast.Member, ast.Quantifier, ast.Call)) or (
        isinstance(node, (ast.Name, ast.ItemField)) and node.ty is not None and node.ty.kind == "boolean"
    ):
        yield node


def _is_threshold(node: ast.Node) -> bool:
    from .expr import ast

    return isinstance(node, ast.Compare) and node.op in _ORDERING and any(isinstance(n, ast.Number) for n in ast.walk(node))


@dataclass
class DetailedCoverage:
    """Per condition: each elementary test seen true and false; per threshold: a case exactly at it."""

    conditions: Dict[Tuple[str, str], Set[bool]] = field(default_factory=dict)
    thresholds: Dict[Tuple[str, str], bool] = field(default_factory=dict)

    def condition_percent(self) -> float:
        if not self.conditions:
            return 100.0
        return 100.0 * sum(1 for seen in self.conditions.values() if {True, False} <= seen) / len(self.conditions)

    def threshold_percent(self) -> float:
        if not self.thresholds:
            return 100.0
        return 100.0 * sum(1 for at in self.thresholds.values() if at) / len(self.thresholds)

    def counts(self) -> Tuple[int, int, int, int]:
        """(conditions seen both ways, conditions, thresholds hit exactly, thresholds)."""
        both = sum(1 for seen in self.conditions.values() if {True, False} <= seen)
        at = sum(1 for hit in self.thresholds.values() if hit)
        return both, len(self.conditions), at, len(self.thresholds)

    def to_json(self) -> Dict[str, Any]:
        return {
            "condition_coverage_percent": round(self.condition_percent(), 2),
            "threshold_coverage_percent": round(self.threshold_percent(), 2),
            "conditions_not_seen_both_ways": sorted(
                f"{rid}: {text} (seen {sorted(str(v).lower() for v in seen) or 'never'})"
                for (rid, text), seen in self.conditions.items()
                if not {True, False} <= seen
            ),
            "thresholds_without_a_case_at_the_boundary": sorted(
                f"{rid}: {text}" for (rid, text), at in self.thresholds.items() if not at
            ),
        }


def detailed_coverage(rules: RuleSet, run: "TestRun") -> DetailedCoverage:
    """Evaluate every elementary test of every rule on every passing case's record (interpreter)."""
    from datetime import date as _date

    from .evaluation import select_modules
    from .expr import ast
    from .interpreter import UNKNOWN, Interpreter, ItemBinding

    cov = DetailedCoverage()
    atoms_of: Dict[Tuple[str, str], List[ast.Node]] = {}
    for cm in list(rules.ir.modules) + [v.module for v in rules.ir.variants]:
        for cr in cm.rules:
            nodes = list(_atoms(cr.rule.when)) + (list(_atoms(cr.rule.applies_if)) if cr.rule.applies_if is not None else [])
            nodes += [n for exception in cr.rule.unless for n in _atoms(exception.when)]
            atoms_of[(cm.key, cr.id)] = nodes
            for n in nodes:
                cov.conditions.setdefault((cr.id, ast.source_of(n)), set())
                if _is_threshold(n):
                    cov.thresholds.setdefault((cr.id, ast.source_of(n)), False)
    for result in run.results:
        if not result.passed:
            continue
        case = result.case
        try:
            record = rules.parse_record(case.record)
        except RecordError:
            continue
        selection = select_modules(rules.ir, record, _date.fromisoformat(case.as_of) if case.as_of else None)
        interp = Interpreter(rules.ir, record, selection.day)
        for cm in selection.modules:
            for cr in cm.rules:
                bindings: List[Dict[str, ItemBinding]] = [{}]
                if cr.rule.for_each is not None:
                    lst = interp.fact(cr.rule.for_each.list_name)
                    if lst.value is UNKNOWN:
                        continue
                    spec = interp.vocabulary[cr.rule.for_each.list_name]
                    bindings = [
                        {cr.rule.for_each.var: ItemBinding(cr.rule.for_each.list_name, str(e.get(spec.key)), e)}
                        for e in lst.value
                    ]
                for items in bindings:
                    for node in atoms_of[(cm.key, cr.id)]:
                        key = (cr.id, ast.source_of(node))
                        value = interp.eval(node, items).value
                        if value is not UNKNOWN:
                            cov.conditions[key].add(bool(value))
                        if key in cov.thresholds and not cov.thresholds[key] and isinstance(node, ast.Compare):
                            left, right = interp.eval(node.left, items).value, interp.eval(node.right, items).value
                            if left is not UNKNOWN and right is not UNKNOWN and left == right:
                                cov.thresholds[key] = True
    return cov
