"""Inspection records: every kind of bad input is a clear error naming the JSON path."""

import pytest

from safetyrules import RecordError
from tests.conftest import demo_record


def errors_of(rules, raw):
    with pytest.raises(RecordError) as info:
        rules.evaluate(raw)
    return dict(info.value.problems)


@pytest.mark.parametrize(
    "facts, path, fragment",
    [
        ({"annual_output_t": "7150"}, "$.facts.annual_output_t", "write numbers without quotes"),
        ({"annual_output_t": True}, "$.facts.annual_output_t", "expected a number"),
        ({"annual_outpt_t": 1}, "$.facts.annual_outpt_t", "did you mean 'annual_output_t'"),
        ({"capacity_ratio": 1}, "$.facts.capacity_ratio", "derived fact"),
        ({"annual_output_t": -1}, "$.facts.annual_output_t", "below the minimum"),
        ({"working_faces": {"id": "F1"}}, "$.facts.working_faces", "expected a list"),
        ({"working_faces": [{"id": "F1", "ch4": 1}]}, "$.facts.working_faces[0].ch4", "did you mean 'ch4_pct'"),
        ({"working_faces": [{"ch4_pct": 1}]}, "$.facts.working_faces[0]", "no 'id'"),
        ({"working_faces": [{"id": "F1"}, {"id": "F1"}]}, "$.facts.working_faces[1].id", "duplicate item"),
        ({"working_faces": [{"id": "F1", "ch4_pct": 101}]}, "$.facts.working_faces[0].ch4_pct", "above the maximum"),
        (
            {"working_faces": [{"id": "F1", "electric_work_continued": []}]},
            "$.facts.working_faces[0].electric_work_continued",
            "expected true or false",
        ),
    ],
)
def test_bad_fact_values(demo_rules, facts, path, fragment):
    problems = errors_of(demo_rules, demo_record(facts))
    assert fragment in problems[path]


def test_a_list_given_for_an_enum_is_an_error_not_a_crash(demo_rules):
    problems = errors_of(demo_rules, demo_record(attributes={"mine_type": ["underground"]}))
    assert "is not one of" in problems["$.site.attributes.mine_type"]


def test_bad_enum_value_suggests(demo_rules):
    problems = errors_of(demo_rules, demo_record({}, attributes={"mine_type": "undergroud"}))
    assert "did you mean 'underground'" in problems["$.site.attributes.mine_type"]


@pytest.mark.parametrize(
    "raw, path, fragment",
    [
        ([1, 2], "$", "must be an object"),
        ("text", "$", "must be an object"),
        ({"inspection_date": "2026-08-01", "site": {"industry": "demo"}}, "$.record_id", "required"),
        (
            {"record_id": "a", "inspection_date": "2026-02-30", "site": {"industry": "demo"}},
            "$.inspection_date",
            "expected a date",
        ),
        ({"record_id": "a", "inspection_date": 20260801, "site": {"industry": "demo"}}, "$.inspection_date", "expected a date"),
        (
            {"record_id": "a", "inspection_date": "2026-W31-6", "site": {"industry": "demo"}},
            "$.inspection_date",
            "expected a date",
        ),
        (  # digits of another script: Python's int() reads them, a date YYYY-MM-DD does not have them
            {"record_id": "a", "inspection_date": "٢٠٢٦-٠٨-٠١", "site": {"industry": "demo"}},
            "$.inspection_date",
            "expected a date",
        ),
        ({"record_id": "a", "site": {"industry": "demo"}}, "$.inspection_date", "required"),
        ({"record_id": "a", "inspection_date": "2026-08-01", "site": {}}, "$.site.industry", "required"),
        (
            {"record_id": "a", "inspection_date": "2026-08-01", "site": {"industry": "demo"}, "fact": {}},
            "$.fact",
            "did you mean 'facts'",
        ),
        (
            {"record_id": "a", "inspection_date": "2026-08-01", "site": {"industry": "demo"}, "facts": []},
            "$.facts",
            "expected an object",
        ),
    ],
)
def test_bad_record_shapes(demo_rules, raw, path, fragment):
    problems = errors_of(demo_rules, raw)
    assert fragment in problems[path]


def test_null_means_not_recorded(demo_rules):
    report = demo_rules.evaluate(demo_record({"annual_output_t": None, "approved_capacity_t": 6500, "max_quarter_output_t": 1}))
    assert report.outcome_of("demo-capacity-2026.a4.i1") == "undetermined"


def test_all_problems_reported_together(demo_rules):
    problems = errors_of(demo_rules, demo_record({"annual_output_t": "x", "approved_capacity_t": "y"}))
    assert len(problems) == 2


def test_batch_never_drops_a_record(demo_rules):
    inputs = [demo_record({"annual_output_t": 1}), "bad", demo_record({"annual_output_t": "bad"}), demo_record({})]
    results = list(demo_rules.evaluate_many(inputs))
    assert len(results) == len(inputs)
    assert [type(r).__name__ for r in results] == ["Report", "RecordError", "RecordError", "Report"]


