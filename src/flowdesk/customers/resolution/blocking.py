"""Blocking: only records that share at least one key are compared.

Comparing every pair is quadratic (25 million pairs for 5,000 x 5,000 records). Each rule maps
a record to a key; pairs sharing a key under any rule become candidates. Several independent
rules keep recall high: a typo in the postcode still leaves the birth date, the id number and the
sound of the name to bring the pair together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import jellyfish

from flowdesk.customers.resolution.records import PersonRecord


@dataclass(frozen=True, slots=True)
class BlockingRule:
    name: str
    key: Callable[[PersonRecord], str]  # "" means: this rule does not apply to the record


def _soundex(text: str) -> str:
    return jellyfish.soundex(text) if text else ""


def name_key(family_name: str) -> str:
    """The phonetic key stored on customers for blocking (Soundex of the cleaned family name)."""
    return _soundex(family_name.replace(" ", ""))


def _join(*parts: str) -> str:
    return "|".join(parts) if all(parts) else ""


DEFAULT_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("postcode", lambda r: r.postcode),
    BlockingRule("birth_date", lambda r: r.birth_date),
    BlockingRule("id_number", lambda r: r.id_number),
    BlockingRule(
        "family_sound+given_initial",
        lambda r: _join(name_key(r.family_name), r.given_name[:1]),
    ),
    BlockingRule(
        "given_sound+family_initial",
        lambda r: _join(_soundex(r.given_name.replace(" ", "")), r.family_name[:1]),
    ),
    BlockingRule("street+locality", lambda r: _join(r.street, r.locality)),
    BlockingRule(
        "family_sound+house_number", lambda r: _join(name_key(r.family_name), r.street_number)
    ),
)

#: Blocks bigger than this (on each side) are skipped: a key that common (a blank, a default
#: value) separates nothing and would make the comparison quadratic again.
MAX_BLOCK = 500


def _index(records: Sequence[PersonRecord], rule: BlockingRule) -> dict[str, list[int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        key = rule.key(record)
        if key:
            blocks[key].append(i)
    return blocks


def link_pairs(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    rules: Iterable[BlockingRule] = DEFAULT_RULES,
    *,
    max_block: int = MAX_BLOCK,
) -> set[tuple[int, int]]:
    """Candidate (left index, right index) pairs for linking two sets."""
    pairs: set[tuple[int, int]] = set()
    for rule in rules:
        right_blocks = _index(right, rule)
        for key, left_ids in _index(left, rule).items():
            right_ids = right_blocks.get(key)
            if not right_ids or len(left_ids) > max_block or len(right_ids) > max_block:
                continue
            pairs.update((i, j) for i in left_ids for j in right_ids)
    return pairs


def dedup_pairs(
    records: Sequence[PersonRecord],
    rules: Iterable[BlockingRule] = DEFAULT_RULES,
    *,
    max_block: int = MAX_BLOCK,
) -> set[tuple[int, int]]:
    """Candidate (i, j) pairs with i < j for finding duplicates within one set."""
    pairs: set[tuple[int, int]] = set()
    for rule in rules:
        for ids in _index(records, rule).values():
            if len(ids) < 2 or len(ids) > max_block:
                continue
            pairs.update((a, b) for n, a in enumerate(ids) for b in ids[n + 1 :])
    return pairs
