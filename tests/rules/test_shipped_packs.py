"""Every shipped pack: loads, lints clean, passes its own test cases, and covers every rule.

The cases are data beside the rules (rules/<area>/tests/*.test.yaml); each becomes a pytest test
here so that a failing case shows up by name in CI.
"""

import os

import pytest

from safetyrules import load_rules
from safetyrules.lint import lint_ir
from safetyrules.loader import discover_packs, read_pack
from safetyrules.testing import read_cases, run_case, run_cases

PACKS = discover_packs()
# The per-edition construction packs are covered through the combined pack.
TESTED = sorted(n for n in PACKS if not (n.startswith("construction-") and "construction" in PACKS))


def test_packs_are_shipped():
    assert "demo" in PACKS
    assert TESTED


@pytest.fixture(scope="module")
def loaded():
    return {name: load_rules(PACKS[name]) for name in TESTED}


@pytest.mark.parametrize("name", TESTED)
def test_pack_lints_without_errors(loaded, name):
    errors = [str(f) for f in lint_ir(loaded[name].ir) if f.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("name", TESTED)
def test_every_restating_fact_says_why_it_stays_the_inspectors(loaded, name):
    """A shipped boolean that restates its criterion (符合规程, 合格, compliant...) either gave way to the
    measurement or date it rests on, or its declaration says why it stays the inspector's (issue 17)."""
    unjustified = [str(f) for f in lint_ir(loaded[name].ir) if f.code == "L-RESTATING-FACT"]
    assert unjustified == []


def _cases():
    out = []
    for name in TESTED:
        src, diags = read_pack(PACKS[name])
        assert not diags, diags
        for path in src.pack.test_files:
            cases, diags = read_cases(path)
            assert not diags, [str(d) for d in diags]
            for case in cases:
                out.append(pytest.param(name, path, case, id=f"{name}:{os.path.basename(path)}:{case.location.line}"))
    return out


@pytest.mark.parametrize("name, path, case", _cases())
def test_rule_case(loaded, name, path, case):
    result = run_case(loaded[name], case)
    assert result.failures == [], f"{case.location}: {case.name}"


@pytest.mark.parametrize("name", TESTED)
def test_every_rule_has_matched_not_matched_and_undetermined_cases(loaded, name):
    src, _ = read_pack(PACKS[name])
    run = run_cases(loaded[name], src.pack.test_files)
    assert not run.failed, [f"{r.case.location}: {r.failures}" for r in run.failed]
    uncovered = {rid: [o for o, ok in c.items() if not ok] for rid, c in run.coverage().items() if not all(c.values())}
    assert uncovered == {}


@pytest.mark.parametrize("name", TESTED)
def test_every_condition_seen_both_ways_and_every_threshold_hit(loaded, name):
    from safetyrules.testing import detailed_coverage

    src, _ = read_pack(PACKS[name])
    detail = detailed_coverage(loaded[name], run_cases(loaded[name], src.pack.test_files)).to_json()
    assert detail["conditions_not_seen_both_ways"] == []
    assert detail["thresholds_without_a_case_at_the_boundary"] == []