def test_versions_by_date(demo_rules):
    facts = {"annual_output_t": 6000, "approved_capacity_t": 6500, "max_quarter_output_t": 1950.01}
    before = demo_rules.evaluate(demo_record(facts, date="2026-06-30"))
    after = demo_rules.evaluate(demo_record(facts, date="2026-07-01"))
    assert [m["id"] for m in before.modules_applied] == ["demo-capacity-2020"]
    assert [m["id"] for m in after.modules_applied] == ["demo-capacity-2026"]
    assert before.outcome_of("demo-capacity-2020.a4.i1") == "not_matched"
    assert after.outcome_of("demo-capacity-2026.a4.i1") == "matched"
    from datetime import date

    overridden = demo_rules.evaluate(demo_record(facts, date="2026-06-30"), as_of=date(2026, 7, 1))
    assert overridden.outcome_of("demo-capacity-2026.a4.i1") == "matched"


def test_date_with_no_version_in_force_gives_a_notice(demo_rules):
    report = demo_rules.evaluate(demo_record({}, date="2019-05-01"))
    assert not report.modules_applied
    assert [n.code for n in report.notices if n.code == "NO-VERSION-IN-FORCE"]
    assert report.status == "no_applicable_criteria"


def test_out_of_scope_module_is_reported(demo_rules):
    report = demo_rules.evaluate(
        demo_record({"annual_output_t": 1e6, "approved_capacity_t": 1}, attributes={"mine_type": "open_pit"})
    )
    assert report.determinations == ()
    assert report.modules_not_applicable[0]["id"] == "demo-capacity-2026"


def test_unknown_scope_makes_rules_undetermined_not_compliant(demo_rules):
    report = demo_rules.evaluate(demo_record({"annual_output_t": 1e6, "approved_capacity_t": 1}, attributes={}))
    undetermined = {u.rule_id: u.needs for u in report.undetermined}
    assert "mine_type" in undetermined["demo-capacity-2026.a4.i1"]


def test_result_is_json_serialisable_and_stable(demo_rules):
    import json

    raw = demo_record({"annual_output_t": 7150.01, "approved_capacity_t": 6500})
    one = json.dumps(demo_rules.evaluate(raw).to_json(), ensure_ascii=False, sort_keys=True)
    two = json.dumps(demo_rules.evaluate(raw).to_json(), ensure_ascii=False, sort_keys=True)
    assert one == two


# ------------------------------------------------------------------ hostile values (issue 12)


def _demo_with(**changes):
    from tests.conftest import demo_record

    record = demo_record({"annual_output_t": 7150, "approved_capacity_t": 6500})
    for path, value in changes.items():
        target = record
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return record


@pytest.mark.parametrize("backend", ["native", "native-python", "interpreter"])
@pytest.mark.parametrize(
    "path, value, where, message",
    [
        ("record_id", "\ud800", "$.record_id", "not valid Unicode"),
        ("site__name", "a\udfff", "$.site.name", "not valid Unicode"),
        ("site__industry", ["demo"], "$.site.industry", "required"),
        ("site__industry", {"x": 1}, "$.site.industry", "required"),
        ("facts__annual_output_t", 10**400, "$.facts.annual_output_t", "beyond ±10^100"),
        ("facts__annual_output_t", float("nan"), "$.facts.annual_output_t", "NaN/Infinity is not a measured value"),
        ("facts__annual_output_t", float("-inf"), "$.facts.annual_output_t", "NaN/Infinity is not a measured value"),
        ("notes", float("nan"), "$.notes", "NaN/Infinity"),
        ("facts__\ud800", 1, "$.facts.\\ud800", "not valid Unicode"),
    ],
)
def test_hostile_values_are_record_errors_naming_their_path(demo_rules, backend, path, value, where, message):
    rules = {
        "native": demo_rules,
        "native-python": demo_rules.with_backend("native", compiled=False),
        "interpreter": demo_rules.with_backend("interpreter"),
    }[backend]
    with pytest.raises(RecordError) as info:
        rules.evaluate(_demo_with(**{path: value}))
    assert any(p == where and message in m for p, m in info.value.problems), info.value.problems
    str(info.value).encode("utf-8")  # the message itself prints


class _RaisingStr(str):
    def __eq__(self, other):
        raise RuntimeError("compared")

    __hash__ = str.__hash__


@pytest.mark.parametrize("path", ["site__attributes__mine_type", "record_id", "site__name"])
def test_str_subclasses_are_refused_the_same_way_on_every_backend_whatever_ran_before(demo_rules, path):
    """A subclass whose __eq__ raises once gave a report on one backend and an exception on another."""
    value = _RaisingStr("underground")
    for rules in (demo_rules, demo_rules.with_backend("native", compiled=False), demo_rules.with_backend("interpreter")):
        rules.evaluate(_demo_with())  # a plan and caches exist before the hostile record comes
        with pytest.raises(RecordError) as info:
            rules.evaluate(_demo_with(**{path: value}))
        assert any("expected a JSON value, got _RaisingStr" in m for _, m in info.value.problems)


def test_evaluate_many_drops_nothing_and_raises_nothing(demo_rules):
    records = [_demo_with(), _demo_with(record_id="\ud800"), _demo_with(site__industry=[1]), "text", _demo_with()]
    results = list(demo_rules.evaluate_many(records))
    assert [type(r).__name__ for r in results] == ["Report", "RecordError", "RecordError", "RecordError", "Report"]
