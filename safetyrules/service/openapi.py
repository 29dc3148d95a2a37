"""The OpenAPI 3.1 document of the service, whose request and response schemas are the library's own
JSON Schemas: the record schema of the loaded rules (``safetyrules schema record``) and the result
schema (``safetyrules schema result``), embedded under ``components.schemas``.

OpenAPI 3.1 schema objects are JSON Schema 2020-12, the dialect of the library's schemas, so they go
in as they are; only their ``$id``/``$schema`` are dropped and their internal ``$ref`` pointers
rebased onto where they now stand in the document.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .. import __version__
from ..ruleset import RuleSet
from ..schemas import record_schema, result_schema
from .config import Limits
from .problems import KINDS, MEDIA_TYPE, problem_schema

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def embed(schema: Any, at: str) -> Any:
    """A schema placed at JSON pointer ``at`` of another document: ``#/...`` references rebased."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key in ("$id", "$schema"):
                continue
            if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
                out[key] = "#" + at + value[1:]
            else:
                out[key] = embed(value, at)
        return out
    if isinstance(schema, list):
        return [embed(v, at) for v in schema]
    return schema


def _ref(name: str) -> Dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problems(*statuses: int) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for status in statuses:
        kinds = [k for k in KINDS if k.status == status]
        out[str(status)] = {
            "description": "; ".join(f"{k.title} ({k.type})" for k in kinds) or "problem",
            "content": {MEDIA_TYPE: {"schema": _ref("Problem")}},
        }
    return out


def _json(schema: Dict[str, Any], description: str) -> Dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(
    name: str, where: str, description: str, schema: Optional[Dict[str, Any]] = None, required: bool = False
) -> Dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema or {"type": "string"},
    }


_AS_OF = _param(
    "as_of",
    "query",
    "judge (or list) by the module versions in force on this date instead of the record's inspection date",
    {"type": "string", "format": "date"},
)
_JURISDICTION = _param(
    "jurisdiction",
    "query",
    "apply this province's supplements (default: the record's site.region)",
    {"type": "string", "pattern": "^CN-[A-Z]{2}$"},
)
_PRESUMPTIONS = _param(
    "presumptions",
    "query",
    "false: judge strictly, without the presumptions exceptions read for unrecorded facts (a rule an exception "
    "could except is then undetermined); default true",
    {"type": "boolean", "default": True},
)
_PACK = _param("pack", "query", "only this loaded pack (GET /v1/packs lists them)")
_INDUSTRY = _param("industry", "query", "only this industry (e.g. coal_mine)")


