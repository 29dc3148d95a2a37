"""Lint findings: each has a stable code, a severity and a location, and each can be triggered."""

import json
import re

import pytest

from safetyrules.cli import main
from safetyrules.compiler import load_ir
from safetyrules.errors import Diagnostic, LoadError
from safetyrules.lint import lint_ir
from tests.helpers import write_module

NUM = {"type": "number"}


def codes(tmp_path, **kwargs):
    path = write_module(tmp_path, **kwargs)
    return {f.code: f for f in lint_ir(load_ir([path]))}


@pytest.mark.parametrize(
    "rules, code",
    [
        ([{"id": "t-mod.r1", "when": "x >= 5", "thresholds": [{"fact": "x", "term": "超过"}]}], "L-THRESHOLD-READING"),
        ([{"id": "t-mod.r1", "when": "x > 5", "thresholds": [{"fact": "x", "term": "达到"}]}], "L-THRESHOLD-READING"),
        ([{"id": "t-mod.r1", "when": "x > 5 and x < 3"}], "L-NEVER-TRUE"),
        ([{"id": "t-mod.r1", "when": "x > 5 or x <= 5"}], "L-ALWAYS-TRUE"),
        ([{"id": "t-mod.r1", "when": "x > 5"}, {"id": "t-mod.r2", "when": "x > 5"}], "L-DUPLICATE-RULE"),
        ([{"id": "t-mod.r1", "when": "x > 5"}, {"id": "t-mod.r2", "when": "x > 5 and y > 1"}], "L-SUBSUMED"),
        ([{"id": "other.r1", "when": "x > 5 and y > 1"}], "L-ID-PREFIX"),
        ([{"id": "t-mod.r1", "when": "x > 5"}], "L-UNUSED-FACT"),
        ([{"id": "t-mod.r1", "when": "x > 5 and y > 1", "citation": {"sub_item": 2}}], "L-CITATION"),
    ],
)
def test_findings(tmp_path, rules, code):
    found = codes(tmp_path, facts={"x": NUM, "y": NUM}, rules=rules)
    assert code in found
    assert found[code].location.path.endswith("m.yaml") and found[code].location.line > 0


def test_clean_module_has_no_findings(tmp_path):
    found = codes(
        tmp_path,
        facts={"x": NUM, "y": NUM},
        rules=[{"id": "t-mod.r1", "when": "x > 5 and y > 1", "thresholds": [{"fact": "x", "term": "超过"}]}],
    )
    assert found == {}


def test_version_overlap_gap_and_supersession(tmp_path):
    write_module(
        tmp_path,
        "a.yaml",
        id="v1",
        series="s",
        start="2020-01-01",
        until="2022-12-31",
        facts={"x": NUM},
        rules=[("v1.r", "x > 1")],
    )
    write_module(
        tmp_path, "b.yaml", id="v2", series="s", start="2022-06-01", until="null", facts={"x": NUM}, rules=[("v2.r", "x > 1")]
    )
    found = {f.code for f in lint_ir(load_ir([str(tmp_path)]))}
    assert "L-VERSION-OVERLAP" in found
    (tmp_path / "b.yaml").write_text(
        (tmp_path / "b.yaml")
        .read_text(encoding="utf-8")
        .replace("2022-06-01", "2023-03-01")
        .replace("  jurisdiction", "  supersedes: v0\n  jurisdiction"),
        encoding="utf-8",
    )
    found = {f.code for f in lint_ir(load_ir([str(tmp_path)]))}
    assert {"L-VERSION-GAP", "L-SUPERSESSION"} <= found and "L-VERSION-OVERLAP" not in found


def test_unverified_and_partial_are_listed(tmp_path):
    extra = "  completeness: partial\n  completeness_notes: clauses 5.2 to 5.7 not encoded\n  confidence: {level: low, notes: from secondary sources, unverified: [t-mod.r1]}\n"
    found = codes(tmp_path, facts={"x": NUM}, rules=[("t-mod.r1", "x > 1")], extra=extra)
    assert {"L-UNVERIFIED", "L-PARTIAL", "L-CONFIDENCE"} <= set(found)
    assert found["L-UNVERIFIED"].severity == "note"


