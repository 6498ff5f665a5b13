"""JSON for FEEL and engine values (Decimal, dates, durations) without losing what users see."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def iso_duration(value: timedelta) -> str:
    """ISO 8601 days-and-time duration, e.g. P1DT2H3M4.5S, -PT1H."""
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    micro = abs(value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds)
    days, rest = divmod(micro, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds = Decimal(rest) / Decimal(1_000_000)
    out = f"{sign}P" + (f"{days}D" if days else "")
    clock = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{seconds.normalize():f}S" if rest else "")
    )
    if clock:
        out += "T" + clock
    return out if out not in ("P", "-P") else "PT0S"


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# One encoder for every call: json.dumps with any argument builds a new JSONEncoder each time,
# which cost about a third of encoding a small document (every command encodes about ten).
_ENCODER = json.JSONEncoder(default=json_default, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)
