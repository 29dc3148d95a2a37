"""Inputs: JSON Lines, CSV with the column mapping, Parquet (flat and nested); bad files and rows."""

import csv
import json
import os

import pytest

from safetyrules.audit.readers import AuditInputError, detect_format, iter_parts, records_of_part
from tests.audit.conftest import HEADER, demo, write_jsonl


def items(path, fmt, vocab, **kw):
    out = []
    for part in iter_parts(str(path), fmt, **kw):
        out.extend(records_of_part(part, vocab))
    return out


def test_detect_format():
    assert detect_format("a.jsonl") == "jsonl"
    assert detect_format("a.CSV") == "csv"
    assert detect_format("a.parquet") == "parquet"
    assert detect_format("a.txt", "jsonl") == "jsonl"
    with pytest.raises(AuditInputError):
        detect_format("a.txt")


def test_jsonl_line_numbers_survive_any_part_size(tmp_path, demo_rules):
    lines = [demo(record_id=f"R{i}") for i in range(50)]
    lines.insert(10, "")  # a blank line is not a record, but it keeps its line number
    lines.insert(20, "{not json")
    path = write_jsonl(tmp_path / "a.jsonl", lines)
    whole = items(path, "jsonl", demo_rules.ir.vocabularies)
    assert len(whole) == 51
    assert [i[0][2] for i in whole][:12] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13]
    bad = [i for i in whole if i[2]]
    assert bad == [((path, "line", 21), None, ("malformed_json", bad[0][2][1]))]
    for size in (7, 100, 333, 4096):
        assert items(path, "jsonl", demo_rules.ir.vocabularies, part_bytes=size) == whole


def test_jsonl_truncated_last_line_and_bad_bytes(tmp_path, demo_rules):
    path = tmp_path / "t.jsonl"
    with open(path, "wb") as fh:
        fh.write(json.dumps(demo()).encode() + b"\n")
        fh.write(b'{"record_id": "X", "ins\xff\xfe"}\n')
        fh.write(json.dumps(demo())[:40].encode())  # no newline at the end: a truncated file
    got = items(path, "jsonl", demo_rules.ir.vocabularies)
    assert [g[2][0] if g[2] else None for g in got] == [None, "not_utf8", "malformed_json"]
    assert [g[0][2] for g in got] == [1, 2, 3]


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def test_csv_mapping(tmp_path, demo_rules):
    findings = json.dumps([{"rule": "demo-capacity-2026.a4.i1", "status": "listed"}])
    path = write_csv(
        tmp_path / "a.csv",
        HEADER,
        [
            [
                "C-1",
                "2026-08-12",
                "demo",
                "CN-NM",
                "underground",
                "7150.01",
                "6500",
                "",
                '[{"id": "F-1", "ch4_pct": 0.5}]',
                findings,
            ],
            ["C-2", "2026-08-12", "demo", "", "underground", "abc", "6500", "1e3", "", ""],
            ["C-3", "2026-08-12", "demo"],
        ],
    )
    got = items(path, "csv", demo_rules.ir.vocabularies)
    (pos1, rec1, err1), (pos2, rec2, err2), (pos3, _, err3) = got
    assert pos1 == (path, "row", 2) and err1 is None
    assert rec1 == {
        "record_id": "C-1",
        "inspection_date": "2026-08-12",
        "site": {"industry": "demo", "region": "CN-NM", "attributes": {"mine_type": "underground"}},
        "facts": {"annual_output_t": 7150.01, "approved_capacity_t": 6500, "working_faces": [{"id": "F-1", "ch4_pct": 0.5}]},
        "findings": [{"rule": "demo-capacity-2026.a4.i1", "status": "listed"}],
    }
    # a cell that does not read as its type is passed on, for the record check to name
    assert rec2["facts"] == {"annual_output_t": "abc", "approved_capacity_t": 6500, "max_quarter_output_t": 1000.0}
    assert "region" not in rec2["site"]
    assert pos3 == (path, "row", 4) and err3[0] == "malformed_csv"


def test_csv_exact_decimals(tmp_path, demo_rules):
    from decimal import Decimal

    path = write_csv(tmp_path / "d.csv", HEADER[:6], [["C", "2026-01-01", "demo", "", "", "7150.0000000000000001"]])
    ((_, rec, _),) = items(path, "csv", demo_rules.ir.vocabularies)
    assert rec["facts"]["annual_output_t"] == Decimal("7150.0000000000000001")


def test_csv_missing_required_column_is_a_clear_error(tmp_path):
    path = write_csv(tmp_path / "m.csv", [h for h in HEADER if h != "inspection_date"], [["x"] * 9])
    with pytest.raises(AuditInputError, match="required column.*inspection_date"):
        list(iter_parts(path, "csv"))


def test_csv_unknown_column_is_a_clear_error(tmp_path):
    path = write_csv(tmp_path / "u.csv", HEADER + ["fact.ch4"], [])
    with pytest.raises(AuditInputError, match="'fact.ch4' is not in the column mapping"):
        list(iter_parts(path, "csv"))


def test_csv_bad_json_cell_is_an_error_row(tmp_path, demo_rules):
    path = write_csv(tmp_path / "j.csv", HEADER, [["C", "2026-08-12", "demo", "", "underground", "1", "1", "1", "[oops", ""]])
    ((_, _, err),) = items(path, "csv", demo_rules.ir.vocabularies)
    assert err[0] == "malformed_cell" and "facts.working_faces" in err[1]


def parquet_flat(path, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=3)
    return str(path)


