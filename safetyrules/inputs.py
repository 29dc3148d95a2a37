"""Reading inspection records from files: JSON, JSON Lines and YAML, with located errors."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from .errors import SafetyRulesError
from .yamlsafe import MAX_BYTES, YamlError, decode_text, load_yaml_text

MAX_JSON_DEPTH = 64


class InputError(SafetyRulesError):
    """A record file cannot be read; the message names the file and position."""


@dataclass(frozen=True)
class RawRecord:
    """One record as read from a file, with where it came from (for error rows)."""

    value: Any
    source: str
    line: Optional[int] = None
    error: Optional[str] = None


def _depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return False
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return True


def parse_json_text(text: str, source: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{source}: JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if not _depth_ok(value):
        raise InputError(f"{source}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def read_records(path: str) -> Iterator[RawRecord]:
    """Records of a file: a JSON object or array, JSON Lines (``.jsonl``), or YAML.

    Raises :class:`InputError` for a file that cannot be read at all; in JSON Lines a bad line is
    yielded as a RawRecord with ``error`` so that a batch loses nothing.
    """
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


def _read_jsonl(path: str) -> Iterator[RawRecord]:
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
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
