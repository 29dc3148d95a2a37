"""Type checking of expressions against a fact vocabulary.

Returns a copy of the tree with every node's ``ty`` set. The rules: arithmetic and comparison need
numbers of one unit (a bare literal takes the other side's unit; ``110%`` is a dimensionless ratio, so
``ch4_pct >= 1%`` is rejected: write ``ch4_pct >= 1``); enums compare only with their own values;
dates with dates; logic needs booleans; quantifiers range over list facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Mapping, Optional, Set, Tuple

from ..errors import did_you_mean
from . import ast
from .language import ARITHMETIC, COMPARISONS, FUNCTIONS, SPECIAL_FORMS
from .types import (
    BOOL_T,
    BOOLEAN,
    DATE,
    DATE_T,
    DIMENSIONLESS,
    ENUM,
    LIST,
    LITERAL_NUMBER_T,
    NUMBER,
    RATIO_T,
    STRING,
    STRING_T,
    Type,
    unify_units,
)


class ExprTypeError(Exception):
    def __init__(self, message: str, pos: int, code: str = "E-TYPE", name: Optional[str] = None) -> None:
        self.message = message
        self.pos = pos
        self.code = code
        self.name = name  # the unknown name, for E-UNKNOWN-FACT
        super().__init__(message)


@dataclass(frozen=True)
class Vocabulary:
    """What an expression may read: facts and derived facts by name, and list facts' item fields."""

    types: Mapping[str, Type]
    list_fields: Mapping[str, Mapping[str, Type]]


@dataclass
class _Scope:
    vocabulary: Vocabulary
    bound: Dict[str, str]  # item variable -> list fact name
    refs: Set[str]


def check(expr: ast.Expr, vocabulary: Vocabulary, bound: Optional[Mapping[str, str]] = None) -> Tuple[ast.CheckedExpr, Set[str]]:
    """Type-check ``expr``; returns the typed tree and the set of facts/derived facts it reads."""
    scope = _Scope(vocabulary, dict(bound or {}), set())
    typed = _check(expr, scope)
    return ast.CheckedExpr(typed), scope.refs


def check_condition(
    expr: ast.Expr, vocabulary: Vocabulary, bound: Optional[Mapping[str, str]] = None
) -> Tuple[ast.CheckedExpr, Set[str]]:
    typed, refs = check(expr, vocabulary, bound)
    ty = ast.type_of(typed)
    if ty.kind != BOOLEAN:
        raise ExprTypeError(f"a condition must be true or false, but this is a {ty}", expr.pos)
    return typed, refs


def _num(node: ast.Expr, what: str) -> Type:
    ty = ast.type_of(node)
    if ty.kind != NUMBER:
        raise ExprTypeError(f"{what} needs a number, but {ast.to_source(node)!r} is a {ty}", node.pos)
    return ty


def _same_units(a: ast.Expr, b: ast.Expr, what: str, pos: int) -> str:
    a_unit, b_unit = ast.type_of(a).number_unit, ast.type_of(b).number_unit
    unit = unify_units(a_unit, b_unit)
    if unit is None:
        raise ExprTypeError(
            f"{what} mixes units: {ast.to_source(a)!r} is [{a_unit}] and {ast.to_source(b)!r} is [{b_unit}]",
            pos,
            code="E-UNIT",
        )
    return unit


def _check(node: ast.Expr, s: _Scope) -> ast.Expr:
    handler = _HANDLERS.get(type(node))
    if handler is None:  # pragma: no cover - the parser makes only known nodes
        raise ExprTypeError(f"unsupported expression {node!r}", node.pos)
    return handler(node, s)


def _literal(node: ast.Expr, s: _Scope) -> ast.Expr:
    if isinstance(node, ast.Number):
        return replace(node, ty=RATIO_T if node.percent else LITERAL_NUMBER_T)
    if isinstance(node, ast.String):
        return replace(node, ty=STRING_T)
    if isinstance(node, ast.Boolean):
        return replace(node, ty=BOOL_T)
    return replace(node, ty=DATE_T)


def _name(node: ast.Name, s: _Scope) -> ast.Name:
    if node.name in s.bound:
        raise ExprTypeError(
            f"{node.name!r} is an item of {s.bound[node.name]!r}: read one of its fields, e.g. {node.name}.<field>",
            node.pos,
        )
    ty = s.vocabulary.types.get(node.name)
    if ty is None:
        hint = did_you_mean(node.name, list(s.vocabulary.types) + list(s.bound))
        raise ExprTypeError(f"unknown fact {node.name!r}{hint}", node.pos, code="E-UNKNOWN-FACT", name=node.name)
    s.refs.add(node.name)
    return replace(node, ty=ty)


