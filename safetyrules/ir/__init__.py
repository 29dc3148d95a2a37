"""The intermediate forms that the backends execute, in two levels.

``ruleset`` is the checked level: the compiled rule set (:class:`RuleSetIR`), whose expressions are
type-checked syntax trees; ``validate`` checks its invariants and ``printer`` prints it.
``lowered`` declares the second level, the flat program the C evaluator runs: its slot kinds,
opcodes and codes, once, for the Python lowering and (through a generated header) for the C code.
"""

from .ruleset import CompiledModule, CompiledRule, OverlayVariant, RuleSetIR

__all__ = ["CompiledModule", "CompiledRule", "OverlayVariant", "RuleSetIR"]
