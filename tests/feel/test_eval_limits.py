"""Safety limits: nesting depth, string size, iteration count; the compile cache."""

from __future__ import annotations

import pytest

from flowdesk.feel import Env, FeelLimitError, Limits, compile_expression, evaluate


def test_hundred_thousand_parentheses_raise_limit_error() -> None:
    text = "(" * 100_000 + "1" + ")" * 100_000
    with pytest.raises(FeelLimitError):
        compile_expression(text)


def test_nesting_within_the_limit_evaluates() -> None:
    text = "(" * 150 + "1" + ")" * 150
    assert evaluate(text) == 1


def test_deep_lists_hit_the_configured_depth() -> None:
    text = "[" * 50 + "1" + "]" * 50
    with pytest.raises(FeelLimitError, match="limit of 10"):
        compile_expression(text, limits=Limits(max_depth=10))


def test_string_literal_limit() -> None:
    with pytest.raises(FeelLimitError):
        compile_expression('"' + "x" * 20 + '"', limits=Limits(max_string=10))


def test_string_result_limit() -> None:
    env = Env(limits=Limits(max_string=10))
    with pytest.raises(FeelLimitError, match="exceeds the limit of 10"):
        evaluate('"abcdef" + "ghijkl"', env=env)


def test_string_result_limit_on_repeated_concatenation() -> None:
    env = Env(limits=Limits(max_string=1000))
    with pytest.raises(FeelLimitError):
        evaluate('for i in 1..20 return if i = 1 then "ab" else partial[-1] + partial[-1]', env=env)


def test_iteration_limit_across_for_some_every_and_filters() -> None:
    env = Env(limits=Limits(max_iterations=100))
    with pytest.raises(FeelLimitError, match="limit of 100 iterations"):
        evaluate("for x in 1..20, y in 1..20 return x * y", env=env)
    env = Env(limits=Limits(max_iterations=100))
    with pytest.raises(FeelLimitError):
        evaluate("every x in 1..1000 satisfies x > 0", env=env)
    env = Env(limits=Limits(max_iterations=100))
    with pytest.raises(FeelLimitError):
        evaluate("(for x in 1..60 return x)[item > 0]", env=env)


def test_huge_range_is_refused_before_allocating() -> None:
    env = Env(limits=Limits(max_iterations=1000))
    with pytest.raises(FeelLimitError):
        evaluate("for x in 1..1000000000000 return x", env=env)


def test_iterations_are_counted_in_env() -> None:
    env = Env()
    evaluate("for x in [1, 2, 3] return x", env=env)
    assert env.iterations == 3


def test_compiled_expressions_are_cached_by_text_and_names() -> None:
    a = compile_expression("cache test + 1")
    assert compile_expression("cache test + 1") is a
    b = compile_expression("cache test + 1", names=["cache test"])
    assert b is not a
    assert compile_expression("cache test + 1", names=("cache test",)) is b


def test_iteration_budget_is_per_evaluation_even_when_env_is_reused() -> None:
    env = Env(limits=Limits(max_iterations=50))
    expr = compile_expression("for x in 1..40 return x")
    for _ in range(10):
        assert len(expr.evaluate({}, env)) == 40
    assert env.iterations == 40


def test_nested_evaluation_shares_the_outer_budget() -> None:
    from typing import Any

    from flowdesk.feel import FeelFunction

    inner = compile_expression("for x in 1..30 return x")

    class Nested(FeelFunction):
        name = "nested"
        params = ()

        def call(self, env: Env, args: list[Any]) -> Any:
            return inner.evaluate({}, env)

    env = Env(limits=Limits(max_iterations=50))
    with pytest.raises(FeelLimitError):
        evaluate("for i in 1..2 return nested()", {"nested": Nested()}, env=env)


def test_long_flat_chains_compile_and_evaluate() -> None:
    n = 5000
    assert evaluate(" + ".join(["1"] * n)) == n
    assert evaluate(" - ".join(["1"] * n)) == 2 - n
    assert evaluate(" or ".join([f"x = {i}" for i in range(n)]), {"x": n - 1}) is True
    assert evaluate(" and ".join(["true"] * n)) is True
    assert evaluate(" and ".join(["true"] * n + ["null"])) is None
    assert evaluate(" or ".join(["false"] * n + ["null"])) is None
    assert evaluate(" + ".join(['"a"'] * 20)) == "a" * 20


def test_long_chain_errors_are_null_with_diagnostic() -> None:
    env = Env()
    text = " + ".join(["1"] * 20 + ['"x"'] + ["1"] * 5)
    assert evaluate(text, env=env) is None
    assert "cannot add number and string" in env.diagnostics.messages()[0]


def test_long_chain_in_unary_test() -> None:
    from flowdesk.feel import compile_unary_tests

    text = " or ".join([f"? = {i}" for i in range(3000)])
    assert compile_unary_tests(text).matches(2999, {}) is True
    assert compile_unary_tests(text).matches(3000, {}) is False


def test_very_long_postfix_chains_raise_limit_error() -> None:
    from flowdesk.feel import compile_unary_tests

    for text in ("a" + ".b" * 5000, "f" + "()" * 5000, "l" + "[1]" * 5000):
        with pytest.raises(FeelLimitError):
            compile_expression(text)
        with pytest.raises(FeelLimitError):
            compile_unary_tests(text)