def _item_field(node: ast.ItemField, s: _Scope) -> ast.ItemField:
    list_name = s.bound.get(node.var)
    if list_name is None:
        hint = did_you_mean(node.var, s.bound)
        raise ExprTypeError(
            f"{node.var!r} is not an item variable here (bind it with any/all/count or for_each){hint}",
            node.pos,
            code="E-UNKNOWN-FACT",
        )
    fields = s.vocabulary.list_fields[list_name]
    ty = fields.get(node.field_name)
    if ty is None:
        hint = did_you_mean(node.field_name, fields)
        raise ExprTypeError(f"items of {list_name!r} have no field {node.field_name!r}{hint}", node.pos, code="E-UNKNOWN-FACT")
    return replace(node, ty=ty)


def _negate(node: ast.Negate, s: _Scope) -> ast.Negate:
    operand = _check(node.operand, s)
    ty = _num(operand, "'-'")
    return replace(node, operand=operand, ty=ty)


def _not(node: ast.Not, s: _Scope) -> ast.Not:
    operand = _check(node.operand, s)
    if ast.type_of(operand).kind != BOOLEAN:
        raise ExprTypeError(f"'not' needs a condition, but {ast.to_source(operand)!r} is a {operand.ty}", node.pos)
    return replace(node, operand=operand, ty=BOOL_T)


def _arith(node: ast.Arith, s: _Scope) -> ast.Arith:
    left, right = _check(node.left, s), _check(node.right, s)
    lt, rt = _num(left, f"'{node.op}'"), _num(right, f"'{node.op}'")
    unit = ARITHMETIC[node.op].units(lt.number_unit, rt.number_unit)
    if unit is None:
        _same_units(left, right, f"'{node.op}'", node.pos)  # raises, naming both units
    return replace(node, left=left, right=right, ty=Type(NUMBER, unit))


def _comparable(left: ast.Expr, right: ast.Expr, op: str, pos: int) -> None:
    lt, rt = ast.type_of(left), ast.type_of(right)
    lk, rk = lt.kind, rt.kind
    if lk == NUMBER and rk == NUMBER:
        _same_units(left, right, f"comparison {op!r}", pos)
        return
    if lk == DATE and rk == DATE:
        return
    if op in ("==", "!="):
        for a, at, b, bt in ((left, lt, right, rt), (right, rt, left, lt)):
            if at.kind == ENUM and bt.kind in (STRING, ENUM):
                if isinstance(b, ast.String) and b.value not in at.enum_values:
                    hint = did_you_mean(b.value, at.enum_values)
                    raise ExprTypeError(
                        f"{b.value!r} is not a value of {ast.to_source(a)!r} (values: {', '.join(sorted(at.enum_values))}){hint}",
                        b.pos,
                        code="E-ENUM-VALUE",
                    )
                if bt.kind == ENUM and at.enum_values != bt.enum_values:
                    break
                return
        if lk == rk and lk in (STRING, BOOLEAN):
            return
    raise ExprTypeError(f"cannot compare {ast.to_source(left)!r} ({left.ty}) {op} {ast.to_source(right)!r} ({right.ty})", pos)


def _compare(node: ast.Compare, s: _Scope) -> ast.Compare:
    left, right = _check(node.left, s), _check(node.right, s)
    lk, rk = ast.type_of(left).kind, ast.type_of(right).kind
    if COMPARISONS[node.op].ordering and (lk not in (NUMBER, DATE) or rk not in (NUMBER, DATE)):
        raise ExprTypeError(
            f"{node.op!r} orders numbers or dates; {ast.to_source(left)!r} is a {left.ty} and {ast.to_source(right)!r} is a {right.ty}",
            node.pos,
        )
    _comparable(left, right, node.op, node.pos)
    return replace(node, left=left, right=right, ty=BOOL_T)


def _member(node: ast.Member, s: _Scope) -> ast.Member:
    operand = _check(node.operand, s)
    options = tuple(_check(o, s) for o in node.options)
    for option in options:
        _comparable(operand, option, "==", option.pos)
    return replace(node, operand=operand, options=options, ty=BOOL_T)


def _logic(node: ast.And | ast.Or, s: _Scope) -> ast.And | ast.Or:
    operands = tuple(_check(o, s) for o in node.operands)
    word = "and" if isinstance(node, ast.And) else "or"
    for o in operands:
        if ast.type_of(o).kind != BOOLEAN:
            raise ExprTypeError(f"'{word}' joins conditions, but {ast.to_source(o)!r} is a {o.ty}", o.pos)
    return replace(node, operands=operands, ty=BOOL_T)


