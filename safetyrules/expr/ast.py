"""The syntax tree of the condition language.

Nodes are immutable and keep ``pos``, the character offset in the expression text, so that a type
error can point at the exact place. The type checker returns a copy of the tree with ``ty`` filled in;
compiled rule sets and every backend only ever see checked trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Iterator, NewType, Optional, Tuple, Union, cast, get_args

from .types import Type


@dataclass(frozen=True)
class Node:
    pos: int = field(default=0, compare=False, kw_only=True)
    ty: Optional[Type] = field(default=None, compare=False, kw_only=True)


@dataclass(frozen=True)
class Number(Node):
    value: Fraction
    text: str
    percent: bool = False


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class DateLiteral(Node):
    value: date


@dataclass(frozen=True)
class InspectionDate(Node):
    """The record's inspection date."""


@dataclass(frozen=True)
class Name(Node):
    """A fact or derived fact, or (inside a quantifier / for_each) a bound item variable."""

    name: str


@dataclass(frozen=True)
class ItemField(Node):
    """``crane.load_moment_pct``: a field of the item bound to ``var``."""

    var: str
    field_name: str


@dataclass(frozen=True)
class Negate(Node):
    operand: "Expr"


@dataclass(frozen=True)
class Not(Node):
    operand: "Expr"


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - * /
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Compare(Node):
    op: str  # < <= > >= == !=
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Member(Node):
    """``x in [a, b]`` (or ``not in`` when ``negated``); the list holds literals only."""

    operand: "Expr"
    options: Tuple["Expr", ...]
    negated: bool = False


@dataclass(frozen=True)
class And(Node):
    operands: Tuple["Expr", ...]


@dataclass(frozen=True)
class Or(Node):
    operands: Tuple["Expr", ...]


@dataclass(frozen=True)
class Call(Node):
    """Built-in functions: known, if, min, max, abs, days_between."""

    func: str
    args: Tuple["Expr", ...]


@dataclass(frozen=True)
class Quantifier(Node):
    """``any(c in cranes where cond)``, ``all(...)``, ``count(...)``; ``count(cranes)`` has no var/cond."""

    kind: str  # any | all | count
    var: Optional[str]
    list_name: str
    condition: Optional["Expr"]


Expr = Union[
    Number,
    String,
    Boolean,
    DateLiteral,
    InspectionDate,
    Name,
    ItemField,
    Negate,
    Not,
    Arith,
    Compare,
    Member,
    And,
    Or,
    Call,
    Quantifier,
]

#: an expression as the type checker returns it: every node's ``ty`` set. Only
#: ``safetyrules.expr.typecheck`` makes one; the IR and the backends take nothing else, so that passing
#: a parsed (unchecked) tree where a checked one is expected is a type error, not a runtime surprise.
CheckedExpr = NewType("CheckedExpr", Node)

_EXPR_CLASSES: Tuple[type, ...] = get_args(Expr)


def type_of(node: Node) -> Type:
    """A checked node's type. ``ty`` is optional only because the parser makes nodes before the checker
    types them; code after the checker reads it here, so that an unchecked tree reaching it is an
    internal error naming the expression, not an ``AttributeError`` on ``None``."""
    if node.ty is None:
        raise TypeError(f"internal error: {to_source(node)!r} (at {node.pos}) was not type-checked")
    return node.ty


def as_expr(node: Node) -> Expr:
    """A node as the ``Expr`` union, for the data model's fields that hold a checked tree in the
    parsed tree's type (the compiler puts checked trees back into the rules it compiles)."""
    if not isinstance(node, _EXPR_CLASSES):
        raise TypeError(f"internal error: not an expression node: {node!r}")
    return cast(Expr, node)  # the isinstance test above, over the union's own members


def children(node: Node) -> Tuple[Node, ...]:
    """The direct sub-expressions of a node, in source order."""
    if isinstance(node, (Negate, Not)):
        return (node.operand,)
    if isinstance(node, (Arith, Compare)):
        return (node.left, node.right)
    if isinstance(node, Member):
        return (node.operand,) + tuple(node.options)
    if isinstance(node, (And, Or)):
        return tuple(node.operands)
    if isinstance(node, Call):
        return tuple(node.args)
    if isinstance(node, Quantifier):
        return (node.condition,) if node.condition is not None else ()
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)


def source_of(node: Node) -> str:
    """``to_source``, remembered on the (immutable) node: evidence asks for the same texts often."""
    cached = node.__dict__.get("_source")
    if cached is None:
        cached = to_source(node)
        object.__setattr__(node, "_source", cached)
    return cached


def to_source(node: Node) -> str:
    """Canonical text of an expression (used in evidence, traces and checklists)."""
    if isinstance(node, Number):
        return node.text
    if isinstance(node, String):
        return "'" + node.value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, DateLiteral):
        return f"date('{node.value.isoformat()}')"
    if isinstance(node, InspectionDate):
        return "inspection_date"
    if isinstance(node, Name):
        return node.name
    if isinstance(node, ItemField):
        return f"{node.var}.{node.field_name}"
    if isinstance(node, Negate):
        return f"-{_paren(node.operand)}"
    if isinstance(node, Not):
        return f"not {_paren(node.operand)}"
    if isinstance(node, Arith):
        return f"{_paren(node.left)} {node.op} {_paren(node.right)}"
    if isinstance(node, Compare):
        return f"{to_source(node.left)} {node.op} {to_source(node.right)}"
    if isinstance(node, Member):
        opts = ", ".join(to_source(o) for o in node.options)
        return f"{to_source(node.operand)} {'not in' if node.negated else 'in'} [{opts}]"
    if isinstance(node, And):
        return " and ".join(_paren(o) for o in node.operands)
    if isinstance(node, Or):
        return " or ".join(_paren(o) for o in node.operands)
    if isinstance(node, Call):
        return f"{node.func}({', '.join(to_source(a) for a in node.args)})"
    if isinstance(node, Quantifier):
        if node.var is None or node.condition is None:  # count(list): the parser sets both or neither
            return f"{node.kind}({node.list_name})"
        return f"{node.kind}({node.var} in {node.list_name} where {to_source(node.condition)})"
    raise TypeError(f"not an expression node: {node!r}")


def _paren(node: Node) -> str:
    text = to_source(node)
    if isinstance(node, (And, Or, Arith, Compare, Member, Not)):
        return f"({text})"
    return text
