"""results.parquet and rectification.parquet (needs pyarrow: ``pip install '.[audit]'``).

results.parquet has one row per row of results.jsonl, in the same order, with a fixed schema (so
files of different audits concatenate): the record's columns, ``matched`` and ``undetermined`` as
lists, ``entries`` as a list of structs, ``counts`` as a struct, and ``error_reason``/``error_message``
for error rows. Read in batches of 50,000 rows: memory stays bounded.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Sequence

from ..errors import printable
from .classify import CLASSES, Row

if TYPE_CHECKING:
    from .runner import AtomicFile

# pyarrow has no type information: its schemas, batches and tables are Any here

BATCH = 50_000
ENTRY_FIELDS = (
    "class",
    "source",
    "rule",
    "citation",
    "outcome",
    "cited",
    "instead",
    "current",
    "reason",
    "status",
    "id",
    "listed_on",
    "deadline",
    "rectified_on",
    "verified_on",
    "closed_on",
    "reinspection",
)


def _schemas() -> Any:
    import pyarrow as pa

    s = pa.string()
    entry = pa.struct([pa.field("finding", pa.int64())] + [pa.field(k, s) for k in ENTRY_FIELDS])
    results = pa.schema(
        [
            ("source", s),
            ("line", pa.int64()),
            ("row", pa.int64()),
            ("record_id", s),
            ("inspection_date", s),
            ("industry", s),
            ("region", s),
            ("site_id", s),
            ("inspector", s),
            ("status", s),
            ("matched", pa.list_(s)),
            ("undetermined", pa.list_(s)),
            ("entries", pa.list_(entry)),
            ("counts", pa.struct([pa.field(k, pa.int64()) for k in CLASSES])),
            ("error_reason", s),
            ("error_message", s),
        ]
    )
    return results


def _unicode_safe(value: Any) -> Any:
    """Text a record held with lone surrogates (valid JSON, and kept in results.jsonl as its escape)
    written as that escape: Parquet strings must be UTF-8."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k): _unicode_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unicode_safe(v) for v in value]
    return value


def _flat(row: Dict[str, Any]) -> Dict[str, Any]:
    out = {
        k: row.get(k)
        for k in ("source", "line", "row", "record_id", "inspection_date", "industry", "region", "site_id", "inspector", "status")
    }
    err = row.get("error")
    if err:
        out.update(
            error_reason=err["reason"], error_message=err["message"], matched=None, undetermined=None, entries=None, counts=None
        )
        return out
    out.update(
        error_reason=None,
        error_message=None,
        matched=row["matched"],
        undetermined=row["undetermined"],
        entries=[{"finding": e.get("finding"), **{k: e.get(k) for k in ENTRY_FIELDS}} for e in row["entries"]],
        counts={k: row["counts"].get(k, 0) for k in CLASSES},
    )
    return out


def _arrow_batches(results_path: str, schema: Any) -> Iterator[Any]:
    """results.jsonl read by Arrow's streaming JSON reader (C++, a block at a time), converted to the
    output schema: about ten times faster than decoding the rows in Python."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    s = pa.string()
    read = pa.schema(
        [f for f in schema if f.name not in ("error_reason", "error_message")]
        + [pa.field("error", pa.struct([("reason", s), ("message", s)]))]
    )
    reader = pj.open_json(
        results_path,
        read_options=pj.ReadOptions(block_size=16 << 20),
        parse_options=pj.ParseOptions(explicit_schema=read, unexpected_field_behavior="ignore"),
    )
    counts_type = schema.field("counts").type
    for batch in reader:
        counts = batch.column("counts")
        filled = pa.StructArray.from_arrays(
            [pc.fill_null(counts.field(k), 0) for k in CLASSES], fields=list(counts_type), mask=counts.is_null()
        )
        err = batch.column("error")
        columns = []
        for field in schema:
            if field.name == "counts":
                columns.append(filled)
            elif field.name == "error_reason":
                columns.append(err.field("reason"))
            elif field.name == "error_message":
                columns.append(err.field("message"))
            else:
                columns.append(batch.column(field.name))
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def write_results_parquet(results_path: str, target: str) -> AtomicFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .runner import AtomicFile

    schema = _schemas()
    f = AtomicFile(target, "wb")
    try:
        if os.path.getsize(results_path) == 0:
            pq.write_table(schema.empty_table(), f.fh, compression="zstd")
            f.close()
            return f
        writer = pq.ParquetWriter(f.fh, schema, compression="zstd")
        try:
            for batch in _arrow_batches(results_path, schema):
                writer.write_batch(batch, row_group_size=BATCH)
            writer.close()
            f.close()
            return f
        except pa.ArrowInvalid:  # e.g. a row longer than a block: the slower, general path
            writer.close()  # before its file goes: a writer closed later (by the collector) fails noisily
            f.discard()
            f = AtomicFile(target, "wb")
        writer = pq.ParquetWriter(f.fh, schema, compression="zstd")
        rows: List[Dict[str, Any]] = []
        with open(results_path, encoding="utf-8") as fh:
            for line in fh:
                rows.append(_flat(_unicode_safe(json.loads(line)) if "\\ud" in line else json.loads(line)))
                if len(rows) >= BATCH:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                    rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
        writer.close()
        f.close()
    except BaseException:
        f.discard()
        raise
    return f


def write_rectification_parquet(rows: Sequence[Row], target: str) -> AtomicFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .exports import RECT_COLUMNS, rect_flat
    from .runner import AtomicFile

    ints = {"finding", "days_overdue", "reinspections"}
    schema = pa.schema([(c, pa.int64() if c in ints else pa.string()) for c in RECT_COLUMNS])
    f = AtomicFile(target, "wb")
    try:
        flat = [rect_flat(r) for r in rows]
        try:
            table = pa.Table.from_pylist([{c: f.get(c) for c in RECT_COLUMNS} for f in flat], schema=schema)
        except (UnicodeEncodeError, pa.ArrowInvalid):  # text with a lone surrogate: rare, so mended only then
            flat = [_unicode_safe(r) for r in flat]
            table = pa.Table.from_pylist([{c: f.get(c) for c in RECT_COLUMNS} for f in flat], schema=schema)
        pq.write_table(table, f.fh, compression="zstd")
        f.close()
    except BaseException:
        f.discard()
        raise
    return f
