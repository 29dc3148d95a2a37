"""The inspector's finding on a rule or item (record key ``inspector_findings``): it decides what the
facts cannot, never overrides what they decide, and every finding is reported with how it stood."""

import importlib.util
import json

import jsonschema
import pytest

from safetyrules import load_rules
from safetyrules.errors import RecordError
from safetyrules.schemas import record_schema, result_schema

BACKENDS = [("native", True), ("native", False), ("interpreter", True)] + (
    [("durable", True)] if importlib.util.find_spec("durable_rules_engine") else []
)
CAPACITY = "demo-capacity-2026.a4.i1"
FACES = "demo-capacity-2026.a5.i2"


@pytest.fixture(scope="module")
def demo():
    rules = load_rules("demo")
    yield rules
    rules.close()


@pytest.fixture(params=BACKENDS, ids=lambda b: f"{b[0]}{'' if b[1] else '-python'}", scope="module")
def rules(request, demo):
    backend, compiled = request.param
    return demo.with_backend(backend, compiled=compiled)


def _record(facts, findings, date="2026-08-01"):
    return {
        "record_id": "f1",
        "inspection_date": date,
        "site": {"industry": "demo", "attributes": {"mine_type": "underground"}},
        "facts": facts,
        "inspector_findings": findings,
    }


def _stood(report):
    return [(f.finding.rule_id, f.finding.item, f.finding.finding, f.facts_outcome, f.result) for f in report.inspector_findings]


def test_a_finding_decides_what_the_facts_cannot(rules):
    finding = {"rule": CAPACITY, "finding": "present", "note": "超能力生产，经核实", "evidence": ["产量台账", "销售记录"]}
    report = rules.evaluate(_record({"annual_output_t": 6000}, [finding, {"rule": FACES, "finding": "absent"}]))
    assert report.status == "major_hazard_found"
    [d] = report.determinations
    assert (d.rule_id, d.decided_by) == (CAPACITY, "inspector_finding")
    assert d.evidence == () and d.facts == ()  # nothing from facts is claimed
    assert d.finding["note"] == "超能力生产，经核实" and d.finding["evidence"] == ["产量台账", "销售记录"]
    assert d.finding["needs"] == ["approved_capacity_t", "max_quarter_output_t"]
    assert report.undetermined == ()
    assert report.absent_by_finding == (FACES,)
    assert report.outcome_of(FACES) == "not_matched" and FACES not in report.not_matched  # never mixed with facts
    assert _stood(report) == [
        (CAPACITY, None, "present", "undetermined", "decided"),
        (FACES, None, "absent", "undetermined", "decided"),
    ]
    out = report.to_json()
    jsonschema.validate(out, result_schema())
    assert out["determinations"][0]["decided_by"] == "inspector_finding"
    assert out["not_matched_by_finding"] == [FACES] and out["contradictions"] == 0


def test_facts_stand_and_a_contradiction_is_reported(rules):
    facts = {
        "annual_output_t": 8000,
        "approved_capacity_t": 6500,
        "max_quarter_output_t": 10,
        "working_faces": [{"id": "F2", "ch4_pct": 0.2}],
    }
    report = rules.evaluate(_record(facts, [{"rule": CAPACITY, "finding": "absent"}, {"rule": FACES, "finding": "present"}]))
    assert [(d.rule_id, d.decided_by) for d in report.determinations] == [(CAPACITY, "facts")]
    assert report.outcome_of(FACES) == "not_matched"
    assert _stood(report) == [
        (CAPACITY, None, "absent", "matched", "contradicts"),
        (FACES, None, "present", "not_matched", "contradicts"),
    ]
    assert len(report.contradictions) == 2 and report.to_json()["contradictions"] == 2


def test_a_finding_that_agrees_changes_nothing(rules):
    facts = {"annual_output_t": 8000, "approved_capacity_t": 6500, "max_quarter_output_t": 10}
    plain = rules.evaluate(_record(facts, None))
    with_finding = rules.evaluate(_record(facts, [{"rule": CAPACITY, "finding": "present"}]))
    assert with_finding.determinations == plain.determinations and with_finding.undetermined == plain.undetermined
    assert _stood(with_finding) == [(CAPACITY, None, "present", "matched", "agrees")]


