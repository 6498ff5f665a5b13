"""ISO 8601 timer values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flowdesk.bpmn.timers import first_due, parse_cycle, parse_date_time, parse_duration

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def test_durations() -> None:
    assert parse_duration("PT15M").add_to(NOW) == NOW + timedelta(minutes=15)
    assert parse_duration("P2DT3H").add_to(NOW) == NOW + timedelta(days=2, hours=3)
    assert parse_duration("P1W").add_to(NOW) == NOW + timedelta(weeks=1)
    assert parse_duration("P1M").add_to(NOW) == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert parse_duration("P1Y2M").add_to(NOW) == datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
    assert parse_duration("PT0.5S").add_to(NOW) == NOW + timedelta(milliseconds=500)


@pytest.mark.parametrize("bad", ["", "P", "PT", "15M", "P1H", "PT1D", "P1DT"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_dates_and_cycles() -> None:
    assert parse_date_time("2026-03-01T10:00:00Z") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_date_time("2026-03-01T10:00:00").tzinfo == UTC
    cycle = parse_cycle("R3/PT10M")
    assert cycle.repetitions == 3 and cycle.interval.delta == timedelta(minutes=10)
    assert parse_cycle("R/P1D").repetitions is None
    assert first_due("cycle", "R3/PT10M", NOW) == (NOW + timedelta(minutes=10), 2)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    assert first_due("cycle", "R2/2026-02-01T00:00:00Z/P1D", NOW) == (start, 1)
    assert first_due("duration", "PT1H", NOW) == (NOW + timedelta(hours=1), 0)
    for bad in ("R3", "X/PT1M", "Rx/PT1M", "R/PT0S"):
        with pytest.raises(ValueError):
            parse_cycle(bad)
