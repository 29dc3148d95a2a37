"""The realistic-record generator of the benchmarks: valid records for every shipped pack, seeded."""

import pytest

from benchmarks.realistic import RecordGenerator, records_for, self_check
from safetyrules import load_rules
from safetyrules.packs import shipped_pack_names


@pytest.mark.parametrize("pack", shipped_pack_names())
def test_records_are_valid_and_seeded(pack):
    rules = load_rules(pack)
    recs = records_for(rules, 150, seed=3)
    counts = self_check(rules, recs)  # raises on the first invalid record
    assert sum(counts.values()) == 150
    assert records_for(rules, 150, seed=3) == recs
    assert records_for(rules, 150, seed=4) != recs
    # every industry of the pack with modules in force is drawn, and facts go missing at about the share asked
    assert {r["site"]["industry"] for r in recs} == set(RecordGenerator(rules).industries)
    lists = [v for r in recs for v in r["facts"].values() if isinstance(v, list)]
    assert not lists or max(len(v) for v in lists) <= 6


def test_the_missing_share_is_honoured():
    rules = load_rules("mining")
    full = records_for(rules, 40, seed=5, missing=0.0)
    sparse = records_for(rules, 40, seed=5, missing=0.5)
    count = lambda recs: sum(len(r["facts"]) for r in recs)  # noqa: E731
    assert count(sparse) < 0.7 * count(full)
    self_check(rules, sparse)


def test_an_invalid_record_is_reported_by_the_self_check():
    rules = load_rules("demo")
    (rec,) = records_for(rules, 1, seed=1)
    rec["facts"]["annual_output_t"] = "lots"
    with pytest.raises(AssertionError, match="annual_output_t"):
        self_check(rules, [rec])
