"""FEEL type names and the `string()` rendering of every FEEL value."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flowdesk.feel.durations import (
    YearsMonthsDuration,
    render_days_time,
    render_years_months,
)
from flowdesk.feel.numbers import to_plain_string
from flowdesk.feel.ranges import Range
from flowdesk.feel.runtime import FeelFunction
from flowdesk.feel.temporal import render_date, render_date_time, render_time


def type_name(value: Any) -> str:
    """The FEEL type of a value, as used in messages and `instance of`."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "date and time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    if isinstance(value, timedelta):
        return "days and time duration"
    if isinstance(value, YearsMonthsDuration):
        return "years and months duration"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, Range):
        return "range"
    if isinstance(value, FeelFunction):
        return "function"
    return type(value).__name__


def to_string(value: Any) -> str:
    """FEEL `string()` of a value: strings as they are, everything else in literal-like form
    (`1.5`, `2024-01-31`, `P1DT2H`, `[1, "a"]`, `{a: 1}`, `[1..10)`); null as `null`."""
    if isinstance(value, str):
        return value
    return _render(value, 0)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _render(value: Any, depth: int) -> str:
    if depth > 100:
        return "..."
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return to_plain_string(value)
    if isinstance(value, str):
        return _quote(value) if depth else value
    if isinstance(value, datetime):
        return render_date_time(value)
    if isinstance(value, date):
        return render_date(value)
    if isinstance(value, time):
        return render_time(value)
    if isinstance(value, timedelta):
        return render_days_time(value)
    if isinstance(value, YearsMonthsDuration):
        return render_years_months(value)
    if isinstance(value, list):
        return "[" + ", ".join(_render(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{_key(k)}: {_render(v, depth + 1)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, Range):
        return _render_range(value, depth)
    if isinstance(value, FeelFunction):
        return f"function {value.name}({', '.join(value.params)})"
    return repr(value)


def _key(key: str) -> str:
    simple = key.replace(" ", "").replace("_", "").isalnum() and not key[:1].isdigit()
    return key if simple else _quote(key)


def _render_range(value: Range, depth: int) -> str:
    start = _render(value.start, depth + 1)
    end = _render(value.end, depth + 1)
    if value.start is None and value.end is not None:
        return f"{'<=' if value.end_included else '<'} {end}"
    if value.end is None and value.start is not None:
        return f"{'>=' if value.start_included else '>'} {start}"
    opening = "[" if value.start_included else "("
    closing = "]" if value.end_included else ")"
    return f"{opening}{start}..{end}{closing}"
