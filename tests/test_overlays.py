"""Provincial supplements as overlays: add, tighten, set aside; reported exactly."""

import pytest

from safetyrules import LoadError, load_rules
from safetyrules.overlays import overlay_report
from tests.conftest import demo_record

FACTS = {"annual_output_t": 6955, "approved_capacity_t": 6500, "max_quarter_output_t": 100, "monthly_output_max_t": 1}


def in_province(facts, region="CN-XX", date="2026-08-01"):
    record = demo_record(facts, date=date)
    record["site"]["region"] = region
    return record


def test_tightened_rule_cites_national_item_and_supplement(demo_rules):
    report = demo_rules.evaluate(in_province(FACTS))
    d = next(d for d in report.determinations if d.rule_id == "demo-capacity-2026.a4.i1")
    assert d.citation["rendered"] == "《示例矿井重大隐患判定标准》第四条第（一）项"
    assert d.overlay["citation"]["rendered"] == "《示例省矿井重大隐患判定补充规定》第三条"
    assert d.overlay["action"] == "tighten"
    assert any(n.code == "OVERLAY" for n in report.notices)


def test_national_text_elsewhere(demo_rules):
    report = demo_rules.evaluate(in_province(FACTS, region="CN-NM"))
    assert report.outcome_of("demo-capacity-2026.a4.i1") == "not_matched"
    assert not any(n.code == "OVERLAY" for n in report.notices)


def test_jurisdiction_argument_selects_the_overlay(demo_rules):
    record = in_province(FACTS, region=None)
    del record["site"]["region"]
    assert demo_rules.evaluate(record).outcome_of("demo-capacity-2026.a4.i1") == "not_matched"
    assert demo_rules.evaluate(record, jurisdiction="CN-XX").outcome_of("demo-capacity-2026.a4.i1") == "matched"


@pytest.mark.parametrize("backend", ["native", "interpreter", "durable"])
def test_set_aside_rule_is_not_applicable(demo_rules, backend):
    rules = demo_rules.with_backend(backend)
    facts = dict(FACTS, working_faces=[{"id": "F", "ch4_pct": 2, "electric_work_continued": True}])
    assert rules.evaluate(in_province(facts)).outcome_of("demo-capacity-2026.a5.i2") == "not_applicable"
    assert rules.evaluate(in_province(facts, region="CN-NM")).outcome_of("demo-capacity-2026.a5.i2") == "matched"


def test_overlay_report_lists_every_change(demo_rules):
    report = overlay_report(demo_rules.ir)
    (supplement,) = report["supplements"]
    assert supplement["illustration"] is True
    actions = {c["rule_id"]: c for c in supplement["changed_rules"]}
    assert actions["demo-capacity-2026.a4.i1"]["provincial_condition"].startswith("capacity_ratio > 105%")
    assert actions["demo-capacity-2026.a4.i1"]["national_condition"].startswith("capacity_ratio > 110%")
    assert actions["demo-capacity-2026.a5.i2"]["action"] == "not_applicable"
    assert [r["rule_id"] for r in supplement["added_rules"]] == ["demo-province-supplement-2026.a5"]


def test_overlay_of_unknown_rule_is_a_load_error(tmp_path):
    import shutil

    from tests.conftest import RULES

    pack = tmp_path / "demo"
    shutil.copytree(f"{RULES}/demo", pack)
    path = pack / "overlay-example.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("rule: demo-capacity-2026.a4.i1", "rule: demo-capacity-2026.a4.i9"),
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as info:
        load_rules(str(pack))
    assert info.value.diagnostics[0].code == "E-OVERLAY"
    assert "did you mean 'demo-capacity-2026.a4.i1'" in info.value.diagnostics[0].message


def test_overlay_in_a_national_module_is_refused(tmp_path):
    import shutil

    from tests.conftest import RULES

    pack = tmp_path / "demo"
    shutil.copytree(f"{RULES}/demo", pack)
    path = pack / "overlay-example.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "jurisdiction: {province: 示例省（虚构）, code: CN-XX}", "jurisdiction: national"
        ),
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as info:
        load_rules(str(pack))
    assert info.value.diagnostics[0].code == "E-OVERLAY"


@pytest.mark.parametrize("backend", ["native", "interpreter", "durable"])
def test_every_backend_applies_the_tightened_rule(demo_rules, backend):
    rules = demo_rules.with_backend(backend)
    assert rules.evaluate(in_province(FACTS)).outcome_of("demo-capacity-2026.a4.i1") == "matched"
    assert rules.evaluate(in_province(FACTS, region="CN-NM")).outcome_of("demo-capacity-2026.a4.i1") == "not_matched"
