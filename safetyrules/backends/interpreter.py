"""The reference interpreter as a backend: slow, simple, and the yardstick of the others."""

from __future__ import annotations

from ..evaluation import Backend, Decisions, Selection, interpret_all
from ..records import Record


class InterpreterBackend(Backend):
    name = "interpreter"

    def decide(self, record: Record, selection: Selection) -> Decisions:
        return interpret_all(self.ir, record, selection)