def test_a_finding_on_an_item_decides_that_item_only(rules):
    faces = [{"id": "F1", "ch4_pct": 1.2}, {"id": "F2", "ch4_pct": 1.5}, {"id": "F3", "ch4_pct": 0.2}]
    report = rules.evaluate(_record({"working_faces": faces}, [{"rule": FACES, "item": "F1", "finding": "present"}]))
    by_finding = [d for d in report.determinations if d.rule_id == FACES]
    assert [(d.item, d.list_name, d.decided_by) for d in by_finding] == [("F1", "working_faces", "inspector_finding")]
    [still] = [u for u in report.undetermined if u.rule_id == FACES]
    assert still.items == ("F2",)  # the other undecided face still needs its fact
    report = rules.evaluate(_record({"working_faces": faces}, [{"rule": FACES, "item": "F3", "finding": "present"}]))
    assert _stood(report) == [(FACES, "F3", "present", "not_matched", "contradicts")]


def test_a_finding_on_a_rule_not_in_force_is_reported_as_such(rules):
    report = rules.evaluate(_record({}, [{"rule": "demo-capacity-2020.a4.i1", "finding": "present"}]))
    assert _stood(report) == [("demo-capacity-2020.a4.i1", None, "present", "not_evaluated", "not_evaluated")]
    assert all(d.decided_by == "facts" for d in report.determinations)


def test_strict_mode_and_findings_together(demo):
    # strictly, the ageing-mine exception leaves the rule undetermined: the inspector's finding decides it
    facts = {"annual_output_t": 8000, "approved_capacity_t": 6500, "max_quarter_output_t": 10}
    report = demo.evaluate(_record(facts, [{"rule": CAPACITY, "finding": "absent"}]), presumptions=False)
    assert _stood(report) == [(CAPACITY, None, "absent", "undetermined", "decided")]
    report = demo.evaluate(_record(facts, [{"rule": CAPACITY, "finding": "absent"}]))
    assert _stood(report) == [(CAPACITY, None, "absent", "matched", "contradicts")]


@pytest.mark.parametrize(
    "findings, path, words",
    [
        ({"rule": CAPACITY}, "$.inspector_findings", "a list"),
        ([{"rule": "demo-capacity-2026.a4.i9", "finding": "present"}], "$.inspector_findings[0].rule", "did you mean"),
        ([{"rule": CAPACITY, "finding": "yes"}], "$.inspector_findings[0].finding", "'present' or 'absent'"),
        ([{"rule": CAPACITY, "finding": "present", "seen": 1}], "$.inspector_findings[0].seen", "unknown key"),
        ([{"rule": CAPACITY, "finding": "present", "item": "F1"}], "$.inspector_findings[0].item", "not over a list"),
        ([{"rule": CAPACITY, "finding": "present", "evidence": [1]}], "$.inspector_findings[0].evidence", "texts"),
        (
            [{"rule": CAPACITY, "finding": "present"}, {"rule": CAPACITY, "finding": "absent"}],
            "$.inspector_findings[1]",
            "second",
        ),
        (["present"], "$.inspector_findings[0]", "expected"),
    ],
)
def test_bad_findings_are_named(demo, findings, path, words):
    with pytest.raises(RecordError) as err:
        demo.evaluate(_record({}, findings))
    assert any(p == path and words in m for p, m in err.value.problems), err.value.problems


def test_the_record_schema_describes_findings(demo):
    schema = record_schema(demo.ir)
    record = _record({}, [{"rule": CAPACITY, "finding": "present", "evidence": "照片"}])
    jsonschema.validate(record, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_record({}, [{"rule": CAPACITY, "finding": "maybe"}]), schema)


def test_the_compiled_evaluator_leaves_findings_to_the_general_path(demo):
    record = _record({"annual_output_t": 6000}, [{"rule": CAPACITY, "finding": "present"}])
    assert demo.evaluate_compiled(record) is None  # declined: the general path applies the findings
    assert json.dumps(demo.evaluate(record).to_json(), sort_keys=True) == json.dumps(
        demo.with_backend("interpreter").evaluate(record).to_json() | {"engine": demo.evaluate(record).to_json()["engine"]},
        sort_keys=True,
    )


def test_an_item_found_absent_leaves_an_unrecorded_list_undecided(rules):
    report = rules.evaluate(_record({}, [{"rule": FACES, "item": "F9", "finding": "absent"}]))
    assert report.outcome_of(FACES) == "undetermined" and FACES not in report.absent_by_finding
    report = rules.evaluate(_record({}, [{"rule": FACES, "item": "F9", "finding": "present"}]))
    assert [(d.rule_id, d.item, d.decided_by) for d in report.determinations] == [(FACES, "F9", "inspector_finding")]
