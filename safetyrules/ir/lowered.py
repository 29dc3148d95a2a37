"""The numbers of the lowered program, declared once.

The lowering (``safetyrules/backends/compiled.py``) writes programs with these numbers and the C
evaluator (``safetyrules/_evaluator.c``) reads them; the C side includes ``_evaluator_abi.h``, which
is generated from this module::

    python tools/abi_header.py

and a test fails when the checked-in header is stale, so the two can no longer drift apart by hand.
Change ``ABI_VERSION`` whenever the program's layout or the meaning of a number changes: a build of
the C evaluator from before the change is then refused instead of misreading programs.
"""

from __future__ import annotations

import zlib
from typing import Dict, List, Tuple

from ..expr.language import ARITHMETIC, COMPARISONS, FUNCTIONS
from ..records import FAST_NUMBER_LIMIT, MAX_LIST_ITEMS

#: the program's layout (tuple shapes, what a, b and c mean per opcode family): change it by hand when
#: the layout changes; the ABI number below also changes by itself when any number does
LAYOUT_VERSION = 6

#: one node of a program: (op, a, b, c, d, num, den, exact); d is a double, num/den a literal's exact
#: value (den 0 when it has none), exact 1 when d is that value exactly
Node = Tuple[int, int, int, int, float, int, int, int]

# Slot kinds: how a recorded fact is loaded into its slot.
K_NUM, K_BOOL, K_ENUM, K_DATE, K_REJECT, K_IGNORE, K_LIST = range(7)
# Slot flags of numbers.
SF_INTEGER, SF_LO, SF_HI = 1, 2, 4

# Node opcodes. Numbers: the fixed forms, then the language's arithmetic operators and functions in
# the order of its table (safetyrules/expr/language.py), so that declaring a function numbers it.
_NUMBER_FORMS = ("N_LIT", "N_FACT", "N_DERIVED", "N_NEG", "N_IF")
NUMBER_OPCODES: Tuple[str, ...] = (
    _NUMBER_FORMS + tuple(op.opcode for op in ARITHMETIC.values()) + tuple(f.opcode for f in FUNCTIONS.values())
)
OPCODES: Dict[str, int] = {name: number for number, name in enumerate(NUMBER_OPCODES)}
N_LIT, N_FACT, N_DERIVED, N_NEG, N_IF = (OPCODES[name] for name in _NUMBER_FORMS)
# ... truth values:
(
    B_LIT,
    B_FACT,
    B_DERIVED,
    B_NOT,
    B_AND,
    B_OR,
    B_CMP_NUM,
    B_CMP_CODE,
    B_CMP_BOOL,
    B_MEMBER,
    B_KNOWN_FACT,
    B_KNOWN_DERIVED,
    B_IF,
) = range(100, 113)
# ... codes (enum values and dates as ordinals):
C_LIT, C_FACT, C_DERIVED, C_TODAY, C_IF = range(120, 125)
# ... lists of items: a field of the item bound to a variable (a: variable, b: list slot, c: field), and
# quantifiers (a: list slot, b: variable, c: condition node, or -1 for count(list)).
I_NUM, I_BOOL, I_CODE, B_KNOWN_ITEM, Q_ANY, Q_ALL, Q_COUNT = range(130, 137)

# Comparison codes, by operator of the condition language.
COMPARISON_CODES: Tuple[str, ...] = tuple(c.code for c in COMPARISONS.values())
COMPARE: Dict[str, int] = {c.symbol: COMPARISON_CODES.index(c.code) for c in COMPARISONS.values()}
# Truth values of Kleene logic, and a rule's outcome byte.
T_FALSE, T_TRUE, T_UNKNOWN = range(3)
O_NOT_MATCHED, O_MATCHED, O_UNDETERMINED, O_NOT_APPLICABLE = range(4)
OUTCOMES = ("not_matched", "matched", "undetermined", "not_applicable")

#: nesting depth of item variables the evaluator keeps (a rule's item, and quantifiers inside it)
MAX_VARS = 8

#: where the generated header lives, from the project root
HEADER_PATH = "safetyrules/_evaluator_abi.h"

