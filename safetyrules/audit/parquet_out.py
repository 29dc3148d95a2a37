"""results.parquet and rectification.parquet (needs pyarrow: ``pip install '.[audit]'``).

results.parquet has one row per row of results.jsonl, in the same order, with a fixed schema (so
files of different audits concatenate): the record's columns, ``matched`` and ``undetermined`` as
lists, ``entries`` as a list of structs, ``counts`` as a struct, and ``error_reason``/``error_message``
for error rows. Read in batches of 50,000 rows: memory stays bounded.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

from .classify import CLASSES

BATCH = 50_000
ENTRY_FIELDS = ("class", "source", "rule", "citation", "outcome", "cited", "instead", "current", "reason", "status", "id",
                "listed_on", "deadline", "rectified_on", "verified_on", "closed_on", "reinspection")


def _schemas():
    import pyarrow as pa

    s = pa.string()
    entry = pa.struct([pa.field("finding", pa.int64())] + [pa.field(k, s) for k in ENTRY_FIELDS])
    results = pa.schema([
        ("source", s), ("line", pa.int64()), ("row", pa.int64()), ("record_id", s), ("inspection_date", s),
        ("industry", s), ("region", s), ("site_id", s), ("inspector", s), ("status", s),
        ("matched", pa.list_(s)), ("undetermined", pa.list_(s)), ("entries", pa.list_(entry)),
        ("counts", pa.struct([pa.field(k, pa.int64()) for k in CLASSES])),
        ("error_reason", s), ("error_message", s),
    ])
    return results


def _flat(row: Dict[str, Any]) -> Dict[str, Any]:
    out = {k: row.get(k) for k in ("source", "line", "row", "record_id", "inspection_date", "industry", "region", "site_id",
                                   "inspector", "status")}
    err = row.get("error")
    if err:
        out.update(error_reason=err["reason"], error_message=err["message"], matched=None, undetermined=None, entries=None,
                   counts=None)
        return out
    out.update(error_reason=None, error_message=None, matched=row["matched"], undetermined=row["undetermined"],
               entries=[{"finding": e.get("finding"), **{k: e.get(k) for k in ENTRY_FIELDS}} for e in row["entries"]],
               counts={k: row["counts"].get(k, 0) for k in CLASSES})
    return out


def write_results_parquet(results_path: str, target: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .runner import AtomicFile

    schema = _schemas()
    f = AtomicFile(target, "wb")
    try:
        writer = pq.ParquetWriter(f.fh, schema, compression="zstd")
        batch: List[Dict[str, Any]] = []
        with open(results_path, encoding="utf-8") as fh:
            for line in fh:
                batch.append(_flat(json.loads(line)))
                if len(batch) >= BATCH:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        writer.close()
        f.close()
    except BaseException:
        f.discard()
        raise
    return f


def write_rectification_parquet(rows: List[Dict[str, Any]], target: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .exports import RECT_COLUMNS, rect_flat
    from .runner import AtomicFile

    ints = {"finding", "days_overdue", "reinspections"}
    schema = pa.schema([(c, pa.int64() if c in ints else pa.string()) for c in RECT_COLUMNS])
    f = AtomicFile(target, "wb")
    try:
        table = pa.Table.from_pylist([{c: rect_flat(r).get(c) for c in RECT_COLUMNS} for r in rows], schema=schema)
        pq.write_table(table, f.fh, compression="zstd")
        f.close()
    except BaseException:
        f.discard()
        raise
    return f
