"""Checking and normalising the plain fields of a customer, its preferences and its consents.

Every problem names its field, so the importer can report "row 7, field 'birth_date'" and the
API a 422 on the right property.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowdesk.core.errors import FlowdeskError

#: Customer fields set through create/update, with their maximum lengths (None: not text).
PROFILE_FIELDS: dict[str, int | None] = {
    "display_name": 200,
    "given_name": 100,
    "family_name": 100,
    "birth_date": None,
    "street": 200,
    "locality": 100,
    "postcode": 20,
    "region": 100,
    "country": None,
    "segment": 50,
    "value": None,
}

#: Channels a customer can prefer or consent to.
CHANNELS = ("email", "phone", "sms", "chat", "whatsapp", "social", "letter", "app", "web")

PREFERENCE_FIELDS = ("channel", "language", "quiet_start", "quiet_end", "timezone")

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$", re.IGNORECASE)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class InvalidFieldError(FlowdeskError):
    """A customer field with a value that cannot be stored; `field` names it."""

    code = "invalid-field"

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def _text(field: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise InvalidFieldError(field, "must be text")
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise InvalidFieldError(field, f"is longer than {limit} characters")
    return text or None


def _birth_date(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise InvalidFieldError("birth_date", f"{text!r} is not a date like 1985-04-23") from None
    return parsed.isoformat()


def _value(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | float):
        value = str(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidFieldError("value", f"{value!r} is not a number") from None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise InvalidFieldError("value", f"{value!r} is out of range")
    return number.quantize(Decimal("0.01"))


def clean_profile(values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised profile fields; unknown fields are an error, so typos do not vanish."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field not in PROFILE_FIELDS:
            raise InvalidFieldError(field, "is not a customer field")
        if field == "birth_date":
            out[field] = _birth_date(value)
        elif field == "value":
            out[field] = _value(value)
        elif field == "country":
            country = _text(field, value, 100)
            if country is not None and not _COUNTRY.match(country.upper()):
                raise InvalidFieldError(field, f"{country!r} is not an ISO 3166 code like GB")
            out[field] = country.upper() if country else None
        else:
            limit = PROFILE_FIELDS[field]
            assert limit is not None
            out[field] = _text(field, value, limit)
    return out


def clean_channel(field: str, value: Any) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text not in CHANNELS:
        raise InvalidFieldError(field, f"{value!r} is not a channel ({', '.join(CHANNELS)})")
    return text


def clean_preferences(values: Mapping[str, Any]) -> dict[str, str | None]:
    """Preferred channel, language (BCP 47), quiet hours (HH:MM, both or neither), time zone."""
    out: dict[str, str | None] = {}
    for field, value in values.items():
        if field not in PREFERENCE_FIELDS:
            raise InvalidFieldError(field, "is not a preference")
        text = str(value).strip() if value is not None else ""
        if not text:
            out[field] = None
        elif field == "channel":
            out[field] = clean_channel(field, text)
        elif field == "language":
            if not _LANGUAGE.match(text):
                raise InvalidFieldError(field, f"{text!r} is not a language tag like en or de-CH")
            out[field] = text
        elif field in ("quiet_start", "quiet_end"):
            if not _HHMM.match(text):
                raise InvalidFieldError(field, f"{text!r} is not a time like 21:30")
            out[field] = text
        else:
            try:
                ZoneInfo(text)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidFieldError(field, f"{text!r} is not a time zone") from None
            out[field] = text
    if ("quiet_start" in out) != ("quiet_end" in out) or (
        (out.get("quiet_start") is None) != (out.get("quiet_end") is None)
    ):
        raise InvalidFieldError("quiet_start", "quiet hours need both quiet_start and quiet_end")
    return out


def parse_flag(field: str, value: Any) -> bool:
    """Consent flags as people write them in spreadsheets."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    raise InvalidFieldError(field, f"{value!r} is not yes/no")
