import json
import os

import pytest

from safetyrules import SafetyRulesError
from safetyrules.cli import main
from safetyrules.explain import explain, render_text
from tests.conftest import EXAMPLES, RULES, demo_record


def test_trace_shows_each_subcondition_with_values_and_truth(demo_rules):
    record = demo_record({"annual_output_t": 7150, "approved_capacity_t": 6500})
    trace = explain(demo_rules, record, "demo-capacity-2026.a4.i1")
    assert trace["outcome"] == "undetermined"
    left, right = trace["when"]["children"]
    assert left["expr"] == "capacity_ratio > 110%" and left["value"] is False
    assert left["reads"]["capacity_ratio"] == 1.1
    assert right["value"] == "unknown" and right["needs"] == ["max_quarter_output_t"]
    assert trace["derived"]["capacity_ratio"]["value"] == 1.1
    assert "max_quarter_output_t" in trace["why"]


def test_trace_of_list_rule_names_items(demo_rules):
    facts = {"working_faces": [{"id": "A", "ch4_pct": 1.0, "electric_work_continued": True}, {"id": "B", "ch4_pct": 0.2}]}
    trace = explain(demo_rules, demo_record(facts), "demo-capacity-2026.a5.i2")
    assert trace["outcome"] == "matched"
    assert [i["item"] for i in trace["items"]] == ["A", "B"]
    assert trace["items"][0]["when"]["value"] is True
    assert trace["items"][1]["when"]["value"] is False


def test_rule_of_a_module_not_in_force(demo_rules):
    trace = explain(demo_rules, demo_record({}), "demo-capacity-2020.a4.i1")
    assert trace["outcome"] == "not_evaluated" and "2026-06-30" in trace["why"]


def test_unknown_rule_suggests(demo_rules):
    with pytest.raises(SafetyRulesError, match="did you mean"):
        explain(demo_rules, demo_record({}), "demo-capacity-2026.a4.i2")


def test_cli_explain(capsys):
    code = main(
        [
            "explain",
            os.path.join(EXAMPLES, "demo-underground.json"),
            "--rule",
            "demo-capacity-2026.a4.i1",
            "--rules",
            os.path.join(RULES, "demo"),
            "--format",
            "json",
        ]
    )
    assert code == 0
    trace = json.loads(capsys.readouterr().out)
    assert trace["outcome"] == "matched"


def _capacity_record(**facts):
    return {
        "record_id": "x",
        "inspection_date": "2026-08-01",
        "site": {"industry": "demo", "attributes": {"mine_type": "underground"}},
        "facts": dict({"annual_output_t": 8000, "approved_capacity_t": 6500, "max_quarter_output_t": 10}, **facts),
    }


def test_explain_shows_exceptions_and_presumptions(demo_rules):
    rules = demo_rules
    trace = explain(rules, _capacity_record(), "demo-capacity-2026.a4.i1")
    assert trace["outcome"] == "matched" and trace["presumptions"] is True
    [exception] = trace["unless"]
    assert exception["holds"] is False and exception["text"] == "衰老矿井除外"
    assert exception["presumed"]["ageing_mine"]["value"] is False
    assert "presumed, not recorded: ageing_mine=false" in trace["why"]
    text = render_text(trace)
    assert "unless 衰老矿井" in text and "presumed ageing_mine=false (not recorded)" in text

    strict = explain(rules.strict(), _capacity_record(), "demo-capacity-2026.a4.i1")
    assert strict["outcome"] == "undetermined" and strict["unless"][0]["holds"] == "unknown"
    assert "presumed" not in strict["unless"][0] and "ageing_mine" in strict["why"]
    assert "strict: no presumptions" in render_text(strict)

    excepted = explain(rules, _capacity_record(ageing_mine=True), "demo-capacity-2026.a4.i1")
    assert excepted["outcome"] == "not_matched" and "an exception holds" in excepted["why"]
    assert excepted["unless"][0]["holds"] is True
