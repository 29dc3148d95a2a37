"""The meaning of conditions: Kleene three-valued logic and exact legal boundaries, on every backend."""

import itertools

import pytest

from tests.helpers import record, rules_from

TRI = {"T": True, "F": False, "U": None}
BACKENDS = ["native", "interpreter"]


def outcome_for(value):
    return {True: "matched", False: "not_matched", None: "undetermined"}[value]


def kleene_and(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def kleene_or(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


@pytest.fixture(scope="module", params=BACKENDS)
def logic_rules(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("logic")
    return rules_from(
        tmp,
        backend=request.param,
        facts={"p": {"type": "boolean"}, "q": {"type": "boolean"}},
        rules=[("and", "p and q"), ("or", "p or q"), ("not", "not p"), ("andnot", "p and not q")],
    )


@pytest.mark.parametrize("a,b", list(itertools.product("TFU", repeat=2)))
def test_kleene_truth_tables(logic_rules, a, b):
    facts = {k: TRI[v] for k, v in (("p", a), ("q", b)) if TRI[v] is not None}
    report = logic_rules.evaluate(record(facts))
    p, q = TRI[a], TRI[b]
    assert report.outcome_of("and") == outcome_for(kleene_and(p, q))
    assert report.outcome_of("or") == outcome_for(kleene_or(p, q))
    assert report.outcome_of("not") == outcome_for(None if p is None else not p)
    assert report.outcome_of("andnot") == outcome_for(kleene_and(p, None if q is None else not q))


def test_undetermined_lists_exactly_the_missing_facts(logic_rules):
    report = logic_rules.evaluate(record({"p": True}))
    needs = {u.rule_id: u.needs for u in report.undetermined}
    assert needs["and"] == ("q",)
    assert "or" not in needs  # true or unknown is true
    assert report.status == "major_hazard_found"
    report = logic_rules.evaluate(record({}))
    assert report.status == "undetermined"
    assert dict((u.rule_id, u.needs) for u in report.undetermined)["and"] == ("p", "q")


# ---- exact boundaries: 超过 (>) excludes the number, 达到/以上 (>=) includes it


@pytest.fixture(scope="module", params=BACKENDS)
def threshold_rules(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("thr")
    return rules_from(
        tmp,
        backend=request.param,
        facts={
            "output_t": {"type": "number", "unit": "t"},
            "capacity_t": {"type": "number", "unit": "t"},
            "ch4_pct": {"type": "number", "unit": "%"},
            "a": {"type": "number"},
            "b": {"type": "number"},
        },
        derived={"ratio": "output_t / capacity_t"},
        rules=[
            ("gt", "output_t > capacity_t * 110%"),
            ("ge", "output_t >= capacity_t * 110%"),
            ("lt", "output_t < capacity_t * 110%"),
            ("le", "output_t <= capacity_t * 110%"),
            ("eq", "output_t == capacity_t * 110%"),
            ("ne", "output_t != capacity_t * 110%"),
            ("ratio_gt", "ratio > 110%"),
            ("ch4", "ch4_pct >= 1.0"),
            ("sum", "a + b == 0.9"),
            ("mul", "a * 3 == 0.9"),
        ],
    )


@pytest.mark.parametrize(
    "output, expected",
    [
        (7149.99, {"gt": False, "ge": False, "lt": True, "le": True, "eq": False, "ne": True, "ratio_gt": False}),
        (7150, {"gt": False, "ge": True, "lt": False, "le": True, "eq": True, "ne": False, "ratio_gt": False}),
        (7150.0, {"gt": False, "ge": True, "lt": False, "le": True, "eq": True, "ne": False, "ratio_gt": False}),
        (7150.01, {"gt": True, "ge": True, "lt": False, "le": False, "eq": False, "ne": True, "ratio_gt": True}),
    ],
)
def test_exact_boundary_for_every_operator(threshold_rules, output, expected):
    # 6500 * 1.1 == 7150 exactly; in binary floats 6500 * 1.1 is 7150.000000000001
    report = threshold_rules.evaluate(record({"output_t": output, "capacity_t": 6500}))
    for rule_id, value in expected.items():
        assert report.outcome_of(rule_id) == outcome_for(value), rule_id


@pytest.mark.parametrize("value, expected", [(0.99, False), (1.0, True), (1, True), (1.01, True)])
def test_inclusive_reading_of_reaching(threshold_rules, value, expected):
    report = threshold_rules.evaluate(record({"ch4_pct": value}))
    assert report.outcome_of("ch4") == outcome_for(expected)


def test_decimal_sums_are_exact(threshold_rules):
    # 0.3 * 3 is 0.8999999999999999 in floats, 0.6 + 0.3 is 0.8999999999999999 too
    report = threshold_rules.evaluate(record({"a": 0.6, "b": 0.3}))
    assert report.outcome_of("sum") == "matched"
    report = threshold_rules.evaluate(record({"a": 0.3, "b": 0.6}))
    assert report.outcome_of("mul") == "matched"


def test_division_by_zero_is_undetermined(threshold_rules):
    report = threshold_rules.evaluate(record({"output_t": 5, "capacity_t": 0}))
    assert report.outcome_of("ratio_gt") == "undetermined"
    needs = next(u.needs for u in report.undetermined if u.rule_id == "ratio_gt")
    assert any("division" in n for n in needs)


def test_evaluation_is_independent_of_fact_order(threshold_rules):
    facts = {"output_t": 7150.01, "capacity_t": 6500, "ch4_pct": 1.0, "a": 0.6, "b": 0.3}
    one = threshold_rules.evaluate(record(facts)).to_json()
    two = threshold_rules.evaluate(record(dict(reversed(list(facts.items()))))).to_json()
    assert one == two
