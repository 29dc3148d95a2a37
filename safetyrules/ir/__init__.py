"""The intermediate forms that the backends execute.

``lowered`` declares the second level, the flat program the C evaluator runs: its slot kinds,
opcodes and codes, once, for the Python lowering and (through a generated header) for the C code.
The checked syntax tree and the compiled rule set (``RuleSetIR``) are still in ``safetyrules.compiler``.
"""
