"""Probabilistic matching on small hand-made pairs, blocking, and EM without labels."""

from __future__ import annotations

import random
import string

import pytest

from flowdesk.customers.resolution import blocking, linker
from flowdesk.customers.resolution.compare import compare, date_level, string_level
from flowdesk.customers.resolution.defaults import CONTACT_MODEL, MATCH_PROBABILITY
from flowdesk.customers.resolution.fellegi_sunter import FellegiSunter
from flowdesk.customers.resolution.records import PersonRecord


def person(key: str = "x", **fields: str) -> PersonRecord:
    base = {
        "given_name": "Michaela",
        "family_name": "Neumann",
        "birth_date": "1915-11-11",
        "street": "8 Stanley Street",
        "locality": "Winston Hills",
        "postcode": "4223",
        "region": "NSW",
    }
    base.update(fields)
    return PersonRecord.from_raw(key, **base)


def p(a: PersonRecord, b: PersonRecord) -> float:
    return CONTACT_MODEL.probability(compare(a, b))


def test_records_are_cleaned_once() -> None:
    r = PersonRecord.from_raw(
        "k",
        given_name=" Zoë-Anne ",
        street="12a Rue de l'Église",
        birth_date="1985-04-23",
        postcode="SW1A 1AA",
    )
    assert r.given_name == "zoe anne"
    assert (r.street_number, r.street) == ("12a", "rue de l eglise")
    assert r.birth_date == "19850423" and r.postcode == "sw1a1aa"


def test_levels() -> None:
    assert string_level("", "anna") == 0
    assert string_level("anna", "anna") == 4
    assert string_level("michaela", "micheala") == 3  # transposed letters
    assert string_level("anna", "bob") == 1
    assert date_level("19851104", "19850411") == 3  # day and month swapped
    assert date_level("19851104", "19851105") == 3
    assert date_level("19851104", "19620730") == 1


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"family_name": "Nuemann"},  # transposition
        {"given_name": "Michela", "street": "8 Stanly St"},  # typos
        {"birth_date": "1915-11-12"},  # one digit off
        {"street": "", "locality": "", "postcode": ""},  # missing address
        {"birth_date": ""},  # missing birth date
        {"given_name": "Neumann", "family_name": "Michaela"},  # names swapped
        {"postcode": "4232", "region": ""},
    ],
)
def test_the_same_person_with_noise_matches(variant: dict[str, str]) -> None:
    assert p(person("a"), person("b", **variant)) >= MATCH_PROBABILITY


@pytest.mark.parametrize(
    "other",
    [
        {"birth_date": "1962-07-30", "street": "3 Kent Road", "postcode": "2000"},
        {"family_name": "Green", "given_name": "Charles", "birth_date": "1948-09-30"},
        {"birth_date": "", "street": "", "postcode": "", "locality": "", "region": ""},
        {"given_name": "Thomas", "birth_date": "1950-01-02"},  # same household
    ],
)
def test_different_people_do_not(other: dict[str, str]) -> None:
    assert p(person("a"), person("b", **other)) < MATCH_PROBABILITY


def test_missing_fields_weigh_nothing() -> None:
    full = compare(person("a"), person("b"))
    sparse = compare(person("a"), person("b", street="", locality=""))
    assert CONTACT_MODEL.score(sparse) < CONTACT_MODEL.score(full)
    assert sparse[4] == 0 and sparse[6] == 0


def test_blocking_pairs_share_a_key() -> None:
    left = [
        person("a"),
        person(
            "b",
            family_name="Green",
            given_name="Charles",
            birth_date="1948-09-30",
            postcode="4566",
            street="38 Kela Road",
        ),
    ]
    right = [
        person("c", postcode="9999"),
        person(
            "d",
            given_name="Zed",
            family_name="Quux",
            birth_date="1999-01-01",
            postcode="1",
            street="1 Other Way",
            locality="Elsewhere",
        ),
    ]
    assert blocking.link_pairs(left, right) == {(0, 0)}
    assert blocking.dedup_pairs([*left, right[0]]) == {(0, 2)}