def test_parquet_flat_columns(tmp_path, demo_rules):
    import datetime

    rows = [
        {
            "record_id": f"P-{i}",
            "inspection_date": datetime.date(2026, 8, 12),
            "site.industry": "demo",
            "site.attributes.mine_type": "underground",
            "facts.annual_output_t": 7150.01 if i % 2 else None,
            "facts.approved_capacity_t": 6500.0,
            "findings": json.dumps([{"rule": "demo-capacity-2026.a4.i1"}]) if i == 1 else None,
        }
        for i in range(7)
    ]
    path = parquet_flat(tmp_path / "f.parquet", rows)
    got = items(path, "parquet", demo_rules.ir.vocabularies)
    assert [g[0] for g in got] == [(path, "row", i) for i in range(1, 8)]
    assert got[1][1]["inspection_date"] == "2026-08-12"
    assert got[1][1]["findings"] == [{"rule": "demo-capacity-2026.a4.i1"}]
    assert "annual_output_t" not in got[0][1]["facts"]


def test_parquet_nested_structs(tmp_path, demo_rules):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {
            "record_id": "N-1",
            "inspection_date": "2026-08-12",
            "site": {"industry": "demo", "region": "CN-NM", "attributes": {"mine_type": "underground"}},
            "facts": {
                "annual_output_t": 7150.01,
                "approved_capacity_t": 6500.0,
                "max_quarter_output_t": None,
                "working_faces": [{"id": "F-1", "ch4_pct": 1.2, "electric_work_continued": True}],
            },
            "findings": [{"rule": "demo-capacity-2026.a4.i1", "status": "listed", "listed_on": "2026-08-12"}],
        }
    ]
    path = str(tmp_path / "n.parquet")
    pq.write_table(pa.Table.from_pylist(rows), path)
    ((_, rec, err),) = items(path, "parquet", demo_rules.ir.vocabularies)
    assert err is None
    assert rec["site"] == rows[0]["site"]
    assert rec["facts"] == {
        "annual_output_t": 7150.01,
        "approved_capacity_t": 6500.0,
        "working_faces": [{"id": "F-1", "ch4_pct": 1.2, "electric_work_continued": True}],
    }
    assert rec["findings"] == [{"rule": "demo-capacity-2026.a4.i1", "status": "listed", "listed_on": "2026-08-12"}]


def test_truncated_parquet_is_a_clear_error(tmp_path):
    rows = [{"record_id": f"P-{i}", "inspection_date": "2026-08-12", "site.industry": "demo"} for i in range(100)]
    path = parquet_flat(tmp_path / "t.parquet", rows)
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    with pytest.raises(AuditInputError, match="not a readable Parquet file"):
        list(iter_parts(path, "parquet"))


def test_parquet_missing_column(tmp_path):
    path = parquet_flat(tmp_path / "c.parquet", [{"record_id": "x", "site.industry": "demo"}])
    with pytest.raises(AuditInputError, match="inspection_date"):
        list(iter_parts(path, "parquet"))


def test_unreadable_file(tmp_path):
    with pytest.raises(AuditInputError, match="cannot read"):
        list(iter_parts(str(tmp_path / "nope.jsonl"), "jsonl"))


def test_parquet_damaged_row_group_gives_error_rows(tmp_path, demo_rules):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "c.parquet")
    rows = [
        {"record_id": f"x{i}", "inspection_date": "2026-01-01", "site.industry": "demo", "facts.annual_output_t": float(i)}
        for i in range(300)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=100)
    col = pq.ParquetFile(path).metadata.row_group(1).column(0)
    with open(path, "r+b") as fh:
        fh.seek(col.data_page_offset)
        fh.write(b"\xab" * col.total_compressed_size)
    got = items(path, "parquet", demo_rules.ir.vocabularies)
    assert len(got) == 300
    bad = [g for g in got if g[2]]
    assert [g[0][2] for g in bad] == list(range(101, 201))
    assert {g[2][0] for g in bad} == {"unreadable_row_group"}


def test_absurd_nesting_is_an_error_row(tmp_path, demo_rules):
    path = write_jsonl(tmp_path / "deep.jsonl", ["[" * 100000 + "]" * 100000, demo()])
    got = items(path, "jsonl", demo_rules.ir.vocabularies)
    assert got[0][2][0] == "malformed_json" and got[1][2] is None


def test_jsonl_bom_and_crlf(tmp_path, demo_rules):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(demo()).encode() + b"\r\n" + json.dumps(demo()).encode() + b"\r\n")
    got = items(str(path), "jsonl", demo_rules.ir.vocabularies)
    assert [g[2] for g in got] == [None, None]


def test_parquet_row_group_cut_into_parts(tmp_path, demo_rules):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "one-group.parquet")
    rows = [
        {"record_id": f"x{i}", "inspection_date": "2026-01-01", "site.industry": "demo", "facts.annual_output_t": float(i)}
        for i in range(1000)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=600)  # groups of 600 and 400 rows
    whole = [(g[0], g[1]) for g in items(path, "parquet", demo_rules.ir.vocabularies, parquet_rows=10**6)]
    for step in (1, 7, 100, 333, 600):
        parts = list(iter_parts(path, "parquet", parquet_rows=step))
        assert sum(p.num_rows for p in parts) == 1000
        got = [(g[0], g[1]) for p in parts for g in records_of_part(p, demo_rules.ir.vocabularies)]
        assert got == whole, step
    assert [w[1]["record_id"] for w in whole] == [f"x{i}" for i in range(1000)]
    assert [w[0][2] for w in whole] == list(range(1, 1001))
