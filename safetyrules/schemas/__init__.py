"""JSON Schemas: of rule modules (a file beside this one), and of inspection records, derived from a
loaded vocabulary so that an inspection app can generate its forms from the rules it runs."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Optional, Set, Tuple

from ..ir import RuleSetIR
from ..model import FactSpec


def _fact_schema(spec: FactSpec) -> Dict[str, Any]:
    kind = spec.type.kind
    out: Dict[str, Any] = {
        "title": spec.label.zh,
        "description": spec.label.en + (f". {spec.description}" if spec.description else ""),
    }
    if kind == "number":
        out["type"] = "integer" if spec.type.integer else "number"
        if spec.unit:
            out["x-unit"] = spec.unit
        if spec.minimum is not None:
            out["minimum"] = spec.minimum
        if spec.maximum is not None:
            out["maximum"] = spec.maximum
    elif kind == "boolean":
        out["type"] = "boolean"
    elif kind == "enum":
        out["enum"] = [v for v, _ in spec.values]
        out["x-enum-labels"] = {v: t.to_json() for v, t in spec.values}
    elif kind == "string":
        out["type"] = "string"
    elif kind == "date":
        out["type"] = "string"
        out["format"] = "date"
    elif kind == "list":
        out["type"] = "array"
        out["items"] = {
            "type": "object",
            "additionalProperties": False,
            "required": [spec.key],
            "properties": {f.name: _fact_schema(f) for f in spec.fields},
        }
    if kind != "list":
        out = {"anyOf": [out, {"type": "null"}], "title": out["title"], "description": out["description"]}
    return out


def record_schema(ir: RuleSetIR, as_of: Optional[date] = None, industry: Optional[str] = None) -> Dict[str, Any]:
    """The JSON Schema of inspection records for the loaded modules (those in force on ``as_of``).

    Fact names are scoped by industry, so the schema checks ``facts`` and ``site.attributes``
    against the vocabulary of the record's ``site.industry`` (one ``if``/``then`` per industry), or of
    ``industry`` alone when given.
    """
    modules = [cm for cm in ir.modules if as_of is None or cm.module.in_force(as_of)]
    industries = sorted({i for cm in modules for i in cm.module.industries})
    if industry is not None:
        industries = [i for i in industries if i == industry]
    branches: List[Tuple[str, Dict[str, Any]]] = []
    for ind in industries:
        names: Set[str] = set()
        for cm in modules:
            if ind not in cm.module.industries:
                continue
            names |= {f.name for f in cm.module.facts}
            for ref in cm.module.imports + ((cm.module.extends,) if cm.module.extends else ()):
                names |= {f.name for f in ir.module_by_id[ref].module.facts}
        vocabulary = ir.vocabularies.get(ind, {})
        specs = [vocabulary[n] for n in sorted(names) if n in vocabulary]
        branches.append(
            (
                ind,
                {
                    "properties": {
                        "site": {
                            "properties": {
                                "attributes": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {s.name: _fact_schema(s) for s in specs if s.site},
                                }
                            }
                        },
                        "facts": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {s.name: _fact_schema(s) for s in specs if not s.site},
                        },
                    }
                },
            )
        )
    schema: Dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "safetyrules inspection record",
        "description": "Modules: "
        + ", ".join(cm.id for cm in modules)
        + (f" (in force on {as_of.isoformat()})" if as_of else ""),
        "type": "object",
        "additionalProperties": False,
        "required": ["record_id", "inspection_date", "site"],
        "properties": {
            "record_id": {"type": "string", "minLength": 1},
            "inspection_date": {"type": "string", "format": "date"},
            "site": {
                "type": "object",
                "additionalProperties": False,
                "required": ["industry"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "address": {"type": "string"},
                    "industry": {
                        "enum": industries,
                        "description": "; ".join(
                            f"{i}: {ir.industries[i].name.zh} ({ir.industries[i].name.en})" if i in ir.industries else i
                            for i in industries
                        ),
                    },
                    "region": {"type": "string", "pattern": "^CN-[A-Z]{2}$"},
                    "attributes": {"type": "object"},
                },
            },
            "facts": {"type": "object"},
            "findings": {"type": "array", "items": {"type": "object"}},
            "inspector_findings": {
                "type": "array",
                "description": "the inspector's finding on a rule (or a list item of it): decides the rule where the "
                "facts cannot; where they can, the report says whether it agrees or contradicts them (docs/records.md)",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["rule", "finding"],
                    "properties": {
                        "rule": {"enum": sorted(ir.rules)},
                        "finding": {"enum": ["present", "absent"]},
                        "item": {"type": ["string", "integer"]},
                        "note": {"type": "string"},
                        "evidence": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                        "inspector": {"type": "string"},
                        "id": {"type": ["string", "integer"]},
                    },
                },
            },
            "inspector": {},
            "notes": {},
            "source": {},
        },
    }
    if len(branches) == 1:
        only = branches[0][1]["properties"]
        schema["properties"]["site"]["properties"]["attributes"] = only["site"]["properties"]["attributes"]
        schema["properties"]["facts"] = only["facts"]
    else:
        schema["allOf"] = [
            {"if": {"properties": {"site": {"properties": {"industry": {"const": ind}}}}}, "then": branch}
            for ind, branch in branches
        ]
    return schema


def result_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of results (``Report.to_json()``), as shipped in the package."""
    import json
    from importlib import resources

    schema: Dict[str, Any] = json.loads(resources.files("safetyrules").joinpath("schemas/result.schema.json").read_text("utf-8"))
    return schema
