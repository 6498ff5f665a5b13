"""Property tests: the compiler never crashes on any text, evaluation never raises, and the
algebraic identities of FEEL numbers hold."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.feel import (
    Env,
    FeelLimitError,
    FeelSyntaxError,
    compile_expression,
    compile_unary_tests,
    evaluate,
)

FEEL_ALPHABET = st.sampled_from(
    list("0123456789.+-*/()[]{},:<>=!?@\"' \n\\abcxyz_")
    + ["and", "or", "in", "if", "then", "else", "for", "return", "some", "every", "satisfies"]
    + ["between", "instance of", "function", "null", "true", "..", "**", "//", "/*", "*/"]
)
feel_like_text = st.lists(FEEL_ALPHABET, max_size=30).map("".join)

decimals = st.decimals(
    min_value=Decimal("-1e12"),
    max_value=Decimal("1e12"),
    allow_nan=False,
    allow_infinity=False,
    places=4,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_text_only_raises_feel_errors(text: str) -> None:
    with contextlib.suppress(FeelSyntaxError, FeelLimitError):
        compile_expression(text)
    with contextlib.suppress(FeelSyntaxError, FeelLimitError):
        compile_unary_tests(text)


@settings(max_examples=600, deadline=None)
@given(feel_like_text)
def test_feel_like_text_compiles_or_fails_cleanly_and_never_raises_at_run_time(text: str) -> None:
    try:
        expr = compile_expression(text)
    except (FeelSyntaxError, FeelLimitError):
        return
    env = Env()
    with contextlib.suppress(FeelLimitError):
        expr.evaluate({"a": Decimal(1), "b": "x", "c": [Decimal(1)], "x": None}, env)


def arithmetic(depth: int) -> st.SearchStrategy[str]:
    leaf = decimals.map(lambda d: f"({d})")
    if depth == 0:
        return leaf
    sub = arithmetic(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "**"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        sub.map(lambda s: f"-{s}"),
    )


@settings(max_examples=300, deadline=None)
@given(arithmetic(3))
def test_random_arithmetic_never_raises(text: str) -> None:
    env = Env()
    result = evaluate(text, env=env)
    assert result is None or isinstance(result, Decimal)
    if result is None:
        assert env.diagnostics  # a null result always says why


@settings(max_examples=200, deadline=None)
@given(decimals, decimals)
def test_addition_and_multiplication_commute(a: Decimal, b: Decimal) -> None:
    ctx: dict[str, Any] = {"a": a, "b": b}
    assert evaluate("a + b = b + a", ctx) is True
    assert evaluate("a * b = b * a", ctx) is True


@settings(max_examples=200, deadline=None)
@given(decimals, decimals)
def test_ordering_identities(a: Decimal, b: Decimal) -> None:
    ctx: dict[str, Any] = {"a": a, "b": b}
    assert evaluate("(a < b) = not(a >= b)", ctx) is True
    assert evaluate("(a > b) = (b < a)", ctx) is True
    assert evaluate("(a = b) = not(a != b)", ctx) is True
    assert evaluate("a between min and max", {"a": a, "min": min(a, b), "max": max(a, b)}) is True


@settings(max_examples=200, deadline=None)
@given(decimals, decimals)
def test_unary_tests_agree_with_comparisons(a: Decimal, b: Decimal) -> None:
    for op in ("<", "<=", ">", ">=", "=", "!="):
        test = compile_unary_tests(f"{op} ({b})" if b < 0 else f"{op} {b}")
        assert test.matches(a, {}) is evaluate(f"a {op} b", {"a": a, "b": b}), op
        negated = compile_unary_tests(f"not({op} {b})" if b >= 0 else f"not({op} ({b}))")
        assert negated.matches(a, {}) is not test.matches(a, {}), op


@settings(max_examples=100, deadline=None)
@given(st.lists(decimals, max_size=8), decimals)
def test_filter_agrees_with_for(items: list[Decimal], pivot: Decimal) -> None:
    ctx: dict[str, Any] = {"l": items, "p": pivot}
    filtered = evaluate("l[item > p]", ctx)
    assert filtered == [x for x in items if x > pivot]
    via_for = "(for x in l return if x > p then x else null)[item != null]"
    assert evaluate(f"l[item > p] = {via_for}", ctx) is True


def _and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return True if a is True and b is True else None


def _or3(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return False if a is False and b is False else None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=24))
def test_long_and_or_chains_follow_ternary_logic(items: list[bool | None]) -> None:
    names = [f"v{i}" for i in range(len(items))]
    ctx: dict[str, Any] = dict(zip(names, items, strict=True))
    expected_and: bool | None = items[0]
    expected_or: bool | None = items[0]
    for v in items[1:]:
        expected_and = _and3(expected_and, v)
        expected_or = _or3(expected_or, v)
    assert evaluate(" and ".join(names), ctx) is expected_and
    assert evaluate(" or ".join(names), ctx) is expected_or
