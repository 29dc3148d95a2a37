"""What provincial supplements change: the overlay report.

A supplement (a module with a provincial jurisdiction that ``extends`` a national module) can add
rules, tighten a national rule (replace its condition by a stricter one) or set a national rule
aside in its province, each with a reason and a citation of its own document. This report lists
exactly those changes, so that a standards office can review a supplement against the national text.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from .ir import RuleSetIR


def overlay_report(ir: RuleSetIR) -> Dict[str, Any]:
    supplements: List[Dict[str, Any]] = []
    for cm in ir.modules:
        m = cm.module
        if m.jurisdiction.level != "province":
            continue
        base = ir.module_by_id.get(m.extends) if m.extends else None
        base_rules = {r.id: r.rule for r in base.rules} if base else {}
        changes = []
        for change in m.overlay:
            national = base_rules.get(change.rule_id)
            entry: Dict[str, Any] = {
                "rule_id": change.rule_id,
                "action": change.action,
                "national_citation": national.citation.rendered if national else None,
                "national_condition": national.when_text if national else None,
                "reason": change.reason,
                "citation": change.citation.rendered,
            }
            if change.action == "tighten":
                entry["provincial_condition"] = change.when_text
            changes.append(entry)
        supplements.append(
            {
                "module_id": m.id,
                "document": f"《{m.document.title}》{m.document.number}",
                "jurisdiction": m.jurisdiction.to_json(),
                "effective_from": m.effective_from.isoformat(),
                "effective_until": m.effective_until.isoformat() if m.effective_until else None,
                "extends": m.extends,
                "illustration": m.illustration,
                "changed_rules": changes,
                "added_rules": [
                    {
                        "rule_id": r.id,
                        "citation": r.rule.citation.rendered,
                        "title": r.rule.title.to_json(),
                        "condition": r.rule.when_text,
                    }
                    for r in cm.rules
                ],
            }
        )
    return {"supplements": supplements}


def render_text(report: Mapping[str, Any]) -> str:
    if not report["supplements"]:
        return "no provincial supplements loaded"
    lines = []
    for s in report["supplements"]:
        flag = "  [ILLUSTRATION, not a real document]" if s["illustration"] else ""
        until = s["effective_until"] or "…"
        lines.append(
            f"{s['module_id']}: {s['document']}  {s['jurisdiction']['province']} ({s['jurisdiction']['code']})  "
            f"{s['effective_from']} – {until}  extends {s['extends']}{flag}"
        )
        for c in s["changed_rules"]:
            lines.append(f"  {c['action'].upper():15} {c['rule_id']}  {c['national_citation']}")
            if c["action"] == "tighten":
                lines.append(f"      national:   {c['national_condition']}")
                lines.append(f"      provincial: {c['provincial_condition']}")
            lines.append(f"      per {c['citation']}: {c['reason']}")
        for r in s["added_rules"]:
            lines.append(f"  {'ADDED':15} {r['rule_id']}  {r['citation']}  {r['title']['zh']}")
            lines.append(f"      condition: {r['condition']}")
    return "\n".join(lines)
