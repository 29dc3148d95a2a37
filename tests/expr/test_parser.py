from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyrules.expr import ExprSyntaxError, parse, to_source
from safetyrules.expr import ast


def test_precedence_and_or_not():
    node = parse("a or b and not c")
    assert isinstance(node, ast.Or)
    assert isinstance(node.operands[1], ast.And)
    assert isinstance(node.operands[1].operands[1], ast.Not)


def test_arithmetic_precedence():
    node = parse("a + b * c > 1")
    assert isinstance(node, ast.Compare)
    assert isinstance(node.left, ast.Arith) and node.left.op == "+"
    assert isinstance(node.left.right, ast.Arith) and node.left.right.op == "*"


def test_percent_literal_is_exact_ratio():
    node = parse("x > y * 110%")
    assert node.right.right.value == Fraction(11, 10)
    assert node.right.right.percent


def test_decimal_literal_is_exact():
    assert parse("0.1").value == Fraction(1, 10)
    assert parse("-3.5").value == Fraction(-7, 2)


def test_membership_and_negated_membership():
    node = parse("gas in ['a', 'b']")
    assert isinstance(node, ast.Member) and not node.negated and [o.value for o in node.options] == ["a", "b"]
    assert parse("gas not in ['a']").negated


def test_quantifiers():
    node = parse("any(c in cranes where c.load > 100)")
    assert isinstance(node, ast.Quantifier) and node.kind == "any" and node.var == "c" and node.list_name == "cranes"
    assert isinstance(node.condition.left, ast.ItemField)
    assert parse("count(cranes)").condition is None


def test_dates_and_functions():
    node = parse("days_between(date('2026-01-01'), inspection_date) > 30")
    assert isinstance(node.left, ast.Call) and node.left.func == "days_between"
    assert isinstance(node.left.args[1], ast.InspectionDate)


@pytest.mark.parametrize(
    "text, pos, fragment",
    [
        ("x = 1", 2, "use =="),
        ("a > b > c", 6, "chained"),
        ("(a > 1", 6, "expected ')'"),
        ("a >", 3, "expected a value"),
        ("foo(1)", 0, "unknown function"),
        ("date('2026-13-01')", 5, "not a date"),
        ("x in []", 2, "at least one"),
        ("", 0, "empty"),
        ("a ＞ 1", 2, "unexpected character"),
        ("any(cranes)", 4, "needs 'item in list"),
    ],
)
def test_syntax_errors_name_position(text, pos, fragment):
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert info.value.pos == pos
    assert fragment in info.value.message


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(ExprSyntaxError):
        parse("(" * 500 + "a" + ")" * 500)
    with pytest.raises(ExprSyntaxError):
        parse("not " * 500 + "a")


# ---- property tests: round trip through the canonical source, and arbitrary text

names = st.sampled_from(["a", "b", "c", "x_1"])
numbers = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False).map(str)


def exprs():
    atom = st.one_of(names, numbers, st.sampled_from(["true", "false", "'v'", "inspection_date"]))
    arith = st.recursive(
        atom,
        lambda sub: st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        max_leaves=6,
    )
    cmp = st.tuples(arith, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), arith).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    return st.recursive(
        cmp,
        lambda sub: st.one_of(
            st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
            sub.map(lambda s: f"not ({s})"),
        ),
        max_leaves=6,
    )


@settings(max_examples=300, deadline=None)
@given(exprs())
def test_canonical_source_round_trips(text):
    node = parse(text)
    again = parse(to_source(node))
    assert again == node


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_any_text_parses_or_raises_the_documented_error(text):
    try:
        parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.pos <= len(text)
