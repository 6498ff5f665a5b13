"""Temporal literals (`@"..."`) and the properties of dates, times, durations and ranges."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowdesk.feel import Env, FeelSyntaxError, compile_expression, evaluate
from flowdesk.feel.values import YearsMonthsDuration

D = Decimal


def ev(text: str, context: dict[str, Any] | None = None) -> Any:
    return evaluate(text, context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('@"2024-01-31"', date(2024, 1, 31)),
        ('@"13:45:00"', time(13, 45)),
        ('@"2024-01-31T13:45:00"', datetime(2024, 1, 31, 13, 45)),
        (
            '@"2024-01-31T13:45:00@Europe/Paris"',
            datetime(2024, 1, 31, 13, 45, tzinfo=ZoneInfo("Europe/Paris")),
        ),
        ('@"P1DT2H"', timedelta(days=1, hours=2)),
        ('@"P1Y2M"', YearsMonthsDuration(14)),
        ('@"-PT1H"', timedelta(hours=-1)),
    ],
)
def test_temporal_literals(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_malformed_temporal_literal_is_a_syntax_error_at_its_position() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression('1 + @"2024-13-45"')
    assert info.value.column == 5
    assert "invalid temporal literal" in info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('@"2024-01-31".year', D(2024)),
        ('@"2024-01-31".month', D(1)),
        ('@"2024-01-31".day', D(31)),
        ('@"2024-01-31".weekday', D(3)),
        ('@"2024-01-31T13:45:10".hour', D(13)),
        ('@"2024-01-31T13:45:10".minute', D(45)),
        ('@"2024-01-31T13:45:10".second', D(10)),
        ('@"2024-01-31T13:45:10".weekday', D(3)),
        ('@"2024-01-31T13:45:10@Europe/Paris".timezone', "Europe/Paris"),
        ('@"2024-01-31T13:45:10+02:00".time offset', timedelta(hours=2)),
        ('@"2024-01-31T13:45:10".time offset', None),
        ('@"2024-01-31T13:45:10".timezone', None),
        ('@"13:45:10".hour', D(13)),
        ('@"13:45:10.5".second', D("10.5")),
        ('@"13:45:10+01:00".time offset', timedelta(hours=1)),
        ('@"13:45:10@Europe/Paris".timezone', "Europe/Paris"),
        ('@"P3DT4H5M6S".days', D(3)),
        ('@"P3DT4H5M6S".hours', D(4)),
        ('@"P3DT4H5M6S".minutes', D(5)),
        ('@"P3DT4H5M6S".seconds', D(6)),
        ('@"-PT1H".hours', D(-1)),
        ('@"P1Y2M".years', D(1)),
        ('@"P1Y2M".months', D(2)),
        ('@"-P1Y2M".months', D(-2)),
        ("[1..5).start", D(1)),
        ("[1..5).end", D(5)),
        ("[1..5).start included", True),
        ("[1..5).end included", False),
        ("(< 10).start", None),
    ],
)
def test_properties(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_properties_of_input_values() -> None:
    ctx = {"d": date(2024, 2, 29), "t": time(8, 30), "dur": timedelta(days=2)}
    assert ev("d.year + t.hour + dur.days", ctx) == D(2034)


def test_unknown_property_is_null_with_diagnostic() -> None:
    env = Env()
    assert evaluate('@"2024-01-31".hour', env=env) is None
    assert "date has no property 'hour'" in env.diagnostics.messages()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('@"2024-01-01" < @"2024-01-02"', True),
        ('@"2024-01-01" = @"2024-01-01"', True),
        ('@"10:00:00" > @"09:59:59"', True),
        ('@"P1D" < @"P2D"', True),
        ('@"2024-01-31" + @"P1D"', date(2024, 2, 1)),
        ('@"2024-01-31" - @"2024-01-01"', timedelta(days=30)),
        ('@"2024-01-15" in [@"2024-01-01"..@"2024-01-31"]', True),
        ('@"2024-01-15" between @"2024-01-01" and @"2024-01-10"', False),
    ],
)
def test_temporal_operators(text: str, expected: Any) -> None:
    assert ev(text) == expected
