"""Normalising identifiers, so one customer's address or number always reads the same.

Identities are unique per (kind, normalised value); every identifier is normalised before it is
stored or looked up, so "John.Doe@Example.COM " and "john.doe@example.com" find the same person
and "+44 20 7946 0958", "020 7946 0958" (region GB) and "0044 20 7946 0958" are one phone.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from flowdesk.customers.errors import InvalidIdentifierError


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    SOCIAL = "social"
    ACCOUNT = "account"
    DEVICE = "device"


MAX_IDENTIFIER_LENGTH = 320  # the longest valid email address; plenty for the other kinds

_SPACES = re.compile(r"\s+")
_SOCIAL = re.compile(r"^(?P<network>[a-z0-9][a-z0-9._-]{0,29}):@?(?P<handle>[^\s:@][^\s:]*)$")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+\-]*$")


def _prepared(kind: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifierError(kind, str(value), "must be text")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise InvalidIdentifierError(kind, value, "is empty")
    if len(text) > MAX_IDENTIFIER_LENGTH:
        raise InvalidIdentifierError(
            kind, text[:40] + "...", f"is longer than {MAX_IDENTIFIER_LENGTH} characters"
        )
    return text


def normalize_email(value: str) -> str:
    """A syntactically valid address, lower-cased (no DNS look-up).

    The local part is case-sensitive by the letter of RFC 5321, but no mainstream provider
    treats it so, and matching a customer matters more than that letter.
    """
    text = _prepared("email", value)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentifierError("email", text, str(exc).rstrip(".")) from None
    return result.normalized.lower()


def normalize_phone(value: str, *, default_region: str | None = None) -> str:
    """E.164 (``+442079460958``). National numbers need `default_region` (ISO 3166 alpha-2)."""
    text = _prepared("phone", value)
    region = default_region.upper() if default_region else None
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidIdentifierError(
            "phone", text, f"unknown default region {default_region!r}", hint="use e.g. GB, DE, US"
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        hint = None
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            hint = "write it with its country code, like +44 20 7946 0958, or set a default region"
        raise InvalidIdentifierError("phone", text, _parse_reason(exc), hint=hint) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifierError("phone", text, "has the wrong number of digits")
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifierError("phone", text, "is not a valid number in any numbering plan")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_reason(exc: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "has no valid country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "is not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
        phonenumbers.NumberParseException.TOO_LONG: "is too long",
    }
    return reasons.get(exc.error_type, "is not a phone number")


def normalize_social(value: str) -> str:
    """``network:handle``, lower-cased, no ``@``: ``twitter:@Jane_D`` -> ``twitter:jane_d``."""
    text = _SPACES.sub("", _prepared("social", value)).lower()
    match = _SOCIAL.match(text)
    if match is None:
        raise InvalidIdentifierError(
            "social", text, "must be network:handle", hint="for example twitter:@jane_doe"
        )
    return f"{match['network']}:{match['handle']}"


def normalize_token(kind: str, value: str) -> str:
    """Account numbers and device ids: trimmed, inner spaces removed, case kept as given."""
    text = _SPACES.sub("", _prepared(kind, value))
    if not _TOKEN.match(text):
        raise InvalidIdentifierError(kind, text, "may only hold letters, digits and . _ - : / +")
    return text


def parse_kind(kind: str) -> IdentityKind:
    try:
        return IdentityKind(kind.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in IdentityKind)
        raise InvalidIdentifierError("identity kind", kind, f"must be one of {known}") from None


def normalize_identifier(kind: str, value: str, *, default_region: str | None = None) -> str:
    """The normalised form of one identifier of any kind; raises InvalidIdentifierError."""
    match parse_kind(kind):
        case IdentityKind.EMAIL:
            return normalize_email(value)
        case IdentityKind.PHONE:
            return normalize_phone(value, default_region=default_region)
        case IdentityKind.SOCIAL:
            return normalize_social(value)
        case IdentityKind.ACCOUNT:
            return normalize_token("account", value)
        case IdentityKind.DEVICE:
            return normalize_token("device", value)
