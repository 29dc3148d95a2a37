"""Campaign figures: per 1000 inspections, rectification rate, overdue open hazards, breakdowns."""

import json
import os
from datetime import date

from safetyrules.audit import AuditOptions, run_audit
from tests.audit.conftest import demo, write_jsonl

A4 = "demo-capacity-2026.a4.i1"


def f(status, deadline=None, **dates):
    out = {"rule": A4, "status": status, "listed_on": "2026-08-01"}
    if deadline:
        out["deadline"] = deadline
    out.update(dates)
    return out


def records():
    return [
        # 1: confirmed, rectified (dated) on 09-10
        demo(
            record_id="1", date="2026-08-01", region="CN-NM", findings=[f("rectified", "2026-09-01", rectified_on="2026-09-10")]
        ),
        # 2: confirmed, closed without dates
        demo(record_id="2", date="2026-08-02", region="CN-NM", findings=[f("closed", "2026-08-20")]),
        # 3: unsupported, listed, overdue after 2026-09-01
        demo(record_id="3", date="2026-09-05", region="CN-SX", output=5000, findings=[f("listed", "2026-09-01")]),
        # 4: missed (nothing recorded)
        demo(record_id="4", date="2026-09-06", region="CN-SX"),
        # 5: nothing
        demo(record_id="5", date="2026-10-10", region=None, output=5000),
    ]


def run(tmp_path, report_date=None):
    path = write_jsonl(tmp_path / "m.jsonl", records() + ["{broken"])
    return run_audit([path], str(tmp_path / "out"), _rules(), AuditOptions(jobs=1, report_date=report_date))


def _rules():
    from safetyrules import load_rules
    from tests.audit.conftest import RULES

    return load_rules(os.path.join(RULES, "demo"))


def test_metrics_default_report_date_is_latest_inspection(tmp_path):
    s = run(tmp_path)
    m = s["metrics"]
    assert s["report_date"] == "2026-10-10"
    assert s["reconciliation"] == {"records_in": 6, "results": 5, "errors": 1, "reconciles": True}
    assert m["inspections"] == 5
    assert m["recorded_major_hazards"] == 3
    assert m["recorded_per_1000"] == 600.0
    assert m["confirmed_per_1000"] == 400.0
    assert m["determined_major_hazards"] == 3  # records 1, 2 and 4 meet the criterion
    assert m["determined_per_1000"] == 600.0
    assert m["rectified"] == 2 and m["rectification_rate"] == round(2 / 3, 6)
    assert m["overdue_open"] == 1
    assert m["findings_by_status"] == {"closed": 1, "listed": 1, "rectified": 1}
    assert s["classes"] == {"confirmed": 2, "unsupported": 1, "miscited": 0, "missed": 1, "undetermined": 0, "superseded": 0}


def test_metrics_as_of_an_earlier_report_date(tmp_path):
    s = run(tmp_path, date(2026, 9, 5))
    m = s["metrics"]
    # on 09-05 record 1 was not yet rectified (rectified_on 09-10) and past its 09-01 deadline
    assert s["report_date"] == "2026-09-05"
    assert m["rectified"] == 1
    assert m["overdue_open"] == 2
    assert s["audit"]["report_date_given"] is True


def test_breakdowns(tmp_path):
    s = run(tmp_path)
    months = {r["key"]: r for r in s["by_month"]}
    assert sorted(months) == ["2026-08", "2026-09", "2026-10"]
    assert months["2026-08"]["inspections"] == 2 and months["2026-08"]["recorded"] == 2
    assert months["2026-09"]["unsupported"] == 1 and months["2026-09"]["missed"] == 1
    regions = {r["key"]: r["inspections"] for r in s["by_region"]}
    assert regions == {"(none)": 1, "CN-NM": 2, "CN-SX": 2}
    (industry,) = s["by_industry"]
    assert industry["key"] == "demo" and industry["recorded_per_1000"] == 600.0
    assert industry["rectification_rate"] == round(2 / 3, 6) and industry["overdue_open"] == 1
    (crit,) = s["by_criterion"]
    assert crit["rule"] == A4 and crit["recorded"] == 3 and crit["matched"] == 3 and crit["missed"] == 1
    assert s["top_criteria"]["recorded"][0]["rule"] == A4
    assert "rectification_rate" in s["definitions"]


def test_summary_file_matches_return_value(tmp_path):
    s = run(tmp_path)
    with open(tmp_path / "out" / "summary.json", encoding="utf-8") as fh:
        assert json.load(fh) == json.loads(json.dumps(s))


def test_aggregate_merge_is_order_free():
    from safetyrules.audit.metrics import Aggregate

    def row(i):
        return {
            "industry": "demo",
            "region": "CN-NM",
            "inspection_date": f"2026-0{1 + i % 3}-01",
            "status": "major_hazard_found",
            "matched": [A4],
            "undetermined": [],
            "entries": [{"class": "missed", "source": "rule", "rule": A4}],
        }

    parts = []
    for k in range(3):
        a = Aggregate()
        for i in range(k * 5, k * 5 + 5):
            a.add_result(row(i))
        parts.append(a)
    import pickle

    x = Aggregate()
    for p in parts:
        x.merge(pickle.loads(pickle.dumps(p)))
    y = Aggregate()
    for p in reversed(parts):
        y.merge(p)
    assert x.dims == y.dims and x.criteria == y.criteria and x.classes == y.classes
    assert x.dims["month"]["2026-01"]["inspections"] == 5


def test_class_counts_agree_across_tables(tmp_path, demo_rules):
    from tests.audit.conftest import demo_batch

    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(400))
    s = run_audit([path], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1))
    for klass in s["classes"]:
        for table in ("by_industry", "by_region", "by_month", "by_criterion"):
            assert sum(r[klass] for r in s[table]) == s["classes"][klass], (klass, table)
    assert s["classes"]["undetermined"] > 0 and s["classes"]["superseded"] > 0


def test_sample_room_names_the_keys_earlier_parts_filled():
    from safetyrules.audit.metrics import SAMPLES_PER_CLASS, SAMPLES_PER_CRITERION, Aggregate, SampleRoom

    def part(**samples):
        a = Aggregate()
        a.samples = {k.replace("__", ":"): [{"n": i} for i in range(n)] for k, n in samples.items()}
        return a

    room = SampleRoom()
    assert room.full() == frozenset()
    room.add(part(class__missed=SAMPLES_PER_CLASS - 1, rule__x=SAMPLES_PER_CRITERION - 1))
    assert room.full() == frozenset()  # one short of each limit
    room.add(part(class__missed=1, rule__y=SAMPLES_PER_CRITERION))
    assert room.full() == {"class:missed", "rule:y"}
    room.add(part(rule__x=1))
    assert room.full() == {"class:missed", "rule:x", "rule:y"}


def test_a_part_skips_full_keys_only():
    from safetyrules.audit.metrics import Aggregate

    row = {
        "industry": "demo",
        "region": "CN-NM",
        "inspection_date": "2026-08-01",
        "status": "major_hazard_found",
        "matched": [A4],
        "undetermined": [],
        "entries": [{"class": "missed", "source": "rule", "rule": A4}],
    }
    a = Aggregate()
    assert a.add_result(row, frozenset({"class:missed", f"rule:{A4}"})) is False  # nothing it could add is kept
    assert a.add_result(row, frozenset({"class:missed"})) is True
    a.add_sample(row, {"detail": 1}, frozenset({"class:missed"}))
    assert a.samples == {f"rule:{A4}": [{"detail": 1}]}
    assert a.results == 2  # counted either way
