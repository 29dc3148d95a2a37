"""The lowered program's numbers are declared once: the checked-in C header is generated from them."""

import os
import re

from safetyrules.backends import compiled
from safetyrules.ir import lowered
from tests.conftest import ROOT

HEADER = os.path.join(ROOT, "safetyrules", "_evaluator_abi.h")


def test_the_checked_in_header_is_generated_from_the_declaration():
    with open(HEADER, encoding="utf-8") as fh:
        current = fh.read()
    assert current == lowered.c_header(), "safetyrules/_evaluator_abi.h is stale: python tools/abi_header.py"


def test_the_c_evaluator_takes_its_numbers_from_the_header_only():
    with open(os.path.join(ROOT, "safetyrules", "_evaluator.c"), encoding="utf-8") as fh:
        source = fh.read()
    assert '#include "_evaluator_abi.h"' in source
    for name in lowered.constants():
        assert not re.search(rf"\b{name}\s*=\s*\d", source), f"{name} is given a number in _evaluator.c"
        assert not re.search(rf"#define\s+{name}\b", source), f"{name} is defined again in _evaluator.c"


def test_opcodes_are_distinct_and_the_built_evaluator_agrees():
    table = lowered.constants()
    opcodes = {n: v for n, v in table.items() if n[:2] in ("N_", "B_", "C_", "I_", "Q_")}
    assert len(set(opcodes.values())) == len(opcodes)
    assert compiled.AVAILABLE and compiled._evaluator.ABI_VERSION == lowered.ABI_VERSION
    assert compiled.N_LIT is lowered.N_LIT


def test_every_function_of_the_language_has_an_opcode_and_a_c_implementation():
    from safetyrules.expr.language import ARITHMETIC, FUNCTIONS

    with open(os.path.join(ROOT, "safetyrules", "_evaluator.c"), encoding="utf-8") as fh:
        source = fh.read()
    table = lowered.constants()
    for entry in [*FUNCTIONS.values(), *ARITHMETIC.values()]:
        assert entry.opcode in table, f"{entry.opcode} is not numbered"
        # evaluated exactly (rationals) and on floats: a case in each of the two numeric evaluators
        assert len(re.findall(rf"case {entry.opcode}\b", source)) >= 2, f"{entry.opcode} has no C implementation"


def test_the_abi_number_follows_the_numbers():
    numbers = lowered._numbers()
    assert lowered.ABI_VERSION == lowered.abi_version(numbers)
    assert lowered.abi_version(dict(numbers, N_LIT=numbers["N_LIT"] + 1)) != lowered.ABI_VERSION
