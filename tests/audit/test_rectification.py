"""整改销号 checked against re-inspections: closed_still_present / verified_closed / closure_not_evidenced,
open_overdue, the verified rectification rate, the input (site id, finding id, history, link)."""

import json
import os
from datetime import date

import pytest

from safetyrules.audit import AuditOptions, run_audit
from tests.audit.conftest import EXAMPLES, audit_one, demo, write_jsonl

A4 = "demo-capacity-2026.a4.i1"
A4_2020 = "demo-capacity-2020.a4.i1"


def site(record, sid):
    record["site"]["id"] = sid
    return record


def hist(*steps):
    return [{"status": s, "on": d} for s, d in steps]


def closed(fid, closed_on="2026-08-20", rule=A4, listed="2026-08-01", **extra):
    return {
        "id": fid,
        "rule": rule,
        "listed_on": listed,
        "deadline": "2026-09-01",
        "history": hist(("listed", listed), ("rectified", closed_on), ("closed", closed_on)),
        **extra,
    }


def run(tmp_path, rules, records, report_date="2026-10-31", jobs=1):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out"
    summary = run_audit([path], str(out), rules, AuditOptions(jobs=jobs, report_date=date.fromisoformat(report_date)))
    with open(out / "rectification.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return summary, rows


def by_id(rows):
    return {r.get("id"): r for r in rows}


def test_the_three_closure_classes_and_overdue(tmp_path, demo_rules):
    recs = [
        # S1: closed on 08-20; re-inspected 09-15 with the output back under capacity: verified
        site(demo(record_id="S1-a", date="2026-08-01", findings=[closed("S1-F")]), "S1"),
        site(demo(record_id="S1-b", date="2026-09-15", output=5000), "S1"),
        # S2: closed, but the re-inspection still finds the output over capacity: still present
        site(demo(record_id="S2-a", date="2026-08-01", findings=[closed("S2-F")]), "S2"),
        site(demo(record_id="S2-b", date="2026-09-15"), "S2"),
        # S3: closed, the re-inspection did not record the output: undetermined, not evidenced
        site(demo(record_id="S3-a", date="2026-08-01", findings=[closed("S3-F")]), "S3"),
        site(demo(record_id="S3-b", date="2026-09-15", output=None), "S3"),
        # S4: closed, no later inspection of the site: not evidenced
        site(demo(record_id="S4-a", date="2026-08-01", findings=[closed("S4-F")]), "S4"),
        # S5: open past its deadline; S6 open within it
        site(
            demo(
                record_id="S5-a",
                date="2026-08-01",
                findings=[{"id": "S5-F", "rule": A4, "status": "assigned", "deadline": "2026-10-01"}],
            ),
            "S5",
        ),
        site(
            demo(
                record_id="S6-a",
                date="2026-10-20",
                findings=[{"id": "S6-F", "rule": A4, "status": "listed", "deadline": "2026-11-20"}],
            ),
            "S6",
        ),
    ]
    summary, rows = run(tmp_path, demo_rules, recs)
    got = {k: v["class"] for k, v in by_id(rows).items()}
    assert got == {
        "S1-F": "verified_closed",
        "S2-F": "closed_still_present",
        "S3-F": "closure_not_evidenced",
        "S4-F": "closure_not_evidenced",
        "S5-F": "open_overdue",
        "S6-F": "open",
    }
    r = by_id(rows)
    assert r["S1-F"]["evidence"] == {
        "record_id": "S1-b",
        "inspection_date": "2026-09-15",
        "where": r["S1-F"]["evidence"]["where"],
        "outcome": "not_matched",
        "rule": A4,
    }
    assert r["S2-F"]["evidence"]["outcome"] == "matched"
    assert "cannot decide" in r["S3-F"]["reason"] and r["S3-F"]["evidence"]["outcome"] == "undetermined"
    assert r["S4-F"]["reason"].startswith("no re-inspection")
    assert r["S5-F"]["days_overdue"] == 30
    rect = summary["rectification"]
    assert rect["findings"] == 6 and rect["recorded_rectified"] == 4
    assert rect["recorded_rectification_rate"] == round(4 / 6, 6)
    assert rect["verified_rectification_rate"] == round(1 / 6, 6)
    assert rect["closure_verification_rate"] == 0.25
    m = summary["metrics"]
    # the recorded rate of the campaign figures and the verified one side by side
    assert m["rectification_rate"] == rect["recorded_rectification_rate"]
    assert m["verified_rectification_rate"] == rect["verified_rectification_rate"]
    assert m["closed_still_present"] == 1 and m["closure_not_evidenced"] == 2


def test_only_reinspections_after_the_closure_and_up_to_the_report_date(tmp_path, demo_rules):
    recs = [
        site(demo(record_id="a", date="2026-08-01", findings=[closed("F", closed_on="2026-09-01")]), "S"),
        site(demo(record_id="before", date="2026-08-15", output=5000), "S"),  # before the closure: ignored
        site(demo(record_id="after-report", date="2026-11-15", output=5000), "S"),  # after the report date: ignored
    ]
    _, rows = run(tmp_path, demo_rules, recs)
    assert rows[0]["class"] == "closure_not_evidenced" and rows[0]["reinspections"] == 0
    recs.append(site(demo(record_id="on-closure-day", date="2026-09-01", output=None), "S"))  # undetermined
    recs.append(site(demo(record_id="later", date="2026-10-01"), "S"))  # decides: still present
    recs.append(site(demo(record_id="even-later", date="2026-10-20", output=5000), "S"))  # not the first deciding one
    _, rows = run(tmp_path, demo_rules, recs)
    assert rows[0]["class"] == "closed_still_present"
    assert rows[0]["evidence"]["record_id"] == "later" and rows[0]["reinspections"] == 2


def test_another_site_is_not_a_reinspection(tmp_path, demo_rules):
    recs = [
        site(demo(record_id="a", date="2026-08-01", findings=[closed("F")]), "S1"),
        site(demo(record_id="b", date="2026-09-15", output=5000), "S2"),
    ]
    _, rows = run(tmp_path, demo_rules, recs)
    assert rows[0]["class"] == "closure_not_evidenced"


def test_explicit_reinspection_link(tmp_path, demo_rules):
    recs = [
        site(
            demo(
                record_id="a",
                date="2026-08-01",
                findings=[closed("F1", reinspection="c"), closed("F2", reinspection="zz"), closed("F3", reinspection="other")],
            ),
            "S",
        ),
        site(demo(record_id="b", date="2026-09-01"), "S"),  # the first by date, but the link names c
        site(demo(record_id="c", date="2026-09-20", output=5000), "S"),
        site(demo(record_id="other", date="2026-09-20", output=5000), "T"),
    ]
    _, rows = run(tmp_path, demo_rules, recs)
    r = by_id(rows)
    assert r["F1"]["class"] == "verified_closed" and r["F1"]["evidence"]["record_id"] == "c"
    assert r["F2"]["class"] == "closure_not_evidenced" and "not in the input" in r["F2"]["reason"]
    assert r["F3"]["class"] == "closure_not_evidenced" and "not of the same site" in r["F3"]["reason"]


def test_no_site_id_cannot_be_matched(tmp_path, demo_rules):
    recs = [demo(record_id="a", date="2026-08-01", findings=[closed("F")]), demo(record_id="b", date="2026-09-15", output=5000)]
    _, rows = run(tmp_path, demo_rules, recs)
    assert rows[0]["class"] == "closure_not_evidenced" and "no site.id" in rows[0]["reason"]
    assert "site_id" not in rows[0]


def test_superseded_version_is_checked_in_the_version_in_force(tmp_path, demo_rules):
    # listed under the 2020 text in March, re-inspected in August under the 2026 text (same article)
    recs = [
        site(
            demo(
                record_id="a",
                date="2026-03-01",
                findings=[closed("F", rule=A4_2020, closed_on="2026-04-01", listed="2026-03-01")],
            ),
            "S",
        ),
        site(demo(record_id="b", date="2026-08-10", output=5000), "S"),
    ]
    _, rows = run(tmp_path, demo_rules, recs)
    assert rows[0]["class"] == "verified_closed"
    assert rows[0]["rule"] == A4_2020 and rows[0]["evidence"]["rule"] == A4  # the rule at the same place, in force then


def test_history_decides_the_status_as_of_the_report_date(tmp_path, demo_rules):
    f = {
        "id": "F",
        "rule": A4,
        "deadline": "2026-09-01",
        "history": hist(("listed", "2026-08-01"), ("rectified", "2026-09-10"), ("closed", "2026-09-12")),
    }
    recs = [
        site(demo(record_id="a", date="2026-08-01", findings=[f]), "S"),
        site(demo(record_id="b", date="2026-09-20", output=5000), "S"),
    ]
    s, rows = run(tmp_path, demo_rules, recs, report_date="2026-09-05")
    assert rows[0]["class"] == "open_overdue" and rows[0]["status_as_of"] == "listed"
    assert s["metrics"]["rectification_rate"] == 0.0 and s["metrics"]["overdue_open"] == 1
    s, rows = run(tmp_path, demo_rules, recs, report_date="2026-09-30")
    assert rows[0]["class"] == "verified_closed" and rows[0]["closed_on"] == "2026-09-10"
    assert s["metrics"]["rectification_rate"] == 1.0 and s["metrics"]["overdue_open"] == 0


@pytest.mark.parametrize(
    "finding, path",
    [
        ({"rule": A4, "history": [{"status": "done", "on": "2026-08-01"}]}, "$.findings[0].history[0].status"),
        ({"rule": A4, "history": [{"status": "listed", "on": "01/08/2026"}]}, "$.findings[0].history[0].on"),
        ({"rule": A4, "history": hist(("listed", "2026-08-05"), ("closed", "2026-08-01"))}, "$.findings[0].history[1].on"),
        ({"rule": A4, "history": "closed"}, "$.findings[0].history"),
        ({"rule": A4, "status": "closed", "history": hist(("listed", "2026-08-05"))}, "$.findings[0].status"),
        ({"rule": A4, "reinspection": 12}, "$.findings[0].reinspection"),
        ({"rule": A4, "id": ["x"]}, "$.findings[0].id"),
    ],
)
def test_malformed_history_or_link_is_an_error_row(demo_ctx, finding, path):
    row = audit_one(demo_ctx, demo(findings=[finding]))
    assert row["error"]["reason"] == "invalid_finding"
    assert path in [p["path"] for p in row["error"]["problems"]]


def test_entries_carry_id_history_and_link(demo_ctx):
    row = audit_one(demo_ctx, site(demo(findings=[closed("F-9", reinspection="R-2")]), "S-1"))
    e = row["entries"][0]
    assert e["id"] == "F-9" and e["reinspection"] == "R-2" and e["history"][-1] == {"status": "closed", "on": "2026-08-20"}
    assert e["status"] == "closed"  # from the history
    assert row["site_id"] == "S-1"


def test_same_figures_whatever_the_workers(tmp_path, demo_rules):
    recs = []
    for i in range(300):
        sid = f"S{i % 40}"
        findings = [closed(f"F{i}", closed_on="2026-05-01", listed="2026-04-01")] if i < 120 else None
        recs.append(
            site(
                demo(
                    record_id=f"R{i}",
                    date=f"2026-{4 + i // 60:02d}-{1 + i % 28:02d}",
                    output=(5000, 7150.01, None)[i % 3],
                    findings=findings,
                ),
                sid,
            )
        )
    path = write_jsonl(tmp_path / "in.jsonl", recs)
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        s = run_audit([path], str(out), demo_rules, AuditOptions(jobs=jobs, part_bytes=4096, report_date=date(2026, 10, 31)))
        outs.append((s, (out / "rectification.jsonl").read_bytes(), (out / "tables" / "rectification.csv").read_bytes()))
    (s1, a1, c1), (s2, a2, c2) = outs
    assert a1 == a2 and c1 == c2 and s1["rectification"] == s2["rectification"]
    assert sum(s1["rectification"][k] for k in ("closed_still_present", "verified_closed", "closure_not_evidenced")) == 120
    assert s1["rectification"]["verified_closed"] > 0 and s1["rectification"]["closed_still_present"] > 0


def test_example_data_set(tmp_path, hazchem_rules):
    out = tmp_path / "out"
    s = run_audit(
        [os.path.join(EXAMPLES, "audit-reinspections.jsonl")],
        str(out),
        hazchem_rules,
        AuditOptions(jobs=1, report_date=date(2026, 10, 15)),
    )
    with open(out / "rectification.jsonl", encoding="utf-8") as fh:
        got = {r["id"]: r["class"] for r in map(json.loads, fh)}
    assert got == {
        "CHEM-017-F1": "verified_closed",
        "CHEM-017-F2": "closed_still_present",
        "CHEM-017-F3": "closure_not_evidenced",
        "CHEM-017-F4": "open_overdue",
        "CHEM-017-F5": "open",
        "CHEM-017-F6": "open",
        "CHEM-023-F1": "closure_not_evidenced",
        "CHEM-031-F1": "closure_not_evidenced",
    }
    assert s["reconciliation"]["errors"] == 0
    assert [r["key"] for r in s["by_inspector"]] == sorted({"检查组A-张某", "复查组B-刘某", "检查组C-陈某"})
    assert [r["key"] for r in s["by_site"]] == ["CHEM-017", "CHEM-023", "CHEM-031"]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## 整改销号 checked against re-inspections" in md and "| closed_still_present | 1 |" in md
    assert "| verified rectification rate | 12.5 % |" in md  # 1 of 8 recorded
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="rect-closed_still_present"' in html and "CHEM-017-F2" in html
