"""The form description: what an inspection app (or the checklist page) needs to build a form for a
pack, grouped the way inspectors work — module → category → item — instead of the record schema's
flat, alphabetical vocabulary.

It is built from the checklist's view model (``safetyrules.checklist.view``), so the form, the printed
checklist and the engine agree on which items exist, in which order, and which facts each one reads.
Facts are described once per industry (two industries of one pack may give a name different types),
each with the rules that read it, so that a form asks a fact shared by several items once.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Optional, Sequence

from ..checklist.view import FactLine, ItemView, ModuleView, PackView, build_view, condition_facts, fact_unit
from ..model import FactSpec, Module, Rule
from ..ruleset import RuleSet

#: bumped when a key changes meaning or goes away (new keys may appear at any time)
FORM_VERSION = 1


class FormError(ValueError):
    """A form was asked for a pack, industry or date that the loaded rules cannot give."""


def form_description(
    rules: RuleSet, pack: str, *, as_of: Optional[date] = None, industry: Optional[str] = None
) -> Dict[str, Any]:
    """The form for one loaded pack: its industries (each with its site attributes and the facts its
    modules read), its modules in checklist order (only those in force on ``as_of`` when given, only
    those of ``industry`` when given), and per module its scope, categories and items.

    Raises :class:`FormError` naming the packs or industries that exist.
    """
    known = [p.name for p in rules.packs]
    if pack not in known:
        raise FormError(f"pack {pack!r} is not loaded (loaded packs: {', '.join(known) or 'none'})")
    the_pack = next(p for p in rules.packs if p.name == pack)
    industries = list(the_pack.industries)
    if industry is not None:
        if industry not in [i.id for i in industries]:
            raise FormError(
                f"industry {industry!r} is not in pack {pack!r} (its industries: {', '.join(i.id for i in industries) or 'none'})"
            )
        industries = [i for i in industries if i.id == industry]
    view: PackView = build_view(rules.ir, pack)
    modules = [
        mv
        for mv in view.modules
        if (as_of is None or mv.module.in_force(as_of)) and (industry is None or industry in mv.module.industries)
    ]
    module_json = [_module(rules, mv) for mv in modules]
    order = 0
    for m in module_json:
        for c in m["categories"]:
            for item in c["items"]:
                item["order"] = order
                order += 1
    return {
        "form_version": FORM_VERSION,
        "pack": {
            "name": view.name,
            "version": view.version,
            "title": {"zh": view.title_zh, "en": view.title_en},
            "description": view.description,
        },
        "as_of": as_of.isoformat() if as_of else None,
        "industry": industry,
        "industries": [_industry(rules, ind.id, ind.name.to_json(), list(ind.attributes), modules) for ind in industries],
        "modules": module_json,
    }


# ------------------------------------------------------------------------------------------ modules and items


def _module(rules: RuleSet, mv: ModuleView) -> Dict[str, Any]:
    m = mv.module
    asks: List[str] = [f.name for f in mv.scope_facts]
    lists: List[str] = []
    categories = []
    for cv in mv.categories:
        items = []
        for iv in cv.items:
            item = _item(rules, m, iv)
            for name in item["applies_if_facts"]:
                if name not in asks:
                    asks.append(name)
            for f in iv.facts:
                if f.is_list and f.name not in lists:
                    lists.append(f.name)
            items.append(item)
        c = cv.category
        categories.append(
            {
                "id": c.id if c else None,
                "title": c.title.to_json() if c else {"zh": "其他", "en": "Other"},
                "citation": c.citation.to_json() if c and c.citation else None,
                "items": items,
            }
        )
    return {
        "id": m.id,
        "series": m.series,
        "version": m.version,
        "title": m.title.to_json(),
        "document": {
            "title": m.document.title,
            "number": m.document.number,
            "issuer": m.document.issuer.to_json(),
            "url": m.document.url,
        },
        "effective_from": m.effective_from.isoformat(),
        "effective_until": m.effective_until.isoformat() if m.effective_until else None,
        "jurisdiction": m.jurisdiction.to_json(),
        "industries": list(m.industries),
        "completeness": m.completeness,
        "illustration": m.illustration,
        "notices": [{"lead": n.lead, "text": n.text, "en": n.en} for n in mv.notices],
        "scope": {"condition": mv.scope, "facts": [f.name for f in mv.scope_facts]} if mv.scope else None,
        # facts that decide whether the module's items apply: a form asks them before the items
        "asks": asks,
        # lists of things on site (working faces, cranes...) that the module's items read
        "lists": lists,
        "categories": categories,
    }


def exceptions_json(rule: Rule) -> List[Dict[str, Any]]:
    """A rule's exceptions as a form shows them: the clause, its condition, and what is presumed of each
    fact the exception reads when the record does not say (so an app can ask for it, or say so)."""
    out = []
    for exception in rule.unless:
        presumed = {name: p.to_json() for name, p in exception.presumed}
        out.append(
            {
                "label": exception.label.to_json(),
                "citation": exception.citation.rendered,
                "text": exception.text,
                "condition": exception.when_text,
                "presumed": presumed,
            }
        )
    return out


def _item(rules: RuleSet, module: Module, iv: ItemView) -> Dict[str, Any]:
    r = iv.rule
    fe = r.for_each
    applies = condition_facts(rules.ir, module, r.applies_if, fe.list_name if fe else None, fe.var if fe else None)
    return {
        "rule_id": r.id,
        "order": 0,
        "title": r.title.to_json(),
        "citation": r.citation.to_json(),
        "description": r.description,
        "notes": r.notes,
        "severity": r.severity,
        "unverified": iv.unverified,
        "for_each": {"list": fe.list_name, "var": fe.var, "label": iv.for_each_label} if fe else None,
        "applies_if": iv.applies_if,
        "applies_if_facts": applies,
        "condition": iv.condition,
        "exceptions": exceptions_json(r),
        "facts": [f.name for f in iv.facts],
        "fields": {f.name: [s.name for s in f.fields] for f in iv.facts if f.is_list},
        "derived": [
            {"name": d.name, "label": d.derived.label.to_json(), "definition": d.definition, "unit": d.unit} for d in iv.derived
        ],
        "thresholds": [
            {
                "fact": t.threshold.fact,
                "label": t.label,
                "term": t.threshold.term,
                "value": t.threshold.value,
                "reading": t.reading,
                "note": t.threshold.note,
                "comparisons": t.comparisons,
            }
            for t in iv.thresholds
        ],
    }


# ------------------------------------------------------------------------------------------ facts per industry


def _industry(
    rules: RuleSet, industry: str, label: Dict[str, str], attributes: List[str], modules: Sequence[ModuleView]
) -> Dict[str, Any]:
    """An industry's modules and facts: site attributes first (in the order the pack declares them),
    then every fact in the order the form first asks it, each with who reads it."""
    vocabulary = rules.ir.vocabularies.get(industry, {})
    facts: Dict[str, Dict[str, Any]] = {}

    def add(name: str, spec: Optional[FactSpec]) -> Dict[str, Any]:
        if name not in facts:
            facts[name] = _fact(vocabulary.get(name) or spec, name)
        return facts[name]

    for name in attributes:
        add(name, None)
    mine = [mv for mv in modules if industry in mv.module.industries]
    for mv in mine:
        for f in mv.scope_facts:
            add(f.name, f.spec)["scope_of"].append(mv.module.id)
        for cv in mv.categories:
            for iv in cv.items:
                fe = iv.rule.for_each
                for name in condition_facts(
                    rules.ir, mv.module, iv.rule.applies_if, fe.list_name if fe else None, fe.var if fe else None
                ):
                    entry = add(name, None)
                    if iv.rule.id not in entry["applicability_of"]:
                        entry["applicability_of"].append(iv.rule.id)
                for line in iv.facts:
                    _read_by(add(line.name, line.spec), line, iv.rule.id)
    ordered = list(facts.values())
    # site attributes before the rest, each group in order of first asking
    ordered.sort(key=lambda f: 0 if f["site"] else 1)
    return {"id": industry, "name": label, "attributes": attributes, "modules": [mv.module.id for mv in mine], "facts": ordered}


def _read_by(entry: Dict[str, Any], line: FactLine, rule_id: str) -> None:
    if rule_id not in entry["read_by"]:
        entry["read_by"].append(rule_id)
    for field in entry.get("fields", ()):
        if field["name"] in [s.name for s in line.fields] and rule_id not in field["read_by"]:
            field["read_by"].append(rule_id)


def _fact(spec: Optional[FactSpec], name: str) -> Dict[str, Any]:
    out = _spec(spec, name)
    out["read_by"] = []
    out["scope_of"] = []
    out["applicability_of"] = []
    if spec is not None and spec.type.kind == "list":
        out["key"] = spec.key
        fields = [f for f in spec.fields if f.name == spec.key] + [f for f in spec.fields if f.name != spec.key]
        out["fields"] = [dict(_spec(f, f.name), read_by=[]) for f in fields]
    return out


def _spec(spec: Optional[FactSpec], name: str) -> Dict[str, Any]:
    if spec is None:
        return {
            "name": name,
            "label": {"zh": name, "en": name},
            "type": None,
            "unit": None,
            "minimum": None,
            "maximum": None,
            "values": [],
            "site": False,
            "description": "",
        }
    kind = spec.type.kind
    return {
        "name": name,
        "label": spec.label.to_json(),
        "type": "integer" if kind == "number" and spec.type.integer else kind,
        "unit": fact_unit(spec) if kind == "number" else None,
        "minimum": spec.minimum,
        "maximum": spec.maximum,
        "values": [{"value": v, "label": t.to_json()} for v, t in spec.values],
        "site": spec.site,
        "description": spec.description,
    }
