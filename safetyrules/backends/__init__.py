"""Backends: executors of the compiled rule set (the IR), each behind :class:`~safetyrules.evaluation.Backend`.

``native`` (the default) decides plain records on the compiled evaluator (C, ``compiled.py``) and
the rest with Python generated from the IR (``native.py``); ``interpreter`` runs the reference
semantics directly; ``durable`` runs the rules in durable-rules. Every backend returns decisions;
reports are built from them in one place (``safetyrules/evaluation.py``).
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
