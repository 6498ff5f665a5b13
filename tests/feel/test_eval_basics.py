"""Evaluation of literals, arithmetic, comparison, ternary logic, if, between, in, instance of.

Expected values come from DMN 1.5 chapter 10 (semantics tables and examples)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flowdesk.feel import Env, evaluate
from flowdesk.feel.values import Range


def ev(text: str, context: dict[str, Any] | None = None) -> Any:
    return evaluate(text, context)


def ev_env(text: str, context: dict[str, Any] | None = None) -> tuple[Any, Env]:
    env = Env()
    return evaluate(text, context, env=env), env


D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", D(1)),
        (".5", D("0.5")),
        ("1.25", D("1.25")),
        ("1.50", D("1.5")),
        ("5.0", D(5)),
        ("-3", D(-3)),
        ('"hello"', "hello"),
        ('"a\\"b"', 'a"b'),
        ('"\\u0041\\U0001F600"', "A\U0001f600"),
        ("true", True),
        ("false", False),
        ("null", None),
        ("[]", []),
        ("[1, 2]", [D(1), D(2)]),
        ("{}", {}),
    ],
)
def test_literals(text: str, expected: Any) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", D(7)),
        ("(1 + 2) * 3", D(9)),
        ("10 / 4", D("2.5")),
        ("2 ** 10", D(1024)),
        ("2 * 3 ** 2", D(18)),
        ("10 - 2 - 3", D(5)),
        ("-(1 + 2)", D(-3)),
        ("- -2", D(2)),
        ("1 / 3", D("0.3333333333333333333333333333333333")),
        ('"foo" + "bar"', "foobar"),
        ("1 + null", None),
        ("null * 2", None),
        ("x * 2", D(8)),
    ],
)
def test_arithmetic(text: str, expected: Any) -> None:
    assert ev(text, {"x": 4}) == expected


def test_negation_binds_tighter_than_exponent() -> None:
    # Spec precedence: arithmetic negation is above exponentiation.
    assert ev("-2 ** 2") == D(4)


def test_integer_and_float_inputs_become_numbers() -> None:
    assert ev("a + b", {"a": 1, "b": 0.5}) == D("1.5")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('1 + "a"', "cannot add number and string"),
        ("1 / 0", "division by zero"),
        ('- "a"', "cannot negate string"),
        ("true * 2", "cannot multiply"),
    ],
)
def test_invalid_arithmetic_is_null_with_diagnostic(text: str, message: str) -> None:
    value, env = ev_env(text)
    assert value is None
    assert any(message in m for m in env.diagnostics.messages())
    assert "line 1, column" in env.diagnostics.messages()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 = 1", True),
        ("1 = 1.0", True),
        ("1 != 2", True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("2 >= 3", False),
        ('"a" < "b"', True),
        ('"a" = "a"', True),
        ("null = null", True),
        ("null = 1", False),
        ("null != 1", True),
        ("null < 1", None),
        ("[1, 2] = [1, 2]", True),
        ("[1, 2] = [2, 1]", False),
        ("{a: 1} = {a: 1}", True),
        ("[1..10] = [1..10]", True),
        ("(1..10] = [1..10]", False),
        ('1 = "1"', None),
        ("true = true", True),
    ],
)
def test_comparison(text: str, expected: Any) -> None:
    assert ev(text) is expected


def test_incomparable_ordering_is_null_with_diagnostic() -> None:
    value, env = ev_env('1 < "a"')
    assert value is None
    assert "cannot compare number with string" in env.diagnostics.messages()[0]


# Ternary logic, DMN 1.5 table 52: `otherwise` is a non-boolean value.
AND_TABLE = [
    ("true", "true", True),
    ("true", "false", False),
    ("true", "null", None),
    ("true", '"x"', None),
    ("false", "true", False),
    ("false", "false", False),
    ("false", "null", False),
    ("false", '"x"', False),
    ("null", "true", None),
    ("null", "false", False),
    ("null", "null", None),
    ('"x"', "false", False),
    ('"x"', "true", None),
]
OR_TABLE = [
    ("true", "true", True),
    ("true", "false", True),
    ("true", "null", True),
    ("true", '"x"', True),
    ("false", "true", True),
    ("false", "false", False),
    ("false", "null", None),
    ("false", '"x"', None),
    ("null", "true", True),
    ("null", "false", None),
    ("null", "null", None),
    ('"x"', "true", True),
    ('"x"', "false", None),
]


@pytest.mark.parametrize(("a", "b", "expected"), AND_TABLE)
def test_and_truth_table(a: str, b: str, expected: Any) -> None:
    assert ev(f"{a} and {b}") is expected
    # through variables, so nothing is constant-folded
    assert ev("x and y", {"x": ev(a), "y": ev(b)}) is expected


@pytest.mark.parametrize(("a", "b", "expected"), OR_TABLE)
def test_or_truth_table(a: str, b: str, expected: Any) -> None:
    assert ev(f"{a} or {b}") is expected
    assert ev("x or y", {"x": ev(a), "y": ev(b)}) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(True, False), (False, True), (None, None), ("x", None)]
)
def test_not_function(value: Any, expected: Any) -> None:
    assert ev("not(v)", {"v": value}) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("if true then 1 else 2", D(1)),
        ("if false then 1 else 2", D(2)),
        ("if null then 1 else 2", D(2)),
        ('if "yes" then 1 else 2', D(2)),
        ('if x > 5 then "big" else "small"', "big"),
        ("if x > 5 then if x > 8 then 3 else 2 else 1", D(2)),
    ],
)
def test_if(text: str, expected: Any) -> None:
    assert ev(text, {"x": 7}) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 between 1 and 10", True),
        ("1 between 1 and 10", True),
        ("10 between 1 and 10", True),
        ("11 between 1 and 10", False),
        ('"b" between "a" and "c"', True),
        ("null between 1 and 10", None),
        ("5 between 1 and 3 or true", True),
    ],
)
def test_between(text: str, expected: Any) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 in (1, 2, 3)", True),
        ("4 in (1, 2, 3)", False),
        ("3 in [1..5]", True),
        ("5 in [1..5)", False),
        ("5 in (1..5]", True),
        ("3 in < 5", True),
        ("5 in < 5", False),
        ("5 in <= 5", True),
        ("3 in (< 2, > 2)", True),
        ("2 in [1, 2]", True),
        ("9 in [1, 2]", False),
        ('"b" in ("a", "b")', True),
        ("3 in 3", True),
        ("null in (1, null)", True),
        ("null in [1..5]", None),
        ("x in (y, 10)", True),
        ("4 in ]1..5[ and true", True),
    ],
)
def test_in(text: str, expected: Any) -> None:
    assert ev(text, {"x": 7, "y": 7}) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 instance of number", True),
        ('"5" instance of number', False),
        ('"5" instance of string', True),
        ("true instance of boolean", True),
        ("null instance of Null", True),
        ("null instance of number", False),
        ("5 instance of Any", True),
        ("[1, 2] instance of list<number>", True),
        ('[1, "a"] instance of list<number>', False),
        ("{a: 1} instance of context<a: number>", True),
        ("{a: 1} instance of context<a: string>", False),
        ("[1..5] instance of range<number>", True),
        ('@"2024-01-01" instance of date', True),
        ('@"2024-01-01T10:00:00" instance of date', False),
        ('@"2024-01-01T10:00:00" instance of date and time', True),
        ('@"P1D" instance of days and time duration', True),
        ('@"P1Y" instance of years and months duration', True),
        ("(function(x) x) instance of function<Any>->Any", True),
        ("(function(x, y) x) instance of function<Any>->Any", False),
        ("1 + 1 instance of number", True),
    ],
)
def test_instance_of(text: str, expected: bool) -> None:
    assert ev(text) is expected


def test_ranges_as_values() -> None:
    assert ev("[1..5]") == Range(D(1), D(5), True, True)
    assert ev("]1..5[") == Range(D(1), D(5), False, False)
    assert ev("(1..5]") == Range(D(1), D(5), False, True)
    assert ev("< 10") == Range(None, D(10), False, False)
    assert ev(">= x", {"x": 3}) == Range(D(3), None, True, False)


def test_range_with_mismatched_endpoints_is_null() -> None:
    value, env = ev_env("[1..x]", {"x": "z"})
    assert value is None
    assert "invalid range" in env.diagnostics.messages()[0]


def test_unknown_variable_is_null_with_diagnostic() -> None:
    value, env = ev_env("missing + 1")
    assert value is None
    assert env.diagnostics.messages() == ["unknown variable 'missing' (line 1, column 1)"]


def test_unknown_function_is_null_with_diagnostic() -> None:
    value, env = ev_env("nosuch(1)")
    assert value is None
    assert "unknown function 'nosuch'" in env.diagnostics.messages()[0]


def test_calling_a_non_function_is_null_with_diagnostic() -> None:
    value, env = ev_env("x(1)", {"x": 5})
    assert value is None
    assert "number is not a function" in env.diagnostics.messages()[0]


def test_unconvertible_input_is_null_with_diagnostic() -> None:
    value, env = ev_env("x", {"x": object()})
    assert value is None
    assert "input 'x'" in env.diagnostics.messages()[0]


def test_comments_anywhere() -> None:
    assert ev("1 /* one */ + // plus\n 2") == D(3)


def test_number_literals_are_canonical() -> None:
    assert str(ev("1.50")) == "1.5"
    assert str(ev("5.000")) == "5"
    assert str(ev("12345678901234567890123456789012345678")) == str(
        D("1.234567890123456789012345678901235E+37")
    )


def test_nested_host_values_are_converted() -> None:
    ctx = {"order": {"lines": [{"qty": 2, "price": 1.5}, {"qty": 1, "price": 3}]}}
    assert ev("order.lines[1].qty * order.lines[1].price", ctx) == D(3)
    assert ev("for l in order.lines return l.qty", ctx) == [D(2), D(1)]
    assert ev("x", {"x": (1, 2)}) == [D(1), D(2)]


def test_feel_context_is_used_without_copying() -> None:
    from flowdesk.feel import compile_expression

    big = {"l": [D(i) for i in range(100_000)]}
    expr = compile_expression("l[-1]")
    assert expr.evaluate(big) == D(99_999)
