"""Errors that name where and why.

Every problem the library reports about its input -- a rule module, a pack manifest, an inspection
record -- is a :class:`Diagnostic` with a location and a stable code, so that authors can jump to it
and tools can filter on it. Loading collects all diagnostics of a pass before raising, because a
standards author fixing a module wants the whole list, not one error per run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Sequence


@dataclass(frozen=True)
class Location:
    """A position in a source file: 1-based line and column (0 when unknown)."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column}"
        return self.path


#: how serious a diagnostic is, most serious first: loading stops on an error; lint also reports
#: warnings (likely mistakes) and notes (what an author should know)
SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an input, e.g. ``rules/x.yaml:12:9: E-UNKNOWN-FACT unknown fact 'ch4'``.

    The one type for every located problem in the library's inputs -- loading and lint alike -- so that
    tools filter and print them one way. A warning or a note says so when printed
    (``rules/x.yaml:3:1: warning: L-UNUSED-FACT ...``); an error, the common case, does not."""

    code: str
    message: str
    location: Location
    severity: str = "error"  # one of SEVERITIES

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"diagnostic severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")

    def __str__(self) -> str:
        if self.severity == "error":
            return f"{self.location}: {self.code} {self.message}"
        return f"{self.location}: {self.severity}: {self.code} {self.message}"

    def to_json(self) -> Dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
        }


class SafetyRulesError(Exception):
    """Base class of the library's errors: the CLI turns these into exit code 2, never a traceback."""


class LoadError(SafetyRulesError):
    """Rule modules or packs could not be loaded; carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class RecordError(SafetyRulesError):
    """An inspection record is malformed; ``problems`` lists each as (JSON path, message)."""

    def __init__(self, record_id: str | None, problems: Sequence[tuple[str, str]]):
        self.record_id = record_id
        # a hostile record's text (a lone surrogate in a key) must not make the error unprintable
        self.problems = tuple((printable(p), printable(m)) for p, m in problems)
        head = f"record {record_id!r}" if record_id else "record"
        super().__init__(head + ": " + "; ".join(f"{p}: {m}" for p, m in self.problems))

    def to_json(self) -> Dict[str, Any]:
        return {
            "record_id": self.record_id,
            "errors": [{"path": p, "message": m} for p, m in self.problems],
        }


class EvaluationError(SafetyRulesError):
    """A backend failed while evaluating a record (never a silent wrong answer)."""


def printable(text: str) -> str:
    """Text with lone surrogates written as escapes (``\\ud800``), so that a message about them prints."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix for a misspelt key or name, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
