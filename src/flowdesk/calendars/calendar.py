"""A business calendar: when a department is open, in its own time zone.

Opening hours are wall-clock times per weekday (so 09:00 stays 09:00 across a DST change) and
holidays are local dates. All arithmetic walks the open intervals of each local day converted
to UTC, so a business hour is always a real hour, also on the days clocks change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowdesk.calendars.intervals import Interval, merge, subtract
from flowdesk.core.errors import FlowdeskError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
#: How far a search for an open minute may go before the calendar is called empty.
MAX_SEARCH_DAYS = 3 * 366


class CalendarError(FlowdeskError):
    code = "invalid-calendar"


#: Opening span of one day as minutes after local midnight: [open, close), close <= 1440.
Span = tuple[int, int]


def parse_span(text: str) -> Span:
    """'09:00-17:30' -> (540, 1050); '00:00-24:00' is the whole day."""
    m = _SPAN.match(text)
    if m is None:
        raise CalendarError(f"opening hours {text!r} are not HH:MM-HH:MM", hint="e.g. 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= end or end > 24 * 60:
        raise CalendarError(f"opening hours {text!r} are not a span within one day")
    return start, end


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise CalendarError("a naive datetime was given to a business calendar; use UTC instants")
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening spans per weekday (0 = Monday) in `zone`, minus `holidays` (local dates)."""

    zone: str = "UTC"
    hours: Mapping[int, tuple[Span, ...]] = field(
        default_factory=lambda: {d: ((0, 1440),) for d in range(7)}
    )
    holidays: frozenset[date] = frozenset()
    name: str = "default"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "_tz", ZoneInfo(self.zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(
                f"unknown time zone {self.zone!r}", hint="use an IANA name such as Europe/Amsterdam"
            ) from None
        cleaned: dict[int, tuple[Span, ...]] = {}
        for day, spans in self.hours.items():
            if day not in range(7):
                raise CalendarError(f"weekday {day} is not 0 (Monday) .. 6 (Sunday)")
            ordered = tuple(sorted(spans))
            for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
                if start < end:
                    raise CalendarError(f"opening hours of {DAYS[day]} overlap")
            cleaned[day] = ordered
        object.__setattr__(self, "hours", cleaned)
        if not any(cleaned.values()):
            raise CalendarError(f"calendar {self.name!r} is never open")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def always(cls, zone: str = "UTC") -> BusinessCalendar:
        """Open around the clock: business time equals elapsed time."""
        return cls(zone=zone, name="24x7")

    @classmethod
    def weekly(
        cls,
        zone: str,
        hours: Mapping[str, str | Sequence[str]],
        holidays: Iterable[date | str] = (),
        *,
        name: str = "default",
    ) -> BusinessCalendar:
        """From readable settings: ``{"mon-fri": "09:00-17:00", "sat": ["10:00-12:00"]}``."""
        spans: dict[int, list[Span]] = {}
        for key, value in hours.items():
            texts = [value] if isinstance(value, str) else list(value)
            for day in _days(key):
                spans.setdefault(day, []).extend(parse_span(t) for t in texts)
        days = {d: tuple(s) for d, s in spans.items()}
        return cls(zone=zone, hours=days, holidays=frozenset(_date(h) for h in holidays), name=name)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """From JSON settings: {"zone", "hours", "holidays", "name"}."""
        return cls.weekly(
            str(spec.get("zone", "UTC")),
            spec.get("hours") or {"mon-sun": "00:00-24:00"},
            spec.get("holidays") or (),
            name=str(spec.get("name", "default")),
        )

    # -- queries ------------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return self._tz  # type: ignore[attr-defined,no-any-return]

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of one local day, as UTC instants."""
        if day in self.holidays:
            return []
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        out = []
        for start, end in self.hours.get(day.weekday(), ()):
            # aware + timedelta is wall-clock arithmetic: 09:00 local also on DST days
            a = (midnight + timedelta(minutes=start)).astimezone(UTC)
            if end == 1440:
                nxt = day + timedelta(days=1)
                b = datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.tz).astimezone(UTC)
            else:
                b = (midnight + timedelta(minutes=end)).astimezone(UTC)
            if a < b:
                out.append((a, b))
        return out

    def spans_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals from `instant` on (the first one clipped), in order, forever."""
        start = _aware(instant)
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        empty_days = 0
        while True:
            spans = self.open_spans(day)
            empty_days = 0 if spans else empty_days + 1
            if empty_days > MAX_SEARCH_DAYS:
                raise CalendarError(f"calendar {self.name!r} has no open hours for three years")
            for a, b in spans:
                if b <= start:
                    continue
                yield (max(a, start), b)
            day += timedelta(days=1)

    def is_open(self, instant: datetime) -> bool:
        moment = _aware(instant)
        day = moment.astimezone(self.tz).date()
        return any(a <= moment < b for a, b in self.open_spans(day))

    def next_open(self, instant: datetime) -> datetime:
        """The first business instant at or after `instant`."""
        return next(self.spans_from(instant))[0]

    def add(
        self, start: datetime, duration: timedelta, pauses: Iterable[Interval] = ()
    ) -> datetime:
        """The instant at which `duration` of business time has passed since `start`, not
        counting time inside `pauses`. Raises CalendarError if an open-ended pause is reached."""
        if duration < timedelta(0):
            raise CalendarError("a business duration cannot be negative")
        holes = merge(pauses)
        left = duration
        if left == timedelta(0):
            return self._skip_pauses(_aware(start), holes)
        for a, b in self.spans_from(start):
            for pa, pb in subtract(a, b, holes):
                if pb - pa >= left:
                    return pa + left
                left -= pb - pa
            if holes and holes[-1][1] is None and b > holes[-1][0]:
                raise CalendarError("the clock is paused with no end; no deadline until resumed")
        raise AssertionError("unreachable")  # pragma: no cover - spans_from is endless

    def _skip_pauses(self, at: datetime, holes: list[Interval]) -> datetime:
        for h_start, h_end in holes:
            if h_start <= at and (h_end is None or at < h_end):
                if h_end is None:
                    raise CalendarError("the clock is paused with no end; no deadline")
                at = h_end
        return at

    def between(self, start: datetime, end: datetime, pauses: Iterable[Interval] = ()) -> timedelta:
        """Business time in [start, end) outside `pauses`; zero if end <= start."""
        a0, b0 = _aware(start), _aware(end)
        total = timedelta(0)
        if b0 <= a0:
            return total
        holes = merge(pauses)
        for a, b in self.spans_from(a0):
            if a >= b0:
                break
            for pa, pb in subtract(a, min(b, b0), holes):
                total += pb - pa
        return total


def _days(key: str) -> list[int]:
    key = key.strip().lower()
    if "-" in key:
        first, last = (k.strip()[:3] for k in key.split("-", 1))
        if first not in DAYS or last not in DAYS:
            raise CalendarError(f"{key!r} is not a range of weekdays", hint="e.g. mon-fri")
        i, j = DAYS.index(first), DAYS.index(last)
        return list(range(i, j + 1)) if i <= j else [*range(i, 7), *range(0, j + 1)]
    if key[:3] not in DAYS:
        raise CalendarError(f"{key!r} is not a weekday", hint=f"use one of {', '.join(DAYS)}")
    return [DAYS.index(key[:3])]


def _date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CalendarError(f"holiday {value!r} is not a date (YYYY-MM-DD)") from None
