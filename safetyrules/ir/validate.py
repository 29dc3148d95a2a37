"""The invariants every backend relies on, checked on a compiled rule set.

The compiler establishes them; this checks them again, independently, so that a change to the
compiler (or a rule set built by hand in a test) that breaks one is caught with a message naming
the rule, not by a backend deciding something odd. ``tests/ir/test_validate.py`` runs it on every
shipped pack; ``safetyrules ir --check`` runs it on any rules.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Set

from ..expr import ast
from ..expr.language import FUNCTIONS, SPECIAL_FORMS
from ..expr.types import LIST
from ..model import FactSpec
from .ruleset import CompiledModule, RuleSetIR


def validate(ir: RuleSetIR) -> List[str]:
    """Every broken invariant, as ``where: what`` lines (empty when the rule set is sound)."""
    problems: List[str] = []
    _check_derived(ir, problems)
    seen: Set[str] = set()
    for cm in ir.modules:
        _check_module(ir, cm, problems, seen)
    listed = {rid for cm in ir.modules for rid in cm.rule_ids}
    if set(ir.rules) != listed:
        problems.append(f"rule set: the rule index and the modules' rules differ ({sorted(set(ir.rules) ^ listed)[:5]})")
    for mid, cm in ir.module_by_id.items():
        if mid != cm.id:
            problems.append(f"module index: {mid!r} names module {cm.id!r}")
    for variant in ir.variants:
        _check_module(ir, variant.module, problems, None)
    return problems


def _check_derived(ir: RuleSetIR, problems: List[str]) -> None:
    if set(ir.derived_order) != set(ir.derived) or len(ir.derived_order) != len(ir.derived):
        problems.append("derived facts: the evaluation order does not list each derived fact once")
    position = {name: i for i, name in enumerate(ir.derived_order)}
    for name in ir.derived_order:
        d = ir.derived.get(name)
        if d is None:
            continue
        where = f"derived fact {name}"
        _check_expression(d.expr, where, ir, None, {}, problems)
        for read in d.reads:
            if read in position and position[read] >= position[name]:
                problems.append(f"{where}: reads {read}, which is evaluated after it")


def _check_module(ir: RuleSetIR, cm: CompiledModule, problems: List[str], seen: Optional[Set[str]]) -> None:
    m = cm.module
    vocabularies = [ir.vocabularies[i] for i in m.industries if i in ir.vocabularies]
    if len(vocabularies) != len(m.industries):
        problems.append(f"module {cm.key}: an industry without a vocabulary ({', '.join(m.industries)})")
        return
    if m.scope is not None:
        _check_expression(m.scope, f"module {cm.key} scope", ir, vocabularies[0], {}, problems, condition=True)
    for compiled in cm.rules:
        rule = compiled.rule
        where = f"rule {rule.id}"
        if seen is not None:
            if rule.id in seen:
                problems.append(f"{where}: defined twice")
            seen.add(rule.id)
        bound: Dict[str, str] = {}
        if rule.for_each is not None:
            spec = vocabularies[0].get(rule.for_each.list_name)
            if spec is None or spec.type.kind != LIST:
                problems.append(f"{where}: for_each over {rule.for_each.list_name}, which is not a list fact")
                continue
            bound[rule.for_each.var] = rule.for_each.list_name
        exceptions = tuple(e.when for e in rule.unless)
        for vocabulary in vocabularies:
            _check_expression(rule.when, f"{where} when", ir, vocabulary, bound, problems, condition=True)
            if rule.applies_if is not None:
                _check_expression(rule.applies_if, f"{where} applies_if", ir, vocabulary, bound, problems, condition=True)
            for j, exception in enumerate(exceptions):
                _check_expression(exception, f"{where} unless[{j}]", ir, vocabulary, bound, problems, condition=True)
            if rule.decision is not None:
                _check_expression(rule.decision, f"{where} decision", ir, vocabulary, bound, problems, condition=True)
        if bool(rule.unless) != (rule.decision is not None and rule.strict_decision is not None):
            problems.append(f"{where}: its exceptions and the conditions backends decide disagree")
        direct = {n.name for n in _names(rule.when, rule.applies_if, *exceptions) if n.name not in ir.derived}
        missing = direct - compiled.base_facts
        if missing:
            problems.append(f"{where}: reads {sorted(missing)} but its base facts do not list them")
        through = {n.name for n in _names(rule.when, rule.applies_if, *exceptions) if n.name in ir.derived}
        if not through <= set(compiled.derived):
            problems.append(f"{where}: reads derived facts {sorted(through - set(compiled.derived))} it does not list")


def _names(*roots: Optional[ast.Node]) -> List[ast.Name]:
    return [n for root in roots if root is not None for n in ast.walk(root) if isinstance(n, ast.Name)]


def _check_expression(
    root: ast.Node,
    where: str,
    ir: RuleSetIR,
    vocabulary: Optional[Mapping[str, FactSpec]],
    bound: Mapping[str, str],
    problems: List[str],
    condition: bool = False,
) -> None:
    if condition and (root.ty is None or root.ty.kind != "boolean"):
        problems.append(f"{where}: not a condition ({root.ty})")
    scopes = [dict(bound)]
    _walk(root, where, ir, vocabulary, scopes, problems)


def _walk(
    node: ast.Node,
    where: str,
    ir: RuleSetIR,
    vocabulary: Optional[Mapping[str, FactSpec]],
    scopes: List[Dict[str, str]],
    problems: List[str],
) -> None:
    if node.ty is None:
        problems.append(f"{where}: {ast.to_source(node)!r} was never type-checked")
    if isinstance(node, ast.Name):
        known = (
            node.name in ir.derived
            or (vocabulary is None and node.name in ir.facts)
            or (vocabulary is not None and node.name in vocabulary)
        )
        if not known:
            problems.append(f"{where}: reads {node.name!r}, which is neither a fact of its industry nor a derived fact")
    elif isinstance(node, ast.ItemField):
        if node.var not in scopes[-1]:
            problems.append(f"{where}: item variable {node.var!r} is not bound")
    elif isinstance(node, ast.Call):
        if node.func not in FUNCTIONS and node.func not in SPECIAL_FORMS:
            problems.append(f"{where}: calls {node.func}(), which the language does not declare")
    elif isinstance(node, ast.Quantifier) and node.condition is not None and node.var is not None:
        scopes.append({**scopes[-1], node.var: node.list_name})
        _walk(node.condition, where, ir, vocabulary, scopes, problems)
        scopes.pop()
        return
    for child in ast.children(node):
        _walk(child, where, ir, vocabulary, scopes, problems)
