"""Hand-written Pratt parser for FEEL expressions and unary tests (DMN 1.5 chapter 10).

Precedence, lowest first (spec table "operator precedence"): `for`/`if`/`some`/`every`/function
definition, `or`, `and`, comparison (`= != < <= > >= between in instance of`), `+ -`, `* /`,
`**`, arithmetic negation, then path, filter and invocation. `instance of` is parsed at the
comparison level, so `a + 1 instance of number` tests the sum.

Names with spaces or the extra name symbols (`. / - ' + *`) are recognised when they are known in
scope: the `names` given by the caller, built-in function names, keys of an enclosing literal
context, function parameters and iteration variables. Unknown runs of plain words separated by
spaces are also joined into one name (`Applicant Age`), since two adjacent names are never valid
FEEL otherwise. Nesting depth is bounded by `Limits.max_depth` (FeelLimitError).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from flowdesk.feel import ast
from flowdesk.feel.errors import FeelLimitError, FeelSyntaxError
from flowdesk.feel.lexer import EOF, KEYWORDS, NAME, NUMBER, OP, STRING, Token, tokenize
from flowdesk.feel.runtime import Limits
from flowdesk.feel.types import FeelType, parse_type_tokens

# Multi-word names of the spec's built-in functions and properties, known even before the
# built-ins module is importable.
SPEC_MULTI_WORD_NAMES: tuple[str, ...] = (
    "date and time",
    "years and months duration",
    "days and time duration",
    "string length",
    "upper case",
    "lower case",
    "substring before",
    "substring after",
    "starts with",
    "ends with",
    "list contains",
    "list replace",
    "insert before",
    "index of",
    "distinct values",
    "get value",
    "get entries",
    "get or else",
    "context put",
    "context merge",
    "string join",
    "day of year",
    "day of week",
    "month of year",
    "week of year",
    "round up",
    "round down",
    "round half up",
    "round half down",
    "met by",
    "overlaps before",
    "overlaps after",
    "finished by",
    "started by",
    "is defined",
    "time offset",
    "start included",
    "end included",
)

_INFIX_BP: dict[str, int] = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "between": 3,
    "in": 3,
    "instance": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "**": 6,
}
_COMPARISON_LEVEL = 3
_NEGATION_BP = 7
_COMPARE_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_RANGE_OPS = frozenset({"<", "<=", ">", ">=", "=", "!="})
_NAME_SYMBOLS = frozenset({".", "/", "-", "'", "+", "*"})

Parts = tuple[tuple[str, bool], ...]
NameIndex = dict[str, list[tuple[Parts, str]]]


@lru_cache(maxsize=8192)
def name_parts(name: str) -> Parts | None:
    """Token values of `name` with a flag telling whether whitespace precedes each one."""
    try:
        toks = tokenize(name)[:-1]
    except FeelSyntaxError:
        return None
    if not toks:
        return None
    return tuple((t.value, i > 0 and t.start > toks[i - 1].end) for i, t in enumerate(toks))


def _add_to_index(index: NameIndex, name: str) -> tuple[str, tuple[Parts, str]] | None:
    parts = name_parts(name)
    if parts is None or len(parts) < 2:
        return None
    entry = (parts, name)
    bucket = index.setdefault(parts[0][0], [])
    bucket.append(entry)
    bucket.sort(key=lambda e: len(e[0]), reverse=True)
    return parts[0][0], entry


_GLOBAL_INDEX: NameIndex | None = None


def _global_index() -> NameIndex:
    """Index of multi-word built-in names (spec list plus BUILTINS keys once importable)."""
    global _GLOBAL_INDEX
    if _GLOBAL_INDEX is not None:
        return _GLOBAL_INDEX
    names = set(SPEC_MULTI_WORD_NAMES)
    complete = True
    try:
        from flowdesk.feel.builtins import BUILTINS

        names.update(BUILTINS)
    except Exception:  # built-ins not importable (yet): the spec list is enough to parse
        complete = False
    index: NameIndex = {}
    for name in sorted(names):
        _add_to_index(index, name)
    if complete:
        _GLOBAL_INDEX = index
    return index


@lru_cache(maxsize=256)
def _names_index(names: frozenset[str]) -> NameIndex:
    """Index of the caller's multi-word names; shared by every text compiled with them."""
    index: NameIndex = {}
    for name in names:
        parts = name_parts(name)
        if parts is not None and len(parts) > 1:
            index.setdefault(parts[0][0], []).append((parts, name))
    for bucket in index.values():
        bucket.sort(key=lambda e: len(e[0]), reverse=True)
    return index


