"""Text forms of the two IR levels, for a maintainer (``safetyrules ir RULES``).

The checked level prints every module, rule and derived fact with its checked expression, each name
annotated with its type, and what the rule reads in the end (base facts through derived ones). The
lowered level prints one industry's program as the C evaluator receives it: slots, nodes by index
with their opcode names, and the rows of modules and rules. Both are deterministic, so two outputs
can be diffed to see what a change to a module or to the compiler did.
"""

from __future__ import annotations

from datetime import date
from typing import Dict, List, Optional, Sequence

from ..expr import ast
from ..expr.types import NUMBER, Type
from .lowered import COMPARE, Node, constants
from .ruleset import CompiledModule, RuleSetIR


def typed_source(node: ast.Node) -> str:
    """The expression with the type of each fact, item field and call shown after it."""
    if isinstance(node, (ast.Name, ast.ItemField)):
        return f"{ast.to_source(node)}:{_type(node.ty)}"
    if isinstance(node, ast.Call):
        args = ", ".join(typed_source(a) for a in node.args)
        return f"{node.func}({args}):{_type(node.ty)}"
    if isinstance(node, ast.Arith):
        return f"({typed_source(node.left)} {node.op} {typed_source(node.right)})"
    if isinstance(node, ast.Compare):
        return f"{typed_source(node.left)} {node.op} {typed_source(node.right)}"
    if isinstance(node, (ast.And, ast.Or)):
        word = " and " if isinstance(node, ast.And) else " or "
        return "(" + word.join(typed_source(o) for o in node.operands) + ")"
    if isinstance(node, ast.Not):
        return f"not {typed_source(node.operand)}"
    if isinstance(node, ast.Negate):
        return f"-{typed_source(node.operand)}"
    if isinstance(node, ast.Member):
        options = ", ".join(ast.to_source(o) for o in node.options)
        return f"{typed_source(node.operand)} {'not in' if node.negated else 'in'} [{options}]"
    if isinstance(node, ast.Quantifier):
        if node.condition is None:
            return f"{node.kind}({node.list_name})"
        return f"{node.kind}({node.var} in {node.list_name} where {typed_source(node.condition)})"
    return ast.to_source(node)


def _type(ty: Optional[Type]) -> str:
    if ty is None:
        return "UNCHECKED"
    if ty.kind == NUMBER:
        return f"number[{ty.unit}]" if ty.unit not in (None, "*") else "number"
    return ty.kind


def print_ruleset(ir: RuleSetIR, industry: Optional[str] = None) -> str:
    """The checked IR (of one industry's modules, or all)."""
    lines: List[str] = []
    for pack in ir.packs:
        lines.append(f"pack {pack.name} {pack.version}")
    for name, vocabulary in sorted(ir.vocabularies.items()):
        if industry is None or name == industry:
            lines.append(f"industry {name}: {len(vocabulary)} facts")
    if ir.derived_order:
        lines.append("derived facts, in evaluation order:")
        for name in ir.derived_order:
            d = ir.derived[name]
            lines.append(f"  {name}:{_type(d.expr.ty)} = {typed_source(d.expr)}")
    for cm in ir.modules:
        if industry is None or industry in cm.module.industries:
            lines.extend(_module_lines(cm, ir.presumptions))
    return "\n".join(lines) + "\n"


def _module_lines(cm: CompiledModule, presumptions: bool = True) -> List[str]:
    m = cm.module
    until = m.effective_until.isoformat() if m.effective_until else "…"
    lines = [
        "",
        f"module {cm.key} v{m.version} in force {m.effective_from.isoformat()}–{until}, industries {', '.join(m.industries)}",
    ]
    if m.scope is not None:
        lines.append(f"  scope: {typed_source(m.scope)}")
    for compiled in cm.rules:
        rule = compiled.rule
        lines.append(f"  rule {rule.id}  {rule.citation.rendered}")
        if rule.for_each is not None:
            lines.append(f"    for each {rule.for_each.var} in {rule.for_each.list_name}")
        if rule.applies_if is not None:
            lines.append(f"    applies if: {typed_source(rule.applies_if)}")
        lines.append(f"    when: {typed_source(rule.when)}")
        for exception in rule.unless:
            lines.append(f"    unless: {typed_source(exception.when)}  ({exception.citation.rendered})")
        if rule.decision is not None:
            mode = "with presumptions" if presumptions else "strictly"
            lines.append(f"    decides ({mode}): {typed_source(rule.decision)}")
        reads = ", ".join(sorted(compiled.base_facts))
        lines.append(f"    reads: {reads}" + (f"; through {', '.join(compiled.derived)}" if compiled.derived else ""))
    return lines