def openapi_document(rules: RuleSet, limits: Optional[Limits] = None) -> Dict[str, Any]:
    limits = limits or Limits()
    packs = ", ".join(f"{p.name} {p.version}" for p in rules.packs)
    batch_item = {
        "type": "object",
        "required": ["index"],
        "properties": {
            "index": {"type": "integer", "description": "position of the input (0-based)"},
            "line": {"type": "integer", "description": "JSON Lines input: the line (1-based)"},
            "report": _ref("Result"),
            "error": _ref("Problem"),
        },
        "oneOf": [{"required": ["report"]}, {"required": ["error"]}],
    }
    components = {
        "Record": embed(record_schema(rules.ir), "/components/schemas/Record"),
        "Result": embed(result_schema(), "/components/schemas/Result"),
        "Problem": problem_schema(),
        "BatchResultItem": batch_item,
        "BatchResult": {
            "type": "object",
            "required": ["counts", "results"],
            "properties": {
                "counts": {
                    "type": "object",
                    "properties": {"records": {"type": "integer"}, "reports": {"type": "integer"}, "errors": {"type": "integer"}},
                },
                "results": {"type": "array", "items": _ref("BatchResultItem")},
            },
        },
        "Document": {"type": "object", "description": "a JSON document described in docs/service.md"},
    }
    document = _ref("Document")
    paths: Dict[str, Any] = {
        "/v1/judge": {
            "post": {
                "operationId": "judge",
                "summary": "Judge one inspection record",
                "description": f"The body is one record (at most {limits.max_body_bytes} bytes). The answer is the "
                "report: matched determinations with citations and evidence, undetermined rules with "
                "the facts that would decide them.",
                "parameters": [_AS_OF, _JURISDICTION, _PRESUMPTIONS],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Record")}}},
                "responses": {"200": _json(_ref("Result"), "the report"), **_problems(400, 413, 415, 422)},
            }
        },
        "/v1/judge/batch": {
            "post": {
                "operationId": "judgeBatch",
                "summary": "Judge many records: one result per input, in order, errors as values",
                "description": f"A JSON array of records, or JSON Lines (application/x-ndjson); at most "
                f"{limits.max_batch_records} records and {limits.max_batch_bytes} bytes. With "
                "`Accept: application/x-ndjson` the results come as JSON Lines, one per input.",
                "parameters": [_AS_OF, _JURISDICTION, _PRESUMPTIONS],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"type": "array", "items": _ref("Record")}},
                        "application/x-ndjson": {"schema": {"type": "string", "description": "one record per line"}},
                    },
                },
                "responses": {
                    "200": {
                        "description": "one result per input, in order",
                        "content": {
                            "application/json": {"schema": _ref("BatchResult")},
                            "application/x-ndjson": {"schema": {"type": "string", "description": "one BatchResultItem per line"}},
                        },
                    },
                    **_problems(400, 413, 415),
                },
            }
        },
        "/v1/packs": {
            "get": {
                "operationId": "listPacks",
                "summary": "Loaded packs with their industries and modules (effective dates)",
                "responses": {"200": _json(document, "packs")},
            }
        },
        "/v1/modules": {
            "get": {
                "operationId": "listModules",
                "summary": "Modules with their rules and citations",
                "parameters": [_PACK, _INDUSTRY, {**_AS_OF, "description": "only the modules in force on this date"}],
                "responses": {"200": _json(document, "modules"), **_problems(400, 404)},
            }
        },
        "/v1/rules/{rule_id}": {
            "get": {
                "operationId": "getRule",
                "summary": "One rule: text, citation, condition, and the facts it reads",
                "parameters": [_param("rule_id", "path", "e.g. coal-mine-2026.a8.i1.s2")],
                "responses": {"200": _json(document, "the rule"), **_problems(404)},
            }
        },
        "/v1/schemas/record": {
            "get": {
                "operationId": "recordSchema",
                "summary": "JSON Schema of inspection records",
                "parameters": [_PACK, _INDUSTRY, {**_AS_OF, "description": "only the modules in force on this date"}],
                "responses": {"200": _json({"type": "object"}, "a JSON Schema (draft 2020-12)"), **_problems(400, 404)},
            }
        },
        "/v1/schemas/result": {
            "get": {
                "operationId": "resultSchema",
                "summary": "JSON Schema of results",
                "responses": {"200": _json({"type": "object"}, "a JSON Schema (draft 2020-12)")},
            }
        },
        "/v1/forms/{pack}": {
            "get": {
                "operationId": "getForm",
                "summary": "The form description of a pack: module → category → item, facts with labels, units, "
                "values, bounds, scope conditions and the rules that read them",
                "parameters": [
                    _param("pack", "path", "a loaded pack"),
                    _INDUSTRY,
                    {**_AS_OF, "description": "only the modules in force on this date"},
                ],
                "responses": {"200": _json(document, "the form description"), **_problems(400, 404)},
            }
        },
        "/v1/healthz": {
            "get": {"operationId": "healthz", "summary": "The process answers", "responses": {"200": _json(document, "ok")}}
        },
        "/v1/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "The rules are loaded: which, and the limits",
                "responses": {"200": _json(document, "ready")},
            }
        },
        "/v1/openapi.json": {
            "get": {"operationId": "openapi", "summary": "This document", "responses": {"200": _json(document, "OpenAPI 3.1")}}
        },
        "/v1/admin/reload": {
            "post": {
                "operationId": "reload",
                "summary": "Load the rules again and swap them in without dropping requests (only when enabled)",
                "responses": {"200": _json(document, "reloaded"), **_problems(403, 409)},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": _DIALECT,
        "info": {
            "title": "safetyrules",
            "version": __version__,
            "summary": "China's major-accident-hazard criteria as cited, executable rules, over HTTP",
            "description": f"Loaded packs: {packs}. Errors are RFC 9457 problem details (application/problem+json). "
            "See docs/service.md.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
        "components": {"schemas": components},
    }
