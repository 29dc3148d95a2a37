"""``--min-coverage`` gates rule, condition and threshold coverage, each settable (issue 18, point 4);
``schema result`` prints the result schema (point 7)."""

import json

import pytest

from safetyrules.cli import main
from safetyrules.scaffold import new_pack

# a rule `a or b` whose cases never see `b` true: rule coverage 100 %, condition coverage 2 of 3 tests (66.7 %)
MODULE_RULE = """  - id: gate-example.a1.i2
    citation: {article: 1, item: 2}
    category: a1
    title: {zh: 当班作业人员超过9人或未设置监护人, en: more than 9 workers or no watchman}
    when: workers_on_shift > 9 or not watchman_present
    severity: major
"""
FACT = """  watchman_present:
    type: boolean
    label: {zh: 已设置监护人, en: watchman present}
"""
CASES = """  - name: ten workers with a watchman
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {workers_on_shift: 10, watchman_present: true}}
    expect: {gate-example.a1.i2: matched}
  - name: five workers with a watchman
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {workers_on_shift: 5, watchman_present: true}}
    expect: {gate-example.a1.i2: not_matched}
  - name: five workers, watchman not recorded
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {workers_on_shift: 5}}
    expect: {gate-example.a1.i2: {outcome: undetermined, needs: [watchman_present]}}
"""


@pytest.fixture
def pack(tmp_path):
    from datetime import date

    created = new_pack("gate", str(tmp_path), module_id="gate-example", today=date(2026, 1, 1))
    module = f"{created.pack_dir}/gate-example.yaml"
    text = open(module, encoding="utf-8").read()
    text = text.replace("\ncategories:", FACT + "\ncategories:") + MODULE_RULE
    open(module, "w", encoding="utf-8").write(text)
    tests = f"{created.pack_dir}/tests/gate-example.test.yaml"
    open(tests, "a", encoding="utf-8").write(CASES)
    return created.pack_dir


def test_min_coverage_gates_condition_coverage(pack, capsys):
    assert main(["test", pack, "--min-coverage", "100"]) == 1
    err = capsys.readouterr().err
    assert "gate: condition coverage 66.7% is below the minimum 100%" in err
    assert "rule coverage" not in err and "threshold coverage" not in err


def test_each_gate_is_settable(pack, capsys):
    assert main(["test", pack, "--min-coverage", "100", "--min-condition-coverage", "66"]) == 0
    assert main(["test", pack, "--min-condition-coverage", "67"]) == 1
    assert main(["test", pack, "--min-rule-coverage", "100", "--min-threshold-coverage", "100"]) == 0


def test_gate_passes_once_the_condition_is_seen_both_ways(pack, capsys):
    # nine workers without a watchman: `not watchman_present` true, `workers_on_shift > 9` false -> matched
    case = """  - name: nine workers without a watchman
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {workers_on_shift: 9, watchman_present: false}}
    expect: {gate-example.a1.i2: matched}
"""
    open(f"{pack}/tests/gate-example.test.yaml", "a", encoding="utf-8").write(case)
    assert main(["test", pack, "--min-coverage", "100"]) == 0


def test_rules_only_cannot_meet_a_condition_gate(pack, capsys):
    assert main(["test", pack, "--rules-only", "--min-rule-coverage", "100"]) == 0
    assert main(["test", pack, "--rules-only", "--min-condition-coverage", "50"]) == 1
    assert "not measured with --rules-only" in capsys.readouterr().err


def test_schema_result(capsys):
    assert main(["schema", "result"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "safetyrules evaluation result"
    assert "determinations" in schema["properties"]


def test_a_report_validates_against_the_printed_result_schema(capsys):
    from jsonschema import Draft202012Validator

    from safetyrules import load_rules

    main(["schema", "result"])
    schema = json.loads(capsys.readouterr().out)
    report = load_rules("demo").evaluate(
        {
            "record_id": "R-1",
            "inspection_date": "2026-08-12",
            "site": {"industry": "demo", "attributes": {"mine_type": "underground"}},
            "facts": {"annual_output_t": 7150.01, "approved_capacity_t": 6500},
        }
    )
    assert list(Draft202012Validator(schema).iter_errors(report.to_json())) == []


def test_a_condition_that_falls_back_to_a_finding_needs_both_paths_seen(tmp_path):
    """``if(known(x) ..., crew_count > 9, not watchman_present)``: cases that only ever decide from the finding leave the measurement
    path unseen, so condition coverage is short of 100 % until a case decides from the measurement."""
    from datetime import date

    crew = "  crew_count:\n    type: integer\n    label: {zh: 班组人数, en: crew size}\n"

    created = new_pack("gate", str(tmp_path), module_id="gate-example", today=date(2026, 1, 1))
    module = f"{created.pack_dir}/gate-example.yaml"
    rule = MODULE_RULE.replace(
        "workers_on_shift > 9 or not watchman_present",
        "if(known(crew_count) or not known(watchman_present), crew_count > 9, not watchman_present)",
    )
    text = open(module, encoding="utf-8").read()
    open(module, "w", encoding="utf-8").write(text.replace("\ncategories:", FACT + crew + "\ncategories:") + rule)
    tests = f"{created.pack_dir}/tests/gate-example.test.yaml"
    finding_only = """  - name: watchman absent, headcount not recorded
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {watchman_present: false}}
    expect: {gate-example.a1.i2: matched}
  - name: watchman present, headcount not recorded
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {watchman_present: true}}
    expect: {gate-example.a1.i2: not_matched}
  - name: neither recorded
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {}}
    expect: {gate-example.a1.i2: {outcome: undetermined, needs: [crew_count]}}
"""
    open(tests, "a", encoding="utf-8").write(finding_only)
    assert main(["test", created.pack_dir, "--min-condition-coverage", "100"]) == 1
    measured = """  - name: ten workers, finding says present
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {crew_count: 10, watchman_present: true}}
    expect: {gate-example.a1.i2: matched}
  - name: nine workers
    record: {inspection_date: 2026-03-01, site: {industry: gate}, facts: {crew_count: 9}}
    expect: {gate-example.a1.i2: not_matched}
"""
    open(tests, "a", encoding="utf-8").write(measured)
    assert main(["test", created.pack_dir, "--min-coverage", "100"]) == 0