def print_program(ir: RuleSetIR, industry: str, day: date) -> str:
    """One industry's modules in force on ``day``, lowered: the C evaluator's input."""
    from ..backends.compiled import NotLowerable, lower_modules

    modules = [cm for cm in ir.modules if industry in cm.module.industries and cm.module.in_force(day)]
    try:
        program = lower_modules(ir, industry, modules)
    except NotLowerable as exc:
        return f"program {industry} on {day.isoformat()}: not lowered ({exc}); its records take the general path\n"
    tables = program.tables
    names = _opcode_names()
    comparisons = {code: symbol for symbol, code in COMPARE.items()}
    slot_names = list(tables.slot_names)
    lines = [
        f"program {industry} on {day.isoformat()}: {len(modules)} modules, {len(tables.rule_rows)} rules, "
        f"{len(tables.nodes)} nodes, {len(slot_names)} slots",
        "slots:",
    ]
    kinds = {v: k for k, v in constants().items() if k.startswith("K_")}
    for i, (name, slot) in enumerate(zip(slot_names, tables.slots)):
        lines.append(f"  {i:4} {name} {kinds.get(slot[0], slot[0])}")
    lines.append("nodes:")
    for i, node in enumerate(tables.nodes):
        lines.append(f"  {i:4} {_node_text(node, names, comparisons, slot_names, tables.kids)}")
    if tables.derived_roots:
        lines.append("derived roots: " + ", ".join(str(r) for r in tables.derived_roots))
    lines.append("modules (scope node, first rule, rules):")
    for cm, row in zip(modules, tables.module_rows):
        lines.append(f"  {cm.key}: {row[0]} {row[1]} {row[2]}")
    lines.append("rules (applies_if node, when node, list slot, item variable):")
    rule_ids = [c.id for cm in modules for c in cm.rules]
    for rule_id, rule_row in zip(rule_ids, tables.rule_rows):
        lines.append(f"  {rule_id}: {rule_row[0]} {rule_row[1]} {rule_row[2]} {rule_row[3]}")
    return "\n".join(lines) + "\n"


def _opcode_names() -> Dict[int, str]:
    return {v: k for k, v in constants().items() if k[:2] in ("N_", "B_", "C_", "I_", "Q_")}


def _node_text(node: Node, names: Dict[int, str], comparisons: Dict[int, str], slots: List[str], kids: Sequence[int]) -> str:
    op, a, b, c, d, num, den, exact = node
    name = names.get(op, str(op))
    if name == "N_LIT":
        value = f"{num}/{den}" if den not in (0, 1) else (str(num) if den == 1 else repr(d))
        return f"{name} {value}{'' if exact else ' (inexact double)'}"
    if name in ("N_FACT", "B_FACT", "C_FACT", "B_KNOWN_FACT"):
        return f"{name} slot {a} ({slots[a]})"
    if name in ("N_DERIVED", "B_DERIVED", "C_DERIVED"):
        return f"{name} derived {a}"
    if name in ("B_AND", "B_OR"):
        return f"{name} [{', '.join(str(k) for k in kids[a : a + b])}]"
    if name == "B_MEMBER":
        return f"{name} {a} {'not in' if d else 'in'} codes {list(kids[b : b + c])}"
    if name.startswith("B_CMP"):
        return f"{name} {a} {comparisons.get(c, c)} {b}"
    if name in ("C_LIT", "B_LIT"):
        return f"{name} {num if name == 'C_LIT' else a}"
    if name in ("I_NUM", "I_BOOL", "I_CODE", "B_KNOWN_ITEM"):
        return f"{name} var {a} list slot {b} ({slots[b]}) field {c}"
    if name.startswith("Q_"):
        return f"{name} list slot {a} ({slots[a]}) var {b} condition {c}"
    return f"{name} a={a} b={b} c={c}"
