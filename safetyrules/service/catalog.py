"""What the service serves besides judgements: the loaded packs, modules and rules with their
citations and effective dates, one rule with its text and facts, the JSON Schemas and the forms.

A :class:`Snapshot` is one load of the rules. Requests read the snapshot current when they start;
a reload builds a new one beside it and swaps it in, so a request never sees half of each. The
documents derived from a snapshot (schemas, forms, the OpenAPI document) are built on first request
and kept with it, encoded, since they are large and never change for that load.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..model import Module, Pack, Rule
from ..packs import describe
from ..ruleset import RuleSet
from ..schemas import record_schema, result_schema
from .form import FormError, form_description
from .problems import NOT_FOUND, Problem, dumps


@dataclass(frozen=True)
class Encoded:
    """A JSON document ready to send, plain and gzipped."""

    body: bytes
    gzipped: bytes


@dataclass(frozen=True)
class Snapshot:
    rules: RuleSet
    #: what was loaded (for a reload): pack names, folders or module files
    specs: Tuple[str, ...]
    loaded_at: str
    generation: int = 1
    #: documents built from this load (see :meth:`document`, :func:`form_for`); filled on first request
    _cache: Dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def document(self, key: Any, build: Callable[[], Any]) -> Encoded:
        """The encoded document for ``key``, built once per snapshot (two first requests may both
        build it; either result is the same)."""
        found = self._cache.get(("encoded", key))
        if found is None:
            body = dumps(build())
            found = Encoded(body, gzip.compress(body, 5))
            self.keep(("encoded", key), found)
        return found

    def keep(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._cache) > 512:  # dates and industries asked for are few; bound them anyway
                self._cache.clear()
            self._cache[key] = value


def new_snapshot(rules: RuleSet, specs: Tuple[str, ...], generation: int = 1) -> Snapshot:
    return Snapshot(rules, specs, datetime.now(timezone.utc).isoformat(timespec="seconds"), generation)


# ------------------------------------------------------------------------------------------ documents


def packs_document(snap: Snapshot) -> Dict[str, Any]:
    rules = snap.rules
    out: List[Dict[str, Any]] = []
    for p in rules.packs:
        entry = p.to_json()
        entry.update(describe(p))
        entry["title"] = p.title.to_json()
        entry["description"] = p.description
        entry["modules"] = [_module_summary(m) for m in rules.modules if m.pack == p.name or m.id in p.module_ids]
        out.append(entry)
    return {"packs": out}


def _module_summary(m: Module) -> Dict[str, Any]:
    entry = m.summary_json()
    entry["industries"] = list(m.industries)
    entry["rules"] = len(m.rules)
    return entry


def modules_document(snap: Snapshot, pack: Optional[str], industry: Optional[str], as_of: Optional[date]) -> Dict[str, Any]:
    """Modules with their rules and citations, filtered by pack, industry and date in force."""
    rules = snap.rules
    if pack is not None:
        _pack(snap, pack)
    out: List[Dict[str, Any]] = []
    for m in rules.modules:
        if pack is not None and m.pack != pack:
            continue
        if industry is not None and industry not in m.industries:
            continue
        if as_of is not None and not m.in_force(as_of):
            continue
        entry = _module_summary(m)
        entry["rules"] = [_rule_summary(r) for r in m.rules]
        out.append(entry)
    return {"pack": pack, "industry": industry, "as_of": as_of.isoformat() if as_of else None, "modules": out}


def _rule_summary(r: Rule) -> Dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title.to_json(),
        "citation": r.citation.to_json(),
        "category": r.category.id if r.category else None,
        "severity": r.severity,
    }


def rule_document(snap: Snapshot, rule_id: str) -> Dict[str, Any]:
    """One rule: its text, citation, module (with effective dates), condition, and the facts it reads
    with their labels, types, units and values, as its pack's form describes them."""
    rules = snap.rules
    found = next(((m, r) for m in rules.modules for r in m.rules if r.id == rule_id), None)
    if found is None:
        raise Problem(NOT_FOUND, f"no rule {rule_id!r} is loaded (GET /v1/modules lists them)")
    module, rule = found
    form = form_for(snap, module.pack or "", None, None) if module.pack else None
    item: Dict[str, Any] = {}
    facts: List[Dict[str, Any]] = []
    if form is not None:
        item = next(
            (
                i
                for m in form["modules"]
                if m["id"] == module.id
                for c in m["categories"]
                for i in c["items"]
                if i["rule_id"] == rule_id
            ),
            {},
        )
        wanted = item.get("facts", [])
        for ind in form["industries"]:
            if ind["id"] in module.industries:
                by_name = {f["name"]: f for f in ind["facts"]}
                facts = [_without_readers(by_name[n]) for n in wanted if n in by_name]
                break
    return {
        "id": rule.id,
        "title": rule.title.to_json(),
        "citation": rule.citation.to_json(),
        "description": rule.description,
        "notes": rule.notes,
        "severity": rule.severity,
        "category": {"id": rule.category.id, "title": rule.category.title.to_json()} if rule.category else None,
        "module": _module_summary(module),
        "for_each": item.get("for_each"),
        "applies_if": item.get("applies_if", rule.applies_if_text),
        "condition": item.get("condition", rule.when_text),
        "exceptions": item.get("exceptions", []),
        "thresholds": item.get("thresholds", []),
        "derived": item.get("derived", []),
        "facts": facts,
        "fields": item.get("fields", {}),
    }


