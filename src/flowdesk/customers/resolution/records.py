"""The person attributes identity resolution compares, cleaned once up front.

Cleaning (lower case, accents folded, punctuation to spaces, digits only in dates) happens once
per record, not once per compared pair: blocking and comparison then only see clean text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields

_NOT_WORD = re.compile(r"[^0-9a-z]+")
_NOT_DIGIT = re.compile(r"[^0-9]+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_HOUSE_NUMBER = re.compile(r"^\s*(\d+[a-z]?)\b[\s,]*(.*)$")


def clean_text(value: object) -> str:
    """Lower case ASCII words separated by one space ("" for None or blanks)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKD", str(value))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_WORD.sub(" ", text).strip()


def clean_digits(value: object) -> str:
    return "" if value is None else _NOT_DIGIT.sub("", str(value))


def clean_code(value: object) -> str:
    """Postcodes and id numbers: letters and digits only, so "SW1A 1AA" == "sw1a1aa"."""
    return "" if value is None else _NOT_ALNUM.sub("", clean_text(value))


def split_street(value: object) -> tuple[str, str]:
    """("12", "pinkerton circuit") from "12 Pinkerton Circuit"; ("", text) without a number."""
    text = clean_text(value)
    match = _HOUSE_NUMBER.match(text)
    if match is None:
        return "", text
    return match[1], match[2]


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One person as resolution sees them; every field is cleaned text, "" when unknown."""

    key: str
    given_name: str = ""
    family_name: str = ""
    birth_date: str = ""  # digits, yyyymmdd
    street_number: str = ""
    street: str = ""
    address_line2: str = ""
    locality: str = ""
    postcode: str = ""
    region: str = ""
    id_number: str = ""

    @classmethod
    def from_raw(
        cls,
        key: str,
        *,
        given_name: object = None,
        family_name: object = None,
        birth_date: object = None,
        street_number: object = None,
        street: object = None,
        address_line2: object = None,
        locality: object = None,
        postcode: object = None,
        region: object = None,
        id_number: object = None,
    ) -> PersonRecord:
        """Clean raw values; a street with a leading house number is split when none is given."""
        number = clean_text(street_number).replace(" ", "")
        street_text = clean_text(street)
        if not number:
            number, street_text = split_street(street)
        return cls(
            key=key,
            given_name=clean_text(given_name),
            family_name=clean_text(family_name),
            birth_date=clean_digits(birth_date),
            street_number=number,
            street=street_text,
            address_line2=clean_text(address_line2),
            locality=clean_text(locality),
            postcode=clean_code(postcode),
            region=clean_text(region),
            id_number=clean_code(id_number),
        )

    def known_fields(self) -> int:
        return sum(1 for f in fields(self) if f.name != "key" and getattr(self, f.name))
