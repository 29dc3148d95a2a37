"""The language table (safetyrules/expr/language.py) is what every part reads: these tests hold its
entries to the properties the evaluators rely on."""

import os
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetyrules.expr import parser
from safetyrules.expr.language import ARITHMETIC, COMPARISONS, FUNCTIONS, SPECIAL_FORMS
from tests.conftest import ROOT

_VALUES = {
    "number": st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=1000),
    "date": st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float_implementation_agrees_with_the_exact_one(name):
    """The generated Python computes on floats and trusts the error rule: check it on exact inputs."""
    function = FUNCTIONS[name]

    @given(st.tuples(*(_VALUES[kind] for kind in function.params)))
    def check(args):
        exact = function.exact(*args)
        approximate = function.approximate(*(float(a) if isinstance(a, Fraction) else a for a in args))
        if function.error == "exact":
            assert Fraction(approximate) == exact
        else:  # selects: the float result is one of the (floated) arguments, up to sign
            floats = [float(a) for a in args]
            assert approximate in floats or -approximate in floats
            assert approximate == pytest.approx(float(exact))

    check()


def test_every_name_parses_and_the_parser_knows_no_other():
    assert parser.FUNCTIONS == frozenset(FUNCTIONS) | frozenset(SPECIAL_FORMS)
    for symbol in [*ARITHMETIC, *COMPARISONS]:
        assert any(t.text == symbol for t in parser.tokenize(f"a {symbol} b"))


def test_comparison_negations_and_flips_are_consistent():
    pairs = [(Fraction(1), Fraction(2)), (Fraction(2), Fraction(2)), (Fraction(3), Fraction(2))]
    for c in COMPARISONS.values():
        for a, b in pairs:
            assert COMPARISONS[c.negation].holds(a, b) == (not c.holds(a, b))
            assert COMPARISONS[c.flipped].holds(b, a) == c.holds(a, b)


def test_the_authoring_guide_lists_every_function():
    with open(os.path.join(ROOT, "docs", "authoring.md"), encoding="utf-8") as fh:
        row = next(line for line in fh if line.startswith("| functions |"))
    for name in FUNCTIONS:
        assert f"`{name}(" in row, f"docs/authoring.md does not list {name}()"
