"""Other functions: now and today (from the injected clock, so evaluations are replayable),
`is` (same value in the semantic domain, zone included) and `get or else`."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flowdesk.feel.builtins.base import builtin
from flowdesk.feel.equality import equals
from flowdesk.feel.runtime import Env
from flowdesk.feel.temporal import same_zone
from flowdesk.feel.values import type_name


@builtin("now")
def now(env: Env) -> datetime:
    """The current date and time from `env.clock` (an aware UTC value)."""
    return env.clock.now()


@builtin("today")
def today(env: Env) -> date:
    """The current date in UTC, from `env.clock`."""
    return env.clock.now().date()


@builtin("is", "value1", "value2", nullable=("value1", "value2"))
def is_(env: Env, value1: Any, value2: Any) -> bool:
    """True if both are the same FEEL value of the same type: unlike `=`, a time with offset
    +01:00 is not the same as the same instant at another offset, and a date is never a date
    and time."""
    if type_name(value1) != type_name(value2):
        return False
    if isinstance(value1, datetime | time) and isinstance(value2, datetime | time):
        on = value1 if isinstance(value1, datetime) else None
        if not same_zone(value1.tzinfo, value2.tzinfo, on):
            return False
        if isinstance(value1, datetime) and isinstance(value2, datetime):
            return value1.replace(tzinfo=None) == value2.replace(tzinfo=None)
    return equals(value1, value2) is True


@builtin("get or else", "value", "default", nullable=("value", "default"))
def get_or_else(env: Env, value: Any, default: Any) -> Any:
    """`value` unless it is null, else `default`."""
    return default if value is None else value
