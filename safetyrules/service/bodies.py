"""Request bodies: read within a limit, decoded as the library reads record files.

JSON is decoded by ``inputs.decode_json``, as ``safetyrules check`` does: an object with the same
key twice is refused with its JSON path, integers too long to be measurements and nesting too deep
for the parser are refused with a message, never an exception of the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, List, Optional

from ..inputs import JsonProblem, decode_json
from .problems import MALFORMED_BODY, TOO_LARGE, TOO_MANY_RECORDS, UNSUPPORTED_MEDIA, Problem

JSON_TYPES = ("application/json",)
JSONL_TYPES = (
    "application/x-ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/json-lines",
    "application/jsonlines",
    "application/ndjson",
)


def media_type(content_type: Optional[str]) -> str:
    """``application/json; charset=utf-8`` -> ``application/json`` ('' when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def read_body(stream: AsyncIterator[bytes], declared_length: Optional[str], limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to be longer than ``limit`` (from its declared
    length before anything is read, else while it streams in)."""
    if declared_length is not None:
        try:
            length = int(declared_length)
        except ValueError:
            raise Problem(MALFORMED_BODY, f"Content-Length {declared_length!r} is not a number") from None
        if length > limit:
            raise _too_large(limit)
    chunks: List[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(
        TOO_LARGE,
        f"the body is larger than {limit} bytes, the limit of this endpoint (send a larger batch as several requests)",
        {"limit": limit},
    )


def _text(data: bytes, line: Optional[int] = None) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"line {line}: " if line is not None else ""
        raise Problem(
            MALFORMED_BODY, f"{where}the body is not UTF-8 text (byte {exc.start})", {"line": line} if line is not None else {}
        ) from None


def parse_json(data: bytes, line: Optional[int] = None) -> Any:
    text = _text(data, line)
    if not text.strip():
        raise Problem(MALFORMED_BODY, "the body is empty: send one inspection record as a JSON object")
    try:
        return decode_json(text)
    except JsonProblem as exc:
        where = f"line {line}: " if line is not None else ""
        at = f" (line {exc.line}, column {exc.column})" if exc.line is not None and line is None else ""
        extra = {"line": line} if line is not None else {}
        raise Problem(MALFORMED_BODY, f"{where}{exc}{at}", extra) from None


def check_media(content_type: Optional[str], jsonl: bool) -> str:
    media = media_type(content_type)
    if media == "" or is_json(media) or (jsonl and media in JSONL_TYPES):
        return media
    accepted = "application/json" + (" (an array of records) or application/x-ndjson (JSON Lines)" if jsonl else "")
    raise Problem(UNSUPPORTED_MEDIA, f"content type {media!r} is not accepted here: send {accepted}")


@dataclass(frozen=True)
class BatchEntry:
    """One input of a batch: a value to judge, or the problem its line had (a batch loses nothing)."""

    value: Any = None
    problem: Optional[Problem] = None
    line: Optional[int] = None


def parse_batch(data: bytes, media: str, max_records: int) -> List[BatchEntry]:
    """A JSON array of records, or JSON Lines (one record per line; a bad line is an entry with its
    problem). Without a content type, a body starting with ``[`` is an array."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    as_array = is_json(media) or (media == "" and stripped.startswith(b"["))
    if as_array:
        value = parse_json(data)
        if not isinstance(value, list):
            raise Problem(
                MALFORMED_BODY,
                f"a batch in JSON is an array of records, not {_json_kind(value)} "
                "(send one record to POST /v1/judge, or JSON Lines as application/x-ndjson)",
            )
        if len(value) > max_records:
            raise _too_many(len(value), max_records)
        return [BatchEntry(v) for v in value]
    entries: List[BatchEntry] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        if len(entries) >= max_records:
            raise _too_many(len(entries) + 1, max_records, at_least=True)
        try:
            entries.append(BatchEntry(parse_json(line, number), line=number))
        except Problem as problem:
            entries.append(BatchEntry(problem=problem, line=number))
    return entries


def _too_many(n: int, limit: int, at_least: bool = False) -> Problem:
    return Problem(
        TOO_MANY_RECORDS,
        f"the batch has {'more than ' + str(n - 1) if at_least else n} records; the limit is {limit} (send several requests)",
        {"limit": limit},
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__
