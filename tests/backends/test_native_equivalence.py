"""The native backend -- its compiled evaluator and its generated Python -- gives exactly the
reference interpreter's reports."""

import pytest
from hypothesis import HealthCheck, given, settings

from safetyrules import load_rules
from safetyrules.loader import discover_packs
from tests.strategies import record_strategy, version_dates
from tests.backends.test_compiled import assert_same_before_lists_are_built
from tests.helpers import record, rules_from

PACKS = discover_packs()
TESTED = sorted(n for n in PACKS if not (n.startswith("construction-") and "construction" in PACKS))


def comparable(report):
    data = report.to_json()
    data["engine"].pop("backend")
    return data


@pytest.mark.parametrize("name", TESTED)
def test_native_equals_interpreter_on_generated_records(name):
    native = load_rules(PACKS[name])
    reference = native.with_backend("interpreter")
    python = native.with_backend("native", compiled=False)
    for industry in sorted(native.ir.vocabularies):

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(record_strategy(native.ir, industry, version_dates(native.ir, industry)))
        def check(raw):
            assert native.evaluate_compiled(raw) is not None, "the compiled evaluator declined a valid record"
            report, expected = native.evaluate(raw), reference.evaluate(raw)
            assert_same_before_lists_are_built(report, expected)
            assert comparable(report) == comparable(expected)
            assert comparable(python.evaluate(raw)) == comparable(reference.evaluate(raw))

        check()


def test_fast_path_ties_are_exact(tmp_path):
    rules = rules_from(
        tmp_path,
        facts={"a": {"type": "number"}, "b": {"type": "number"}, "c": {"type": "number"}},
        derived={"excess": "a - b * 110%"},
        rules=[("r1", "excess >= 0"), ("r2", "a - b > c"), ("r3", "a / b > 110%"), ("r4", "(a - b) * 3 == c")],
    )
    code = rules._backend.generated_source("t-mod")
    assert "ex(" in code  # arithmetic comparisons carry the exact re-check
    report = rules.evaluate(record({"a": 7150, "b": 6500, "c": 650}))
    assert report.outcome_of("r1") == "matched"  # 7150 - 7150 >= 0 exactly
    assert report.outcome_of("r2") == "not_matched"  # 650 > 650 is false
    assert report.outcome_of("r3") == "not_matched"  # 1.1 > 1.1 is false
    report = rules.evaluate(record({"a": 1000000.3, "b": 1000000.2, "c": 0.3}))
    assert report.outcome_of("r4") == "matched"  # (0.1) * 3 == 0.3 exactly


def test_generated_source_contains_no_rule_text(tmp_path):
    evil = "x'); __import__('os').system('echo pwned'); ('"
    rules = rules_from(
        tmp_path,
        facts={"k": {"type": "string"}},
        rules=[("r1", "k == 'x\\'); __import__(\\'os\\').system(\\'echo pwned\\'); (\\''")],
    )
    source = rules._backend.generated_source("t-mod")
    assert "pwned" not in source and "__import__" not in source
    assert rules.evaluate(record({"k": evil})).outcome_of("r1") == "matched"


def test_records_take_the_generated_path(demo_rules):
    from safetyrules.evaluation import select_modules

    raw = {
        "record_id": "c",
        "inspection_date": "2026-08-01",
        "site": {"industry": "demo", "attributes": {"mine_type": "underground"}},
        "facts": {
            "annual_output_t": 7150,
            "approved_capacity_t": 6500,
            "max_quarter_output_t": 1950,
            "working_faces": [{"id": "F", "ch4_pct": 1, "electric_work_continued": True}],
        },
    }
    record = demo_rules.parse_record(raw)
    decisions = demo_rules._backend.decide(record, select_modules(demo_rules.ir, record))
    vector = decisions.vectors["demo-capacity-2026"]
    # all decided by generated code: rule 0 not matched, the for_each rule (index 1) matched on face F
    assert vector.hits == (1,) and vector.undetermined == () and vector.interpreted == {}
    partial = demo_rules.parse_record(dict(raw, facts={"annual_output_t": 7150}))
    vector = demo_rules._backend.decide(partial, select_modules(demo_rules.ir, partial)).vectors["demo-capacity-2026"]
    assert vector.undetermined == (0, 1)  # three-valued in generated code too (no faces recorded)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=__import__("hypothesis").strategies.integers(0, 10**6),
    missing=__import__("hypothesis").strategies.sampled_from([0.0, 0.1, 0.5]),
)
def test_native_equals_interpreter_on_random_packs(tmp_path_factory, seed, missing):
    """Random modules (thresholds against other facts times percentages, derived ratios, enums,
    observations, differences) and random records: the generated code and the interpreter agree."""
    from benchmarks.synthetic import records, write_pack

    path = write_pack(str(tmp_path_factory.mktemp("syn")), n_rules=30, n_facts=24, seed=seed)
    native = load_rules(path)
    reference = native.with_backend("interpreter")
    for raw in records(25, n_facts=24, seed=seed, missing=missing):
        assert comparable(native.evaluate(raw)) == comparable(reference.evaluate(raw))
