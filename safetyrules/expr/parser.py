"""Parser of the condition language: text -> syntax tree with source offsets.

A hand-written recursive-descent parser: the grammar is small, and this way every error says what
was expected at which character, which a standards author can act on. Precedence, loosest first:
``or``, ``and``, ``not``, comparison / ``in``, ``+ -``, ``* /``, unary ``-``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import List, NamedTuple, Optional

from . import ast
from .language import ARITHMETIC, CALLABLE_NAMES, COMPARISONS, arithmetic_levels

MAX_EXPRESSION_LENGTH = 20_000
MAX_NESTING = 60


class ExprSyntaxError(Exception):
    """An expression that cannot be parsed; ``pos`` is the offset of the offending character."""

    def __init__(self, message: str, pos: int):
        self.message = message
        self.pos = pos
        super().__init__(f"{message} (at character {pos + 1})")


class Token(NamedTuple):
    kind: str
    text: str
    pos: int


KEYWORDS = {"and", "or", "not", "in", "where", "true", "false"}
FUNCTIONS = CALLABLE_NAMES
QUANTIFIERS = {"any", "all", "count"}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>{operators})
    """.format(
        # the language's operator symbols (longest first, so that <= is not read as <) and punctuation
        operators="|".join(
            re.escape(s) for s in sorted({*COMPARISONS, *ARITHMETIC, "(", ")", "[", "]", ",", "."}, key=len, reverse=True)
        )
    ),
    re.VERBOSE,
)
#: arithmetic symbols by binding strength, loosest first
_LEVELS = arithmetic_levels()


