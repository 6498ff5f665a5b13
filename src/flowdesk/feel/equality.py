"""FEEL equality (`=`, `!=`) and ordering (`<`, `<=`, `>`, `>=`), DMN 1.5 section 10.3.2.

Equality is total over same-type values and gives null for values of different types;
ordering is defined for numbers, strings, dates, times, date-times and same-kind durations.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flowdesk.feel.durations import YearsMonthsDuration
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.ranges import Range
from flowdesk.feel.runtime import FeelFunction
from flowdesk.feel.strings import type_name
from flowdesk.feel.temporal import (
    compare_date_times,
    compare_times,
    is_aware,
    time_micros,
    to_utc,
)


def equals(a: Any, b: Any) -> bool | None:
    """FEEL `=`: null = null is true, null = x is false, different types give null; lists,
    contexts and ranges compare deeply; a date and time with a zone equals the same instant
    in another zone, but never a local one (that gives null)."""
    return _equals(a, b, 0)


def _equals(a: Any, b: Any, depth: int) -> bool | None:
    if depth > 200:
        raise FeelRuntimeError("equality: values are nested too deeply")
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, datetime) or isinstance(b, datetime):
        if not (isinstance(a, datetime) and isinstance(b, datetime)):
            return None
        if is_aware(a) != is_aware(b):
            return None
        return to_utc(a) == to_utc(b) if is_aware(a) else a == b
    if isinstance(a, date) and isinstance(b, date):
        return a == b
    if isinstance(a, time) and isinstance(b, time):
        if is_aware(a) != is_aware(b):
            return None
        return time_micros(a) == time_micros(b)
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return a == b
    if isinstance(a, YearsMonthsDuration) and isinstance(b, YearsMonthsDuration):
        return a.months == b.months
    if isinstance(a, list) and isinstance(b, list):
        return _all_equal(list(zip(a, b, strict=False)), len(a) == len(b), depth)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return _all_equal([(a[k], b[k]) for k in a], True, depth)
    if isinstance(a, Range) and isinstance(b, Range):
        if a.start_included != b.start_included or a.end_included != b.end_included:
            return False
        return _all_equal([(a.start, b.start), (a.end, b.end)], True, depth)
    if isinstance(a, FeelFunction) and isinstance(b, FeelFunction):
        return a is b
    return None


def _all_equal(pairs: list[tuple[Any, Any]], same_size: bool, depth: int) -> bool | None:
    if not same_size:
        return False
    unknown = False
    for x, y in pairs:
        r = _equals(x, y, depth + 1)
        if r is False:
            return False
        if r is None:
            unknown = True
    return None if unknown else True


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 for ordered same-type values; None if either is null. Raises
    FeelRuntimeError for values without an order between them (booleans, a string and a
    number, a local and a zoned date and time)."""
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        pass
    elif type(a) is type(b) and isinstance(a, Decimal | str):
        return _order(a, b)
    elif isinstance(a, datetime) and isinstance(b, datetime):
        return compare_date_times(a, b)
    elif (
        isinstance(a, date)
        and isinstance(b, date)
        and not isinstance(a, datetime)
        and not isinstance(b, datetime)
    ):
        return _order(a, b)
    elif isinstance(a, time) and isinstance(b, time):
        return compare_times(a, b)
    elif isinstance(a, timedelta) and isinstance(b, timedelta):
        return _order(a, b)
    elif isinstance(a, YearsMonthsDuration) and isinstance(b, YearsMonthsDuration):
        return (a.months > b.months) - (a.months < b.months)
    raise FeelRuntimeError(f"cannot compare {type_name(a)} with {type_name(b)}")


def _order(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)
