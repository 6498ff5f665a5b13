"""Unary tests (DMN input entries, and the right side of `in`), compiled for speed.

A test is a closure `(input, scope, env) -> bool | None`. Decision tables call these millions of
times, so the common shapes (`-`, a literal, a list of literals, `< 10`, `[1..5]`) become direct
comparisons on the input that allocate nothing; everything else falls back to the general
semantics: `?` bound to the input, then the spec rules (a boolean result when `?` is used, a
range contains the input, a list contains it, otherwise the input must equal the value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from flowdesk.feel import ast, values
from flowdesk.feel.compiler import EMPTY_SCOPE, Compiler, Scope, compare_op, exception_message, fail
from flowdesk.feel.runtime import Env

TestFn = Callable[[Any, Scope, "Env | None"], "bool | None"]
Matcher = Callable[[Any, Mapping[str, Any], "Env | None"], bool]

_FAST_TYPES = (Decimal, str)


def match_value(v: Any, value: Any, env: Env | None, node: ast.Node, text: str) -> bool | None:
    """Does input `v` satisfy a test whose expression evaluated to `value`?"""
    if isinstance(value, values.Range):
        return value.contains(v)
    if type(value) is bool and type(v) is not bool:
        return value
    try:
        if not isinstance(value, list):
            return values.equals(v, value)
        # A list test matches an equal list input, or an input that is one of its items; an
        # item that is a range is a test of its own (`1 in [[2..4], [1..3]]` is true).
        unknown = False
        if isinstance(v, list):
            r = values.equals(v, value)
            if r is True:
                return True
            unknown = r is None
        for item in value:
            e = item.contains(v) if isinstance(item, values.Range) else values.equals(v, item)
            if e is True:
                return True
            if e is None:
                unknown = True
        return None if unknown else False
    except Exception as exc:
        fail(env, exception_message(exc), node, text)
        return None


def _general_compare(
    op: str, v: Any, endpoint: Any, env: Env | None, node: ast.Node, text: str
) -> bool | None:
    try:
        return compare_op(op, v, endpoint)
    except Exception as exc:
        fail(env, exception_message(exc), node, text)
        return None


def _literal(code_const: bool, value: Any) -> bool:
    return code_const and (value is None or type(value) in (Decimal, str, bool))


def compile_test(compiler: Compiler, node: ast.Node) -> TestFn:
    """Compile one positive unary test (or `-`)."""
    text = compiler.text
    if isinstance(node, ast.AnyInput):
        return lambda v, s, e: True
    if isinstance(node, ast.UnaryCompare):
        return _compare_test(compiler, node)
    if isinstance(node, ast.RangeLiteral):
        fast = _range_test(compiler, node)
        if fast is not None:
            return fast
    if isinstance(node, ast.Name) and node.name == "?":
        return lambda v, s, e: True if v is True else (False if v is False else None)
    uses_input = _uses_input(node)
    code = compiler.compile(node)
    if not uses_input and _literal(code.const, code.value):
        return _equality_test(code.value, node, text)
    if not uses_input and code.const:
        cv = code.value

        def const_test(v: Any, scope: Scope, env: Env | None) -> bool | None:
            return match_value(v, cv, env, node, text)

        return const_test
    fn = code.fn
    if uses_input:

        def input_test(v: Any, scope: Scope, env: Env | None) -> bool | None:
            env = env if env is not None else Env()
            r = fn(Scope({"?": v}, scope), env)
            if type(r) is bool:
                return r
            return match_value(v, r, env, node, text)

        return input_test

    def expr_test(v: Any, scope: Scope, env: Env | None) -> bool | None:
        env = env if env is not None else Env()
        return match_value(v, fn(scope, env), env, node, text)

    return expr_test


def _uses_input(node: ast.Node) -> bool:
    from flowdesk.feel.compiler import refers_to_input

    return refers_to_input(node)


def _equality_test(c: Any, node: ast.Node, text: str) -> TestFn:
    if c is None:
        return lambda v, s, e: v is None
    tc = type(c)
    if tc not in _FAST_TYPES and tc is not bool:

        def const_test(v: Any, scope: Scope, env: Env | None) -> bool | None:
            return match_value(v, c, env, node, text)

        return const_test
    if tc is bool:
        b: bool = c

        def bool_test(v: Any, scope: Scope, env: Env | None) -> bool | None:
            if type(v) is bool:
                return v is b
            return False if v is None else None

        return bool_test

    def eq_test(v: Any, scope: Scope, env: Env | None) -> bool | None:
        if type(v) is tc:
            try:
                return bool(v == c)
            except ArithmeticError:
                return None
        if v is None:
            return False
        return match_value(v, c, env, node, text)

    return eq_test


def _compare_test(compiler: Compiler, node: ast.UnaryCompare) -> TestFn:
    text = compiler.text
    op = node.op
    code = compiler.compile(node.endpoint)
    if _uses_input(node.endpoint) or not code.const:
        fn = code.fn

        def dyn(v: Any, scope: Scope, env: Env | None) -> bool | None:
            env = env if env is not None else Env()
            inner = Scope({"?": v}, scope)
            return _general_compare(op, v, fn(inner, env), env, node, text)

        return dyn
    c = code.value
    if op == "=":
        return _equality_test(c, node, text)
    tc = type(c)
    if tc not in _FAST_TYPES:

        def slow(v: Any, scope: Scope, env: Env | None) -> bool | None:
            return _general_compare(op, v, c, env, node, text)

        return slow

    def general(v: Any, env: Env | None) -> bool | None:
        return _general_compare(op, v, c, env, node, text)

    if op == "<":
        return lambda v, s, e: v < c if type(v) is tc else general(v, e)
    if op == "<=":
        return lambda v, s, e: v <= c if type(v) is tc else general(v, e)
    if op == ">":
        return lambda v, s, e: v > c if type(v) is tc else general(v, e)
    if op == ">=":
        return lambda v, s, e: v >= c if type(v) is tc else general(v, e)
    return lambda v, s, e: v != c if type(v) is tc else general(v, e)


def _range_test(compiler: Compiler, node: ast.RangeLiteral) -> TestFn | None:
    """`[a..b]` with literal number or string bounds: two direct comparisons."""
    if _uses_input(node):
        return None
    code = compiler.compile(node)
    if not code.const or not isinstance(code.value, values.Range):
        return None
    rng: values.Range = code.value
    lo, hi = rng.start, rng.end
    tc = type(lo) if lo is not None else type(hi)
    if tc not in _FAST_TYPES or (lo is not None and hi is not None and type(hi) is not tc):
        return None
    si, ei = rng.start_included, rng.end_included

    def contains(v: Any, env: Env | None) -> bool | None:
        return rng.contains(v)

    if lo is not None and hi is not None:
        if si and ei:
            return lambda v, s, e: lo <= v <= hi if type(v) is tc else contains(v, e)
        if si:
            return lambda v, s, e: lo <= v < hi if type(v) is tc else contains(v, e)
        if ei:
            return lambda v, s, e: lo < v <= hi if type(v) is tc else contains(v, e)
        return lambda v, s, e: lo < v < hi if type(v) is tc else contains(v, e)
    return None


def compile_tests(node: ast.Node, text: str) -> tuple[Matcher, bool]:
    """Compile a parsed unary-tests root into `matches(input, context, env) -> bool`.

    The second result says whether the matcher is pure (never reads the context)."""
    compiler = Compiler(text)
    if isinstance(node, ast.AnyInput):
        return (lambda v, c, e: True), True
    assert isinstance(node, ast.UnaryTests)
    negated = node.negated
    codes = [compiler.compile(t) if _is_plain_literal(t) else None for t in node.tests]
    consts = [c.value for c in codes if c is not None and c.const]
    if (
        not negated
        and len(node.tests) > 1
        and len(consts) == len(node.tests)
        and len({type(c) for c in consts}) == 1
        and type(consts[0]) in _FAST_TYPES
    ):
        members = frozenset(consts)
        tc = type(consts[0])
        slow_tests = tuple(compile_test(compiler, t) for t in node.tests)

        def member(v: Any, context: Mapping[str, Any], env: Env | None) -> bool:
            if type(v) is tc:
                return v in members
            if v is None:
                return False
            return any(t(v, EMPTY_SCOPE, env) is True for t in slow_tests)

        return member, True
    tests = tuple(compile_test(compiler, t) for t in node.tests)
    pure = all(
        _is_plain_literal(t)
        or (isinstance(t, ast.UnaryCompare) and _is_plain_literal(t.endpoint))
        or (
            isinstance(t, ast.RangeLiteral)
            and all(e is None or _is_plain_literal(e) for e in (t.start, t.end))
        )
        for t in node.tests
    )
    if len(tests) == 1 and not negated:
        only = tests[0]
        if pure:
            return (lambda v, c, e: only(v, EMPTY_SCOPE, e) is True), True
        return (lambda v, c, e: only(v, Scope(c), e) is True), False

    def any_of(v: Any, scope: Scope, env: Env | None) -> bool | None:
        unknown = False
        for t in tests:
            r = t(v, scope, env)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    if negated:

        def none_of(v: Any, context: Mapping[str, Any], env: Env | None) -> bool:
            return any_of(v, EMPTY_SCOPE if pure else Scope(context), env) is False

        return none_of, pure
    if pure:
        return (lambda v, c, e: any_of(v, EMPTY_SCOPE, e) is True), True
    return (lambda v, c, e: any_of(v, Scope(c), e) is True), False


def _is_plain_literal(node: ast.Node) -> bool:
    return isinstance(node, ast.Number | ast.String | ast.Boolean | ast.Null | ast.Temporal)


class FullMatcher(Protocol):
    """`matches(input_value, context=None, env=None) -> bool` of CompiledUnaryTests."""

    def __call__(
        self,
        input_value: Any,
        context: Mapping[str, Any] | None = None,
        env: Env | None = None,
    ) -> bool: ...


def _literal_value(node: ast.Node) -> Any:
    """The value of a number or string literal node, else the _NOT_LITERAL marker."""
    if isinstance(node, ast.Number | ast.String):
        return node.value
    return _NOT_LITERAL


_NOT_LITERAL: Any = object()


def fast_matcher(node: ast.Node, general: FullMatcher) -> FullMatcher | None:
    """A matcher for the most common input entries that decides with one type check and one
    comparison, handing any other input type to `general` (full semantics, diagnostics)."""
    if isinstance(node, ast.AnyInput):

        def anything(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> bool:
            return True

        return anything
    if not isinstance(node, ast.UnaryTests):
        return None
    if node.negated:
        return _fast_negated(node.tests, general)
    tests = node.tests
    if len(tests) > 1:
        consts = [_literal_value(t) for t in tests]
        if any(c is _NOT_LITERAL for c in consts) or len({type(c) for c in consts}) != 1:
            return None
        members = frozenset(consts)
        tm = type(consts[0])

        def member(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> bool:
            if type(input_value) is tm:
                try:
                    return input_value in members
                except TypeError:  # an unhashable signalling NaN
                    pass
            return general(input_value, context, env)

        return member
    test = tests[0]
    c = _literal_value(test)
    if c is not _NOT_LITERAL:
        tc = type(c)

        def equal(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> bool:
            if type(input_value) is tc:
                try:
                    return bool(input_value == c)
                except ArithmeticError:  # a signalling NaN
                    pass
            return general(input_value, context, env)

        return equal
    if isinstance(test, ast.UnaryCompare):
        return _fast_compare(test.op, _literal_value(test.endpoint), general)
    if isinstance(test, ast.Comparison) and test.left == ast.Name(
        test.left.line, test.left.column, "?"
    ):
        # `? > 3` is `> 3`
        return _fast_compare(test.op, _literal_value(test.right), general)
    if isinstance(test, ast.RangeLiteral) and test.start is not None and test.end is not None:
        lo, hi = _literal_value(test.start), _literal_value(test.end)
        if lo is _NOT_LITERAL or type(lo) is not type(hi):
            return None
        return _fast_interval(lo, hi, test.start_included, test.end_included, general)
    return None


def _fast_compare(op: str, c: Any, general: FullMatcher) -> FullMatcher | None:
    if c is _NOT_LITERAL:
        return None
    tc = type(c)
    fn: FullMatcher
    if op == "<":

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return input_value < c
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    elif op == "<=":

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return input_value <= c
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    elif op == ">":

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return input_value > c
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    elif op == ">=":

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return input_value >= c
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    elif op == "=":

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return input_value == c
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    else:

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return input_value != c
                except ArithmeticError:
                    pass
            return general(input_value, context, env)

    return fn


def _fast_interval(lo: Any, hi: Any, si: bool, ei: bool, general: FullMatcher) -> FullMatcher:
    tc = type(lo)
    fn: FullMatcher
    if si and ei:

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return lo <= input_value <= hi
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    elif si:

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return lo <= input_value < hi
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    elif ei:

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return lo < input_value <= hi
                except ArithmeticError:  # a NaN that slipped in: full semantics
                    pass
            return general(input_value, context, env)

    else:

        def fn(
            input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
        ) -> Any:  # bool: Decimal and str comparisons
            if type(input_value) is tc:
                try:
                    return lo < input_value < hi
                except ArithmeticError:
                    pass
            return general(input_value, context, env)

    return fn


def _typed_predicate(tests: tuple[ast.Node, ...]) -> tuple[type, Callable[[Any], bool]] | None:
    """(T, p): for an input of exact type T, p(input) tells whether any test matches."""
    consts = [_literal_value(t) for t in tests]
    if all(c is not _NOT_LITERAL for c in consts) and len({type(c) for c in consts}) == 1:
        members = frozenset(consts)
        return type(consts[0]), members.__contains__
    if len(tests) != 1 or not isinstance(tests[0], ast.UnaryCompare):
        return None
    op, c = tests[0].op, _literal_value(tests[0].endpoint)
    if c is _NOT_LITERAL:
        return None
    predicates: dict[str, Callable[[Any], bool]] = {
        "<": c.__gt__,
        "<=": c.__ge__,
        ">": c.__lt__,
        ">=": c.__le__,
        "=": c.__eq__,
        "!=": c.__ne__,
    }
    return type(c), predicates[op]


def _fast_negated(tests: tuple[ast.Node, ...], general: FullMatcher) -> FullMatcher | None:
    """`not("a", "b")`, `not(< 5)`: the negation of a typed predicate."""
    typed = _typed_predicate(tests)
    if typed is None:
        return None
    tc, pred = typed

    def none_match(
        input_value: Any, context: Mapping[str, Any] | None = None, env: Env | None = None
    ) -> bool:
        if type(input_value) is tc:
            try:
                return not pred(input_value)
            except (ArithmeticError, TypeError):
                pass
        return general(input_value, context, env)

    return none_match
