"""FEEL durations: days and time durations are `datetime.timedelta`; years and months durations
are `YearsMonthsDuration`, a whole number of months, because months have no fixed length."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flowdesk.feel.errors import FeelRuntimeError

_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True, order=True, slots=True)
class YearsMonthsDuration:
    """A FEEL years and months duration, stored as a signed number of months."""

    months: int

    @property
    def years(self) -> int:
        """The years component, signed like the duration (`-P1Y2M` has years -1)."""
        sign = -1 if self.months < 0 else 1
        return sign * (abs(self.months) // 12)

    @property
    def months_part(self) -> int:
        """The months component (0..11), signed like the duration."""
        sign = -1 if self.months < 0 else 1
        return sign * (abs(self.months) % 12)

    def __str__(self) -> str:
        return render_years_months(self)


_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<d>\d+)D)?"
    r"(?:(?P<t>T)(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d*)?|\.\d+)S)?)?"
)


def parse_duration(text: str) -> timedelta | YearsMonthsDuration:
    """Parse an XML Schema duration restricted to FEEL's two duration types.

    `P1Y2M` gives a YearsMonthsDuration; `P3DT4H5M6.5S` a timedelta; a duration that mixes
    both kinds (`P1Y3D`) is neither FEEL type and is rejected.
    """
    m = _DURATION.fullmatch(text) if len(text) <= 100 else None
    if m is None or text.endswith(("P", "T")):
        raise FeelRuntimeError(f"invalid duration '{_clip(text)}' (expected e.g. P1Y2M or P1DT2H)")
    g = m.groupdict()
    has_ym = g["y"] is not None or g["mo"] is not None
    has_dt = any(g[k] is not None for k in ("d", "h", "mi", "s"))
    if g["t"] and not any(g[k] is not None for k in ("h", "mi", "s")):
        raise FeelRuntimeError(
            f"invalid duration '{_clip(text)}': 'T' needs hours, minutes or seconds"
        )
    if has_ym and has_dt:
        raise FeelRuntimeError(
            f"invalid duration '{_clip(text)}': FEEL durations are either years and months "
            "(P1Y2M) or days and time (P1DT2H), not both"
        )
    sign = -1 if g["sign"] else 1
    if has_ym:
        months = int(g["y"] or 0) * 12 + int(g["mo"] or 0)
        return YearsMonthsDuration(sign * months)
    seconds = Decimal(g["s"] or 0)
    micros = int(seconds * 1_000_000)
    try:
        value = timedelta(
            days=int(g["d"] or 0),
            hours=int(g["h"] or 0),
            minutes=int(g["mi"] or 0),
            microseconds=micros,
        )
    except OverflowError:
        raise FeelRuntimeError(f"duration '{_clip(text)}' is too large") from None
    return -value if sign < 0 else value


def render_days_time(value: timedelta) -> str:
    """Canonical FEEL rendering: `P1DT2H3M4.5S`, `-PT1H`, zero as `PT0S`."""
    total = value // _MICRO
    sign = "-" if total < 0 else ""
    total = abs(total)
    seconds, micros = divmod(total, 1_000_000)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    out = f"{sign}P"
    if days:
        out += f"{days}D"
    time_part = ""
    if hours:
        time_part += f"{hours}H"
    if minutes:
        time_part += f"{minutes}M"
    if seconds or micros:
        frac = f".{micros:06d}".rstrip("0") if micros else ""
        time_part += f"{seconds}{frac}S"
    if time_part:
        out += "T" + time_part
    if not days and not time_part:
        return "PT0S"
    return out


def render_years_months(value: YearsMonthsDuration) -> str:
    """Canonical FEEL rendering: `P1Y2M`, `-P3M`, zero as `P0M`."""
    if value.months == 0:
        return "P0M"
    sign = "-" if value.months < 0 else ""
    years, months = divmod(abs(value.months), 12)
    out = f"{sign}P"
    if years:
        out += f"{years}Y"
    if months:
        out += f"{months}M"
    return out


def duration_seconds(value: timedelta) -> Decimal:
    """Exact seconds of a timedelta as a Decimal (microsecond precision)."""
    return Decimal(value // _MICRO) / Decimal(1_000_000)


def seconds_to_duration(seconds: Decimal) -> timedelta:
    """Inverse of `duration_seconds`, truncating below a microsecond."""
    micros = int(seconds * 1_000_000)
    try:
        return timedelta(microseconds=micros)
    except OverflowError:
        raise FeelRuntimeError("duration is too large") from None


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
