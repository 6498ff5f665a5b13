"""Property tests: arithmetic inverses, ordering antisymmetry, rendering round trips."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from flowdesk.feel.values import (
    YearsMonthsDuration,
    add,
    compare,
    equals,
    parse_date,
    parse_date_time,
    parse_duration,
    subtract,
    to_string,
)

decimals = st.decimals(
    min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, places=6
)
durations = st.timedeltas(min_value=timedelta(days=-(10**6)), max_value=timedelta(days=10**6))
ym_durations = st.integers(min_value=-(10**6), max_value=10**6).map(YearsMonthsDuration)


@given(decimals, decimals)
def test_add_then_subtract_is_identity(a: Decimal, b: Decimal) -> None:
    assert equals(subtract(add(a, b), b), a) is True


@given(decimals, decimals)
def test_compare_is_antisymmetric(a: Decimal, b: Decimal) -> None:
    assert compare(a, b) == -(compare(b, a) or 0)
    assert (compare(a, b) == 0) == (equals(a, b) is True)


@given(st.text(max_size=5), st.text(max_size=5))
def test_string_compare_is_antisymmetric(a: str, b: str) -> None:
    assert compare(a, b) == -(compare(b, a) or 0)


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_date_round_trip(d: date) -> None:
    assert parse_date(to_string(d)) == d


@given(durations)
def test_days_time_duration_round_trip(d: timedelta) -> None:
    assert parse_duration(to_string(d)) == d


@given(ym_durations)
def test_years_months_duration_round_trip(d: YearsMonthsDuration) -> None:
    assert parse_duration(to_string(d)) == d


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9990, 1, 1)), durations)
def test_date_minus_date_inverts_date_plus_days(d: date, delta: timedelta) -> None:
    whole_days = timedelta(days=delta.days % 3000)
    assert subtract(add(d, whole_days), d) == whole_days


offsets = st.integers(min_value=-18 * 60, max_value=18 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
zoned = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
)


@given(zoned)
def test_date_time_round_trip(dt: datetime) -> None:
    parsed = parse_date_time(to_string(dt))
    assert parsed == dt
    assert parsed.utcoffset() == dt.utcoffset()


@given(zoned, zoned)
def test_date_time_compare_matches_difference(a: datetime, b: datetime) -> None:
    diff = subtract(a, b)
    assert isinstance(diff, timedelta)
    assert compare(a, b) == (diff > timedelta(0)) - (diff < timedelta(0))
    assert compare(a, b) == -(compare(b, a) or 0)


@given(durations, durations)
def test_duration_add_subtract_inverse(a: timedelta, b: timedelta) -> None:
    assert subtract(add(a, b), b) == a
