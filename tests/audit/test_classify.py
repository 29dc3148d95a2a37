"""Classes of findings and rules: confirmed, unsupported, miscited, missed, undetermined, superseded."""

from tests.audit.conftest import audit_one, demo, example

A4_2026 = "demo-capacity-2026.a4.i1"
A4_2020 = "demo-capacity-2020.a4.i1"
A5_2026 = "demo-capacity-2026.a5.i2"


def classes(row):
    return [(e["class"], e["source"], e["rule"]) for e in row["entries"]]


def test_confirmed(demo_ctx):
    row = audit_one(demo_ctx, demo(findings=[{"rule": A4_2026, "status": "listed", "listed_on": "2026-08-12"}]))
    assert classes(row) == [("confirmed", "finding", A4_2026)]
    assert row["entries"][0]["outcome"] == "matched"
    assert row["status"] == "major_hazard_found"


def test_confirmed_by_rendered_citation(demo_ctx):
    citation = demo_ctx.index.rendered[A4_2026]
    row = audit_one(demo_ctx, demo(findings=[{"citation": citation, "status": "listed"}]))
    # the 2020 and 2026 texts share the citation; the version in force on the inspection date is meant
    assert classes(row) == [("confirmed", "finding", A4_2026)]
    assert row["entries"][0]["cited"] == citation


def test_unsupported(demo_ctx):
    row = audit_one(demo_ctx, demo(output=5000, findings=[{"rule": A4_2026, "status": "listed"}]))
    assert classes(row) == [("unsupported", "finding", A4_2026)]
    assert row["entries"][0]["outcome"] == "not_matched"


def test_unsupported_out_of_scope(demo_ctx):
    row = audit_one(demo_ctx, demo(mine_type="open_pit", findings=[{"rule": A4_2026}]))
    assert classes(row) == [("unsupported", "finding", A4_2026)]
    assert row["entries"][0]["outcome"] == "not_applicable"


def test_missed(demo_ctx):
    row = audit_one(demo_ctx, demo())
    assert classes(row) == [("missed", "rule", A4_2026)]
    assert row["counts"] == {"missed": 1}


def test_missed_list_rule(demo_ctx):
    faces = [{"id": "F-1", "ch4_pct": 1.2, "electric_work_continued": True}]
    row = audit_one(demo_ctx, demo(output=5000, faces=faces))
    assert classes(row) == [("missed", "rule", A5_2026)]


def test_undetermined_finding_and_rule(demo_ctx):
    row = audit_one(demo_ctx, demo(output=None, quarter=None, findings=[{"rule": A4_2026, "status": "listed"}]))
    assert classes(row) == [("undetermined", "finding", A4_2026)]
    assert row["undetermined"] == []
    row = audit_one(demo_ctx, demo(output=None, quarter=None))
    assert classes(row) == []
    assert row["undetermined"] == [A4_2026]
    assert row["counts"] == {"undetermined": 1}


def test_superseded_with_current_version(demo_ctx):
    # a 2020 text cited on a 2026-08 record: not in force; the 2026 item at the same place is matched
    row = audit_one(demo_ctx, demo(findings=[{"rule": A4_2020, "status": "listed"}]))
    assert classes(row) == [("superseded", "finding", A4_2020)]
    e = row["entries"][0]
    assert e["current"] == A4_2026 and e["current_outcome"] == "matched"
    assert "not on 2026-08-12" in e["reason"]
    # the matched current item is accounted for by the superseded finding, not missed
    assert not any(c == "missed" for c, _, _ in classes(row))


def test_superseded_current_not_matched_leaves_nothing_missed(demo_ctx):
    row = audit_one(demo_ctx, demo(output=5000, findings=[{"rule": A4_2020}]))
    assert classes(row) == [("superseded", "finding", A4_2020)]
    assert row["entries"][0]["current_outcome"] == "not_matched"


def test_2020_rule_in_force_on_2025_record(demo_ctx):
    row = audit_one(demo_ctx, demo(date="2025-05-01", quarter=None, findings=[{"rule": A4_2020}]))
    assert classes(row) == [("confirmed", "finding", A4_2020)]


