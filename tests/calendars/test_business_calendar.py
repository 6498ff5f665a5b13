"""Business time on calendars with opening hours, holidays and a DST time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.calendars import BusinessCalendar, CalendarError, merge, subtract

AMS = BusinessCalendar.weekly(
    "Europe/Amsterdam", {"mon-fri": "09:00-17:00"}, holidays=["2026-03-30", "2026-12-25"]
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_open_hours_follow_wall_clock_across_dst() -> None:
    # Friday 27 March 2026 is CET (UTC+1); Tuesday 31 March is CEST (UTC+2).
    assert AMS.open_spans(date(2026, 3, 27)) == [(utc(2026, 3, 27, 8), utc(2026, 3, 27, 16))]
    assert AMS.open_spans(date(2026, 3, 31)) == [(utc(2026, 3, 31, 7), utc(2026, 3, 31, 15))]
    assert AMS.open_spans(date(2026, 3, 28)) == []  # Saturday
    assert AMS.open_spans(date(2026, 3, 30)) == []  # holiday


def test_add_skips_weekend_dst_change_and_holiday() -> None:
    start = utc(2026, 3, 27, 15, 30)  # Friday 16:30 local: 30 business minutes left that day
    due = AMS.add(start, timedelta(hours=8))
    # Monday 30 March is a holiday; Tuesday 09:00 CEST + 7h30 = 16:30 CEST = 14:30 UTC
    assert due == utc(2026, 3, 31, 14, 30)
    assert AMS.between(start, due) == timedelta(hours=8)
    assert AMS.between(start, due - timedelta(minutes=1)) == timedelta(hours=7, minutes=59)


def test_add_from_closed_time_starts_at_next_opening() -> None:
    saturday = utc(2026, 3, 28, 12)
    assert AMS.next_open(saturday) == utc(2026, 3, 31, 7)
    assert AMS.add(saturday, timedelta(minutes=1)) == utc(2026, 3, 31, 7, 1)
    assert AMS.add(saturday, timedelta(0)) == saturday
    assert not AMS.is_open(saturday)
    assert AMS.is_open(utc(2026, 3, 31, 7))
    assert not AMS.is_open(utc(2026, 3, 31, 15))  # 17:00 local: closed (half-open)


def test_pauses_are_not_counted() -> None:
    start = utc(2026, 3, 31, 7)  # Tuesday 09:00 local
    pause = (utc(2026, 3, 31, 8), utc(2026, 3, 31, 10))  # two hours waiting on the customer
    assert AMS.add(start, timedelta(hours=3), [pause]) == utc(2026, 3, 31, 12)
    assert AMS.between(start, utc(2026, 3, 31, 12), [pause]) == timedelta(hours=3)
    with pytest.raises(CalendarError, match="paused"):
        AMS.add(start, timedelta(hours=3), [(utc(2026, 3, 31, 8), None)])


def test_always_open_calendar_is_elapsed_time() -> None:
    cal = BusinessCalendar.always()
    start = utc(2026, 1, 3, 22, 15)
    assert cal.add(start, timedelta(hours=50)) == start + timedelta(hours=50)
    assert cal.between(start, start + timedelta(days=3)) == timedelta(days=3)


def test_split_days_and_wrapping_weekday_ranges() -> None:
    cal = BusinessCalendar.weekly(
        "America/New_York", {"sat-mon": ["08:00-12:00", "13:00-17:00"]}, name="weekend desk"
    )
    assert sorted(cal.hours) == [0, 5, 6]
    monday = date(2026, 3, 9)  # New York is on EDT (UTC-4) since 8 March
    assert cal.open_spans(monday) == [
        (utc(2026, 3, 9, 12), utc(2026, 3, 9, 16)),
        (utc(2026, 3, 9, 17), utc(2026, 3, 9, 21)),
    ]
    assert cal.add(utc(2026, 3, 9, 15), timedelta(hours=2)) == utc(2026, 3, 9, 18)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"zone": "Mars/Olympus"}, "unknown time zone"),
        ({"hours": {"mon": "17:00-09:00"}}, "not a span"),
        ({"hours": {"funday": "09:00-10:00"}}, "not a weekday"),
        ({"hours": {"mon": "9-5"}}, "HH:MM-HH:MM"),
        ({"hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "overlap"),
        ({"holidays": ["25/12/2026"]}, "not a date"),
    ],
)
def test_bad_settings_are_refused(spec: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar.from_dict(spec)


def test_never_open_calendar_is_refused() -> None:
    with pytest.raises(CalendarError, match="never open"):
        BusinessCalendar(hours={})


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(CalendarError, match="naive"):
        AMS.add(datetime(2026, 3, 31, 9), timedelta(hours=1))


def test_interval_helpers() -> None:
    a, b, c, d = (utc(2026, 1, 1, h) for h in (1, 2, 3, 4))
    assert merge([(c, d), (a, b), (b, c)]) == [(a, d)]
    assert merge([(a, b), (a, None), (c, d)]) == [(a, None)]
    assert subtract(a, d, [(b, c)]) == [(a, b), (c, d)]
    assert subtract(a, d, [(b, None)]) == [(a, b)]


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda x: x.replace(tzinfo=UTC)
)


@settings(max_examples=60, deadline=None)
@given(instants, st.integers(min_value=0, max_value=60 * 80))
def test_add_and_between_are_inverse(start: datetime, minutes: int) -> None:
    due = AMS.add(start, timedelta(minutes=minutes))
    assert AMS.between(start, due) == timedelta(minutes=minutes)
    if minutes:
        assert AMS.is_open(due - timedelta(seconds=1))