def normalize_name(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.strip())


class Parser:
    """Parses one FEEL text. Use `parse_expression()` or `parse_unary_tests()` once."""

    def __init__(self, text: str, names: Iterable[str] = (), limits: Limits | None = None):
        limits = limits or Limits()
        self.text = text
        self.tokens: list[Token] = tokenize(text, max_string=limits.max_string)
        self.i = 0
        self.max_depth = limits.max_depth
        self.depth = 0
        self.no_filter = False
        self.global_index = _global_index()
        self.names_index = _names_index(names if isinstance(names, frozenset) else frozenset(names))
        self.index: NameIndex = {}  # names bound inside the text (context keys, parameters)

    # -- helpers -----------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def at(self, value: str) -> bool:
        tok = self.tokens[self.i]
        return tok.value == value and (tok.kind == OP or tok.kind == NAME)

    def error(self, expected: str, tok: Token | None = None) -> FeelSyntaxError:
        tok = tok or self.tok
        return FeelSyntaxError(
            f"expected {expected}, found {tok.describe()}",
            text=self.text,
            line=tok.line,
            column=tok.column,
        )

    def expect(self, value: str, what: str | None = None) -> Token:
        if not self.at(value):
            raise self.error(what or f"'{value}'")
        tok = self.tok
        self.i += 1
        return tok

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise FeelLimitError(
                f"expression nested deeper than the limit of {self.max_depth} levels "
                f"(line {self.tok.line}, column {self.tok.column})"
            )

    def push_names(self, names: Iterable[str]) -> list[tuple[str, tuple[Parts, str]]]:
        added = []
        for name in names:
            entry = _add_to_index(self.index, name)
            if entry is not None:
                added.append(entry)
        return added

    def pop_names(self, added: list[tuple[str, tuple[Parts, str]]]) -> None:
        for first, entry in added:
            self.index[first].remove(entry)

    def _match_known(self, index: NameIndex) -> tuple[str, int] | None:
        tok = self.tok
        for parts, name in index.get(tok.value, ()):
            j = self.i
            ok = True
            for k, (value, gap) in enumerate(parts):
                t = self.tokens[j]
                if t.kind == EOF or t.kind == STRING or t.value != value:
                    ok = False
                    break
                if k > 0 and (t.start > self.tokens[j - 1].end) != gap:
                    ok = False
                    break
                j += 1
            if ok:
                return name, j
        return None

    def match_name(self, allow_keywords: bool = False) -> str | None:
        """Consume a (possibly multi-word) name at the current token, or return None."""
        tok = self.tok
        if tok.kind != NAME:
            return None
        found = (
            self._match_known(self.index)
            or self._match_known(self.names_index)
            or self._match_known(self.global_index)
        )
        if found is not None:
            self.i = found[1]
            return found[0]
        if tok.value in KEYWORDS and not allow_keywords:
            return None
        words = [tok.value]
        j = self.i + 1
        while True:
            t = self.tokens[j]
            if t.kind != NAME or t.start == self.tokens[j - 1].end:
                break
            # `of` only has a meaning after `instance`, so "Level of risk" is one name.
            if t.value in KEYWORDS and (t.value != "of" or words[-1] == "instance"):
                break
            words.append(t.value)
            j += 1
        self.i = j
        return " ".join(words)

    def _label(self, stops: frozenset[str]) -> str | None:
        """A key or parameter name: a string literal or the raw words/symbols before a stop."""
        tok = self.tok
        if tok.kind == STRING:
            self.i += 1
            return tok.value
        start = self.i
        while True:
            t = self.tokens[self.i]
            if t.kind == NAME or (t.kind == OP and t.value in _NAME_SYMBOLS):
                if t.kind == OP and t.value in stops:
                    break
                self.i += 1
                continue
            break
        if self.i == start:
            return None
        raw = self.text[self.tokens[start].start : self.tokens[self.i - 1].end]
        return normalize_name(raw)

    # -- entry points ------------------------------------------------------------------------

    def parse_expression(self) -> ast.Node:
        node = self.parse_expr(0)
        if self.tok.kind != EOF:
            raise self.error("an operator or end of expression")
        return node

    def parse_unary_tests(self) -> ast.Node:
        tok = self.tok
        if tok.kind == EOF:
            # An empty input entry is read as `-` (what modelling tools write for "any").
            return ast.AnyInput(tok.line, tok.column)
        if tok.kind == OP and tok.value == "-" and self.peek().kind == EOF:
            return ast.AnyInput(tok.line, tok.column)
        if tok.kind == NAME and tok.value == "not" and self.peek().value == "(":
            saved = self.i
            try:
                self.i += 2
                tests = self._positive_tests()
                self.expect(")")
                if self.tok.kind == EOF:
                    return ast.UnaryTests(tok.line, tok.column, tuple(tests), True)
            except FeelSyntaxError:
                pass
            self.i = saved
        tests = self._positive_tests()
        if self.tok.kind != EOF:
            raise self.error("',' or end of unary tests")
        return ast.UnaryTests(tok.line, tok.column, tuple(tests), False)

    def _positive_tests(self) -> list[ast.Node]:
        tests = [self.positive_test(0)]
        while self.at(","):
            self.i += 1
            tests.append(self.positive_test(0))
        return tests

    def positive_test(self, min_bp: int) -> ast.Node:
        tok = self.tok
        if tok.kind == OP and tok.value in _COMPARE_OPS:
            self.i += 1
            endpoint = self.parse_expr(_COMPARISON_LEVEL)
            return ast.UnaryCompare(tok.line, tok.column, tok.value, endpoint)
        return self.parse_expr(min_bp)

    # -- Pratt core --------------------------------------------------------------------------

    def parse_expr(self, min_bp: int) -> ast.Node:
        self.enter()
        try:
            left = self.parse_prefix()
            while True:
                tok = self.tok
                if tok.kind != OP and tok.kind != NAME:
                    break
                bp = _INFIX_BP.get(tok.value)
                if bp is None or bp <= min_bp:
                    break
                if tok.kind == NAME and tok.value not in ("and", "or", "between", "in", "instance"):
                    break
                left = self.parse_infix(left, tok, bp)
            return left
        finally:
            self.depth -= 1

    def parse_infix(self, left: ast.Node, tok: Token, bp: int) -> ast.Node:
        op = tok.value
        line, col = left.line, left.column
        self.i += 1
        if op == "or":
            return ast.Or(line, col, left, self.parse_expr(bp))
        if op == "and":
            return ast.And(line, col, left, self.parse_expr(bp))
        if op in _COMPARE_OPS:
            return ast.Comparison(line, col, op, left, self.parse_expr(bp))
        if op == "between":
            low = self.parse_expr(bp)
            self.expect("and", "'and' after the lower bound of 'between'")
            high = self.parse_expr(bp)
            return ast.Between(line, col, left, low, high)
        if op == "in":
            return ast.In(line, col, left, self.in_tests())
        if op == "instance":
            self.expect("of", "'of' after 'instance'")
            ftype, self.i = parse_type_tokens(self.text, self.tokens, self.i)
            return ast.InstanceOf(line, col, left, ftype)
        return ast.Arithmetic(line, col, op, left, self.parse_expr(bp))

    def in_tests(self) -> tuple[ast.Node, ...]:
        """Right side of `in`: one positive unary test or a parenthesised list of them."""
        if not self.at("("):
            return (self.positive_test(_COMPARISON_LEVEL),)
        open_tok = self.tok
        saved_nf = self.no_filter
        self.no_filter = False
        self.i += 1
        try:
            first = self.positive_test(0)
            if self.at("..") and not isinstance(first, ast.UnaryCompare):
                self.i += 1
                first = self.finish_range(open_tok, first, False)
                return (first,)
            tests = [first]
            while self.at(","):
                self.i += 1
                tests.append(self.positive_test(0))
            self.expect(")", "',' or ')'")
            return tuple(tests)
        finally:
            self.no_filter = saved_nf

    def finish_range(self, open_tok: Token, start: ast.Node | None, included: bool) -> ast.Node:
        """After `start ..`: parse the end point and the closing bracket."""
        saved = self.no_filter
        self.no_filter = True
        try:
            end = self.parse_expr(0)
        finally:
            self.no_filter = saved
        tok = self.tok
        if tok.kind == OP and tok.value in ("]", "[", ")"):
            self.i += 1
            return ast.RangeLiteral(
                open_tok.line, open_tok.column, start, end, included, tok.value == "]"
            )
        raise self.error("']', '[' or ')' to close the range")

    def parse_prefix(self) -> ast.Node:
        tok = self.tok
        kind = tok.kind
        if kind == NUMBER:
            self.i += 1
            assert tok.number is not None
            return self.postfix(ast.Number(tok.line, tok.column, tok.number))
        if kind == STRING:
            self.i += 1
            return self.postfix(ast.String(tok.line, tok.column, tok.value))
        if kind == NAME:
            return self.postfix(self.name_or_keyword(tok))
        if kind == EOF:
            raise self.error("an expression")
        op = tok.value
        if op == "-":
            self.i += 1
            operand = self.parse_expr(_NEGATION_BP)
            if isinstance(operand, ast.Number) and operand.value.is_finite():
                return ast.Number(tok.line, tok.column, -operand.value)
            return ast.Negation(tok.line, tok.column, operand)
        if op == "@":
            self.i += 1
            lit = self.tok
            if lit.kind != STRING:
                raise self.error("a string literal after '@'")
            self.i += 1
            return self.postfix(ast.Temporal(tok.line, tok.column, lit.value))
        if op in _RANGE_OPS:
            self.i += 1
            endpoint = self.parse_expr(_COMPARISON_LEVEL)
            if op in ("<", "<="):
                return ast.RangeLiteral(tok.line, tok.column, None, endpoint, False, op == "<=")
            if op in (">", ">="):
                return ast.RangeLiteral(tok.line, tok.column, endpoint, None, op == ">=", False)
            # DMN 1.5 rule 7.a adds "=" and "!=": both endpoints are the operand, included for
            # "=" and excluded for "!=" (as a value it only carries the range properties).
            return ast.RangeLiteral(tok.line, tok.column, endpoint, endpoint, op == "=", op == "=")
        if op in ("(", "[", "]", "{"):
            saved = self.no_filter
            self.no_filter = False
            try:
                node = self.group(tok)
            finally:
                self.no_filter = saved
            return self.postfix(node)
        raise self.error("an expression")

    def group(self, tok: Token) -> ast.Node:
        op = tok.value
        self.i += 1
        if op == "(":
            inner = self.parse_expr(0)
            if self.at(".."):
                self.i += 1
                return self.finish_range(tok, inner, False)
            self.expect(")", "')'")
            return inner
        if op == "]":
            start = self.parse_expr(0)
            self.expect("..", "'..' in range")
            return self.finish_range(tok, start, False)
        if op == "[":
            if self.at("]"):
                self.i += 1
                return ast.ListLiteral(tok.line, tok.column, ())
            first = self.parse_expr(0)
            if self.at(".."):
                self.i += 1
                return self.finish_range(tok, first, True)
            items = [first]
            while self.at(","):
                self.i += 1
                items.append(self.parse_expr(0))
            self.expect("]", "',' or ']'")
            return ast.ListLiteral(tok.line, tok.column, tuple(items))
        return self.context(tok)

    def context(self, tok: Token) -> ast.Node:
        entries: list[tuple[str, ast.Node]] = []
        added: list[tuple[str, tuple[Parts, str]]] = []
        try:
            if self.at("}"):
                self.i += 1
                return ast.ContextLiteral(tok.line, tok.column, ())
            while True:
                key = self._label(frozenset())
                if key is None:
                    raise self.error("a context key (name or string)")
                # A duplicate key is not a syntax error: the context evaluates to null
                # (10.3.2.6, "keys must be unique"; the compiler reports it at run time).
                self.expect(":", "':' after context key")
                added.extend(self.push_names([key]))
                entries.append((key, self.parse_expr(0)))
                if self.at(","):
                    self.i += 1
                    continue
                self.expect("}", "',' or '}'")
                return ast.ContextLiteral(tok.line, tok.column, tuple(entries))
        finally:
            self.pop_names(added)

    def name_or_keyword(self, tok: Token) -> ast.Node:
        word = tok.value
        if (
            word in KEYWORDS
            and self._match_known(self.index) is None
            and self._match_known(self.names_index) is None
        ):
            if word == "true" or word == "false":
                self.i += 1
                return ast.Boolean(tok.line, tok.column, word == "true")
            if word == "null":
                self.i += 1
                return ast.Null(tok.line, tok.column)
            if word == "if":
                self.i += 1
                cond = self.parse_expr(0)
                self.expect("then", "'then'")
                then = self.parse_expr(0)
                self.expect("else", "'else'")
                otherwise = self.parse_expr(0)
                return ast.If(tok.line, tok.column, cond, then, otherwise)
            if word == "for":
                return self.for_expression(tok)
            if word == "some" or word == "every":
                return self.quantified(tok)
            if word == "function":
                return self.function_definition(tok)
            raise self.error("an expression")
        name = self.match_name()
        if name is None:
            raise self.error("a name")
        return ast.Name(tok.line, tok.column, name)

    def iterations(self) -> tuple[list[ast.Iteration], list[tuple[str, tuple[Parts, str]]]]:
        iters: list[ast.Iteration] = []
        added: list[tuple[str, tuple[Parts, str]]] = []
        while True:
            tok = self.tok
            name = self.match_name()
            if name is None:
                raise self.error("an iteration variable name")
            self.expect("in", "'in'")
            domain = self.parse_expr(0)
            end = None
            if self.at(".."):
                self.i += 1
                end = self.parse_expr(0)
            iters.append(ast.Iteration(tok.line, tok.column, name, domain, end))
            added.extend(self.push_names([name]))
            if not self.at(","):
                return iters, added
            self.i += 1

    def for_expression(self, tok: Token) -> ast.Node:
        self.i += 1
        iters, added = self.iterations()
        try:
            self.expect("return", "',' or 'return'")
            body = self.parse_expr(0)
        finally:
            self.pop_names(added)
        return ast.For(tok.line, tok.column, tuple(iters), body)

    def quantified(self, tok: Token) -> ast.Node:
        self.i += 1
        iters, added = self.iterations()
        try:
            self.expect("satisfies", "',' or 'satisfies'")
            cond = self.parse_expr(0)
        finally:
            self.pop_names(added)
        return ast.Quantified(tok.line, tok.column, tok.value == "every", tuple(iters), cond)

    def function_definition(self, tok: Token) -> ast.Node:
        self.i += 1
        self.expect("(", "'(' after 'function'")
        params: list[tuple[str, FeelType | None]] = []
        if not self.at(")"):
            while True:
                name = self._label(frozenset())
                if name is None:
                    raise self.error("a parameter name")
                ptype = None
                if self.at(":"):
                    self.i += 1
                    ptype, self.i = parse_type_tokens(self.text, self.tokens, self.i)
                params.append((name, ptype))
                if self.at(","):
                    self.i += 1
                    continue
                break
        self.expect(")", "',' or ')'")
        external_tok = self.tok if self.at("external") else None
        if external_tok is not None:
            self.i += 1
        added = self.push_names([p for p, _ in params])
        try:
            body = self.parse_expr(0)
        finally:
            self.pop_names(added)
        if external_tok is not None:
            raise FeelSyntaxError(
                "external functions are not supported",
                text=self.text,
                line=external_tok.line,
                column=external_tok.column,
                hint="Flowdesk FEEL is sandboxed: define the function in FEEL or as a BKM",
            )
        return ast.FunctionDefinition(
            tok.line,
            tok.column,
            tuple(params),
            body,
        )

    def postfix(self, node: ast.Node) -> ast.Node:
        while True:
            tok = self.tok
            if tok.kind != OP:
                return node
            op = tok.value
            if op == ".":
                self.i += 1
                name_tok = self.tok
                name = self.match_name(allow_keywords=True)
                if name is None:
                    raise self.error("a name after '.'")
                node = ast.Path(name_tok.line, name_tok.column, node, name)
            elif op == "[":
                if self.no_filter:
                    return node
                self.i += 1
                cond = self.parse_expr(0)
                self.expect("]", "']' to close the filter")
                node = ast.Filter(tok.line, tok.column, node, cond)
            elif op == "(":
                self.i += 1
                outer: bool = self.no_filter
                self.no_filter = False
                try:
                    node = self.call(node, tok)
                finally:
                    self.no_filter = outer
            else:
                return node

    def _is_named_argument(self) -> bool:
        j = self.i
        while True:
            t = self.tokens[j]
            if t.kind == NAME or (t.kind == OP and t.value in _NAME_SYMBOLS):
                j += 1
                continue
            break
        t = self.tokens[j]
        return j > self.i and t.kind == OP and t.value == ":"

    def call(self, function: ast.Node, tok: Token) -> ast.Node:
        line, col = function.line, function.column
        if self.at(")"):
            self.i += 1
            return ast.Call(line, col, function, (), None)
        if self._is_named_argument():
            named: list[tuple[str, ast.Node]] = []
            while True:
                name_tok = self.tok
                name = self._label(frozenset())
                if name is None:
                    raise self.error("a parameter name")
                if any(n == name for n, _ in named):
                    raise FeelSyntaxError(
                        f"parameter '{name}' given twice",
                        text=self.text,
                        line=name_tok.line,
                        column=name_tok.column,
                    )
                self.expect(":", "':' after the parameter name")
                named.append((name, self.parse_expr(0)))
                if self.at(","):
                    self.i += 1
                    continue
                self.expect(")", "',' or ')'")
                return ast.Call(line, col, function, (), tuple(named))
        args = [self.parse_expr(0)]
        while self.at(","):
            self.i += 1
            args.append(self.parse_expr(0))
        self.expect(")", "',' or ')'")
        return ast.Call(line, col, function, tuple(args), None)


def parse_expression(
    text: str, names: Iterable[str] = (), limits: Limits | None = None
) -> ast.Node:
    """Parse a FEEL expression. Raises FeelSyntaxError or FeelLimitError (never RecursionError)."""
    try:
        return Parser(text, names, limits).parse_expression()
    except RecursionError:
        raise FeelLimitError("expression nested too deeply") from None


def parse_unary_tests(
    text: str, names: Iterable[str] = (), limits: Limits | None = None
) -> ast.Node:
    """Parse DMN unary tests (`-`, `< 10`, `"a", "b"`, `not(...)`, or any expression)."""
    try:
        return Parser(text, names, limits).parse_unary_tests()
    except RecursionError:
        raise FeelLimitError("expression nested too deeply") from None


__all__ = ["Parser", "parse_expression", "parse_unary_tests"]