#: the C header: (comment, C enum or define, names) in order
_GROUPS: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ("slot kinds", "enum", ("K_NUM", "K_BOOL", "K_ENUM", "K_DATE", "K_REJECT", "K_IGNORE", "K_LIST")),
    ("slot flags of numbers", "define", ("SF_INTEGER", "SF_LO", "SF_HI")),
    ("node opcodes: numbers (forms, then the language's operators and functions)", "enum", NUMBER_OPCODES),
    (
        "node opcodes: truth values",
        "enum",
        (
            "B_LIT",
            "B_FACT",
            "B_DERIVED",
            "B_NOT",
            "B_AND",
            "B_OR",
            "B_CMP_NUM",
            "B_CMP_CODE",
            "B_CMP_BOOL",
            "B_MEMBER",
            "B_KNOWN_FACT",
            "B_KNOWN_DERIVED",
            "B_IF",
        ),
    ),
    ("node opcodes: codes (enum values, dates as ordinals)", "enum", ("C_LIT", "C_FACT", "C_DERIVED", "C_TODAY", "C_IF")),
    (
        "node opcodes: items of lists and quantifiers",
        "enum",
        ("I_NUM", "I_BOOL", "I_CODE", "B_KNOWN_ITEM", "Q_ANY", "Q_ALL", "Q_COUNT"),
    ),
    ("comparison codes", "enum", COMPARISON_CODES),
    ("truth values (Kleene)", "enum", ("T_FALSE", "T_TRUE", "T_UNKNOWN")),
    ("outcome bytes", "enum", ("O_NOT_MATCHED", "O_MATCHED", "O_UNDETERMINED", "O_NOT_APPLICABLE")),
    ("limits", "define", ("ABI_VERSION", "MAX_VARS", "MAX_LIST_ITEMS")),
)


def _numbers() -> Dict[str, int]:
    values = globals()
    table = {name: values[name] for _, _, names in _GROUPS for name in names if name not in _COMPUTED}
    table.update(OPCODES)
    table.update({code: i for i, code in enumerate(COMPARISON_CODES)})
    table["MAX_LIST_ITEMS"] = MAX_LIST_ITEMS
    return table


_COMPUTED = frozenset(NUMBER_OPCODES) | frozenset(COMPARISON_CODES) | {"ABI_VERSION", "MAX_LIST_ITEMS"}


#: the number a C build is checked against: it changes whenever the layout or any number changes, so
#: that a build of the C evaluator from before the change is refused instead of misreading programs
def abi_version(numbers: Dict[str, int]) -> int:
    """The layout version and a checksum of every number: equal only for the same program format."""
    return LAYOUT_VERSION * 10**8 + zlib.crc32(repr(sorted(numbers.items())).encode()) % 10**8


ABI_VERSION = abi_version(_numbers())


def constants() -> Dict[str, int]:
    """Every number the header declares, by its C name."""
    table = _numbers()
    table["ABI_VERSION"] = ABI_VERSION
    return table


def _function_cases() -> List[str]:
    """``CASE_FUNCTIONS_OF_<n>``: the case labels of the language's functions of n arguments, so that
    the C program check reads each function's operands without naming the function."""
    lines = []
    for arity in (1, 2, 3):
        labels = " ".join(f"case {f.opcode}:" for f in FUNCTIONS.values() if len(f.params) == arity)
        lines.append(f"#define CASE_FUNCTIONS_OF_{arity} {labels}".rstrip())
    return lines


def c_header() -> str:
    """``_evaluator_abi.h``: the same numbers for the C evaluator."""
    table = constants()
    lines: List[str] = [
        "/* Generated from safetyrules/ir/lowered.py by `python tools/abi_header.py`: do not edit.",
        " * The numbers of the lowered program, shared by the Python lowering and the C evaluator. */",
        "#ifndef SAFETYRULES_EVALUATOR_ABI_H",
        "#define SAFETYRULES_EVALUATOR_ABI_H",
        "",
    ]
    for comment, kind, names in _GROUPS:
        lines.append(f"/* {comment} */")
        if kind == "enum":
            lines.append("enum {")
            lines.extend(f"    {name} = {table[name]}," for name in names)
            lines.append("};")
        else:
            lines.extend(f"#define {name} {table[name]}" for name in names)
        lines.append("")
    lines.append(f"#define FAST_NUMBER_LIMIT {float(FAST_NUMBER_LIMIT)!r} /* 2**53 */")
    lines += ["", "/* the language's functions by number of arguments (case labels) */", *_function_cases()]
    lines += ["", "#endif", ""]
    return "\n".join(lines)
