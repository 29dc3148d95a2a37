"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the service answers is one of the kinds below, so that a client can branch on ``type``
(stable) rather than on ``detail`` (worded for people). An invalid record's problems carry their JSON
paths (``errors[].path``, e.g. ``$.facts.working_faces[0].air_actual_m3_min``), as the library's
``RecordError`` names them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from ..errors import RecordError

MEDIA_TYPE = "application/problem+json"
#: problem types are URIs under this base; docs/service.md explains each
TYPE_BASE = "https://safetyrules.invalid/problems/"


@dataclass(frozen=True)
class Kind:
    """A kind of problem: its type slug, HTTP status and title (the same for every occurrence)."""

    slug: str
    status: int
    title: str

    @property
    def type(self) -> str:
        return TYPE_BASE + self.slug


INVALID_RECORD = Kind("invalid-record", 422, "The inspection record is not valid for the loaded rules")
MALFORMED_BODY = Kind("malformed-body", 400, "The request body is not the JSON it must be")
BAD_PARAMETER = Kind("bad-parameter", 400, "A query parameter is not valid")
TOO_LARGE = Kind("body-too-large", 413, "The request body is larger than the service accepts")
TOO_MANY_RECORDS = Kind("too-many-records", 413, "The batch has more records than the service accepts")
UNSUPPORTED_MEDIA = Kind("unsupported-media-type", 415, "The request body's content type is not accepted here")
NOT_FOUND = Kind("not-found", 404, "Nothing is here")
METHOD_NOT_ALLOWED = Kind("method-not-allowed", 405, "This method is not allowed here")
RELOAD_DISABLED = Kind("reload-disabled", 403, "Reloading rules through the API is not enabled on this service")
RELOAD_FAILED = Kind("reload-failed", 409, "The rules could not be reloaded; the rules loaded before still serve")
INTERNAL = Kind("internal-error", 500, "Internal error")

KINDS: Tuple[Kind, ...] = (
    INVALID_RECORD,
    MALFORMED_BODY,
    BAD_PARAMETER,
    TOO_LARGE,
    TOO_MANY_RECORDS,
    UNSUPPORTED_MEDIA,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    RELOAD_DISABLED,
    RELOAD_FAILED,
    INTERNAL,
)


class Problem(Exception):
    """A problem to answer with; raised anywhere in a handler, turned into a response at its edge.

    (Not a frozen dataclass: frameworks set ``__traceback__`` on the exceptions they pass through.)"""

    def __init__(self, kind: Kind, detail: str, extra: Optional[Mapping[str, Any]] = None):
        super().__init__(detail)
        self.kind, self.detail, self.extra = kind, detail, dict(extra or {})

    def to_json(self, instance: Optional[str] = None) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "type": self.kind.type,
            "title": self.kind.title,
            "status": self.kind.status,
            "detail": self.detail,
        }
        if instance is not None:
            out["instance"] = instance
        out.update(self.extra)
        return out

    def body(self, instance: Optional[str] = None) -> bytes:
        return dumps(self.to_json(instance))


def record_problem(exc: RecordError, **extra: Any) -> Problem:
    """An invalid record as a problem: every problem with its JSON path, and the record's id."""
    n = len(exc.problems)
    detail = f"{n} problem{'s' if n != 1 else ''} in the record: " + "; ".join(f"{p}: {m}" for p, m in exc.problems[:5])
    if n > 5:
        detail += f"; and {n - 5} more (see errors)"
    data = exc.to_json()
    return Problem(INVALID_RECORD, detail, {"record_id": data["record_id"], "errors": data["errors"], **extra})


def dumps(value: Any) -> bytes:
    """JSON as the service writes it: UTF-8, Chinese as it is, never NaN; text that is not Unicode
    (a lone surrogate a client sent) escaped rather than failing the response."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def problem_schema() -> Dict[str, Any]:
    """The JSON Schema of the problems this service answers with (for the OpenAPI document)."""
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"enum": [k.type for k in KINDS]},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "record_id": {"type": ["string", "null"]},
            "errors": {
                "type": "array",
                "description": "an invalid record's problems, each at its JSON path",
                "items": {
                    "type": "object",
                    "required": ["path", "message"],
                    "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                },
            },
            "parameter": {"type": "string", "description": "the query parameter that is not valid"},
            "limit": {"type": "integer", "description": "the limit that was exceeded (bytes or records)"},
            "line": {"type": "integer", "description": "the JSON Lines line (1-based) of a batch's problem"},
        },
    }