def _call(node: ast.Call, s: _Scope) -> ast.Call:
    func = node.func
    function = FUNCTIONS.get(func)
    arity = len(function.params) if function is not None else SPECIAL_FORMS[func][0]
    if len(node.args) != arity:
        raise ExprTypeError(f"{func}() takes {arity} argument(s), got {len(node.args)}", node.pos)
    if func == "known":
        arg = node.args[0]
        if isinstance(arg, ast.Name):
            if arg.name not in s.vocabulary.types:
                _name(arg, s)
            s.refs.add(arg.name)
            typed: ast.Expr = replace(arg, ty=s.vocabulary.types[arg.name])
        elif isinstance(arg, ast.ItemField):
            typed = _item_field(arg, s)
        else:
            raise ExprTypeError("known() takes a fact name or an item field", arg.pos)
        return replace(node, args=(typed,), ty=BOOL_T)
    args = tuple(_check(a, s) for a in node.args)
    if func == "if":
        cond, a, b = args
        at, bt = ast.type_of(a), ast.type_of(b)
        if ast.type_of(cond).kind != BOOLEAN:
            raise ExprTypeError("the first argument of if() must be a condition", cond.pos)
        if at.kind != bt.kind:
            raise ExprTypeError(f"if() branches differ in type: {at} and {bt}", node.pos)
        if at.kind == NUMBER:
            unit = _same_units(a, b, "if()", node.pos)
            return replace(node, args=args, ty=Type(NUMBER, unit))
        return replace(node, args=args, ty=at)
    assert function is not None  # the parser admits only declared names
    for arg, kind in zip(args, function.params):
        if ast.type_of(arg).kind != kind:
            raise ExprTypeError(f"{func}() takes {kind}s, but {ast.to_source(arg)!r} is a {arg.ty}", arg.pos)
    if function.result == "days":
        return replace(node, args=args, ty=Type(NUMBER, "d"))
    # common_unit: the numeric arguments share one unit, which the result has
    numeric = [a for a, kind in zip(args, function.params) if kind == NUMBER]
    unit = ast.type_of(numeric[0]).number_unit
    for other in numeric[1:]:
        unit = _same_units(replace(numeric[0], ty=Type(NUMBER, unit)), other, f"{func}()", node.pos)
    return replace(node, args=args, ty=Type(NUMBER, unit))


def _quantifier(node: ast.Quantifier, s: _Scope) -> ast.Quantifier:
    ty = s.vocabulary.types.get(node.list_name)
    if ty is None:
        hint = did_you_mean(node.list_name, [n for n, t in s.vocabulary.types.items() if t.kind == LIST])
        raise ExprTypeError(f"unknown list fact {node.list_name!r}{hint}", node.pos, code="E-UNKNOWN-FACT")
    if ty.kind != LIST:
        raise ExprTypeError(f"{node.kind}() ranges over a list fact, but {node.list_name!r} is a {ty}", node.pos)
    s.refs.add(node.list_name)
    if node.condition is None or node.var is None:  # count(list): the parser sets both or neither
        return replace(node, ty=Type(NUMBER, DIMENSIONLESS, integer=True))
    if node.var in s.vocabulary.types:
        raise ExprTypeError(f"item variable {node.var!r} hides the fact of the same name; choose another", node.pos)
    outer = s.bound.get(node.var)
    s.bound[node.var] = node.list_name
    try:
        cond = _check(node.condition, s)
    finally:
        if outer is None:
            s.bound.pop(node.var, None)
        else:
            s.bound[node.var] = outer
    if ast.type_of(cond).kind != BOOLEAN:
        raise ExprTypeError(f"the 'where' part of {node.kind}() must be a condition", cond.pos)
    result = BOOL_T if node.kind in ("any", "all") else Type(NUMBER, DIMENSIONLESS, integer=True)
    return replace(node, condition=cond, ty=result)


#: each handler takes its own node class; Any because a Callable over the union would not admit them
_HANDLERS: Dict[type, Callable[[Any, _Scope], ast.Expr]] = {
    ast.Number: _literal,
    ast.String: _literal,
    ast.Boolean: _literal,
    ast.DateLiteral: _literal,
    ast.InspectionDate: lambda n, s: replace(n, ty=DATE_T),
    ast.Name: _name,
    ast.ItemField: _item_field,
    ast.Negate: _negate,
    ast.Not: _not,
    ast.Arith: _arith,
    ast.Compare: _compare,
    ast.Member: _member,
    ast.And: _logic,
    ast.Or: _logic,
    ast.Call: _call,
    ast.Quantifier: _quantifier,
}
