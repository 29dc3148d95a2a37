"""The numbers of the lowered program, declared once.

The lowering (``safetyrules/backends/compiled.py``) writes programs with these numbers and the C
evaluator (``safetyrules/_evaluator.c``) reads them; the C side includes ``_evaluator_abi.h``, which
is generated from this module::

    python -m safetyrules.ir.lowered --header > safetyrules/_evaluator_abi.h

and a test fails when the checked-in header is stale, so the two can no longer drift apart by hand.
Change ``ABI_VERSION`` whenever the program's layout or the meaning of a number changes: a build of
the C evaluator from before the change is then refused instead of misreading programs.
"""

from __future__ import annotations

import sys
from typing import Dict, List, Tuple

from ..records import FAST_NUMBER_LIMIT, MAX_LIST_ITEMS

ABI_VERSION = 5

# Slot kinds: how a recorded fact is loaded into its slot.
K_NUM, K_BOOL, K_ENUM, K_DATE, K_REJECT, K_IGNORE, K_LIST = range(7)
# Slot flags of numbers.
SF_INTEGER, SF_LO, SF_HI = 1, 2, 4

# Node opcodes. Numbers:
N_LIT, N_FACT, N_DERIVED, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_MIN, N_MAX, N_ABS, N_IF, N_DAYS = range(13)
# ... truth values:
(B_LIT, B_FACT, B_DERIVED, B_NOT, B_AND, B_OR, B_CMP_NUM, B_CMP_CODE, B_CMP_BOOL, B_MEMBER,
 B_KNOWN_FACT, B_KNOWN_DERIVED, B_IF) = range(20, 33)
# ... codes (enum values and dates as ordinals):
C_LIT, C_FACT, C_DERIVED, C_TODAY, C_IF = range(40, 45)
# ... lists of items: a field of the item bound to a variable (a: variable, b: list slot, c: field), and
# quantifiers (a: list slot, b: variable, c: condition node, or -1 for count(list)).
I_NUM, I_BOOL, I_CODE, B_KNOWN_ITEM, Q_ANY, Q_ALL, Q_COUNT = range(50, 57)

# Comparison codes, by operator of the condition language.
CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE = range(6)
COMPARE = {"<": CMP_LT, "<=": CMP_LE, ">": CMP_GT, ">=": CMP_GE, "==": CMP_EQ, "!=": CMP_NE}
# Truth values of Kleene logic, and a rule's outcome byte.
T_FALSE, T_TRUE, T_UNKNOWN = range(3)
O_NOT_MATCHED, O_MATCHED, O_UNDETERMINED, O_NOT_APPLICABLE = range(4)
OUTCOMES = ("not_matched", "matched", "undetermined", "not_applicable")

#: nesting depth of item variables the evaluator keeps (a rule's item, and quantifiers inside it)
MAX_VARS = 8

#: the C header: (comment, C enum or define, names) in order
_GROUPS: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ("slot kinds", "enum", ("K_NUM", "K_BOOL", "K_ENUM", "K_DATE", "K_REJECT", "K_IGNORE", "K_LIST")),
    ("slot flags of numbers", "define", ("SF_INTEGER", "SF_LO", "SF_HI")),
    ("node opcodes: numbers", "enum", ("N_LIT", "N_FACT", "N_DERIVED", "N_NEG", "N_ADD", "N_SUB", "N_MUL", "N_DIV",
                                       "N_MIN", "N_MAX", "N_ABS", "N_IF", "N_DAYS")),
    ("node opcodes: truth values", "enum", ("B_LIT", "B_FACT", "B_DERIVED", "B_NOT", "B_AND", "B_OR", "B_CMP_NUM",
                                            "B_CMP_CODE", "B_CMP_BOOL", "B_MEMBER", "B_KNOWN_FACT",
                                            "B_KNOWN_DERIVED", "B_IF")),
    ("node opcodes: codes (enum values, dates as ordinals)", "enum", ("C_LIT", "C_FACT", "C_DERIVED", "C_TODAY", "C_IF")),
    ("node opcodes: items of lists and quantifiers", "enum", ("I_NUM", "I_BOOL", "I_CODE", "B_KNOWN_ITEM", "Q_ANY",
                                                              "Q_ALL", "Q_COUNT")),
    ("comparison codes", "enum", ("CMP_LT", "CMP_LE", "CMP_GT", "CMP_GE", "CMP_EQ", "CMP_NE")),
    ("truth values (Kleene)", "enum", ("T_FALSE", "T_TRUE", "T_UNKNOWN")),
    ("outcome bytes", "enum", ("O_NOT_MATCHED", "O_MATCHED", "O_UNDETERMINED", "O_NOT_APPLICABLE")),
    ("limits", "define", ("ABI_VERSION", "MAX_VARS", "MAX_LIST_ITEMS")),
)


def constants() -> Dict[str, int]:
    """Every number the header declares, by its C name."""
    values = globals()
    table = {name: values[name] for _, _, names in _GROUPS for name in names if name != "MAX_LIST_ITEMS"}
    table["MAX_LIST_ITEMS"] = MAX_LIST_ITEMS
    return table


def c_header() -> str:
    """``_evaluator_abi.h``: the same numbers for the C evaluator."""
    table = constants()
    lines: List[str] = [
        "/* Generated from safetyrules/ir/lowered.py by `python -m safetyrules.ir.lowered --header`: do not edit.",
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
    lines += ["", "#endif", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - exercised by the staleness test through c_header()
    if sys.argv[1:] != ["--header"]:
        sys.exit("usage: python -m safetyrules.ir.lowered --header > safetyrules/_evaluator_abi.h")
    sys.stdout.write(c_header())
