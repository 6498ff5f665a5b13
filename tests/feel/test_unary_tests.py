"""DMN unary tests (input entries): every form, the specialised fast paths and their fallbacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from flowdesk.feel import Env, FeelSyntaxError, compile_unary_tests

D = Decimal


def m(tests: str, value: Any, context: dict[str, Any] | None = None) -> bool:
    return compile_unary_tests(tests).matches(value, context or {})


@pytest.mark.parametrize(
    ("tests", "value", "expected"),
    [
        ("-", D(5), True),
        ("-", None, True),
        ("-", "anything", True),
        ("5", D(5), True),
        ("5", D("5.0"), True),
        ("5", D(6), False),
        ("5", "5", False),
        ("5", None, False),
        ('"a"', "a", True),
        ('"a"', "b", False),
        ('"a", "b"', "b", True),
        ('"a", "b"', "c", False),
        ('"a", "b"', None, False),
        ('"a", "b"', D(1), False),
        ("1, 2, 3", D(2), True),
        ("1, 2, 3", D(4), False),
        ("1, 2, 3", True, False),
        ("< 10", D(5), True),
        ("< 10", D(10), False),
        ("<= 10", D(10), True),
        ("> 10", D(11), True),
        ("> 10", D(10), False),
        (">= 100", D(100), True),
        (">= 100", D(99), False),
        ("< 10", None, False),
        ("< 10", "abc", False),
        ('< "m"', "apple", True),
        ('< "m"', "zebra", False),
        ("[1..5]", D(1), True),
        ("[1..5]", D(5), True),
        ("[1..5]", D(6), False),
        ("(1..5)", D(1), False),
        ("]1..5[", D(3), True),
        ("]1..5[", D(5), False),
        ("[1..5)", D(5), False),
        ("[1..5]", None, False),
        ("[1..5]", "3", False),
        ("< 5, > 10", D(11), True),
        ("< 5, > 10", D(7), False),
        ("not(1, 2)", D(3), True),
        ("not(1, 2)", D(1), False),
        ("not(< 5)", D(7), True),
        ("not(< 5)", D(3), False),
        ("not(< 5)", None, False),
        ('not("a")', None, True),
        ("null", None, True),
        ("null", D(1), False),
        ("true", True, True),
        ("true", False, False),
        ("false", False, True),
        ("true", None, False),
        ("= 5", D(5), True),
        ("!= 5", D(5), False),
        ("!= 5", D(6), True),
        ('@"2024-01-01"', date(2024, 1, 1), True),
        ('< @"2024-01-01"', date(2023, 12, 31), True),
        ('[@"2024-01-01"..@"2024-12-31"]', date(2024, 6, 1), True),
        ('[@"2024-01-01"..@"2024-12-31"]', date(2025, 6, 1), False),
        ("[1, 2, 3]", D(2), True),
        ("[1, 2, 3]", D(4), False),
        ("? > 5", D(6), True),
        ("? > 5", D(5), False),
        ("? instance of number", D(1), True),
        ("? instance of number", "1", False),
        ("? * 2 = 10", D(5), True),
        ("? + 1", D(5), False),
        ("1 + 1", D(2), True),
        ("?", True, True),
        ("?", False, False),
    ],
)
def test_matches(tests: str, value: Any, expected: bool) -> None:
    assert m(tests, value) is expected


def test_tests_reading_the_context() -> None:
    assert m("x", D(3), {"x": D(3)}) is True
    assert m("< limit", D(3), {"limit": D(5)}) is True
    assert m("< limit", D(7), {"limit": D(5)}) is False
    assert m("[low..high]", D(3), {"low": D(1), "high": D(5)}) is True
    assert m("? > x", D(5), {"x": D(3)}) is True
    assert m("allowed", "b", {"allowed": ["a", "b"]}) is True
    assert m("allowed", "z", {"allowed": ["a", "b"]}) is False
    assert m("x > 2", D(0), {"x": D(3)}) is True  # a boolean result is the answer


def test_known_names_with_spaces_in_tests() -> None:
    t = compile_unary_tests("< Max Age", names=["Max Age"])
    assert t.matches(D(30), {"Max Age": D(65)}) is True
    assert t.matches(D(70), {"Max Age": D(65)}) is False


def test_int_and_float_inputs_are_converted() -> None:
    assert m("< 10", 5) is True
    assert m("[1..5]", 2.5) is True
    assert m("1, 2", 2) is True


def test_bool_input_never_matches_a_number() -> None:
    assert m("1", True) is False
    assert m("[0..1]", True) is False


def test_pure_tests_do_not_need_a_context() -> None:
    for text in ("-", "5", '"a", "b"', "< 10", "[1..5]", "not(1, 2)"):
        assert compile_unary_tests(text).pure, text
    assert not compile_unary_tests("< x").pure


def test_runtime_problem_is_no_match_with_diagnostic() -> None:
    env = Env()
    assert compile_unary_tests("? > 1").matches("text", {}, env) is False
    assert "cannot compare string with number" in env.diagnostics.messages()[0]


def test_mismatched_type_in_a_fast_test_records_a_diagnostic() -> None:
    env = Env()
    assert compile_unary_tests("< 10").matches("text", {}, env) is False
    assert env.diagnostics


def test_syntax_error_in_tests() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_unary_tests("< 10,")
    assert info.value.column == 6
    with pytest.raises(FeelSyntaxError):
        compile_unary_tests("[1..")


def test_cache_returns_the_same_object() -> None:
    assert compile_unary_tests("< 42") is compile_unary_tests("< 42")


@pytest.mark.parametrize("tests", ["< 10", "[1..5]", "1, 2", "5", "not(< 3)", "not(1, 2)", "? > 1"])
@pytest.mark.parametrize("nan", [D("NaN"), D("sNaN")])
def test_nan_input_never_raises(tests: str, nan: Decimal) -> None:
    assert compile_unary_tests(tests).matches(nan, {}, Env()) in (True, False)
