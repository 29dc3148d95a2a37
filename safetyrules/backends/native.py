"""Native backend (work in progress: currently the reference interpreter)."""

from __future__ import annotations

from ..evaluation import Backend, Decisions, Selection, interpret_all
from ..records import Record


class NativeBackend(Backend):
    name = "native"

    def decide(self, record: Record, selection: Selection) -> Decisions:
        return interpret_all(self.ir, record, selection)
