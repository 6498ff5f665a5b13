"""Conversion functions (DMN 1.5 table 70): date, date and time, time, number, string,
duration, years and months duration."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flowdesk.feel.builtins.base import a_date, bad, builtin, integer, num, text
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.numbers import normalize
from flowdesk.feel.runtime import Env
from flowdesk.feel.temporal import make_date, months_between, offset_zone
from flowdesk.feel.values import (
    YearsMonthsDuration,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_time,
    to_string,
)


@builtin("date", "from")
def date_from(env: Env, value: Any) -> date:
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise bad("date", "from", "a string or a date and time", value)


@builtin("date", "year", "month", "day")
def date_from_parts(env: Env, year: Any, month: Any, day: Any) -> date:
    return make_date(
        integer("date", "year", year), integer("date", "month", month), integer("date", "day", day)
    )


@builtin("date and time", "from")
def date_time_from(env: Env, value: Any) -> datetime:
    if isinstance(value, str):
        if "T" in value:
            return parse_date_time(value)
        return datetime.combine(parse_date(value), time())
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    raise bad("date and time", "from", "a string or a date", value)


@builtin("date and time", "date", "time")
def date_time_from_parts(env: Env, day: Any, clock: Any) -> datetime:
    d = a_date("date and time", "date", day)
    if not isinstance(clock, time):
        raise bad("date and time", "time", "a time", clock)
    d = d.date() if isinstance(d, datetime) else d
    return datetime.combine(d, clock, tzinfo=clock.tzinfo)


@builtin("time", "from")
def time_from(env: Env, value: Any) -> time:
    if isinstance(value, str):
        return parse_time(value)
    if isinstance(value, datetime):
        return value.timetz()
    if isinstance(value, date):
        return time(0, tzinfo=UTC)
    if isinstance(value, time):
        return value
    raise bad("time", "from", "a string, date or date and time", value)


@builtin("time", "hour", "minute", "second", "offset", required=3)
def time_from_parts(env: Env, hour: Any, minute: Any, second: Any, offset: Any) -> time:
    h = integer("time", "hour", hour)
    m = integer("time", "minute", minute)
    s = num("time", "second", second)
    if not (0 <= h <= 23 and 0 <= m <= 59 and 0 <= s < 60):
        raise FeelRuntimeError(f"time: {h}:{m}:{s} is not a valid time of day")
    whole = int(s)
    micros = int((s - whole) * 1_000_000)
    tz = None
    if offset is not None:
        if not isinstance(offset, timedelta):
            raise bad("time", "offset", "a days and time duration", offset)
        tz = offset_zone(offset)
    return time(h, m, whole, micros, tzinfo=tz)


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@builtin("number", "from", "grouping separator", "decimal separator", required=1)
def number(env: Env, value: Any, grouping: Any, decimal_sep: Any) -> Decimal:
    source = text("number", "from", value)
    if grouping is not None and grouping not in (" ", ",", "."):
        raise FeelRuntimeError(
            f"number: grouping separator must be ' ', ',' or '.', got '{grouping}'"
        )
    if decimal_sep is not None and decimal_sep not in (",", "."):
        raise FeelRuntimeError(f"number: decimal separator must be ',' or '.', got '{decimal_sep}'")
    if grouping is not None and grouping == decimal_sep:
        raise FeelRuntimeError("number: grouping and decimal separators must differ")
    if len(source) > 1000:
        raise FeelRuntimeError("number: text is too long")
    cleaned = source.replace(grouping, "") if grouping else source
    if decimal_sep == ",":
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.fullmatch(cleaned):
        raise FeelRuntimeError(f"number: '{source[:60]}' is not a number")
    try:
        return normalize(Decimal(cleaned))
    except (InvalidOperation, ValueError):
        raise FeelRuntimeError(f"number: '{source[:60]}' is not a number") from None


@builtin("string", "from")
def string(env: Env, value: Any) -> str:
    return to_string(value)


@builtin("duration", "from")
def duration(env: Env, value: Any) -> timedelta | YearsMonthsDuration:
    return parse_duration(text("duration", "from", value))


@builtin("years and months duration", "from", "to")
def years_and_months_duration(env: Env, start: Any, end: Any) -> YearsMonthsDuration:
    return months_between(
        a_date("years and months duration", "from", start),
        a_date("years and months duration", "to", end),
    )
