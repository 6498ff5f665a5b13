from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.customers.errors import InvalidIdentifierError
from flowdesk.customers.normalize import normalize_email, normalize_phone

REGIONS = sorted(
    r
    for r in phonenumbers.SUPPORTED_REGIONS
    if phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE) is not None
)


@pytest.mark.parametrize("region", REGIONS)
def test_every_regions_numbers_written_nationally_or_internationally_agree(region: str) -> None:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert normalize_phone(national, default_region=region) == e164
    assert normalize_phone(international) == e164
    assert normalize_phone(e164, default_region="GB") == e164  # idempotent, region ignored


@settings(max_examples=200)
@given(st.emails())
def test_email_normalisation_is_idempotent(address: str) -> None:
    try:
        once = normalize_email(address)
    except InvalidIdentifierError:
        return  # hypothesis emails may use forms email-validator refuses; they must fail cleanly
    assert normalize_email(once) == once
    assert once == once.lower()


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes_the_normalisers(text: str) -> None:
    for fn in (normalize_email, normalize_phone):
        try:
            fn(text)
        except InvalidIdentifierError as exc:
            assert exc.code == "invalid-identifier"
