"""The checked IR's invariants hold for every shipped pack, and a broken one is named."""

from dataclasses import replace

import pytest

from safetyrules import load_rules
from safetyrules.expr import ast
from safetyrules.ir.validate import validate
from safetyrules.packs import shipped_pack_names


@pytest.mark.parametrize("pack", shipped_pack_names())
def test_every_shipped_pack_is_sound(pack):
    assert validate(load_rules(pack).ir) == []


def _with_rule(ir, compiled, new_rule):
    cm = next(m for m in ir.modules if compiled in m.rules)
    rules = tuple(replace(c, rule=new_rule) if c is compiled else c for c in cm.rules)
    modules = tuple(replace(m, rules=rules) if m is cm else m for m in ir.modules)
    return replace(ir, modules=modules)


def test_an_unchecked_expression_is_named():
    ir = load_rules("demo").ir
    compiled = next(iter(ir.rules.values()))
    unchecked = replace(compiled.rule, when=ast.Compare(">", ast.Name("annual_output_t"), ast.Number(1, "1")))
    problems = validate(_with_rule(ir, compiled, unchecked))
    assert any(compiled.id in p and "never type-checked" in p for p in problems)


def test_an_unknown_fact_and_an_unbound_item_are_named():
    from safetyrules.expr.types import BOOL_T, Type

    ir = load_rules("demo").ir
    compiled = next(iter(ir.rules.values()))
    number = Type("number", "t")
    when = ast.And(
        (
            ast.Compare(">", ast.Name("no_such_fact", ty=number), ast.Number(1, "1", ty=number), ty=BOOL_T),
            ast.ItemField("x", "ch4_pct", ty=BOOL_T),
        ),
        ty=BOOL_T,
    )
    problems = validate(_with_rule(ir, compiled, replace(compiled.rule, when=when)))
    assert any("no_such_fact" in p for p in problems)
    assert any("item variable 'x' is not bound" in p for p in problems)
    assert any("its base facts do not list them" in p for p in problems)


def test_a_derived_fact_read_before_it_is_evaluated_is_named():
    ir = load_rules("demo").ir
    name = ir.derived_order[0]
    broken = replace(ir, derived={**ir.derived, name: replace(ir.derived[name], reads=frozenset({name}))})
    assert any("evaluated after it" in p for p in validate(broken))
