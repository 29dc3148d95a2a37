"""Reading inspection records from files: JSON, JSON Lines and YAML, with located errors."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from .errors import SafetyRulesError, printable
from .yamlsafe import MAX_BYTES, YamlError, decode_text, load_yaml_text


class InputError(SafetyRulesError):
    """A record file cannot be read; the message names the file and position."""


@dataclass(frozen=True)
class RawRecord:
    """One record as read from a file, with where it came from (for error rows)."""

    value: Any
    source: str
    line: Optional[int] = None
    error: Optional[str] = None


class JsonProblem(ValueError):
    """A JSON text that cannot be a record document: malformed, ambiguous or beyond the limits.

    An internal exception, not a :class:`~safetyrules.errors.Diagnostic`: it stops the decoding of one
    document, and where it is caught :meth:`located` turns it into the text of that record's error
    (``InputError``, an audit error row), which is how records report their problems."""

    def __init__(self, message: str, line: Optional[int] = None, column: Optional[int] = None):
        super().__init__(message)
        self.line, self.column = line, column

    def located(self, source: str) -> str:
        where = f"{source}:{self.line}:{self.column}" if self.line is not None else source
        return f"{where}: {self}"


class _DuplicateKey(Exception):
    pass


def _unique_pairs(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey()
    return obj


def _marking_pairs(duplicates: Dict[int, List[str]]) -> Callable[[List[Tuple[str, Any]]], Dict[str, Any]]:
    def hook(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: Set[str] = set()
            duplicates[id(obj)] = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
        return obj

    return hook


_decode_unique = json.JSONDecoder(object_pairs_hook=_unique_pairs).decode


def decode_json(text: str) -> Any:
    """One JSON document, as a record reader must take it.

    Unlike ``json.loads``: an object with the same key twice is refused with the JSON path of the
    key (an inspection record with two values for one fact is ambiguous, and "the last one wins"
    would judge a value the inspector may have corrected); integers of more than 4,300 digits and
    nesting too deep for the parser are refused with a message, not a ValueError or RecursionError.
    """
    try:
        value = _decode_unique(text)
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonProblem("JSON nested too deeply to read") from None
    except _DuplicateKey:
        duplicates: Dict[int, List[str]] = {}
        value = json.JSONDecoder(object_pairs_hook=_marking_pairs(duplicates)).decode(text)
        raise JsonProblem(
            "; ".join(
                f"{path}: the key {key!r} appears more than once in one object"
                for path, key in _duplicate_paths(value, duplicates)
            )
        ) from None
    except ValueError as exc:  # Python refuses integers of more than 4,300 digits
        raise JsonProblem(f"a number is too long to be a measured value ({str(exc).split(':')[0]})") from None
    # No depth walk here (it cost a fifth of an audit): the record check refuses a record nested
    # deeper than records.MAX_RECORD_DEPTH with its path, and absurd nesting stops the parser above.
    return value


def _duplicate_paths(value: Any, duplicates: Dict[int, List[str]]) -> List[Tuple[str, str]]:
    out: List[Tuple[str, str]] = []
    stack: List[Tuple[Any, str]] = [(value, "$")]
    while stack:
        v, path = stack.pop()
        if isinstance(v, dict):
            out.extend((printable(f"{path}.{k}"), printable(k)) for k in duplicates.get(id(v), ()))
            stack.extend((x, f"{path}.{k}") for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, f"{path}[{i}]") for i, x in enumerate(v))
    return sorted(out)


def parse_json_text(text: str, source: str) -> Any:
    try:
        return decode_json(text)
    except JsonProblem as exc:
        raise InputError(exc.located(source)) from None


def read_records(path: str) -> Iterator[RawRecord]:
    """Records of a file: a JSON object or array, JSON Lines (``.jsonl``), or YAML.

    Raises :class:`InputError` for a file that cannot be read at all; in JSON Lines a bad line is
    yielded as a RawRecord with ``error`` so that a batch loses nothing.
    """
    if path == "-":
        yield from _read_stdin()
        return
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES and not path.endswith(".jsonl"):
            raise InputError(f"{path}: file is {size} bytes; the limit for one document is {MAX_BYTES}")
        if path.endswith(".jsonl"):
            yield from _read_jsonl(path)
            return
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = decode_text(data, path)
    except YamlError as exc:
        raise InputError(str(exc.diagnostic)) from None
    if path.endswith((".yaml", ".yml")):
        try:
            value, _ = load_yaml_text(text, path)
        except YamlError as exc:
            raise InputError(str(exc.diagnostic)) from None
        value = _yaml_dates_to_text(value)
    else:
        value = parse_json_text(text, path)
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield RawRecord(item, f"{path}[{i}]")
    else:
        yield RawRecord(value, path)


def _read_stdin() -> Iterator[RawRecord]:
    """Standard input: one JSON document (an object or an array of records), or JSON Lines."""
    import sys

    data = sys.stdin.buffer.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:  # a stream this long is JSON Lines: read it line by line
        yield from _jsonl_lines("-", _rejoined(data, sys.stdin.buffer))
        return
    try:
        text = decode_text(data, "-")
    except YamlError as exc:
        raise InputError(str(exc.diagnostic)) from None
    try:
        value = decode_json(text)
    except JsonProblem as exc:
        if "Extra data" not in str(exc):
            raise InputError(exc.located("-")) from None
        yield from _jsonl_lines("-", iter(data.splitlines(keepends=True)))
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield RawRecord(item, f"-[{i}]")
    else:
        yield RawRecord(value, "-")


def _rejoined(head: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of ``head`` followed by those of the stream ``rest`` (head may end mid-line)."""
    *whole, tail = head.split(b"\n")
    for line in whole:
        yield line + b"\n"
    for line in rest:
        yield tail + line
        tail = b""
    if tail:
        yield tail


def _read_jsonl(path: str) -> Iterator[RawRecord]:
    with open(path, "rb") as fh:
        yield from _jsonl_lines(path, fh)


def _jsonl_lines(path: str, lines: Iterable[bytes]) -> Iterator[RawRecord]:
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield RawRecord(None, where, lineno, "line is not UTF-8 text")
            continue
        try:
            yield RawRecord(parse_json_text(text, where), where, lineno)
        except InputError as exc:
            yield RawRecord(None, where, lineno, str(exc))


def _yaml_dates_to_text(value: Any) -> Any:
    from datetime import date

    if isinstance(value, dict):
        return {k: _yaml_dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_dates_to_text(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
