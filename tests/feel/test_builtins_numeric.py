"""Numeric built-ins (DMN 1.5 table 74), with the spec's examples as expected values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from flowdesk.feel.builtins import BUILTINS
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import YearsMonthsDuration, divide, to_feel, to_string


def call(name: str, *args: Any, **named: Any) -> Any:
    if named:
        params = {k.replace("_", " "): to_feel(v) for k, v in named.items()}
        return BUILTINS[name].invoke(Env(), None, params)
    return BUILTINS[name].invoke(Env(), [to_feel(a) for a in args], None)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("decimal", (divide(D(1), D(3)), 2), "0.33"),
        ("decimal", (D("1.5"), 0), "2"),
        ("decimal", (D("2.5"), 0), "2"),
        ("decimal", (D("1.035"), 2), "1.04"),
        ("decimal", (D("1.045"), 2), "1.04"),
        ("decimal", (D("1.055"), 2), "1.06"),
        ("decimal", (D("1.065"), 2), "1.06"),
        ("decimal", (D("1.5"), 2), "1.50"),
        ("decimal", (D(1234), -2), "1200"),
        ("floor", (D("1.5"),), "1"),
        ("floor", (D("-1.5"),), "-2"),
        ("floor", (D("-1.56"), 1), "-1.6"),
        ("floor", (D("1E+40"),), "10000000000000000000000000000000000000000"),
        ("ceiling", (D("1.5"),), "2"),
        ("ceiling", (D("-1.5"),), "-1"),
        ("ceiling", (D("-1.56"), 1), "-1.5"),
        ("ceiling", (D("-0.5"),), "0"),
        ("round up", (D("5.5"), 0), "6"),
        ("round up", (D("-5.5"), 0), "-6"),
        ("round up", (D("1.121"), 2), "1.13"),
        ("round up", (D("-1.126"), 2), "-1.13"),
        ("round down", (D("5.5"), 0), "5"),
        ("round down", (D("-5.5"), 0), "-5"),
        ("round down", (D("1.121"), 2), "1.12"),
        ("round down", (D("-1.126"), 2), "-1.12"),
        ("round half up", (D("5.5"), 0), "6"),
        ("round half up", (D("-5.5"), 0), "-6"),
        ("round half up", (D("1.121"), 2), "1.12"),
        ("round half up", (D("-1.126"), 2), "-1.13"),
        ("round half down", (D("5.5"), 0), "5"),
        ("round half down", (D("-5.5"), 0), "-5"),
        ("round half down", (D("1.121"), 2), "1.12"),
        ("round half down", (D("-1.126"), 2), "-1.13"),
        ("abs", (10,), "10"),
        ("abs", (-10,), "10"),
        ("modulo", (12, 5), "2"),
        ("modulo", (-12, 5), "3"),
        ("modulo", (12, -5), "-3"),
        ("modulo", (-12, -5), "-2"),
        ("modulo", (D("10.1"), D("4.5")), "1.1"),
        ("modulo", (D("-10.1"), D("4.5")), "3.4"),
        ("modulo", (D("10.1"), D("-4.5")), "-3.4"),
        ("modulo", (D("-10.1"), D("-4.5")), "-1.1"),
        ("sqrt", (16,), "4"),
        ("sqrt", (2,), "1.414213562373095048801688724209698"),
        ("log", (10,), "2.302585092994045684017991454684364"),
        ("exp", (5,), "148.4131591025766034211155800405523"),
    ],
)
def test_numeric(name: str, args: tuple[Any, ...], expected: str) -> None:
    result = call(name, *args)
    assert isinstance(result, D)
    assert to_string(result) == expected


def test_odd_even() -> None:
    assert call("odd", 5) is True
    assert call("odd", 2) is False
    assert call("even", 5) is False
    assert call("even", 2) is True
    assert call("even", D("1E+40")) is True
    assert call("odd", -3) is True
    with pytest.raises(FeelRuntimeError, match="odd: number must be an integer, got 5.5"):
        call("odd", D("5.5"))


def test_abs_of_durations() -> None:
    assert call("abs", timedelta(hours=-5)) == timedelta(hours=5)
    assert call("abs", YearsMonthsDuration(-14)) == YearsMonthsDuration(14)
    with pytest.raises(FeelRuntimeError, match="abs: n must be a number or duration, got string"):
        call("abs", "x")


def test_named_parameters() -> None:
    assert call("decimal", n=D("1.5"), scale=0) == D(2)
    assert call("floor", n=D("1.5")) == D(1)
    assert call("floor", n=D("-1.56"), scale=1) == D("-1.6")
    assert call("round half up", n=D("5.5"), scale=0) == D(6)
    assert call("modulo", dividend=12, divisor=5) == D(2)
    assert call("sqrt", number=16) == D(4)
    with pytest.raises(FeelRuntimeError, match="no form takes the parameters"):
        call("floor", scale=1)


def test_nulls_and_errors() -> None:
    assert call("decimal", None, 2) is None
    assert call("floor", None) is None
    assert call("modulo", 1, None) is None
    for name, args, message in [
        ("modulo", (1, 0), "division by zero"),
        ("sqrt", (-1,), "must not be negative"),
        ("log", (0,), "must be positive"),
        ("log", (-1,), "must be positive"),
        ("decimal", (1, D("1.5")), "scale must be an integer"),
        ("decimal", (1, 7000), "outside"),
        ("decimal", ("1", 2), "decimal: n must be a number, got string"),
        ("exp", (D(100000),), "too large"),
        ("round up", (1,), "wrong number of arguments"),
    ]:
        with pytest.raises(FeelRuntimeError, match=message):
            call(name, *args)
