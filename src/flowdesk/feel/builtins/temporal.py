"""Date and time functions (DMN 1.5 table 78): day of year, day of week, month of year,
week of year (ISO 8601), and last day of month. They accept a date or a date and time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flowdesk.feel.builtins.base import a_date, builtin
from flowdesk.feel.runtime import Env
from flowdesk.feel.temporal import last_day_of_month as _last_day

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@builtin("day of year", "date")
def day_of_year(env: Env, value: Any) -> Decimal:
    return Decimal(a_date("day of year", "date", value).timetuple().tm_yday)


@builtin("day of week", "date")
def day_of_week(env: Env, value: Any) -> str:
    return _DAYS[a_date("day of week", "date", value).weekday()]


@builtin("month of year", "date")
def month_of_year(env: Env, value: Any) -> str:
    return _MONTH_NAMES[a_date("month of year", "date", value).month - 1]


@builtin("week of year", "date")
def week_of_year(env: Env, value: Any) -> Decimal:
    return Decimal(a_date("week of year", "date", value).isocalendar().week)


@builtin("last day of month", "date")
def last_day_of_month(env: Env, value: Any) -> date:
    d = a_date("last day of month", "date", value)
    return date(d.year, d.month, _last_day(d.year, d.month))
