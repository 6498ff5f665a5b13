"""ISO 8601 timer values (timeDate, timeDuration, timeCycle) as BPMN uses them.

Parsed here rather than by FEEL because timer literals are plain ISO text, checked at deploy time
and evaluated on every timer creation; FEEL is only involved when the value is an ``=`` expression.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class Duration:
    """A calendar-aware duration: months are added by calendar, the rest as a timedelta."""

    months: int = 0
    delta: timedelta = timedelta(0)

    def add_to(self, moment: datetime) -> datetime:
        if self.months:
            total = moment.month - 1 + self.months
            year, month = moment.year + total // 12, total % 12 + 1
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
        return moment + self.delta


@dataclass(frozen=True, slots=True)
class Cycle:
    repetitions: int | None  # None: forever
    interval: Duration
    start: datetime | None = None


def parse_duration(text: str) -> Duration:
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"'{text}' is not an ISO 8601 duration (e.g. PT15M, P2D, P1Y2M)")
    parts = {k: v for k, v in match.groupdict().items() if v is not None and k != "sign"}
    sign = -1 if match.group("sign") else 1
    months = sign * (int(parts.get("y", 0)) * 12 + int(parts.get("mo", 0)))
    delta = sign * timedelta(
        weeks=int(parts.get("w", 0)),
        days=int(parts.get("d", 0)),
        hours=int(parts.get("h", 0)),
        minutes=int(parts.get("mi", 0)),
        seconds=float(parts.get("s", 0)),
    )
    return Duration(months, delta)


def parse_date_time(text: str) -> datetime:
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"'{text}' is not an ISO 8601 date-time (e.g. 2026-03-01T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def parse_cycle(text: str) -> Cycle:
    parts = text.strip().split("/")
    if len(parts) < 2 or not parts[0].startswith("R"):
        raise ValueError(f"'{text}' is not an ISO 8601 repeating interval (e.g. R3/PT10M)")
    reps_text = parts[0][1:]
    if reps_text and not reps_text.isdigit():
        raise ValueError(f"'{text}': repetitions must be a number (R3/...) or empty (R/...)")
    reps = int(reps_text) if reps_text else None
    start = None
    if len(parts) == 3:
        start = parse_date_time(parts[1])
        interval = parse_duration(parts[2])
    elif len(parts) == 2:
        interval = parse_duration(parts[1])
    else:
        raise ValueError(f"'{text}' has too many parts")
    if interval.months == 0 and interval.delta <= timedelta(0):
        raise ValueError(f"'{text}': the interval must be positive")
    return Cycle(reps, interval, start)


def check_timer(kind: str, text: str) -> None:
    """Raise ValueError if a literal timer value cannot be used."""
    if kind == "date":
        parse_date_time(text)
    elif kind == "duration":
        parse_duration(text)
    else:
        parse_cycle(text)


def first_due(kind: str, text: str, now: datetime) -> tuple[datetime, int | None]:
    """When the timer fires first, and for cycles how many repetitions remain after that."""
    if kind == "date":
        return parse_date_time(text), 0
    if kind == "duration":
        return parse_duration(text).add_to(now), 0
    cycle = parse_cycle(text)
    due = cycle.start if cycle.start is not None and cycle.start > now else None
    due = due or cycle.interval.add_to(now)
    remaining = None if cycle.repetitions is None else cycle.repetitions - 1
    return due, remaining
