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


def _reference_trace(monkeypatch, rules, record, rule_id):
    """explain() as it was: a fresh interpreter per rule, every node evaluated anew."""
    import safetyrules.explain as ex
    from safetyrules.interpreter import Interpreter

    with monkeypatch.context() as m:
        m.setattr(ex, "_TraceInterpreter", Interpreter)
        return explain(rules, record, rule_id)


@pytest.mark.parametrize("pack", ["mining", "hazchem", "industry-trade", "demo"])
def test_one_explainer_for_many_rules_traces_each_as_explain_does(monkeypatch, pack):
    """One Explainer per record (one interpreter, each node's value kept) over every rule its modules
    hold gives the trace a fresh interpreter gives, on the parsed record and on the compiled evaluator's
    record read from its report (not checked again)."""
    from benchmarks.realistic import records_for
    from safetyrules import load_rules
    from safetyrules.evaluation import record_of
    from safetyrules.explain import Explainer

    rules = load_rules(pack)
    traced = deferred = 0
    for rec in records_for(rules, 8, seed=11):
        shared = Explainer(rules, rules.parse_record(rec))
        report = rules.evaluate_compiled(rec)
        checked = record_of(report) if report is not None else None
        from_report = Explainer(rules, checked) if checked is not None else None
        deferred += from_report is not None
        # the rules of the modules applied (a small pack: every rule, those of other versions too)
        rule_ids = (
            list(rules.ir.rules) if len(rules.ir.rules) < 100 else [r.id for cm in shared.selection.modules for r in cm.rules]
        )
        for rule_id in rule_ids:
            expected = _reference_trace(monkeypatch, rules, rec, rule_id)
            assert shared.explain(rule_id) == expected, rule_id
            if from_report is not None:
                assert from_report.explain(rule_id) == expected, rule_id
            traced += 1
    assert traced > 20 and deferred > 0


def test_record_of_a_report_read_already_is_none(demo_rules):
    from safetyrules.evaluation import record_of

    report = demo_rules.evaluate_compiled(demo_record({"annual_output_t": 7150, "approved_capacity_t": 6500}))
    assert report is not None and record_of(report) is not None
    assert report.determinations is not None  # builds its lists: the decision is no longer kept
    assert record_of(report) is None
