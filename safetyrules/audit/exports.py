"""Exports beside the reports: every table of the report as CSV, the 整改销号 rows, and the results
as Parquet (with pyarrow) as well as JSON Lines.

Written as staged files (temporary names, moved into place with the rest of the output), so a failed
audit leaves the previous output as it was; byte-identical on a re-run like the other files.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Sequence, Tuple

from .classify import CLASSES
from .rectification import RECT_CLASSES

if TYPE_CHECKING:
    from .metrics import Aggregate
    from .runner import AtomicFile

TABLES_DIR = "tables"
RECTIFICATION = "rectification.jsonl"
RESULTS_PARQUET = "results.parquet"
RECTIFICATION_PARQUET = "rectification.parquet"
#: what an audit writes beside runner.OUTPUT_FILES (the Parquet files only when pyarrow is installed)
EXPORT_FILES = (RECTIFICATION, RESULTS_PARQUET, RECTIFICATION_PARQUET, TABLES_DIR)

DIM_COLUMNS = ["key", "inspections", "recorded", "recorded_per_1000", "matched", "determined_per_1000", *CLASSES]
CRITERION_COLUMNS = ["rule", "citation", "title", "module", "module_version", "recorded", "matched", *CLASSES]
RECT_COLUMNS = [
    "record_id",
    "finding",
    "id",
    "site_id",
    "industry",
    "inspection_date",
    "rule",
    "citation",
    "checked_rule",
    "audit_class",
    "status",
    "status_as_of",
    "deadline",
    "closed_on",
    "class",
    "days_overdue",
    "reason",
    "reinspections",
    "evidence_record",
    "evidence_date",
    "evidence_outcome",
    "where",
]


def _csv(columns: Sequence[str], rows: List[Dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue()


def tables(summary: Dict[str, Any]) -> List[Tuple[str, Sequence[str], List[Dict[str, Any]]]]:
    """(name, columns, rows) of every table the report shows; the page's CSV buttons use the same names."""
    m = summary["metrics"]
    out: List[Tuple[str, Sequence[str], List[Dict[str, Any]]]] = [
        (
            "metrics",
            ["metric", "value", "definition"],
            [
                {"metric": k, "value": v, "definition": summary["definitions"].get(k, "")}
                for k, v in m.items()
                if not isinstance(v, dict)
            ],
        ),
        ("classes", ["class", "count"], [{"class": k, "count": summary["classes"][k]} for k in CLASSES]),
        ("errors_by_reason", ["reason", "rows"], [{"reason": k, "rows": v} for k, v in summary["errors_by_reason"].items()]),
    ]
    for dim in ("industry", "region", "month", "inspector", "site"):
        rows = summary.get(f"by_{dim}") or []
        cols = DIM_COLUMNS + (["rectification_rate", "overdue_open"] if dim == "industry" else [])
        out.append((f"by_{dim}", cols, rows))
    out.append(("by_criterion", CRITERION_COLUMNS, summary["by_criterion"]))
    rect = summary.get("rectification")
    if rect:
        out.append(
            (
                "rectification_by_industry",
                [
                    "key",
                    "findings",
                    *RECT_CLASSES,
                    "recorded_rectification_rate",
                    "verified_rectification_rate",
                    "closure_verification_rate",
                ],
                rect["by_industry"],
            )
        )
    return out


def rect_flat(row: Dict[str, Any]) -> Dict[str, Any]:
    flat = {k: v for k, v in row.items() if k != "evidence"}
    ev = row.get("evidence")
    if ev:
        flat.update(evidence_record=ev["record_id"], evidence_date=ev["inspection_date"], evidence_outcome=ev["outcome"])
    return flat


def write_exports(outdir: str, summary: Dict[str, Any], agg: Aggregate, results_path: str) -> List[AtomicFile]:
    """Stage the exports; returns the staged files (committed by the runner with the rest)."""
    from .runner import AtomicFile, write_atomic

    staged: List[AtomicFile] = []
    try:
        os.makedirs(os.path.join(outdir, TABLES_DIR), exist_ok=True)
        for name, cols, rows in tables(summary):
            staged.append(write_atomic(os.path.join(outdir, TABLES_DIR, f"{name}.csv"), _csv(cols, rows)))
        rect_rows = agg.rectification_rows
        staged.append(
            write_atomic(
                os.path.join(outdir, TABLES_DIR, "rectification.csv"), _csv(RECT_COLUMNS, [rect_flat(r) for r in rect_rows])
            )
        )
        f = AtomicFile(os.path.join(outdir, RECTIFICATION))
        staged.append(f)
        encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
        for r in rect_rows:
            f.write(encode(r) + "\n")
        f.close()
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            return staged
        from .parquet_out import write_rectification_parquet, write_results_parquet

        staged.append(write_results_parquet(results_path, os.path.join(outdir, RESULTS_PARQUET)))
        staged.append(write_rectification_parquet(rect_rows, os.path.join(outdir, RECTIFICATION_PARQUET)))
    except BaseException:
        for s in staged:
            s.discard()
        raise
    return staged


__all__ = ["EXPORT_FILES", "RECTIFICATION", "RESULTS_PARQUET", "TABLES_DIR", "tables", "write_exports"]
