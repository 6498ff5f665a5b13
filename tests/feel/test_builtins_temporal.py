"""Date and time built-ins (DMN 1.5 table 78), `is`, now/today from the injected clock, and
`get or else`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.feel.builtins import BUILTINS
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import parse_temporal, to_feel


def call(name: str, *args: Any, **named: Any) -> Any:
    if named:
        params = {k.replace("_", " "): to_feel(v) for k, v in named.items()}
        return BUILTINS[name].invoke(Env(), None, params)
    return BUILTINS[name].invoke(Env(), [to_feel(a) for a in args], None)


P = parse_temporal


def test_spec_examples() -> None:
    d = date(2019, 9, 17)
    assert call("day of year", d) == D(260)
    assert call("day of week", d) == "Tuesday"
    assert call("month of year", d) == "September"
    assert call("week of year", d) == D(38)
    assert call("day of week", P("2019-09-15T10:00:00")) == "Sunday"
    assert call("month of year", date(2019, 1, 1)) == "January"
    assert call("day of year", date(2020, 12, 31)) == D(366)


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2003, 12, 29), 1),
        (date(2004, 1, 4), 1),
        (date(2005, 1, 1), 53),
        (date(2005, 1, 3), 1),
        (date(2005, 1, 9), 1),
        (date(2010, 1, 3), 53),
    ],
)
def test_week_of_year_is_iso(day: date, week: int) -> None:
    assert call("week of year", day) == D(week)


def test_last_day_of_month() -> None:
    assert call("last day of month", date(2024, 2, 10)) == date(2024, 2, 29)
    assert call("last day of month", date(2023, 2, 10)) == date(2023, 2, 28)
    assert call("last day of month", P("2023-12-01T10:00:00")) == date(2023, 12, 31)


def test_date_functions_nulls_and_errors() -> None:
    assert call("day of week", None) is None
    assert call("day of year", date=date(2019, 9, 17)) == D(260)
    with pytest.raises(FeelRuntimeError, match="day of week: date must be a date or date and time"):
        call("day of week", "2019-09-17")


def test_now_and_today_come_from_the_clock() -> None:
    clock = FixedClock(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    env = Env(clock=clock)
    assert BUILTINS["now"].invoke(env, [], None) == datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert BUILTINS["today"].invoke(env, None, {}) == date(2026, 3, 1)
    clock.advance(hours=1)
    assert BUILTINS["today"].invoke(env, [], None) == date(2026, 3, 2)
    with pytest.raises(FeelRuntimeError, match="wrong number of arguments"):
        BUILTINS["now"].invoke(env, [1], None)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (P("2012-12-25"), P("23:00:50"), False),
        (P("2012-12-25"), P("2012-12-25"), True),
        (P("23:00:50z"), P("23:00:50"), False),
        (P("23:00:50z"), P("23:00:50+00:00"), True),
        (P("10:00:00+01:00"), P("09:00:00Z"), False),
        (P("2012-12-25T10:00:00@Europe/Paris"), P("2012-12-25T10:00:00+01:00"), False),
        (P("2012-12-25T10:00:00@Europe/Paris"), P("2012-12-25T10:00:00@Europe/Paris"), True),
        (P("2012-12-25"), P("2012-12-25T00:00:00"), False),
        (D(1), D("1.0"), True),
        (D(1), "1", False),
        (None, None, True),
        (None, D(0), False),
        ([D(1)], [D(1)], True),
    ],
)
def test_is(a: Any, b: Any, expected: bool) -> None:
    assert call("is", a, b) is expected


def test_is_named() -> None:
    assert call("is", value1=D(1), value2=D(1)) is True


def test_get_or_else() -> None:
    assert call("get or else", "a", "b") == "a"
    assert call("get or else", None, "b") == "b"
    assert call("get or else", None, None) is None
    assert call("get or else", value=False, default=True) is False
