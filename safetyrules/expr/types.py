"""Static types of the condition language.

Types are checked when a module loads, so that a rule comparing a tonnage with a percentage, or an
enum with a value it does not have, is an author's error with a location, not a silent wrong answer
on an inspection record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional

NUMBER = "number"
BOOLEAN = "boolean"
ENUM = "enum"
STRING = "string"
DATE = "date"
LIST = "list"

#: The unit of a bare numeric literal: it takes the unit of whatever it is compared with.
ANY_UNIT = "*"
#: Dimensionless: counts without a declared unit, ratios, percentages written as ``110%``.
DIMENSIONLESS = "1"


@dataclass(frozen=True)
class Type:
    kind: str
    unit: Optional[str] = None  # numbers only
    values: Optional[FrozenSet[str]] = None  # enums only
    integer: bool = False

    @property
    def number_unit(self) -> str:
        """The unit of a number type; the loader gives every number one (dimensionless when undeclared)."""
        if self.kind != NUMBER or self.unit is None:
            raise TypeError(f"internal error: {self} has no unit")
        return self.unit

    @property
    def enum_values(self) -> FrozenSet[str]:
        if self.kind != ENUM or self.values is None:
            raise TypeError(f"internal error: {self} has no enum values")
        return self.values

    def __str__(self) -> str:
        if self.kind == NUMBER:
            if self.unit in (None, ANY_UNIT):
                return "number"
            if self.unit == DIMENSIONLESS:
                return "number (dimensionless)"
            return f"number [{self.unit}]"
        return self.kind


BOOL_T = Type(BOOLEAN)
STRING_T = Type(STRING)
DATE_T = Type(DATE)
LITERAL_NUMBER_T = Type(NUMBER, ANY_UNIT)
RATIO_T = Type(NUMBER, DIMENSIONLESS)


def unify_units(a: str, b: str) -> Optional[str]:
    """The common unit of two operands of +, -, comparison, min/max; None when they differ."""
    if a == ANY_UNIT:
        return b
    if b == ANY_UNIT or a == b:
        return a
    return None


def multiply_units(a: str, b: str) -> str:
    """A bare literal times a ratio is still a bare literal; a ratio scales a unit without changing it."""
    if a == ANY_UNIT and b in (ANY_UNIT, DIMENSIONLESS) or b == ANY_UNIT and a == DIMENSIONLESS:
        return ANY_UNIT
    if a in (ANY_UNIT, DIMENSIONLESS):
        return b
    if b in (ANY_UNIT, DIMENSIONLESS):
        return a
    return f"{a}*{b}"


def divide_units(a: str, b: str) -> str:
    if a == ANY_UNIT and b in (ANY_UNIT, DIMENSIONLESS):
        return ANY_UNIT
    if a == b:
        return DIMENSIONLESS
    if b in (ANY_UNIT, DIMENSIONLESS):
        return a
    if a in (ANY_UNIT, DIMENSIONLESS):
        return f"1/{b}"
    return f"{a}/{b}"
