"""FEEL values are plain Python values; this module is their one front door.

It holds the operators of DMN 1.5 tables 57-63 (`add`, `subtract`, `multiply`, `divide`,
`power`, `negate`), conversion of host values (`to_feel`) and re-exports equality, ordering,
temporal parsing, rendering and the value types, so the compiler and the DMN layer import
everything from `flowdesk.feel.values`.

Operators return None for a null operand and raise FeelRuntimeError for a combination the
spec does not define; the evaluator turns that into null plus a diagnostic.
"""

from __future__ import annotations

import decimal
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flowdesk.feel.durations import (
    YearsMonthsDuration,
    duration_seconds,
    parse_duration,
    render_days_time,
    render_years_months,
    seconds_to_duration,
)
from flowdesk.feel.equality import compare, equals
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.numbers import FEEL_CONTEXT, checked, from_python, is_number, normalize
from flowdesk.feel.ranges import Range
from flowdesk.feel.runtime import FeelFunction
from flowdesk.feel.strings import to_string, type_name
from flowdesk.feel.temporal import (
    add_months,
    add_to_date,
    add_to_date_time,
    add_to_time,
    date_to_date_time,
    parse_date,
    parse_date_time,
    parse_temporal,
    parse_time,
    subtract_date_times,
    subtract_times,
)

__all__ = [
    "FEEL_CONTEXT",
    "Range",
    "YearsMonthsDuration",
    "add",
    "compare",
    "divide",
    "equals",
    "is_number",
    "multiply",
    "negate",
    "normalize",
    "parse_date",
    "parse_date_time",
    "parse_duration",
    "parse_temporal",
    "parse_time",
    "power",
    "render_days_time",
    "render_years_months",
    "subtract",
    "to_feel",
    "to_string",
    "type_name",
]

_SCALARS = (str, Decimal, date, time, timedelta, YearsMonthsDuration, Range, FeelFunction)


def to_feel(value: Any) -> Any:
    """Convert a host value into a FEEL value: int/float -> Decimal, tuple -> list, nested
    lists and dicts converted; FEEL values pass through. Raises TypeError for anything else
    (sets, bytes, arbitrary objects, dicts with non-string keys, NaN)."""
    return _to_feel(value, 0)