def test_miscited_same_item_then_category(hazchem_ctx):
    rec = example("hazchem-trading.json")
    # the facts match i20.s2 (over the permitted quantity) and i20.s4; the inspector cited i20.s1
    # (not stored by zone and class: not matched) instead of i20.s2, and recorded i20.s4 rightly.
    rec["findings"] = [
        {"rule": "hazchem-2017.i5.s1", "status": "listed"},
        {"rule": "hazchem-2017.i18.s2", "status": "listed"},
        {"rule": "hazchem-2017.i20.s1", "status": "listed"},
        {"rule": "hazchem-2017.i20.s4", "status": "listed"},
    ]
    row = audit_one(hazchem_ctx, rec)
    by_finding = {e["finding"]: e for e in row["entries"] if e["source"] == "finding"}
    assert by_finding[2]["class"] == "miscited"
    assert by_finding[2]["instead"] == "hazchem-2017.i20.s2"
    assert by_finding[2]["outcome"] == "not_matched"
    assert [e["class"] for e in row["entries"]] == ["confirmed", "confirmed", "miscited", "confirmed"]  # nothing missed


def test_miscited_claims_one_neighbour_only(hazchem_ctx):
    rec = example("chemical-plant.json")
    # matched: i2 (personnel), i4.s3, i12.s1, i14.s2 (equipment). One equipment finding on the wrong item:
    rec["findings"] = [{"rule": "hazchem-2017.i2"}, {"rule": "hazchem-2017.i15"}]
    row = audit_one(hazchem_ctx, rec)
    got = [(e["class"], e["rule"], e.get("instead")) for e in row["entries"]]
    assert got[0] == ("confirmed", "hazchem-2017.i2", None)
    assert got[1] == ("miscited", "hazchem-2017.i15", "hazchem-2017.i4.s3")
    assert sorted(r for c, r, _ in got[2:]) == ["hazchem-2017.i12.s1", "hazchem-2017.i14.s2"]
    assert all(c == "missed" for c, _, _ in got[2:])


def test_unsupported_when_no_neighbour_matched(hazchem_ctx):
    rec = example("hazchem-trading.json")
    rec["findings"] = [{"rule": "hazchem-2017.i1"}]  # personnel: nothing in that category matched
    row = audit_one(hazchem_ctx, rec)
    assert row["entries"][0]["class"] == "unsupported"


def test_other_industry_criterion_is_unsupported(hazchem_ctx):
    rec = example("hazchem-trading.json")
    rec["findings"] = [{"rule": "fireworks-2017.i1"}]
    row = audit_one(hazchem_ctx, rec)
    e = row["entries"][0]
    assert (e["class"], e["outcome"]) == ("unsupported", "not_evaluated")
    assert "does not cover industry 'hazardous_chemicals'" in e["reason"]


def test_unknown_criterion_is_an_error_row(demo_ctx):
    row = audit_one(demo_ctx, demo(findings=[{"rule": "demo-capacity-2026.a4.i9"}]))
    assert row["error"]["reason"] == "unknown_criterion"
    assert row["error"]["problems"][0]["path"] == "$.findings[0].rule"
    assert "did you mean 'demo-capacity-2026.a4.i1'" in row["error"]["problems"][0]["message"]
    assert row["record_id"] == "D-1"
    row = audit_one(demo_ctx, demo(findings=[{"citation": "《不存在的标准》第一条"}]))
    assert row["error"]["reason"] == "unknown_criterion"


def test_invalid_findings_are_error_rows(demo_ctx):
    cases = [
        ({"rule": A4_2026, "status": "done"}, "$.findings[0].status"),
        ({"rule": A4_2026, "deadline": "2026-13-01"}, "$.findings[0].deadline"),
        ({"rule": A4_2026, "listed_on": "2026-W33-3"}, "$.findings[0].listed_on"),  # a week date is not YYYY-MM-DD
        ({"status": "listed"}, "$.findings[0]"),
        ({"rule": A4_2026, "colour": "red"}, "$.findings[0].colour"),
        ({"rule": A4_2026, "citation": "《示例》第一条"}, "$.findings[0].citation"),
    ]
    for finding, path in cases:
        row = audit_one(demo_ctx, demo(findings=[finding]))
        assert row["error"]["reason"] == "invalid_finding", finding
        assert row["error"]["problems"][0]["path"] == path


def test_findings_not_a_list(demo_ctx):
    row = audit_one(demo_ctx, demo(findings={"rule": A4_2026}))
    assert row["error"]["reason"] == "invalid_record"
    assert row["error"]["problems"][0]["path"] == "$.findings"


def test_closed_loop_fields_are_kept(demo_ctx):
    f = {
        "rule": A4_2026,
        "status": "rectified",
        "listed_on": "2026-08-12",
        "assigned_on": "2026-08-13",
        "deadline": "2026-09-12",
        "rectified_on": "2026-09-01",
    }
    row = audit_one(demo_ctx, demo(findings=[f]))
    e = row["entries"][0]
    for k, v in f.items():
        if k != "rule":
            assert e[k] == v
