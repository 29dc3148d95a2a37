"""Drill-down details: a record as an auditor reads it -- each finding as recorded, the engine's
determination of its criterion, and the evidence that decided it.

Only the first records of each class and of each criterion are detailed (``metrics.SAMPLES_PER_*``;
a part skips the keys earlier parts have filled, ``metrics.SampleRoom``), so the reference
interpreter's trace (:class:`safetyrules.explain.Explainer`) is run for a bounded number of records
however large the input; results.jsonl keeps no evidence (``safetyrules check`` gives it). A
record's entries are traced by one explainer over the record as the audit checked it (not parsed
again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .classify import Row

if TYPE_CHECKING:
    from ..explain import Explainer
    from .runner import AuditContext

MAX_ENTRIES = 8  # entries detailed per record
MAX_LINES = 10  # evidence lines per entry


def _leaves(node: Dict[str, Any], out: List[str], prefix: str = "") -> None:
    children = node.get("children") or []
    items = node.get("items") or []
    if not children and not items:
        reads = node.get("reads") or {}
        text = f"{prefix}{node['expr']} → {node['value']}"
        if reads:
            text += "  (" + ", ".join(f"{k} = {v}" for k, v in reads.items()) + ")"
        if node.get("needs"):
            text += "  needs: " + ", ".join(node["needs"])
        out.append(text)
        return
    for c in children:
        _leaves(c, out, prefix)
    for it in items:
        _leaves(it, out, f"{prefix}[{it.get('item')}] ")


def evidence_of(ctx: AuditContext, value: Any, rule_id: str, explainer: Optional[Explainer] = None) -> Dict[str, Any]:
    """The engine's determination of one rule on the record: outcome, why, and the tests it read.
    ``explainer``: one made for this record (else the record ``value`` is checked and traced here)."""
    from ..explain import explain

    try:
        trace = explainer.explain(rule_id) if explainer is not None else explain(ctx.rules, value, rule_id)
    except Exception as exc:  # noqa: BLE001 - a drill-down must never cost the row
        return {"outcome": "", "why": f"evidence unavailable: {type(exc).__name__}: {exc}", "evidence": []}
    lines: List[str] = []
    for key in ("applies_if", "when"):
        if key in trace:
            _leaves(trace[key], lines)
    for it in trace.get("items", ()):
        for key in ("applies_if", "when"):
            if key in it:
                _leaves(it[key], lines, f"[{it['item']}] ")
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"… {len(lines) - MAX_LINES} more (safetyrules explain gives all)"]
    return {"outcome": trace.get("outcome", ""), "why": trace.get("why", ""), "evidence": lines}


def drill_down(ctx: AuditContext, value: Any, row: Row, checked: Any = None) -> Dict[str, Any]:
    """The detail of a result row kept for the report's drill-down. ``checked``: the record as the
    audit checked it (a Record, or a compiled evaluator's record, :func:`safetyrules.evaluation.record_of`);
    None to check ``value`` here."""
    out: Dict[str, Any] = {k: row[k] for k in ("record_id", "inspection_date", "industry", "source", "status") if k in row}
    out["where"] = f"{row['source']}:{row.get('line', row.get('row'))}"
    for k in ("site_id", "inspector", "region"):
        if row.get(k):
            out[k] = row[k]
    entries = []
    todo = [e for e in row["entries"]] + [{"class": "undetermined", "source": "rule", "rule": r} for r in row["undetermined"]]
    explainer: Optional[Explainer] = None
    if todo:
        # one explainer for all its entries, over the record as the audit checked it: a mining record
        # has hundreds of facts, and checking it again (once per entry, later once per record) was
        # most of an audit's time
        from ..explain import Explainer

        try:
            explainer = Explainer(ctx.rules, checked if checked is not None else ctx.rules.parse_record(value))
        except Exception:  # noqa: BLE001 - each entry then says why its evidence is unavailable
            pass
    for e in todo[:MAX_ENTRIES]:
        d: Dict[str, Any] = {
            "class": e["class"],
            "source": e["source"],
            "rule": e["rule"],
            "citation": ctx.index.rendered.get(e["rule"], ""),
        }
        if e["source"] == "finding":
            d["finding"] = {
                k: e[k] for k in ("finding", "cited", "status", "id", "deadline", "closed_on", "rectified_on") if k in e
            }
        for k in ("instead", "current", "reason"):
            if k in e:
                d[k] = e[k]
        # the cited criterion's own determination (for a superseded one: the version in force)
        d.update(evidence_of(ctx, value, e.get("current") or e["rule"], explainer))
        entries.append(d)
    if len(todo) > MAX_ENTRIES:
        out["more_entries"] = len(todo) - MAX_ENTRIES
    out["entries"] = entries
    return out


__all__ = ["drill_down", "evidence_of"]