def _to_feel(value: Any, depth: int) -> Any:
    if depth > 200:
        raise TypeError("value is nested too deeply to convert to FEEL")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return from_python(value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise TypeError(f"{value} is not a finite number")
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        return [_to_feel(v, depth + 1) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"context keys must be strings, got {type(k).__name__}")
            out[k] = _to_feel(v, depth + 1)
        return out
    raise TypeError(f"{type(value).__name__} is not a FEEL value")


def _fail(op: str, a: Any, b: Any) -> FeelRuntimeError:
    return FeelRuntimeError(f"cannot {op} {type_name(a)} and {type_name(b)}")


def _num_op(op: str, fn: Any, a: Decimal, b: Decimal) -> Decimal:
    try:
        return checked(op, fn(a, b))
    except decimal.DivisionByZero:
        raise FeelRuntimeError(f"{op}: division by zero") from None
    except decimal.Overflow:
        raise FeelRuntimeError(f"{op}: result is too large (more than 1E+6144)") from None
    except decimal.DecimalException:
        raise FeelRuntimeError(f"{op}: undefined for {a} and {b}") from None


def add(a: Any, b: Any) -> Any:
    """`a + b`: numbers, string concatenation, durations, and temporal + duration."""
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        return _num_op("add", FEEL_CONTEXT.add, a, b)
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(b, date | time) and isinstance(a, timedelta | YearsMonthsDuration):
        a, b = b, a
    try:
        if isinstance(a, timedelta) and isinstance(b, timedelta):
            return a + b
        if isinstance(a, YearsMonthsDuration) and isinstance(b, YearsMonthsDuration):
            return YearsMonthsDuration(a.months + b.months)
        if isinstance(a, datetime):
            if isinstance(b, timedelta):
                return add_to_date_time(a, b)
            if isinstance(b, YearsMonthsDuration):
                return add_months(a, b.months)
        elif isinstance(a, date):
            if isinstance(b, timedelta):
                return add_to_date(a, b)
            if isinstance(b, YearsMonthsDuration):
                return add_months(a, b.months)
        elif isinstance(a, time) and isinstance(b, timedelta):
            return add_to_time(a, b)
    except OverflowError:
        raise FeelRuntimeError("add: result is out of range") from None
    raise _fail("add", a, b)


def subtract(a: Any, b: Any) -> Any:
    """`a - b`: numbers, durations, temporal - duration, and differences of dates, date-times
    (a days and time duration) and times."""
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        return _num_op("subtract", FEEL_CONTEXT.subtract, a, b)
    try:
        if isinstance(a, timedelta) and isinstance(b, timedelta):
            return a - b
        if isinstance(a, YearsMonthsDuration) and isinstance(b, YearsMonthsDuration):
            return YearsMonthsDuration(a.months - b.months)
        if isinstance(a, date | time) and isinstance(b, timedelta | YearsMonthsDuration):
            return add(a, negate(b))
        if isinstance(a, datetime) and isinstance(b, date):
            other = b if isinstance(b, datetime) else date_to_date_time(b)
            return subtract_date_times(a, other)
        if isinstance(a, date) and isinstance(b, datetime):
            return subtract_date_times(date_to_date_time(a), b)
        if isinstance(a, date) and isinstance(b, date):
            return timedelta(days=(a - b).days)
        if isinstance(a, time) and isinstance(b, time):
            return subtract_times(a, b)
    except OverflowError:
        raise FeelRuntimeError("subtract: result is out of range") from None
    raise _fail("subtract", a, b)


def multiply(a: Any, b: Any) -> Any:
    """`a * b`: numbers, and a duration times a number (either order)."""
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        return _num_op("multiply", FEEL_CONTEXT.multiply, a, b)
    if is_number(a) and isinstance(b, timedelta | YearsMonthsDuration):
        a, b = b, a
    if isinstance(a, timedelta) and is_number(b):
        return seconds_to_duration(FEEL_CONTEXT.multiply(duration_seconds(a), b))
    if isinstance(a, YearsMonthsDuration) and is_number(b):
        return YearsMonthsDuration(int(FEEL_CONTEXT.multiply(Decimal(a.months), b)))
    raise _fail("multiply", a, b)


def divide(a: Any, b: Any) -> Any:
    """`a / b`: numbers (division by zero is an error), a duration divided by a number, and a
    duration divided by a duration of the same kind (a number)."""
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        if b.is_zero():
            raise FeelRuntimeError("divide: division by zero")
        return _num_op("divide", FEEL_CONTEXT.divide, a, b)
    if isinstance(a, timedelta):
        if is_number(b):
            if b.is_zero():
                raise FeelRuntimeError("divide: division by zero")
            return seconds_to_duration(FEEL_CONTEXT.divide(duration_seconds(a), b))
        if isinstance(b, timedelta):
            if not b:
                raise FeelRuntimeError("divide: division by a zero duration")
            return _num_op("divide", FEEL_CONTEXT.divide, duration_seconds(a), duration_seconds(b))
    if isinstance(a, YearsMonthsDuration):
        if is_number(b):
            if b.is_zero():
                raise FeelRuntimeError("divide: division by zero")
            return YearsMonthsDuration(int(FEEL_CONTEXT.divide(Decimal(a.months), b)))
        if isinstance(b, YearsMonthsDuration):
            if b.months == 0:
                raise FeelRuntimeError("divide: division by a zero duration")
            return _num_op("divide", FEEL_CONTEXT.divide, Decimal(a.months), Decimal(b.months))
    raise _fail("divide", a, b)


def power(a: Any, b: Any) -> Any:
    """`a ** b` for numbers (34 significant digits; errors for overflow and 0 ** -1)."""
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        if abs(b) > 999_999_999:
            raise FeelRuntimeError(f"power: exponent {b} is too large")
        if a.is_zero() and b < 0:
            raise FeelRuntimeError("power: division by zero (0 to a negative power)")
        return _num_op("power", FEEL_CONTEXT.power, a, b)
    raise _fail("raise", a, b)


def negate(a: Any) -> Any:
    """Unary minus for numbers and durations."""
    if a is None:
        return None
    if is_number(a):
        return normalize(FEEL_CONTEXT.minus(a))
    if isinstance(a, timedelta):
        try:
            return -a
        except OverflowError:
            raise FeelRuntimeError("negate: duration is out of range") from None
    if isinstance(a, YearsMonthsDuration):
        return YearsMonthsDuration(-a.months)
    raise FeelRuntimeError(f"cannot negate {type_name(a)}")