def test_cli_lint_json(tmp_path, capsys):
    path = write_module(
        tmp_path, facts={"x": NUM}, rules=[{"id": "t-mod.r1", "when": "x >= 5", "thresholds": [{"fact": "x", "term": "超过"}]}]
    )
    assert main(["lint", path, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["findings"][0]["code"] == "L-THRESHOLD-READING" and data["findings"][0]["line"] > 0


def test_findings_are_diagnostics_like_load_errors(tmp_path):
    found = codes(tmp_path, facts={"x": NUM, "y": NUM}, rules=[{"id": "t-mod.r1", "when": "x > 5 and x < 3"}])
    assert found and all(type(f) is Diagnostic for f in found.values())
    assert found["L-NEVER-TRUE"].severity == "error" and found["L-UNUSED-FACT"].severity == "warning"


def test_cli_lint_text_names_every_severity_errors_first(tmp_path, capsys):
    extra = "  completeness: partial\n  completeness_notes: clauses 5.2 to 5.7 not encoded\n"
    path = write_module(tmp_path, facts={"x": NUM, "y": NUM}, rules=[{"id": "t-mod.r1", "when": "x > 5 and x < 3"}], extra=extra)
    assert main(["lint", path]) == 1
    lines = capsys.readouterr().out.splitlines()
    severities = [line.split(": ")[1] for line in lines[:-1]]
    assert severities == sorted(severities, key=["error", "warning", "note"].index) and set(severities) == {
        "error",
        "warning",
        "note",
    }
    never = next(line for line in lines if "L-NEVER-TRUE" in line)
    assert re.match(r".*m\.yaml:\d+:\d+: error: L-NEVER-TRUE rule t-mod\.r1: ", never)
    assert lines[-1] == "1 module(s), 1 rule(s): 1 error(s), 2 warning(s)/note(s)"


BOOL = {"type": "boolean"}


def restating(tmp_path, facts, rules, extra=""):
    path = write_module(tmp_path, facts=facts, rules=rules, extra=extra)
    return [f for f in lint_ir(load_ir([path])) if f.code == "L-RESTATING-FACT"]


@pytest.mark.parametrize(
    "name, label",
    [
        ("settings_compliant", {"zh": "报警浓度设置", "en": "alarm settings"}),  # the name
        ("settings_ok", {"zh": "报警浓度符合规程", "en": "alarm settings"}),  # 符合
        ("belt_tested", {"zh": "输送带经试验合格", "en": "belt tested"}),  # 合格
        ("devices_working", {"zh": "保护装置有效", "en": "protection devices"}),  # 有效
        ("sensors_placed", {"zh": "按国家规定安设传感器", "en": "sensors placed"}),  # 规定
        ("fans_equal", {"zh": "两台主要通风机", "en": "fans of adequate capacity"}),  # adequate
        ("measures_taken", {"zh": "已采取措施", "en": "effective measures taken"}),  # effective
    ],
)
def test_a_boolean_that_restates_the_criterion_is_a_warning(tmp_path, name, label):
    found = restating(tmp_path, {name: dict(BOOL, label=label), "x": NUM}, [("t-mod.r1", f"not {name} and x > 1")])
    assert [f.severity for f in found] == ["warning"]
    assert name in found[0].message and found[0].location.line > 0


def test_observations_and_unread_or_non_boolean_facts_are_not_reported(tmp_path):
    facts = {
        "work_stopped": dict(BOOL, label={"zh": "已停工撤人", "en": "work stopped"}),  # an observation
        "compliant_count": dict(NUM, label={"zh": "符合规程的传感器数", "en": "compliant sensors"}),  # not a boolean
        "unused_compliant": dict(BOOL, label={"zh": "符合规程", "en": "compliant"}),  # no rule reads it
        "scoped_compliant": dict(BOOL, label={"zh": "符合规程", "en": "compliant"}),  # read by applies_if only
    }
    rules = [{"id": "t-mod.r1", "when": "not work_stopped and compliant_count < 2", "applies_if": "scoped_compliant"}]
    assert restating(tmp_path, facts, rules) == []


def test_a_declared_judgement_silences_it_and_a_module_judgement_makes_it_a_note(tmp_path):
    fact = dict(BOOL, label={"zh": "拆除顺序符合施工方案", "en": "demolition sequence as planned"})
    justified = dict(fact, judgement="按方案: the approved demolition plan decides the sequence")
    assert restating(tmp_path, {"seq_ok": justified}, [("t-mod.r1", "not seq_ok")]) == []
    noted = restating(
        tmp_path,
        {"seq_ok": fact},
        [("t-mod.r1", "not seq_ok")],
        extra="  judgement: the document defers every limit to the construction plan\n",
    )
    assert [f.severity for f in noted] == ["note"]


def test_list_fields_and_facts_read_through_derived_facts_are_reported(tmp_path):
    facts = {
        "workers": {
            "type": "list",
            "key": "id",
            "label": {"zh": "作业人员", "en": "workers"},
            "fields": {
                "id": {"type": "string", "label": {"zh": "编号", "en": "id"}},
                "certificate_valid": dict(BOOL, label={"zh": "持有效证书", "en": "valid certificate"}),
            },
        },
        "plan_compliant": dict(BOOL, label={"zh": "方案符合规范", "en": "plan compliant"}),
    }
    path = write_module(
        tmp_path,
        facts=facts,
        rules=[
            {"id": "t-mod.r1", "for_each": {"list": "workers", "as": "w"}, "when": "not w.certificate_valid"},
            ("t-mod.r2", "plan_bad"),
        ],
    )
    text = (
        open(path, encoding="utf-8")
        .read()
        .replace(
            "rules:\n", "derived:\n  plan_bad: {expr: not plan_compliant, label: {zh: 方案不符合, en: plan bad}}\nrules:\n", 1
        )
    )
    open(path, "w", encoding="utf-8").write(text)
    found = {f.message.split("'")[1] for f in lint_ir(load_ir([path])) if f.code == "L-RESTATING-FACT"}
    assert found == {"workers.certificate_valid", "plan_compliant"}


def test_the_judgement_key_is_in_the_module_schema(tmp_path):
    bad = dict(BOOL, label={"zh": "符合", "en": "ok"}, judgement="")
    path = write_module(tmp_path, facts={"ok": bad}, rules=[("t-mod.r1", "not ok")])
    with pytest.raises(LoadError) as exc:
        load_ir([path])
    assert [d.code for d in exc.value.diagnostics] == ["E-SCHEMA"] and "facts/ok/judgement" in exc.value.diagnostics[0].message


PRESUMED = {"value": False, "reason": {"zh": "例外由主张者证明", "en": "for its claimant"}, "source": "第四条"}
EXCEPTION = {"label": {"zh": "例外", "en": "exception"}, "citation": {"article": 4, "item": 1}}


@pytest.mark.parametrize(
    "facts, rule, code, severity",
    [
        # the exception written as a precondition: every record that does not mention it is undetermined
        (
            {"flag": {"type": "boolean"}, "trial": {"type": "boolean"}},
            {
                "id": "t-mod.r1",
                "when": "flag and not trial",
                "title": {"zh": "建设期间采煤（经备案的联合试运转除外）", "en": "t"},
            },
            "L-EXCEPTION-AS-PRECONDITION",
            "warning",
        ),
        (
            {"flag": {"type": "boolean"}, "trial": {"type": "boolean", "presumed": PRESUMED}},
            {"id": "t-mod.r1", "when": "flag and not trial"},
            "L-PRESUMPTION-UNUSED",
            "warning",
        ),
        (
            {"flag": {"type": "boolean"}, "trial": {"type": "boolean", "presumed": PRESUMED}},
            {"id": "t-mod.r1", "when": "flag or trial", "unless": [dict(EXCEPTION, when="trial")]},
            "L-PRESUMED-READ-ELSEWHERE",
            "note",
        ),
    ],
)
def test_exception_findings(tmp_path, facts, rule, code, severity):
    found = codes(tmp_path, facts=facts, rules=[rule])
    assert code in found and found[code].severity == severity
    assert found[code].location.path.endswith("m.yaml") and found[code].location.line > 0


def test_an_exception_in_unless_is_not_flagged(tmp_path):
    facts = {"flag": {"type": "boolean"}, "trial": {"type": "boolean", "presumed": PRESUMED}}
    rule = {
        "id": "t-mod.r1",
        "when": "flag",
        "title": {"zh": "采煤（经备案的联合试运转除外）", "en": "t"},
        "unless": [dict(EXCEPTION, when="trial")],
    }
    found = codes(tmp_path, facts=facts, rules=[rule])
    assert not {"L-EXCEPTION-AS-PRECONDITION", "L-PRESUMPTION-UNUSED", "L-PRESUMED-READ-ELSEWHERE"} & set(found)
