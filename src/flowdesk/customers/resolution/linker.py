"""Linking two record sets, or finding duplicates in one: block, compare, fit, decide.

The model is fitted by EM on the candidate pairs themselves (no labelled data needed), then
each pair gets a match probability. Linking two deduplicated sets (a CRM export against a
billing export) is one-to-one: the best-scoring pairs are taken first and a record, once
linked, is not linked again, which removes most false matches that share a household or
a street with the true one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flowdesk.customers.resolution.blocking import DEFAULT_RULES, BlockingRule, dedup_pairs
from flowdesk.customers.resolution.blocking import link_pairs as block_link_pairs
from flowdesk.customers.resolution.compare import LEVELS, Vector, compare
from flowdesk.customers.resolution.fellegi_sunter import FellegiSunter
from flowdesk.customers.resolution.records import PersonRecord

#: Pairs at or above this match probability are links.
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Link:
    left: int
    right: int
    probability: float


@dataclass(frozen=True, slots=True)
class Linkage:
    links: list[Link]
    candidates: int  # pairs compared after blocking
    model: FellegiSunter

    def keys(
        self, left: Sequence[PersonRecord], right: Sequence[PersonRecord] | None = None
    ) -> set[tuple[str, str]]:
        other = left if right is None else right
        return {(left[x.left].key, other[x.right].key) for x in self.links}


def _fit_and_score(
    pairs: Iterable[tuple[int, int]],
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    model: FellegiSunter | None,
) -> tuple[list[tuple[int, int, Vector]], FellegiSunter]:
    compared = [(i, j, compare(left[i], right[j])) for i, j in sorted(pairs)]
    if model is None:
        patterns = Counter(v for _, _, v in compared)
        model = FellegiSunter.initial(LEVELS).fit(patterns)
    return compared, model


def link(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    *,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
    threshold: float = DEFAULT_THRESHOLD,
    one_to_one: bool = True,
    model: FellegiSunter | None = None,
) -> Linkage:
    """Links between `left` and `right`; fits a model on the candidates unless one is given."""
    pairs = block_link_pairs(left, right, rules)
    compared, fitted = _fit_and_score(pairs, left, right, model)
    weights = fitted.log_weights()
    scored = [(fitted.score(v, weights), i, j) for i, j, v in compared]
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    links: list[Link] = []
    used_left: set[int] = set()
    used_right: set[int] = set()
    for log_odds, i, j in scored:
        probability = _probability(log_odds)
        if probability < threshold:
            break
        if one_to_one:
            if i in used_left or j in used_right:
                continue
            used_left.add(i)
            used_right.add(j)
        links.append(Link(i, j, probability))
    return Linkage(links, len(compared), fitted)


def deduplicate(
    records: Sequence[PersonRecord],
    *,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
    threshold: float = DEFAULT_THRESHOLD,
    model: FellegiSunter | None = None,
) -> Linkage:
    """Pairs of records (i < j) in one set that are the same person."""
    pairs = dedup_pairs(records, rules)
    compared, fitted = _fit_and_score(pairs, records, records, model)
    weights = fitted.log_weights()
    links = []
    for i, j, v in compared:
        probability = _probability(fitted.score(v, weights))
        if probability >= threshold:
            links.append(Link(i, j, probability))
    return Linkage(links, len(compared), fitted)


def _probability(log_odds: float) -> float:
    from flowdesk.customers.resolution.fellegi_sunter import logistic

    return logistic(log_odds)
