from __future__ import annotations

import pytest

from flowdesk.customers.errors import InvalidIdentifierError
from flowdesk.customers.normalize import (
    normalize_email,
    normalize_identifier,
    normalize_phone,
    normalize_social,
    normalize_token,
    parse_kind,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" John.Doe@Example.COM ", "john.doe@example.com"),
        ("jane+orders@sub.example.co.uk", "jane+orders@sub.example.co.uk"),
        ("Zoë@Bücher.de", "zoë@bücher.de"),
    ],
)
def test_emails_are_validated_and_lower_cased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("jane.example.com", "@-sign"),
        ("jane@", "after the @-sign"),
        ("jane@@example.com", "invalid characters"),
        ("jane@localhost", "period"),
        ("", "is empty"),
        ("a" * 400 + "@example.com", "longer than 320"),
    ],
)
def test_invalid_emails_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=reason) as info:
        normalize_email(raw)
    assert info.value.kind == "email"
    assert info.value.code == "invalid-identifier"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
        ("0044 20 7946 0958", "DE", "+442079460958"),
        ("+49 (30) 901820", None, "+4930901820"),
        ("030 901820", "DE", "+4930901820"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+33 1 42 68 53 00", "US", "+33142685300"),
        ("+81 3-3224-9999", None, "+81332249999"),
    ],
)
def test_phones_become_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, default_region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("020 7946 0958", None, "no valid country code"),
        ("call me", "GB", "not a phone number"),
        ("+44 20 7946", None, "wrong number of digits|not a valid number"),
        ("+1 555 0100", None, "wrong number of digits|not a valid number"),
        ("+44 20 7946 0958", "XX", "unknown default region"),
    ],
)
def test_invalid_phones_say_why(raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=reason) as info:
        normalize_phone(raw, default_region=region)
    assert info.value.kind == "phone"


def test_a_national_number_without_region_hints_at_the_fix() -> None:
    with pytest.raises(InvalidIdentifierError) as info:
        normalize_phone("020 7946 0958")
    assert info.value.hint is not None and "country code" in info.value.hint


def test_social_handles_and_tokens() -> None:
    assert normalize_social("Twitter:@Jane_D") == "twitter:jane_d"
    assert normalize_social(" Mastodon : @Jane ") == "mastodon:jane"
    with pytest.raises(InvalidIdentifierError, match="network:handle"):
        normalize_social("@jane")
    assert normalize_token("account", " AC 1234-77 ") == "AC1234-77"
    with pytest.raises(InvalidIdentifierError, match="may only hold"):
        normalize_token("device", "dev<script>")


def test_identifier_kinds_are_checked() -> None:
    assert normalize_identifier("EMAIL", "A@Example.com") == "a@example.com"
    assert normalize_identifier("phone", "020 7946 0958", default_region="GB") == "+442079460958"
    assert parse_kind(" Phone ").value == "phone"
    with pytest.raises(InvalidIdentifierError, match="must be one of email, phone"):
        normalize_identifier("fax", "123")