def _without_readers(fact: Dict[str, Any]) -> Dict[str, Any]:
    out = {k: v for k, v in fact.items() if k not in ("read_by", "scope_of", "applicability_of")}
    if "fields" in out:
        out["fields"] = [{k: v for k, v in f.items() if k != "read_by"} for f in out["fields"]]
    return out


def _pack(snap: Snapshot, name: str) -> Pack:
    for p in snap.rules.packs:
        if p.name == name:
            return p
    known = ", ".join(p.name for p in snap.rules.packs)
    raise Problem(NOT_FOUND, f"pack {name!r} is not loaded (loaded packs: {known})")


def form_for(snap: Snapshot, pack: str, industry: Optional[str], as_of: Optional[date]) -> Dict[str, Any]:
    """The form description (kept with the snapshot: building the mining pack's takes 0.1 s)."""
    _pack(snap, pack)
    key = ("form", pack, industry, as_of)
    found = snap._cache.get(key)
    if found is None:
        try:
            found = form_description(snap.rules, pack, as_of=as_of, industry=industry)
        except FormError as exc:
            raise Problem(NOT_FOUND, str(exc)) from None
        snap.keep(key, found)
    return found


def record_schema_document(snap: Snapshot, pack: Optional[str], industry: Optional[str], as_of: Optional[date]) -> Dict[str, Any]:
    """The record JSON Schema of the loaded rules, or of one pack (its industries only)."""
    ir = snap.rules.ir
    known = sorted(ir.vocabularies)
    if industry is not None and industry not in known:
        raise Problem(NOT_FOUND, f"industry {industry!r} is not in the loaded rules (industries: {', '.join(known)})")
    if pack is None:
        return record_schema(ir, as_of, industry)
    p = _pack(snap, pack)
    mine = [i.id for i in p.industries]
    if industry is not None:
        if industry not in mine:
            raise Problem(NOT_FOUND, f"industry {industry!r} is not in pack {pack!r} (its industries: {', '.join(mine)})")
        return record_schema(ir, as_of, industry)
    if len(mine) == 1:
        return record_schema(ir, as_of, mine[0])
    schema = record_schema(ir, as_of)
    return _only_industries(schema, mine)


def _only_industries(schema: Dict[str, Any], industries: List[str]) -> Dict[str, Any]:
    """A record schema narrowed to some of its industries (those of one pack)."""
    site = schema["properties"]["site"]["properties"]
    site["industry"] = dict(site["industry"], enum=[i for i in site["industry"].get("enum", []) if i in industries])
    if "allOf" in schema:
        schema["allOf"] = [
            b for b in schema["allOf"] if b["if"]["properties"]["site"]["properties"]["industry"]["const"] in industries
        ]
    return schema


def result_schema_document() -> Dict[str, Any]:
    return result_schema()
