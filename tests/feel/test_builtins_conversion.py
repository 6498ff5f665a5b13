"""Conversion built-ins (DMN 1.5 table 70), called directly; expected values from the spec."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowdesk.feel.builtins import BUILTINS
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import YearsMonthsDuration, parse_temporal, to_feel


def call(name: str, *args: Any, **named: Any) -> Any:
    if named:
        params = {k.replace("_", " "): to_feel(v) for k, v in named.items()}
        return BUILTINS[name].invoke(Env(), None, params)
    return BUILTINS[name].invoke(Env(), [to_feel(a) for a in args], None)


P = parse_temporal


def test_date() -> None:
    assert call("date", "2012-12-25") == date(2012, 12, 25)
    assert call("date", P("2012-12-25T12:00:00")) == date(2012, 12, 25)
    assert call("date", 2012, 12, 25) == date(2012, 12, 25)
    assert call("date", year=2012, month=12, day=25) == date(2012, 12, 25)
    assert call("date", **{"from": "2012-12-25"}) == date(2012, 12, 25)
    assert call("date", None) is None
    assert call("date", 2012, None, 25) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2012-13-25",), "invalid date"),
        ((12,), "from must be a string or a date and time, got number"),
        ((2012, 2, 30), "invalid date"),
        ((2012, "2", 3), "month must be a number, got string"),
        ((2012, 2.5, 3), "month must be an integer"),
        ((10000, 1, 1), "outside the supported range"),
        ((1, 2), "wrong number of arguments"),
    ],
)
def test_date_errors(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(FeelRuntimeError, match=message):
        call("date", *args)


def test_date_and_time() -> None:
    assert call("date and time", "2012-12-24T23:59:00") == datetime(2012, 12, 24, 23, 59)
    assert call("date and time", "2012-12-24") == datetime(2012, 12, 24)
    assert call("date and time", P("2012-12-24"), P("23:59:00")) == datetime(2012, 12, 24, 23, 59)
    zoned = call("date and time", P("2012-12-24"), P("23:59:00@Europe/Paris"))
    assert zoned == datetime(2012, 12, 24, 23, 59, tzinfo=ZoneInfo("Europe/Paris"))
    # spec example: date and time(date and time("2012-12-24T10:00:00"), time("23:59:00"))
    assert call("date and time", P("2012-12-24T10:00:00"), P("23:59:00Z")) == datetime(
        2012, 12, 24, 23, 59, tzinfo=UTC
    )
    assert call("date and time", date=P("2012-12-24"), time=P("10:00:00")) == datetime(
        2012, 12, 24, 10
    )
    assert call("date and time", "2018-12-10T10:30:00@Etc/UTC").tzinfo == ZoneInfo("Etc/UTC")
    assert call("date and time", None) is None
    with pytest.raises(FeelRuntimeError, match="time must be a time, got string"):
        call("date and time", P("2012-12-24"), "10:00:00")
    with pytest.raises(FeelRuntimeError, match="invalid"):
        call("date and time", "2012-12-24T25:00:00")


def test_time() -> None:
    assert call("time", "23:59:00z") == time(23, 59, tzinfo=UTC)
    assert call("time", "23:59:00") == time(23, 59)
    assert call("time", 23, 59, 0) == time(23, 59)
    assert call("time", 23, 59, D("1.5")) == time(23, 59, 1, 500000)
    expected = time(23, 59, tzinfo=timezone(timedelta(hours=-5)))
    assert call("time", 23, 59, 0, P("-PT5H")) == expected
    assert call("time", hour=23, minute=59, second=0, offset=P("PT1H")).utcoffset() == timedelta(
        hours=1
    )
    assert call("time", P("2017-08-10T23:59:01+01:00")) == time(
        23, 59, 1, tzinfo=timezone(timedelta(hours=1))
    )
    assert call("time", P("2017-08-10")) == time(0, tzinfo=UTC)
    assert call("time", 23, None, 0) is None
    with pytest.raises(FeelRuntimeError, match="not a valid time"):
        call("time", 24, 0, 0)
    with pytest.raises(FeelRuntimeError, match="offset must be a days and time duration"):
        call("time", 1, 0, 0, 5)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("1 000,0", " ", ","), D(1000)),
        (("1,000.5", ",", "."), D("1000.5")),
        (("1.000.000,25", ".", ","), D("1000000.25")),
        (("12.5",), D("12.5")),
        (("-3",), D(-3)),
        (("1e3",), D(1000)),
    ],
)
def test_number(args: tuple[Any, ...], expected: D) -> None:
    assert call("number", *args) == expected


def test_number_named_and_errors() -> None:
    assert call("number", **{"from": "1 000,0", "grouping_separator": " ",
                             "decimal_separator": ","}) == D(1000)  # fmt: skip
    assert call("number", None) is None
    for args, message in [
        (("1,0", ",", ","), "must differ"),
        (("1:0", ":", "."), "grouping separator"),
        (("1;0", None, ";"), "decimal separator"),
        (("abc",), "is not a number"),
        (("1 000",), "is not a number"),
        ((12,), "from must be a string"),
    ]:
        with pytest.raises(FeelRuntimeError, match=message):
            call("number", *args)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("1.1"), "1.1"),
        (D(3), "3"),
        (True, "true"),
        ("abc", "abc"),
        (P("2012-12-25"), "2012-12-25"),
        (P("P1DT2H"), "P1DT2H"),
        ([1, "a"], '[1, "a"]'),
    ],
)
def test_string(value: Any, expected: str) -> None:
    assert call("string", value) == expected


def test_string_of_null_is_null() -> None:
    assert call("string", None) is None


def test_duration() -> None:
    assert call("duration", "P1DT23H12M30S") == timedelta(days=1, hours=23, minutes=12, seconds=30)
    assert call("duration", "P23D") == timedelta(days=23)
    assert call("duration", "PT12H") == timedelta(hours=12)
    assert call("duration", "P2Y2M") == YearsMonthsDuration(26)
    assert call("duration", "P26M") == YearsMonthsDuration(26)
    assert call("duration", None) is None
    with pytest.raises(FeelRuntimeError, match="invalid duration"):
        call("duration", "1 day")


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2011-12-22", "2013-08-24", 20),  # spec: P1Y8M
        ("2013-08-24", "2011-12-22", -20),
        ("2015-01-21", "2016-01-21", 12),
        ("2016-01-21", "2015-01-21", -12),
        ("2015-01-21", "2015-02-20", 0),
        ("2015-01-31", "2015-02-28", 0),
        ("2015-01-21T10:00:00", "2015-02-21T09:59:59", 0),
        ("2015-01-21T10:00:00", "2015-02-21T10:00:00", 1),
        ("2015-01-21T10:00:00Z", "2015-02-21T11:00:00+01:00", 1),
    ],
)
def test_years_and_months_duration(start: str, end: str, months: int) -> None:
    assert call("years and months duration", P(start), P(end)) == YearsMonthsDuration(months)


def test_years_and_months_duration_errors() -> None:
    assert call("years and months duration", None, P("2015-01-01")) is None
    with pytest.raises(FeelRuntimeError, match="from must be a date"):
        call("years and months duration", "2015-01-01", P("2015-01-01"))
    assert call(
        "years and months duration", **{"from": P("2011-12-22"), "to": P("2013-08-24")}
    ) == YearsMonthsDuration(20)


def test_number_out_of_range() -> None:
    with pytest.raises(FeelRuntimeError, match="outside the FEEL number range"):
        call("number", "1e99999")
