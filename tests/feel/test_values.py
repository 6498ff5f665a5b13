"""Operators, equality, ordering, conversion and rendering of FEEL values (DMN 1.5 10.3.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.values import (
    Range,
    YearsMonthsDuration,
    add,
    compare,
    divide,
    equals,
    multiply,
    negate,
    parse_temporal,
    power,
    subtract,
    to_feel,
    to_string,
    type_name,
)

P = parse_temporal
YM = YearsMonthsDuration


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        (add, D(1), D(2), D(3)),
        (add, D("0.1"), D("0.2"), D("0.3")),
        (add, "foo", "bar", "foobar"),
        (subtract, D(5), D("7.5"), D("-2.5")),
        (multiply, D("1.5"), D(2), D(3)),
        (divide, D(10), D(4), D("2.5")),
        (divide, D(1), D(3), D("0.3333333333333333333333333333333333")),
        (divide, D(2), D(3), D("0.6666666666666666666666666666666667")),
        (power, D(2), D(10), D(1024)),
        (power, D(2), D(-2), D("0.25")),
        # temporal arithmetic
        (add, P("2024-01-31"), P("P1M"), date(2024, 2, 29)),
        (add, P("2018-01-31T10:00:00"), P("P1M"), datetime(2018, 2, 28, 10)),
        (add, P("P1Y"), P("2020-02-29"), date(2021, 2, 28)),
        (add, P("2024-01-31"), P("P1D"), date(2024, 2, 1)),
        (add, P("2024-01-31"), P("PT25H"), date(2024, 2, 1)),
        (subtract, P("2024-01-01"), P("PT1H"), date(2023, 12, 31)),
        (add, P("2024-01-31T23:00:00"), P("PT2H"), datetime(2024, 2, 1, 1)),
        (add, P("PT2H"), P("23:00:00"), time(1, 0)),
        (subtract, P("01:00:00"), P("PT2H"), time(23, 0)),
        (subtract, P("2024-03-01"), P("2024-02-01"), timedelta(days=29)),
        (subtract, P("2024-01-02T00:00:00"), P("2024-01-01T12:00:00"), timedelta(hours=12)),
        (subtract, P("2024-01-01T12:00:00Z"), P("2024-01-01T12:00:00+02:00"), timedelta(hours=2)),
        (subtract, P("10:00:00"), P("08:30:00"), timedelta(hours=1, minutes=30)),
        (subtract, P("10:00:00+01:00"), P("10:00:00Z"), timedelta(hours=-1)),
        (subtract, P("2024-01-02T00:00:00Z"), P("2024-01-01"), timedelta(days=1)),
        (subtract, P("2024-01-02"), P("2024-01-01T06:00:00Z"), timedelta(hours=18)),
        (add, P("P1DT1H"), P("PT30M"), timedelta(days=1, minutes=90)),
        (subtract, P("P1Y"), P("P2M"), YM(10)),
        (add, P("P1Y"), P("P2M"), YM(14)),
        (multiply, P("PT1H"), D("1.5"), timedelta(minutes=90)),
        (multiply, D(2), P("P1Y1M"), YM(26)),
        (divide, P("P1D"), D(4), timedelta(hours=6)),
        (divide, P("P1D"), P("PT1H"), D(24)),
        (divide, P("P1Y"), P("P1M"), D(12)),
        (divide, P("P2Y"), D(4), YM(6)),
        (subtract, P("2024-01-31"), P("P1M"), date(2023, 12, 31)),
    ],
)
def test_arithmetic_table(op: Any, a: Any, b: Any, expected: Any) -> None:
    result = op(a, b)
    assert result == expected
    assert type(result) is type(expected)


def test_arithmetic_results_are_normalised() -> None:
    assert str(multiply(D("2.50"), D(2))) == "5"
    assert str(add(D("1.10"), D(1))) == "2.1"
    assert str(negate(D(0))) == "0"
    assert str(subtract(D("1.5"), D("1.5"))) == "0"


def test_zoned_arithmetic_is_elapsed_time_across_dst() -> None:
    before = P("2024-03-30T12:00:00@Europe/Paris")
    after = add(before, P("P1D"))
    assert after == datetime(2024, 3, 31, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert to_string(after) == "2024-03-31T13:00:00@Europe/Paris"
    assert subtract(after, before) == timedelta(hours=24)
    same_wall = P("2024-03-31T12:00:00@Europe/Paris")
    assert subtract(same_wall, before) == timedelta(hours=23)


@pytest.mark.parametrize("op", [add, subtract, multiply, divide, power])
def test_null_operand_gives_null(op: Any) -> None:
    assert op(None, D(1)) is None
    assert op(D(1), None) is None


@pytest.mark.parametrize(
    ("op", "a", "b", "message"),
    [
        (add, "a", D(1), "cannot add string and number"),
        (add, D(1), True, "cannot add number and boolean"),
        (divide, D(1), D(0), "division by zero"),
        (divide, P("P1D"), D(0), "division by zero"),
        (divide, P("P1D"), P("PT0S"), "zero duration"),
        (subtract, P("10:00:00"), P("10:00:00Z"), "time zone"),
        (subtract, P("2024-01-01T10:00:00"), P("2024-01-01T10:00:00Z"), "time zone"),
        # 10.3.2.3.5: a date converted to a date and time is UTC midnight
        (subtract, P("2024-01-02T00:00:00"), P("2024-01-01"), "time zone"),
        (subtract, P("2024-01-02"), P("2024-01-01T06:00:00"), "time zone"),
        (add, P("10:00:00"), P("P1M"), "cannot add time and years and months duration"),
        (add, P("P1D"), P("P1M"), "cannot add"),
        (power, D(0), D(-1), "division by zero"),
        (power, D(10), D(1_000_000), "power: result is too large"),
        (power, D(-8), D("0.5"), "power: undefined for -8 and 0.5"),
        (multiply, "a", D(2), "cannot multiply"),
        (add, P("9999-12-31"), P("P1D"), "outside years 1..9999"),
        (add, P("9999-12-31"), P("P1M"), "outside the supported range"),
    ],
)
def test_invalid_combinations_raise(op: Any, a: Any, b: Any, message: str) -> None:
    with pytest.raises(FeelRuntimeError, match=message):
        op(a, b)


def test_negate() -> None:
    assert negate(D(5)) == D(-5)
    assert negate(P("PT1H")) == timedelta(hours=-1)
    assert negate(P("P1Y")) == YM(-12)
    assert negate(None) is None
    with pytest.raises(FeelRuntimeError, match="cannot negate string"):
        negate("x")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (None, None, True),
        (None, D(1), False),
        (D(1), None, False),
        (D(1), D("1.00"), True),
        (D(1), "1", None),
        (True, True, True),
        (True, D(1), None),
        ("a", "a", True),
        ("a", "A", False),
        ([D(1), D(2)], [D(1), D(2)], True),
        ([D(1), D(2)], [D(1)], False),
        ([D(1), D(2)], [D(1), D(3)], False),
        ([D(1), "x"], [D(1), D(2)], None),
        ({"a": D(1)}, {"a": D(1)}, True),
        ({"a": D(1)}, {"b": D(1)}, False),
        (Range(D(1), D(2)), Range(D(1), D(2)), True),
        (Range(D(1), D(2)), Range(D(1), D(2), True, False), False),
        (P("2024-01-01"), P("2024-01-01"), True),
        (P("2024-01-01"), P("2024-01-01T00:00:00"), None),
        (P("2024-01-01T10:00:00@Europe/Paris"), P("2024-01-01T09:00:00Z"), True),
        (P("2024-01-01T10:00:00"), P("2024-01-01T10:00:00Z"), None),
        (P("10:00:00+01:00"), P("09:00:00Z"), True),
        (P("10:00:00"), P("10:00:00Z"), None),
        (P("P1D"), P("PT24H"), True),
        (P("P1Y"), P("P12M"), True),
        (P("P0D"), P("P0M"), None),
    ],
)
def test_equality(a: Any, b: Any, expected: bool | None) -> None:
    assert equals(a, b) is expected
    assert equals(b, a) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(1), D(2), -1),
        (D(2), D("2.0"), 0),
        ("b", "a", 1),
        (P("2024-01-02"), P("2024-01-01"), 1),
        (P("2024-01-01T10:00:00+02:00"), P("2024-01-01T09:00:00Z"), -1),
        (P("10:00:00"), P("11:00:00"), -1),
        (P("PT1H"), P("PT59M"), 1),
        (P("P1Y"), P("P13M"), -1),
    ],
)
def test_compare(a: Any, b: Any, expected: int) -> None:
    assert compare(a, b) == expected
    assert compare(b, a) == -expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (D(1), "1"),
        (True, False),
        (P("2024-01-01"), P("2024-01-01T00:00:00")),
        (P("10:00:00"), P("2024-01-01")),
        (P("P1D"), P("P1M")),
        ([D(1)], [D(2)]),
    ],
)
def test_compare_incomparable_raises(a: Any, b: Any) -> None:
    with pytest.raises(FeelRuntimeError, match="cannot (compare|combine)"):
        compare(a, b)


def test_compare_null() -> None:
    assert compare(None, D(1)) is None
    assert compare("a", None) is None


def test_range_contains() -> None:
    r = Range(D(1), D(10), True, False)
    assert r.contains(D(1)) is True
    assert r.contains(D(10)) is False
    assert r.contains(D("9.99")) is True
    assert r.contains(D(0)) is False
    assert r.contains(None) is None
    assert r.contains("5") is None
    below = Range(None, D(10), False, False)
    assert below.contains(D(-1000)) is True
    assert below.contains(D(10)) is False
    dates = Range(P("2024-01-01"), None, False, False)
    assert dates.contains(P("2024-01-02")) is True
    assert dates.contains(P("2024-01-01")) is False


def test_to_feel() -> None:
    assert to_feel(1) == D(1)
    assert isinstance(to_feel(1), D)
    assert to_feel(1.1) == D("1.1")
    assert to_feel(True) is True
    assert to_feel((1, "a")) == [D(1), "a"]
    assert to_feel({"a": [2.5, None]}) == {"a": [D("2.5"), None]}
    d = datetime(2024, 1, 1, tzinfo=UTC)
    assert to_feel(d) is d
    for bad in ({1, 2}, b"x", object(), {1: "a"}, float("nan"), D("NaN"), D("-Infinity")):
        with pytest.raises(TypeError):
            to_feel(bad)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "Null"),
        (D(1), "number"),
        ("s", "string"),
        (False, "boolean"),
        (date(2024, 1, 1), "date"),
        (time(1), "time"),
        (datetime(2024, 1, 1), "date and time"),
        (timedelta(1), "days and time duration"),
        (YM(1), "years and months duration"),
        ([], "list"),
        ({}, "context"),
        (Range(D(1), D(2)), "range"),
    ],
)
def test_type_name(value: Any, name: str) -> None:
    assert type_name(value) == name


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1.5"), "1.5"),
        (D("1E+3"), "1000"),
        (D("-0"), "0"),
        (D("0.000001"), "0.000001"),
        (True, "true"),
        (None, "null"),
        ("abc", "abc"),
        (date(2024, 1, 31), "2024-01-31"),
        (time(13, 45), "13:45:00"),
        (time(13, 45, 0, 123000, tzinfo=timezone(timedelta(hours=1))), "13:45:00.123+01:00"),
        (time(13, 45, tzinfo=UTC), "13:45:00Z"),
        (
            datetime(2024, 1, 31, 13, 45, tzinfo=ZoneInfo("Europe/Paris")),
            "2024-01-31T13:45:00@Europe/Paris",
        ),
        (
            datetime(2024, 1, 31, 13, 45, tzinfo=timezone(-timedelta(hours=5))),
            "2024-01-31T13:45:00-05:00",
        ),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(0), "PT0S"),
        (-timedelta(hours=1, seconds=1.5), "-PT1H0M1.5S".replace("0M", "")),
        (timedelta(days=-1), "-P1D"),
        (YM(14), "P1Y2M"),
        (YM(12), "P1Y"),
        (YM(-3), "-P3M"),
        (YM(0), "P0M"),
        ([D(1), D(2)], "[1, 2]"),
        ([D(1), "a", None], '[1, "a", null]'),
        ({"a": D(1)}, "{a: 1}"),
        ({"a": {"b": "x"}}, '{a: {b: "x"}}'),
        (Range(D(1), D(10), True, False), "[1..10)"),
        (Range(None, D(10), False, False), "< 10"),
        (Range(D(5), None, True, False), ">= 5"),
    ],
)
def test_to_string(value: Any, text: str) -> None:
    assert to_string(value) == text