def tokenize(text: str) -> List[Token]:
    tokens: List[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            ch = text[pos]
            hint = " (use == for equality)" if ch == "=" else ""
            hint = " (strings use single quotes)" if ch in "‘’“”" else hint
            raise ExprSyntaxError(f"unexpected character {ch!r}{hint}", pos)
        kind = m.lastgroup or ""  # every alternative of _TOKEN_RE is a named group
        if kind == "ident" and m.group() in KEYWORDS:
            kind = m.group()
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def parse(text: str) -> ast.Expr:
    """Parse an expression; raises :class:`ExprSyntaxError`."""
    if not isinstance(text, str):
        raise ExprSyntaxError("an expression must be text", 0)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExprSyntaxError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters", 0)
    if not text.strip():
        raise ExprSyntaxError("empty expression", 0)
    parser = _Parser(tokenize(text))
    node = parser.expression()
    parser.expect("end", "end of expression")
    deepest = _depth(node)
    if deepest > MAX_NESTING:
        raise ExprSyntaxError(
            f"expression nested {deepest} levels deep (each + - * / in a chain is one level); the limit is {MAX_NESTING}: "
            "split it into derived facts",
            0,
        )
    return node


def _depth(node: ast.Node) -> int:
    """The depth of a syntax tree, without recursion (``a + b + c ...`` is one level per term)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        if d > deepest:
            deepest = d
        stack.extend((child, d + 1) for child in ast.children(n))
    return deepest


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, tokens: List[Token]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, text: Optional[str] = None) -> Optional[Token]:
        tok = self.tok
        if tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, what: str, text: Optional[str] = None) -> Token:
        tok = self.accept(kind, text)
        if tok is None:
            found = "end of expression" if self.tok.kind == "end" else repr(self.tok.text)
            raise ExprSyntaxError(f"expected {what}, found {found}", self.tok.pos)
        return tok

    def _enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExprSyntaxError(f"expression nested deeper than {MAX_NESTING} levels", pos)

    def expression(self) -> ast.Expr:
        self._enter(self.tok.pos)
        try:
            return self.or_expr()
        finally:
            self.depth -= 1

    def or_expr(self) -> ast.Expr:
        first = self.and_expr()
        operands = [first]
        while self.accept("or"):
            operands.append(self.and_expr())
        return first if len(operands) == 1 else ast.Or(tuple(operands), pos=first.pos)

    def and_expr(self) -> ast.Expr:
        first = self.not_expr()
        operands = [first]
        while self.accept("and"):
            operands.append(self.not_expr())
        return first if len(operands) == 1 else ast.And(tuple(operands), pos=first.pos)

    def not_expr(self) -> ast.Expr:
        tok = self.accept("not")
        if tok:
            self._enter(tok.pos)
            try:
                return ast.Not(self.not_expr(), pos=tok.pos)
            finally:
                self.depth -= 1
        return self.comparison()

    def comparison(self) -> ast.Expr:
        left = self.additive()
        tok = self.tok
        if tok.kind == "op" and tok.text in COMPARISONS:
            self.advance()
            right = self.additive()
            node = ast.Compare(tok.text, left, right, pos=tok.pos)
            nxt = self.tok
            if nxt.kind == "op" and nxt.text in COMPARISONS:
                raise ExprSyntaxError("comparisons cannot be chained; join them with 'and'", nxt.pos)
            return node
        if tok.kind == "in" or (tok.kind == "not" and self.tokens[self.i + 1].kind == "in"):
            negated = tok.kind == "not"
            self.advance()
            if negated:
                self.advance()
            self.expect("op", "'[' starting a list of values", "[")
            options = []
            if not self.accept("op", "]"):
                while True:
                    options.append(self.literal())
                    if self.accept("op", "]"):
                        break
                    self.expect("op", "',' or ']'", ",")
            if not options:
                raise ExprSyntaxError("an 'in' list needs at least one value", tok.pos)
            return ast.Member(left, tuple(options), negated, pos=tok.pos)
        return left

    def literal(self) -> ast.Expr:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return ast.String(_unescape(tok.text[1:-1]), pos=tok.pos)
        if tok.kind == "number" or (tok.kind == "op" and tok.text == "-"):
            node = self.unary()
            if isinstance(node, ast.Number):
                return node
        if tok.kind in ("true", "false"):
            self.advance()
            return ast.Boolean(tok.kind == "true", pos=tok.pos)
        raise ExprSyntaxError("expected a literal value (number, 'text', true or false)", tok.pos)

    def additive(self) -> ast.Expr:
        return self.arithmetic(0)

    def arithmetic(self, level: int) -> ast.Expr:
        """Left-associative infix arithmetic, one precedence level of the language table at a time."""
        if level == len(_LEVELS):
            return self.unary()
        node = self.arithmetic(level + 1)
        while self.tok.kind == "op" and self.tok.text in _LEVELS[level]:
            tok = self.advance()
            node = ast.Arith(tok.text, node, self.arithmetic(level + 1), pos=tok.pos)
        return node

    def unary(self) -> ast.Expr:
        tok = self.accept("op", "-")
        if tok:
            self._enter(tok.pos)
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            if isinstance(operand, ast.Number):
                return ast.Number(-operand.value, "-" + operand.text, operand.percent, pos=tok.pos)
            return ast.Negate(operand, pos=tok.pos)
        return self.primary()

    def primary(self) -> ast.Expr:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            text = tok.text
            percent = text.endswith("%")
            try:
                value = Fraction(Decimal(text[:-1] if percent else text))
            except (InvalidOperation, ValueError):
                raise ExprSyntaxError(f"bad number {text!r}", tok.pos) from None
            if abs(value) > 10**30:
                raise ExprSyntaxError(f"number {text!r} is too large", tok.pos)
            if percent:
                value = value / 100
            return ast.Number(value, text, percent, pos=tok.pos)
        if tok.kind == "string":
            self.advance()
            return ast.String(_unescape(tok.text[1:-1]), pos=tok.pos)
        if tok.kind in ("true", "false"):
            self.advance()
            return ast.Boolean(tok.kind == "true", pos=tok.pos)
        if tok.kind == "op" and tok.text == "(":
            self.advance()
            node = self.expression()
            self.expect("op", "')'", ")")
            return node
        if tok.kind == "ident":
            self.advance()
            name = tok.text
            if self.tok.kind == "op" and self.tok.text == "(":
                return self.call(name, tok.pos)
            if self.accept("op", "."):
                field_tok = self.expect("ident", "a field name after '.'")
                return ast.ItemField(name, field_tok.text, pos=tok.pos)
            if name == "inspection_date":
                return ast.InspectionDate(pos=tok.pos)
            return ast.Name(name, pos=tok.pos)
        found = "end of expression" if tok.kind == "end" else repr(tok.text)
        raise ExprSyntaxError(f"expected a value, a fact name or '(', found {found}", tok.pos)

    def call(self, name: str, pos: int) -> ast.Expr:
        self.expect("op", "'('", "(")
        if name in QUANTIFIERS:
            return self.quantifier(name, pos)
        if name not in FUNCTIONS:
            from ..errors import did_you_mean

            raise ExprSyntaxError(f"unknown function {name!r}{did_you_mean(name, FUNCTIONS | QUANTIFIERS)}", pos)
        if name == "date":
            arg = self.expect("string", "a date in quotes, e.g. date('2026-07-01')")
            self.expect("op", "')'", ")")
            try:
                value = date.fromisoformat(_unescape(arg.text[1:-1]))
            except ValueError:
                raise ExprSyntaxError(f"{arg.text} is not a date (YYYY-MM-DD)", arg.pos) from None
            return ast.DateLiteral(value, pos=pos)
        args = []
        if not self.accept("op", ")"):
            while True:
                args.append(self.expression())
                if self.accept("op", ")"):
                    break
                self.expect("op", "',' or ')'", ",")
        return ast.Call(name, tuple(args), pos=pos)

    def quantifier(self, kind: str, pos: int) -> ast.Expr:
        first = self.expect("ident", "a list fact, or 'item in list where condition'")
        if self.accept("op", ")"):
            if kind != "count":
                raise ExprSyntaxError(f"{kind}() needs 'item in list where condition'", first.pos)
            return ast.Quantifier("count", None, first.text, None, pos=pos)
        self.expect("in", "'in'")
        list_tok = self.expect("ident", "a list fact name")
        self.expect("where", "'where'")
        condition = self.expression()
        self.expect("op", "')'", ")")
        return ast.Quantifier(kind, first.text, list_tok.text, condition, pos=pos)
