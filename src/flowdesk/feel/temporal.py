"""FEEL dates, times and date-times as plain `datetime` values: parsing, rendering, arithmetic.

A time or date and time without tzinfo is "local" (no zone); one with a fixed-offset tzinfo has
an offset; one with a `ZoneInfo` carries an IANA zone id (`@Europe/Paris`). Python supports years
1..9999 only; FEEL allows more, so values outside that range raise a clear FeelRuntimeError.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowdesk.feel.durations import YearsMonthsDuration, parse_duration
from flowdesk.feel.errors import FeelRuntimeError

#: Zoned times have no date; their offset is taken on this fixed day so results are stable.
ZONED_TIME_REFERENCE_DATE = date(1970, 1, 1)

# XML Schema yearFrag: four digits, or more without a leading zero ("01211" is not a year).
_DATE = re.compile(r"(?P<neg>-)?(?P<y>[1-9]\d{4,8}|\d{4})-(?P<m>\d{2})-(?P<d>\d{2})")
_TIME = re.compile(
    r"(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?"
    r"(?:(?P<z>[Zz])|(?P<os>[+-])(?P<oh>\d{2}):(?P<om>\d{2})(?::(?P<osec>\d{2}))?"
    r"|@(?P<zone>[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*))?"
)
_MAX_TEXT = 100
_DAY_MICROS = 86_400_000_000


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def make_date(year: int, month: int, day: int) -> date:
    """A date, with a clear error for years Python cannot hold and for impossible days."""
    if not 1 <= year <= 9999:
        raise FeelRuntimeError(
            f"year {year} is outside the supported range 1..9999 (FEEL allows more, Flowdesk not)"
        )
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise FeelRuntimeError(f"invalid date {year:04d}-{month:02d}-{day:02d}: {exc}") from None


def parse_date(text: str) -> date:
    """`YYYY-MM-DD` (years may have more digits or a sign per the spec, but must fit 1..9999)."""
    m = _DATE.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if m is None:
        raise FeelRuntimeError(f"invalid date '{_clip(text)}' (expected YYYY-MM-DD)")
    year = int(m["y"]) * (-1 if m["neg"] else 1)
    return make_date(year, int(m["m"]), int(m["d"]))


def zone(name: str) -> ZoneInfo:
    """An IANA zone by id, with a FeelRuntimeError (not KeyError) for unknown ids."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*", name) or len(name) > 64:
        raise FeelRuntimeError(f"invalid time zone id '{_clip(name)}'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise FeelRuntimeError(f"unknown time zone '{name}'") from None


def offset_zone(offset: timedelta) -> tzinfo:
    """A fixed-offset tzinfo; offsets are limited to +-18:00 as in XML Schema and Java."""
    if abs(offset) > timedelta(hours=18):
        raise FeelRuntimeError(f"time offset {offset} is outside -18:00..+18:00")
    if offset == timedelta(0):
        return UTC
    return timezone(offset)


def parse_time(text: str) -> time:
    """`hh:mm:ss[.fff][Z|+hh:mm|@Zone/Id]`; fractions below a microsecond are truncated."""
    m = _TIME.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if m is None:
        raise FeelRuntimeError(
            f"invalid time '{_clip(text)}' (expected hh:mm:ss with optional .fff and Z, "
            "+hh:mm or @Zone/Id)"
        )
    return _time_from_match(m, text)


def _time_from_match(m: re.Match[str], text: str) -> time:
    hour, minute, second = int(m["h"]), int(m["mi"]), int(m["s"])
    micros = int((m["f"] or "0").ljust(6, "0")[:6])
    if hour == 24 and minute == 0 and second == 0 and micros == 0:
        hour = 0  # XML Schema's end-of-day 24:00:00 is midnight
    if hour > 23 or minute > 59 or second > 59:
        raise FeelRuntimeError(f"invalid time '{_clip(text)}': hour, minute or second out of range")
    tz: tzinfo | None = None
    if m["z"]:
        tz = UTC
    elif m["os"]:
        offset = timedelta(hours=int(m["oh"]), minutes=int(m["om"]), seconds=int(m["osec"] or 0))
        tz = offset_zone(-offset if m["os"] == "-" else offset)
    elif m["zone"]:
        tz = zone(m["zone"])
    return time(hour, minute, second, micros, tzinfo=tz)


def parse_date_time(text: str) -> datetime:
    """`YYYY-MM-DDThh:mm:ss[...]` with the time forms of `parse_time`."""
    date_part, sep, time_part = text.partition("T")
    if not sep or len(text) > _MAX_TEXT:
        raise FeelRuntimeError(
            f"invalid date and time '{_clip(text)}' (expected YYYY-MM-DDThh:mm:ss[zone])"
        )
    d = parse_date(date_part)
    t = parse_time(time_part)
    return datetime.combine(d, t, tzinfo=t.tzinfo)


def parse_temporal(text: str) -> date | time | datetime | timedelta | YearsMonthsDuration:
    """The value of an `@"..."` literal: a date and time, date, time or duration."""
    stripped = text.strip()
    if stripped.startswith(("P", "-P")):
        return parse_duration(stripped)
    if re.match(r"-?\d+-\d+-\d+T", stripped):
        return parse_date_time(stripped)
    if _DATE.fullmatch(stripped):
        return parse_date(stripped)
    if ":" in stripped:
        return parse_time(stripped)
    raise FeelRuntimeError(
        f"'{_clip(text)}' is not a date, time, date and time or duration literal"
    )


# --- rendering ------------------------------------------------------------------------------


def render_offset(offset: timedelta) -> str:
    if offset == timedelta(0):
        return "Z"
    sign = "-" if offset < timedelta(0) else "+"
    seconds = int(abs(offset).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{sign}{hours:02d}:{minutes:02d}"
    return out + (f":{secs:02d}" if secs else "")


def zone_suffix(tz: tzinfo | None, on: datetime | None = None) -> str:
    """`""` for local, `@Zone/Id` for IANA zones, `Z` or `+hh:mm` for fixed offsets."""
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return f"@{tz.key}"
    offset = tz.utcoffset(on)
    return render_offset(offset) if offset is not None else ""


def render_date(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _render_clock(hour: int, minute: int, second: int, micros: int) -> str:
    frac = f".{micros:06d}".rstrip("0") if micros else ""
    return f"{hour:02d}:{minute:02d}:{second:02d}{frac}"


def render_time(value: time) -> str:
    clock = _render_clock(value.hour, value.minute, value.second, value.microsecond)
    return clock + zone_suffix(value.tzinfo)


def render_date_time(value: datetime) -> str:
    clock = _render_clock(value.hour, value.minute, value.second, value.microsecond)
    return f"{render_date(value.date())}T{clock}{zone_suffix(value.tzinfo, value)}"


# --- values for comparison and arithmetic ---------------------------------------------------


def is_aware(value: time | datetime) -> bool:
    return value.tzinfo is not None


def time_offset(value: time) -> timedelta | None:
    """The UTC offset of a time: fixed offsets directly, zones on the reference date."""
    tz = value.tzinfo
    if tz is None:
        return None
    if isinstance(tz, ZoneInfo):
        return tz.utcoffset(datetime.combine(ZONED_TIME_REFERENCE_DATE, value.replace(tzinfo=None)))
    return tz.utcoffset(None)


def time_micros(value: time) -> int:
    """Microseconds since midnight, moved to UTC for times with an offset (FEEL's valuet). No
    wrap at midnight: XML Schema orders times on one reference day, so 10:00+11:00 stays before
    11:00+11:00 (it is -50 minutes UTC, not 23:10)."""
    micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    offset = time_offset(value)
    if offset is not None:
        micros -= offset // timedelta(microseconds=1)
    return micros


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def check_same_awareness(op: str, a: time | datetime, b: time | datetime) -> None:
    if is_aware(a) != is_aware(b):
        raise FeelRuntimeError(
            f"{op}: cannot combine a value with a time zone and one without "
            f"({_describe(a)} and {_describe(b)})"
        )


def _describe(value: time | datetime) -> str:
    return render_date_time(value) if isinstance(value, datetime) else render_time(value)


def compare_date_times(a: datetime, b: datetime) -> int:
    """Table 54: "If one input has a null timezone offset, that input uses the timezone offset
    of the other input"."""
    if a.tzinfo is None and b.tzinfo is not None:
        a = a.replace(tzinfo=b.tzinfo)
    elif b.tzinfo is None and a.tzinfo is not None:
        b = b.replace(tzinfo=a.tzinfo)
    if is_aware(a):
        a, b = to_utc(a), to_utc(b)
    return (a > b) - (a < b)


def compare_times(a: time, b: time) -> int:
    """Table 54, as for date and time: a local time takes the other time's offset."""
    if a.tzinfo is None and b.tzinfo is not None:
        a = a.replace(tzinfo=b.tzinfo)
    elif b.tzinfo is None and a.tzinfo is not None:
        b = b.replace(tzinfo=a.tzinfo)
    x, y = time_micros(a), time_micros(b)
    return (x > y) - (x < y)


def subtract_date_times(a: datetime, b: datetime) -> timedelta:
    check_same_awareness("subtract", a, b)
    if is_aware(a):
        return to_utc(a) - to_utc(b)
    return a - b


def subtract_times(a: time, b: time) -> timedelta:
    check_same_awareness("subtract", a, b)
    return timedelta(microseconds=time_micros(a) - time_micros(b))


def add_to_date_time(value: datetime, delta: timedelta) -> datetime:
    """Exact elapsed-time addition; for zoned values the wall clock follows the zone's rules."""
    try:
        if value.tzinfo is not None:
            return (to_utc(value) + delta).astimezone(value.tzinfo)
        return value + delta
    except OverflowError:
        raise FeelRuntimeError("date and time result is outside years 1..9999") from None


def add_to_date(value: date, delta: timedelta) -> date:
    """date + days and time duration: computed at midnight, then truncated to the date."""
    try:
        return (datetime.combine(value, time()) + delta).date()
    except OverflowError:
        raise FeelRuntimeError("date result is outside years 1..9999") from None


def add_to_time(value: time, delta: timedelta) -> time:
    """Times wrap around midnight; the zone or offset is kept."""
    micros = (value.hour * 3600 + value.minute * 60 + value.second) * 1_000_000
    micros = (micros + value.microsecond + delta // timedelta(microseconds=1)) % _DAY_MICROS
    seconds, micro = divmod(micros, 1_000_000)
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    return time(hour, minute, second, micro, tzinfo=value.tzinfo)


def add_months(value: date, months: int) -> date:
    """Calendar month arithmetic; the day is clamped to the last day of the target month
    (`2018-01-31` + P1M = `2018-02-28`). Works for dates and date-times (time kept)."""
    index = value.year * 12 + (value.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise FeelRuntimeError(f"result year {year} is outside the supported range 1..9999")
    day = min(value.day, last_day_of_month(year, month0 + 1))
    return value.replace(year=year, month=month0 + 1, day=day)


def last_day_of_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day


def months_between(start: date, end: date) -> YearsMonthsDuration:
    """Whole months from `start` to `end` (FEEL `years and months duration(from, to)`);
    date-times also compare their time of day, and both must agree on having a zone."""
    a: datetime = start if isinstance(start, datetime) else datetime.combine(start, time())
    b: datetime = end if isinstance(end, datetime) else datetime.combine(end, time())
    if isinstance(start, datetime) != isinstance(end, datetime):
        # a date against a date and time: compare as local wall-clock values
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    elif is_aware(a) or is_aware(b):
        check_same_awareness("years and months duration", a, b)
        b = b.astimezone(a.tzinfo)
    months = (b.year - a.year) * 12 + (b.month - a.month)
    a_rest = (a.day, a.time().replace(tzinfo=None))
    b_rest = (b.day, b.time().replace(tzinfo=None))
    if months > 0 and b_rest < a_rest:
        months -= 1
    elif months < 0 and b_rest > a_rest:
        months += 1
    return YearsMonthsDuration(months)


def date_to_date_time(value: date) -> datetime:
    """A date converted implicitly is "a date time value in which the time of day is UTC
    midnight" (DMN 1.5, 10.3.2.3.5), so with a local date and time it mixes local and UTC."""
    return datetime.combine(value, time(), tzinfo=UTC)


def same_zone(a: tzinfo | None, b: tzinfo | None, on: datetime | None = None) -> bool:
    """Whether two values carry the same zone designation (for the `is` function)."""
    return zone_suffix(a, on) == zone_suffix(b, on)
