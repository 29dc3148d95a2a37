"""End to end: nothing lost, counts reconcile, output atomic and byte-identical across runs and pools."""

import io
import json
import os

import pytest

from safetyrules.audit import AuditOptions, run_audit
from safetyrules.audit.readers import AuditInputError
from safetyrules.audit.runner import OUTPUT_FILES, Progress
from tests.audit.conftest import HEADER, demo, demo_batch, write_jsonl


def read_rows(outdir):
    with open(os.path.join(outdir, "results.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def read_bytes(outdir):
    out = {}
    for name in OUTPUT_FILES:
        with open(os.path.join(outdir, name), "rb") as fh:
            out[name] = fh.read()
    return out


def test_one_percent_corrupt_batch_reconciles(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "batch.jsonl", demo_batch(1000, corrupt_every=100))
    summary = run_audit([path], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1))
    rec = summary["reconciliation"]
    assert rec == {"records_in": 1000, "results": 990, "errors": 10, "reconciles": True}
    rows = read_rows(tmp_path / "out")
    assert len(rows) == 1000
    assert [r["line"] for r in rows] == list(range(1, 1001))  # one row per record, in input order
    errors = [r for r in rows if "error" in r]
    assert [r["line"] for r in errors] == list(range(100, 1001, 100))
    assert {r["error"]["reason"] for r in errors} == {"malformed_json"}
    assert summary["errors_by_reason"] == {"malformed_json": 10}


def test_bad_records_become_error_rows(tmp_path, demo_rules):
    no_date = demo(record_id="NO-DATE")
    del no_date["inspection_date"]
    records = [
        demo(record_id="OK"),
        demo(record_id="WRONG-TYPE", output="7150"),
        {**demo(record_id="UNKNOWN-FACT"), "facts": {"anual_output_t": 1}},
        no_date,
        demo(record_id="BAD-FINDING", findings=[{"rule": "demo-capacity-2031.a4.i1"}]),
        [1, 2, 3],
        "null",
        demo(record_id="OTHER-INDUSTRY", site={"industry": "coal_mine"}),
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", [r if not isinstance(r, list) else json.dumps(r) for r in records])
    summary = run_audit([path], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1))
    rows = read_rows(tmp_path / "out")
    assert len(rows) == 8
    assert "error" not in rows[0]
    by_id = {r.get("record_id"): r for r in rows[1:]}
    assert by_id["WRONG-TYPE"]["error"]["problems"][0] == {
        "path": "$.facts.annual_output_t",
        "message": "expected a number in t, got a string (write numbers without quotes)",
    }
    assert "did you mean 'annual_output_t'" in by_id["UNKNOWN-FACT"]["error"]["problems"][0]["message"]
    assert by_id["NO-DATE"]["error"]["problems"][0]["path"] == "$.inspection_date"
    assert by_id["BAD-FINDING"]["error"]["reason"] == "unknown_criterion"
    assert by_id["OTHER-INDUSTRY"]["error"]["problems"][0]["path"] == "$.site.industry"
    assert rows[5]["error"]["reason"] == "invalid_record" and rows[5]["line"] == 6
    assert rows[6]["error"]["reason"] == "invalid_record"
    assert summary["reconciliation"] == {"records_in": 8, "results": 1, "errors": 7, "reconciles": True}


def test_reruns_are_byte_identical_across_pools_and_part_sizes(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "batch.jsonl", demo_batch(600))
    first = run_audit([path], str(tmp_path / "a"), demo_rules, AuditOptions(jobs=1))
    run_audit([path], str(tmp_path / "a"), demo_rules, AuditOptions(jobs=1))
    run_audit([path], str(tmp_path / "b"), demo_rules, AuditOptions(jobs=2, part_bytes=2000))
    run_audit([path], str(tmp_path / "c"), demo_rules, AuditOptions(jobs=2, part_bytes=1 << 20))
    a, b, c = read_bytes(tmp_path / "a"), read_bytes(tmp_path / "b"), read_bytes(tmp_path / "c")
    assert a == b == c
    assert first["reconciliation"]["reconciles"]
    assert b"20" in a["summary.json"]  # (sanity: there is data)


def test_formats_agree(tmp_path, demo_rules):
    """The same records as JSON Lines, CSV and Parquet give the same rows (apart from where they came from)."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [r for r in demo_batch(120, corrupt_every=0)]
    write_jsonl(tmp_path / "r.jsonl", records)
    header = HEADER
    flat = []
    for r in records:
        f = r["facts"]
        flat.append(
            {
                "record_id": r["record_id"],
                "inspection_date": r["inspection_date"],
                "site.industry": "demo",
                "site.region": r["site"]["region"],
                "site.attributes.mine_type": "underground",
                "facts.annual_output_t": f.get("annual_output_t"),
                "facts.approved_capacity_t": f["approved_capacity_t"],
                "facts.max_quarter_output_t": f.get("max_quarter_output_t"),
                "facts.working_faces": json.dumps(f["working_faces"]),
                "findings": json.dumps(r["findings"]) if r.get("findings") else None,
            }
        )
    with open(tmp_path / "r.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in flat:
            w.writerow(["" if row[h] is None else row[h] for h in header])
    pq.write_table(pa.Table.from_pylist(flat), str(tmp_path / "r.parquet"), row_group_size=50)
    outs = {}
    for name in ("r.jsonl", "r.csv", "r.parquet"):
        run_audit([str(tmp_path / name)], str(tmp_path / ("o-" + name)), demo_rules, AuditOptions(jobs=1))
        outs[name] = [
            {k: v for k, v in row.items() if k not in ("source", "line", "row")} for row in read_rows(tmp_path / ("o-" + name))
        ]
    assert outs["r.jsonl"] == outs["r.csv"] == outs["r.parquet"]
    assert len(outs["r.jsonl"]) == 120


def test_several_inputs_in_order(tmp_path, demo_rules):
    a = write_jsonl(tmp_path / "a.jsonl", [demo(record_id="A1"), demo(record_id="A2")])
    b = write_jsonl(tmp_path / "b.jsonl", [demo(record_id="B1")])
    summary = run_audit([a, b], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=2))
    assert [(r["source"], r["record_id"]) for r in read_rows(tmp_path / "out")] == [(a, "A1"), (a, "A2"), (b, "B1")]
    assert summary["reconciliation"]["records_in"] == 3


def test_failed_run_leaves_previous_output(tmp_path, demo_rules, monkeypatch):
    path = write_jsonl(tmp_path / "a.jsonl", demo_batch(50))
    out = str(tmp_path / "out")
    run_audit([path], out, demo_rules, AuditOptions(jobs=1))
    before = read_bytes(out)
    write_jsonl(tmp_path / "a.jsonl", [demo(record_id="NEW")])

    import safetyrules.audit.report_html as rh

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rh, "render_html", boom)
    with pytest.raises(RuntimeError):
        run_audit([path], out, demo_rules, AuditOptions(jobs=1))
    assert read_bytes(out) == before
    from safetyrules.audit.exports import EXPORT_FILES

    assert sorted(os.listdir(out)) == sorted(OUTPUT_FILES + EXPORT_FILES)  # no temporary files left behind
    assert not [n for n in os.listdir(os.path.join(out, "tables")) if ".tmp-" in n]


def test_unreadable_input_writes_nothing(tmp_path, demo_rules):
    out = str(tmp_path / "out")
    with pytest.raises(AuditInputError):
        run_audit([str(tmp_path / "missing.jsonl")], out, demo_rules)
    assert not os.path.exists(out) or os.listdir(out) == []


def test_truncated_parquet_audit_fails_cleanly(tmp_path, demo_rules):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "t.parquet")
    pq.write_table(
        pa.Table.from_pylist([{"record_id": "x", "inspection_date": "2026-01-01", "site.industry": "demo"}] * 50), path
    )
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) - 20)
    with pytest.raises(AuditInputError, match="truncated or corrupt"):
        run_audit([path], str(tmp_path / "out"), demo_rules)
    assert not os.path.exists(tmp_path / "out")


def test_progress_quiet_unless_terminal():
    stream = io.StringIO()
    p = Progress(100, "bytes", stream=stream)
    p.update(50, 10)
    p.close()
    assert stream.getvalue() == ""
    p = Progress(100, "bytes", enabled=True, stream=stream)
    p.update(50, 10)
    p.update(50, 10)
    p.close()
    text = stream.getvalue()
    assert "rec/s" in text and "ETA" in text and "100.0%" in text and "audited 20 records" in text


def test_bad_csv_header_writes_nothing(tmp_path, demo_rules):
    path = tmp_path / "h.csv"
    path.write_text("record_id,site.industry,facts.annual_output_t\nA,demo,1\n", encoding="utf-8")
    with pytest.raises(AuditInputError, match="inspection_date"):
        run_audit([str(path)], str(tmp_path / "out"), demo_rules)
    assert not os.path.exists(tmp_path / "out")


def test_progress_mixed_units_shows_rate_only():
    stream = io.StringIO()
    p = Progress(0, "parts", enabled=True, stream=stream)
    p.update(5, 10)
    assert "rec/s" in stream.getvalue() and "ETA" not in stream.getvalue()


def test_backends_agree(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "batch.jsonl", demo_batch(300))
    run_audit([path], str(tmp_path / "native"), demo_rules, AuditOptions(jobs=1))
    run_audit([path], str(tmp_path / "interp"), demo_rules.with_backend("interpreter"), AuditOptions(jobs=2))
    assert read_bytes(tmp_path / "native") == read_bytes(tmp_path / "interp")


def test_inspector_findings_are_set_against_the_facts(tmp_path, demo_rules):
    """The audit classes recorded findings on the facts alone; the inspector's findings on items are
    reported beside it, with those the facts contradict, and counted in the summary."""
    records = [
        demo(record_id="CONTRADICTED", inspector_findings=[{"rule": "demo-capacity-2026.a4.i1", "finding": "absent"}]),
        demo(
            record_id="DECIDED",
            output=None,
            quarter=None,
            inspector_findings=[{"rule": "demo-capacity-2026.a4.i1", "finding": "present"}],
        ),
        demo(record_id="BAD", inspector_findings=[{"rule": "demo-capacity-2026.a4.i1", "finding": "maybe"}]),
        demo(record_id="PLAIN"),
    ]
    summary = run_audit([write_jsonl(tmp_path / "f.jsonl", records)], str(tmp_path / "out"), demo_rules, AuditOptions(jobs=1))
    rows = {r.get("record_id"): r for r in read_rows(tmp_path / "out")}
    assert rows["CONTRADICTED"]["matched"] == ["demo-capacity-2026.a4.i1"]
    assert rows["CONTRADICTED"]["inspector_findings"] == {"contradicts": 1}
    assert [c["facts_outcome"] for c in rows["CONTRADICTED"]["contradictions"]] == ["matched"]
    # decided by the finding, but not matched on the facts: the audit does not count it as determined
    assert rows["DECIDED"]["matched"] == [] and rows["DECIDED"]["inspector_findings"] == {"decided": 1}
    assert rows["BAD"]["error"]["reason"] == "invalid_record"
    assert "inspector_findings" not in rows["PLAIN"]
    assert summary["metrics"]["inspector_findings"] == {"contradicts": 1, "decided": 1}


def _realistic_mining(n, seed=7):
    """Realistic mining records (hundreds of criteria) with findings citing most matched criteria."""
    import random

    from benchmarks.realistic import records_for
    from safetyrules import load_rules

    rules = load_rules("mining")
    rng = random.Random(seed)
    recs = records_for(rules, n, seed=seed)
    for rec in recs:
        matched = rules.evaluate(rec).matched_rule_ids
        cited = [r for r in matched if rng.random() < 0.8]
        if rng.random() < 0.05:
            cited.append(rng.choice(sorted(rules.ir.rules)))
        if cited:
            rec["findings"] = [{"rule": r, "status": "listed", "listed_on": rec["inspection_date"]} for r in dict.fromkeys(cited)]
    return rules, recs


def test_drill_down_skips_what_earlier_parts_filled_and_keeps_the_same_samples(tmp_path, monkeypatch):
    """A part does not work out evidence for drill-down keys that earlier parts filled: on one worker
    (which knows every earlier part) the records detailed are the records kept, where sampling each
    part afresh details nearly every record; every output is the same, with one worker or two."""
    from safetyrules.audit import runner
    from safetyrules.audit.metrics import SampleRoom

    rules, recs = _realistic_mining(160)
    path = write_jsonl(tmp_path / "mining.jsonl", recs)
    options = AuditOptions(jobs=1, part_bytes=40_000)  # two or three records a part: many parts
    real = runner.drill_down
    calls = []
    monkeypatch.setattr(runner, "drill_down", lambda *a: calls.append(a[2]["record_id"]) or real(*a))
    summary = run_audit([path], str(tmp_path / "room"), rules, options)
    with_room = len(calls)
    calls.clear()
    with monkeypatch.context() as m:
        m.setattr(SampleRoom, "full", lambda self: frozenset())
        run_audit([path], str(tmp_path / "afresh"), rules, options)
    afresh = len(calls)
    run_audit([path], str(tmp_path / "pool"), rules, AuditOptions(jobs=2, part_bytes=40_000))
    room, fresh, pool = read_bytes(tmp_path / "room"), read_bytes(tmp_path / "afresh"), read_bytes(tmp_path / "pool")
    assert room == fresh == pool
    kept = {r["record_id"] for samples in summary["drilldown"].values() for r in samples}
    assert sum(k.startswith("rule:") for k in summary["drilldown"]) > 50  # (sanity: many criteria sampled)
    assert afresh > 0.95 * summary["reconciliation"]["results"]
    assert len(kept) <= with_room <= len(kept) + 2 and with_room < afresh, (len(kept), with_room, afresh)


def test_an_audit_can_judge_strictly(tmp_path, demo_rules):
    """--no-presumptions: the ageing-mine exception of the demo capacity criterion then leaves a record
    that does not say undetermined, where with the presumption the criterion is matched."""
    path = write_jsonl(tmp_path / "s.jsonl", [demo(record_id="S-1")])
    presumed = run_audit([path], str(tmp_path / "a"), demo_rules, AuditOptions(jobs=1))
    strict = run_audit([path], str(tmp_path / "b"), demo_rules, AuditOptions(jobs=1, presumptions=False))
    assert presumed["audit"]["presumptions"] is True and strict["audit"]["presumptions"] is False
    [row] = read_rows(tmp_path / "a")
    [strict_row] = read_rows(tmp_path / "b")
    assert row["matched"] == ["demo-capacity-2026.a4.i1"] and "demo-capacity-2026.a4.i1" not in row["undetermined"]
    assert strict_row["matched"] == [] and "demo-capacity-2026.a4.i1" in strict_row["undetermined"]
