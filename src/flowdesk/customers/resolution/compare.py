"""Comparison vectors: each field of a pair of records reduced to a small agreement level.

Level 0 always means "missing on either side" and carries no evidence; higher levels mean closer
agreement. Discrete levels (rather than raw similarities) are what the Fellegi-Sunter model
estimates m- and u-probabilities for.
"""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.fuzz import token_sort_ratio

from flowdesk.customers.resolution.records import PersonRecord

#: Field names in vector order, with the number of levels of each (missing level included).
FIELDS: tuple[tuple[str, int], ...] = (
    ("given_name", 5),
    ("family_name", 5),
    ("birth_date", 5),
    ("street_number", 3),
    ("street", 5),
    ("address_line2", 5),
    ("locality", 5),
    ("postcode", 4),
    ("region", 3),
    ("id_number", 5),
)
LEVELS: tuple[int, ...] = tuple(n for _, n in FIELDS)

Vector = tuple[int, ...]


def _name_level(similarity: float) -> int:
    if similarity >= 1.0:
        return 4
    if similarity >= 0.92:
        return 3
    if similarity >= 0.8:
        return 2
    return 1


def string_level(a: str, b: str) -> int:
    """Jaro-Winkler bands: 4 exact, 3 >= 0.92, 2 >= 0.8, 1 below, 0 missing."""
    if not a or not b:
        return 0
    if a == b:
        return 4
    return _name_level(JaroWinkler.normalized_similarity(a, b))


def street_level(a: str, b: str) -> int:
    """Like `string_level`, on the better of Jaro-Winkler and word-order-free similarity."""
    if not a or not b:
        return 0
    if a == b:
        return 4
    similarity = max(JaroWinkler.normalized_similarity(a, b), token_sort_ratio(a, b) / 100)
    return _name_level(similarity)


def date_level(a: str, b: str) -> int:
    """4 same day, 3 one typing error or day and month swapped, 2 two errors, 1 other."""
    if not a or not b:
        return 0
    if a == b:
        return 4
    if len(a) == 8 and len(b) == 8 and a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return 3
    distance = Levenshtein.distance(a, b, score_cutoff=3)
    if distance <= 1:
        return 3
    return 2 if distance == 2 else 1


def code_level(a: str, b: str, *, top: int) -> int:
    """Codes (postcode, id number): `top` exact, then one level down per edit, 1 for the rest."""
    if not a or not b:
        return 0
    if a == b:
        return top
    distance = Levenshtein.distance(a, b, score_cutoff=top)
    return max(1, top - distance)


def exact_level(a: str, b: str) -> int:
    if not a or not b:
        return 0
    return 2 if a == b else 1


def compare(a: PersonRecord, b: PersonRecord) -> Vector:
    """The comparison vector of two records, in `FIELDS` order."""
    given = string_level(a.given_name, b.given_name)
    family = string_level(a.family_name, b.family_name)
    if given < 3 or family < 3:  # given and family name written in each other's place
        crossed_given = string_level(a.given_name, b.family_name)
        crossed_family = string_level(a.family_name, b.given_name)
        if min(crossed_given, crossed_family) > min(given, family):
            given, family = crossed_given, crossed_family
    return (
        given,
        family,
        date_level(a.birth_date, b.birth_date),
        exact_level(a.street_number, b.street_number),
        street_level(a.street, b.street),
        street_level(a.address_line2, b.address_line2),
        string_level(a.locality, b.locality),
        code_level(a.postcode, b.postcode, top=3),
        exact_level(a.region, b.region),
        code_level(a.id_number, b.id_number, top=4),
    )