def _noisy(rng: random.Random, text: str) -> str:
    if len(text) < 3 or rng.random() < 0.5:
        return text
    i = rng.randrange(len(text) - 1)
    op = rng.choice(["swap", "drop", "sub"])
    if op == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op == "drop":
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1 :]


def _people(rng: random.Random, n: int) -> list[dict[str, str]]:
    given = ["anna", "ben", "clara", "david", "emma", "felix", "greta", "hans", "ida", "jonas"]
    family = ["meier", "schmidt", "fischer", "weber", "wagner", "becker", "hoffmann", "koch"]
    streets = ["linden", "berg", "see", "wald", "haupt", "schul", "garten", "kirch"]
    return [
        {
            "given_name": rng.choice(given),
            "family_name": rng.choice(family),
            "birth_date": f"19{rng.randint(30, 99)}{rng.randint(1, 12):02d}"
            f"{rng.randint(1, 28):02d}",
            "street": f"{rng.randint(1, 99)} {rng.choice(streets)}strasse",
            "postcode": f"{rng.randint(1000, 1200)}",
            "locality": rng.choice(["bern", "basel", "thun", "biel"]),
            "id_number": f"{rng.randint(1000000, 9999999)}",
        }
        for _ in range(n)
    ]


def test_em_learns_from_unlabelled_pairs_and_links_one_to_one() -> None:
    rng = random.Random(7)
    people = _people(rng, 300)
    left = [PersonRecord.from_raw(f"L{i}", **p) for i, p in enumerate(people)]
    right = [
        PersonRecord.from_raw(f"R{i}", **{k: _noisy(rng, v) for k, v in p.items()})
        for i, p in enumerate(people)
    ]
    order = list(range(len(right)))
    rng.shuffle(order)
    right = [right[i] for i in order]
    result = linker.link(left, right)
    found = {(left[x.left].key[1:], right[x.right].key[1:]) for x in result.links}
    correct = sum(1 for a, b in found if a == b)
    assert correct / len(people) > 0.95  # recall
    assert correct / len(found) > 0.98  # precision
    # EM found that agreement on the id number is far likelier among matches
    model = result.model
    assert model.m[9][4] > 0.5 > model.u[9][4]
    assert 0.0 < model.prior < 0.5


def test_deduplicate_finds_pairs_within_one_set() -> None:
    rng = random.Random(3)
    people = _people(rng, 200)
    records = [PersonRecord.from_raw(f"{i}-org", **p) for i, p in enumerate(people)]
    records += [
        PersonRecord.from_raw(f"{i}-dup", **{k: _noisy(rng, v) for k, v in p.items()})
        for i, p in enumerate(people[:50])
    ]
    result = linker.deduplicate(records)
    pairs = {tuple(sorted((records[x.left].key, records[x.right].key))) for x in result.links}
    expected = {(f"{i}-dup", f"{i}-org") for i in range(50)}
    assert len(pairs & expected) >= 48
    assert len(pairs - expected) <= 2


def test_fellegi_sunter_em_recovers_known_parameters() -> None:
    rng = random.Random(11)
    true_m, true_u = (0.9, 0.1), (0.2, 0.8)  # P(agree), P(disagree) per field
    patterns: dict[tuple[int, ...], int] = {}
    for _ in range(4000):
        match = rng.random() < 0.2
        agree = true_m[0] if match else true_u[0]
        v = tuple(2 if rng.random() < agree else 1 for _ in range(5))
        patterns[v] = patterns.get(v, 0) + 1
    fitted = FellegiSunter.initial([3] * 5).fit(patterns)
    assert fitted.prior == pytest.approx(0.2, abs=0.03)
    for f in range(5):
        assert fitted.m[f][2] == pytest.approx(0.9, abs=0.05)
        assert fitted.u[f][2] == pytest.approx(0.2, abs=0.05)
