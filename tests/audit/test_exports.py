"""Exports: every report table as CSV (the same names as the page's CSV buttons), the 整改销号 rows, and
the results as Parquet beside JSON Lines, byte-identical across runs and worker counts."""

import csv
import json
import os

import pyarrow.parquet as pq

from safetyrules.audit import AuditOptions, run_audit
from safetyrules.audit.exports import tables
from tests.audit.conftest import demo_batch, write_jsonl


def test_tables_and_parquet(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(400))
    out = tmp_path / "out"
    summary = run_audit([path], str(out), demo_rules, AuditOptions(jobs=1))
    html = (out / "report.html").read_text(encoding="utf-8")
    for name, cols, rows in tables(summary):
        with open(out / "tables" / f"{name}.csv", encoding="utf-8", newline="") as fh:
            got = list(csv.reader(fh))
        assert got[0] == list(cols) and len(got) == len(rows) + 1
        if rows and name not in ("metrics", "errors_by_reason"):
            assert f'data-name="{name}"' in html  # the page has the same table with a CSV button
    with open(out / "tables" / "by_criterion.csv", encoding="utf-8") as fh:
        crit = {r["rule"]: r for r in csv.DictReader(fh)}
    assert crit["demo-capacity-2026.a4.i1"]["missed"] == str(
        next(e["missed"] for e in summary["by_criterion"] if e["rule"] == "demo-capacity-2026.a4.i1")
    )

    rows = [json.loads(line) for line in open(out / "results.jsonl", encoding="utf-8")]
    table = pq.read_table(out / "results.parquet").to_pylist()
    assert len(table) == len(rows) == 400
    for r, t in zip(rows, table):
        assert t["record_id"] == r.get("record_id") and t["line"] == r["line"]
        if "error" in r:
            assert t["error_reason"] == r["error"]["reason"] and t["entries"] is None
        else:
            assert t["matched"] == r["matched"] and [e["class"] for e in t["entries"]] == [e["class"] for e in r["entries"]]
            assert {k: v for k, v in t["counts"].items() if v} == r["counts"]
    rect = pq.read_table(out / "rectification.parquet").to_pylist()
    lines = [json.loads(line) for line in open(out / "rectification.jsonl", encoding="utf-8")]
    assert [(r["record_id"], r["class"]) for r in rect] == [(r["record_id"], r["class"]) for r in lines]
    assert len(lines) == summary["metrics"]["recorded_major_hazards"]


def test_exports_are_byte_identical_across_workers(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "b.jsonl", demo_batch(600))
    files = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        run_audit([path], str(out), demo_rules, AuditOptions(jobs=jobs, part_bytes=8192))
        files[jobs] = {
            os.path.relpath(os.path.join(d, n), out): open(os.path.join(d, n), "rb").read()
            for d, _, names in os.walk(out)
            for n in names
        }
    assert files[1].keys() == files[2].keys() and "results.parquet" in files[1] and "tables/by_site.csv" in files[1]
    assert files[1] == files[2]
