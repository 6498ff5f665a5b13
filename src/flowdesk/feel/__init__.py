"""FEEL (DMN 1.5 chapter 10): lexer, parser, compiler to closures, built-ins. Pure, sandboxed.

Public API::

    compile_expression(text, *, names=()) -> CompiledExpression   # .evaluate(context, env)
    compile_unary_tests(text, *, names=()) -> CompiledUnaryTests   # .matches(input, context, env)
    evaluate(text, context=None, *, env=None) -> value

Compiled forms are cached by (text, names, limits). Evaluation never raises for runtime
problems: the result is null and a Diagnostic is added to `env.diagnostics`. Syntax errors raise
FeelSyntaxError at compile time; limits (nesting, string size, iterations) raise FeelLimitError.

FEEL values are plain Python values, with no wrapper object:

==========================  =========================================================
FEEL                        Python
==========================  =========================================================
null                        None
boolean                     bool
number                      decimal.Decimal (never bool; int/float inputs converted)
string                      str
date                        datetime.date (not a datetime)
time                        datetime.time (tzinfo None = local, offset or ZoneInfo)
date and time               datetime.datetime (naive = local, offset or ZoneInfo)
days and time duration      datetime.timedelta
years and months duration   flowdesk.feel.values.YearsMonthsDuration(months)
list                        list
context                     dict[str, Any], insertion ordered
range                       flowdesk.feel.values.Range(start, end, start_included, end_included)
function                    flowdesk.feel.runtime.FeelFunction
==========================  =========================================================

Host values in the evaluation context are converted with `values.to_feel` (int and float to
Decimal, tuples to lists); values that have no FEEL form become null with a diagnostic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flowdesk.feel import ast
from flowdesk.feel.compiler import Fn, Scope, compile_node
from flowdesk.feel.errors import (
    Diagnostic,
    Diagnostics,
    FeelLimitError,
    FeelRuntimeError,
    FeelSyntaxError,
)
from flowdesk.feel.parser import parse_expression, parse_unary_tests
from flowdesk.feel.runtime import Env, FeelFunction, Limits
from flowdesk.feel.unary import FullMatcher, Matcher, compile_tests, fast_matcher

__all__ = [
    "CompiledExpression",
    "CompiledUnaryTests",
    "Diagnostic",
    "Diagnostics",
    "Env",
    "FeelFunction",
    "FeelLimitError",
    "FeelRuntimeError",
    "FeelSyntaxError",
    "Limits",
    "compile_expression",
    "compile_unary_tests",
    "evaluate",
]

_DEFAULT_LIMITS = Limits()


class _EvaluationState(threading.local):
    """Per thread: how many evaluations are active (BKMs and FEEL functions nest them)."""

    depth = 0


_STATE = _EvaluationState()
_EMPTY: Mapping[str, Any] = {}
_PLAIN = frozenset({type(None), bool, str, Decimal, date, datetime, time, timedelta})


_SAMPLE = 8


def _is_feel(value: Any, depth: int = 0) -> bool:
    """Whether a value looks like a FEEL value already, so the context needs no conversion.

    Lists and contexts are checked on their first few items only (recursively, a few levels):
    a context is prepared on every evaluation and must not cost time proportional to its size.
    Host data is uniform in practice (all ints, or all Decimals); an unconverted value deeper
    in a large list would only make an operator give null with a diagnostic."""
    t = type(value)
    if t in _PLAIN:
        return True
    if t is list:
        if depth > 3:
            return True
        return all(_is_feel(v, depth + 1) for v in value[:_SAMPLE])
    if t is dict:
        if depth > 3:
            return True
        for n, (k, v) in enumerate(value.items()):
            if n >= _SAMPLE:
                break
            if type(k) is not str or not _is_feel(v, depth + 1):
                return False
        return True
    from flowdesk.feel import values

    return isinstance(value, values.YearsMonthsDuration | values.Range | FeelFunction)


def _prepare(context: Mapping[str, Any] | None, env: Env) -> Mapping[str, Any]:
    """The evaluation context with host values converted to FEEL values (no copy if none)."""
    if not context:
        return _EMPTY
    plain = _PLAIN
    for value in context.values():
        if type(value) not in plain and not _is_feel(value):
            break
    else:
        return context
    from flowdesk.feel import values

    out: dict[str, Any] = {}
    for key, value in context.items():
        try:
            out[key] = value if _is_feel(value) else values.to_feel(value)
        except (TypeError, ValueError, ArithmeticError) as exc:
            env.diagnostics.add(f"input '{key}' has no FEEL value: {exc}")
            out[key] = None
    return out


def _to_input(value: Any) -> Any:
    from flowdesk.feel import values

    try:
        return values.to_feel(value)
    except (TypeError, ValueError, ArithmeticError):
        return None


class CompiledExpression:
    """A parsed and compiled FEEL expression; evaluate it as often as needed."""

    __slots__ = ("_fn", "_name", "names", "text", "tree")

    def __init__(self, text: str, names: tuple[str, ...], tree: ast.Node, fn: Fn) -> None:
        self.text = text
        self.names = names
        self.tree = tree
        self._fn = fn
        # A bare name (a DMN input expression such as `amount`) is looked up directly.
        self._name = tree.name if isinstance(tree, ast.Name) and tree.name != "?" else None

    def evaluate(self, context: Mapping[str, Any] | None = None, env: Env | None = None) -> Any:
        """Value of the expression; null plus a diagnostic in `env` on runtime problems."""
        name = self._name
        if name is not None and context:
            value = context.get(name, _EMPTY)
            if type(value) in _PLAIN:
                return value
        if env is None:
            env = Env()
        state = _STATE
        outer = state.depth
        if not outer:
            # The iteration budget is per outermost evaluation; an Env may be reused.
            env.iterations = 0
        state.depth = outer + 1
        try:
            return self._fn(Scope(_prepare(context, env)), env)
        except FeelLimitError:
            raise
        except RecursionError:
            env.diagnostics.add("evaluation recursed too deeply", self.text)
            return None
        except Exception as exc:  # a bug in an operator or built-in must not escape
            env.diagnostics.add(f"internal error: {type(exc).__name__}: {exc}", self.text)
            return None
        finally:
            state.depth = outer

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r})"


class CompiledUnaryTests:
    """Compiled DMN unary tests (an input entry); `matches` is the hot path of decision tables.

    `matches(input_value, context=None, env=None) -> bool` is an instance attribute: for the
    common shapes (`-`, a literal, a list of literals, `< 10`, `[1..5]`) it is a closure that
    decides with one type check and one comparison, and falls back to the full semantics for
    any other input type."""

    __slots__ = ("_match", "matches", "names", "pure", "text", "tree")

    matches: FullMatcher

    def __init__(
        self, text: str, names: tuple[str, ...], tree: ast.Node, match: Matcher, pure: bool
    ) -> None:
        self.text = text
        self.names = names
        self.tree = tree
        self._match = match
        #: True when matching never reads the context (literals, `< 10`, `[1..5]`, `-`).
        self.pure = pure
        self.matches = fast_matcher(tree, self._general) or self._general

    def _general(
        self, input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
    ) -> bool:
        """Whether `input_value` satisfies the tests; runtime problems count as no match."""
        t = type(input_value)
        if t is int or t is float or t is tuple:
            input_value = _to_input(input_value)
        try:
            if self.pure:
                return self._match(input_value, _EMPTY, env)
            if env is None:
                env = Env()
            state = _STATE
            outer = state.depth
            if not outer:
                env.iterations = 0
            state.depth = outer + 1
            try:
                return self._match(input_value, _prepare(context, env), env)
            finally:
                state.depth = outer
        except FeelLimitError:
            raise
        except Exception as exc:
            if env is not None:
                env.diagnostics.add(f"internal error: {type(exc).__name__}: {exc}", self.text)
            return False

    def __repr__(self) -> str:
        return f"CompiledUnaryTests({self.text!r})"


@lru_cache(maxsize=4096)
def _compile_expression(text: str, names: frozenset[str], limits: Limits) -> CompiledExpression:
    tree = parse_expression(text, names, limits)
    try:
        fn = compile_node(tree, text)
    except RecursionError:
        raise FeelLimitError("expression nested too deeply to compile") from None
    return CompiledExpression(text, tuple(sorted(names)), tree, fn)


@lru_cache(maxsize=4096)
def _compile_unary_tests(text: str, names: frozenset[str], limits: Limits) -> CompiledUnaryTests:
    tree = parse_unary_tests(text, names, limits)
    try:
        match, pure = compile_tests(tree, text)
    except RecursionError:
        raise FeelLimitError("unary tests nested too deeply to compile") from None
    return CompiledUnaryTests(text, tuple(sorted(names)), tree, match, pure)


def compile_expression(
    text: str, *, names: Iterable[str] = (), limits: Limits | None = None
) -> CompiledExpression:
    """Parse and compile `text` (cached). `names` are extra in-scope variable names, which may
    contain spaces and the symbols `. / - ' + *` (e.g. "Applicant Age", "Date-Time")."""
    return _compile_expression(text, frozenset(names), limits or _DEFAULT_LIMITS)


def compile_unary_tests(
    text: str, *, names: Iterable[str] = (), limits: Limits | None = None
) -> CompiledUnaryTests:
    """Parse and compile DMN unary tests (`-`, `"a","b"`, `< 10`, `[1..5]`, `not(...)`, or any
    expression in which `?` stands for the input)."""
    return _compile_unary_tests(text, frozenset(names), limits or _DEFAULT_LIMITS)


def evaluate(text: str, context: Mapping[str, Any] | None = None, *, env: Env | None = None) -> Any:
    """Compile (cached) and evaluate `text` against `context`; names in the context are known."""
    names = tuple(k for k in context if not k.isidentifier()) if context else ()
    limits = env.limits if env is not None else None
    return compile_expression(text, names=names, limits=limits).evaluate(context, env)
