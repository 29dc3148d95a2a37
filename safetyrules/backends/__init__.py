"""Backends: executors of the compiled rule set (the IR).

``native`` (the default) runs generated Python code over the IR with an exact, three-valued fast path;
``interpreter`` runs the reference semantics directly; ``durable`` runs the rules in durable-rules.
"""

from __future__ import annotations

from typing import Type

from ..errors import SafetyRulesError
from ..evaluation import Backend

BACKENDS = ("native", "interpreter", "durable")


def backend_class(name: str) -> Type[Backend]:
    if name == "native":
        from .native import NativeBackend

        return NativeBackend
    if name == "interpreter":
        from .interpreter import InterpreterBackend

        return InterpreterBackend
    if name == "durable":
        from .durable import DurableBackend

        return DurableBackend
    raise SafetyRulesError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
