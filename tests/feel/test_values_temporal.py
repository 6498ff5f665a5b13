"""Parsing of every FEEL temporal literal form, and the errors for malformed ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.values import (
    YearsMonthsDuration,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_temporal,
    parse_time,
    to_string,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31", date(2024, 1, 31)),
        ("0001-01-01", date(1, 1, 1)),
        ("9999-12-31", date(9999, 12, 31)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected
    assert to_string(parse_date(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-1-31", "invalid date"),
        ("2023-02-29", "invalid date 2023-02-29"),
        ("2024-13-01", "invalid date"),
        ("-999999999-01-01", "outside the supported range"),
        ("10000-01-01", "year 10000 is outside"),
        ("0000-01-01", "year 0 is outside"),
        ("2024-01-31T10:00:00", "invalid date"),
        ("", "invalid date"),
    ],
)
def test_parse_date_errors(text: str, message: str) -> None:
    with pytest.raises(FeelRuntimeError, match=message):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13:45:00", time(13, 45)),
        ("13:45:00.123+01:00", time(13, 45, 0, 123000, tzinfo=timezone(timedelta(hours=1)))),
        ("13:45:00Z", time(13, 45, tzinfo=UTC)),
        ("23:00:50z", time(23, 0, 50, tzinfo=UTC)),
        ("13:45:00-05:30", time(13, 45, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
        ("13:45:00@Europe/Paris", time(13, 45, tzinfo=PARIS)),
        ("00:00:00.123456789", time(0, 0, 0, 123456)),
        ("24:00:00", time(0, 0)),
    ],
)
def test_parse_time(text: str, expected: time) -> None:
    value = parse_time(text)
    assert value == expected
    assert value.tzinfo == expected.tzinfo


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25:00:00", "out of range"),
        ("12:60:00", "out of range"),
        ("12:00", "invalid time"),
        ("12:00:00+19:00", "outside -18:00"),
        ("12:00:00@Mars/Olympus", "unknown time zone"),
        ("12:00:00@../../etc/passwd", "invalid time"),
        ("noon", "invalid time"),
    ],
)
def test_parse_time_errors(text: str, message: str) -> None:
    with pytest.raises(FeelRuntimeError, match=message):
        parse_time(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31T13:45:00", datetime(2024, 1, 31, 13, 45)),
        ("2024-01-31T13:45:00Z", datetime(2024, 1, 31, 13, 45, tzinfo=UTC)),
        ("2024-01-31T13:45:00@Europe/Paris", datetime(2024, 1, 31, 13, 45, tzinfo=PARIS)),
        (
            "2024-01-31T13:45:00.5-03:00",
            datetime(2024, 1, 31, 13, 45, 0, 500000, tzinfo=timezone(-timedelta(hours=3))),
        ),
    ],
)
def test_parse_date_time(text: str, expected: datetime) -> None:
    value = parse_date_time(text)
    assert value == expected
    assert value.tzinfo == expected.tzinfo
    assert to_string(value) == text


@pytest.mark.parametrize(
    "text", ["2024-01-31", "2024-01-31T", "2024-01-31T25:00:00", "2024-02-30T10:00:00", "T10:00:00"]
)
def test_parse_date_time_errors(text: str) -> None:
    with pytest.raises(FeelRuntimeError):
        parse_date_time(text)


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("P1Y2M", YearsMonthsDuration(14), "P1Y2M"),
        ("P14M", YearsMonthsDuration(14), "P1Y2M"),
        ("-P1Y", YearsMonthsDuration(-12), "-P1Y"),
        ("P0Y", YearsMonthsDuration(0), "P0M"),
        ("P3DT4H5M6.5S", timedelta(days=3, hours=4, minutes=5, seconds=6.5), "P3DT4H5M6.5S"),
        ("-PT1H", timedelta(hours=-1), "-PT1H"),
        ("PT36H", timedelta(hours=36), "P1DT12H"),
        ("P2D", timedelta(days=2), "P2D"),
        ("PT0S", timedelta(0), "PT0S"),
        ("PT0.000001S", timedelta(microseconds=1), "PT0.000001S"),
        ("PT90M", timedelta(minutes=90), "PT1H30M"),
    ],
)
def test_parse_duration(text: str, expected: Any, canonical: str) -> None:
    value = parse_duration(text)
    assert value == expected
    assert type(value) is type(expected)
    assert to_string(value) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("P", "invalid duration"),
        ("PT", "invalid duration"),
        ("P1DT", "invalid duration"),
        ("1D", "invalid duration"),
        ("P1Y2D", "not both"),
        ("P1W", "invalid duration"),
        ("P1.5D", "invalid duration"),
        ("P999999999999D", "too large"),
        ("P" + "9" * 200 + "D", "invalid duration"),
    ],
)
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(FeelRuntimeError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31", date(2024, 1, 31)),
        ("2024-01-31T10:00:00", datetime(2024, 1, 31, 10)),
        ("10:00:00", time(10)),
        ("10:00:00@Etc/GMT", time(10, tzinfo=ZoneInfo("Etc/GMT"))),
        ("2024-01-31T10:00:00@Etc/GMT", datetime(2024, 1, 31, 10, tzinfo=ZoneInfo("Etc/GMT"))),
        ("P1M", YearsMonthsDuration(1)),
        ("-PT5M", timedelta(minutes=-5)),
    ],
)
def test_parse_temporal_picks_the_right_type(text: str, expected: Any) -> None:
    value = parse_temporal(text)
    assert value == expected
    assert type(value) is type(expected)


def test_parse_temporal_rejects_other_text() -> None:
    with pytest.raises(FeelRuntimeError, match="not a date, time"):
        parse_temporal("yesterday")
