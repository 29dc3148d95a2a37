"""The condition language: parser, syntax tree, static types and type checker."""

from .ast import Expr, to_source, walk
from .parser import ExprSyntaxError, parse
from .typecheck import ExprTypeError, Vocabulary, check, check_condition
from .types import Type

__all__ = [
    "Expr",
    "ExprSyntaxError",
    "ExprTypeError",
    "Type",
    "Vocabulary",
    "check",
    "check_condition",
    "parse",
    "to_source",
    "walk",
]
