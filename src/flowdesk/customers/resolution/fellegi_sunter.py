"""The Fellegi-Sunter record linkage model, fitted without labels by expectation-maximisation.

For each field and agreement level, m is P(level | same person) and u is P(level | different
people). A pair's evidence is the sum over fields of log(m/u); with the prior share of matches
it gives the probability that the pair is one person. Fields are assumed independent given the
match status (the model's classic simplification). Missing values (level 0) carry no evidence.

EM runs on the distinct comparison vectors with their counts, so fitting 100,000 candidate pairs
costs about as much as fitting the few thousand patterns they contain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Vector = tuple[int, ...]

_FLOOR = 1e-6  # no level is ever impossible: one unseen level must not veto a pair


def _normalised(values: Sequence[float]) -> list[float]:
    """Probabilities over levels 1..n-1 (index 0, missing, stays 0), floored and summing to 1."""
    tail = [max(v, _FLOOR) for v in values[1:]]
    total = sum(tail)
    return [0.0, *(v / total for v in tail)]


@dataclass(frozen=True, slots=True)
class FellegiSunter:
    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    prior: float  # share of candidate pairs that are matches

    @classmethod
    def initial(cls, levels: Sequence[int], prior: float = 0.05) -> FellegiSunter:
        """A starting point: matches agree closely, non-matches rarely do."""
        m: list[tuple[float, ...]] = []
        u: list[tuple[float, ...]] = []
        for n in levels:
            m.append(tuple(_normalised([0.0, *(4.0**k for k in range(n - 1))])))
            u.append(tuple(_normalised([0.0, *(0.25**k for k in range(n - 1))])))
        return cls(tuple(m), tuple(u), prior)

    def log_weights(self) -> tuple[tuple[float, ...], ...]:
        """log(m/u) per field and level (0 for the missing level)."""
        return tuple(
            tuple(0.0 if k == 0 else math.log(mf[k] / uf[k]) for k in range(len(mf)))
            for mf, uf in zip(self.m, self.u, strict=True)
        )

    def score(self, vector: Vector, weights: tuple[tuple[float, ...], ...] | None = None) -> float:
        """Log-odds that the pair is a match (prior included)."""
        table = weights or self.log_weights()
        total = math.log(self.prior / (1 - self.prior))
        for field, level in enumerate(vector):
            total += table[field][level]
        return total

    def probability(self, vector: Vector) -> float:
        return logistic(self.score(vector))

    def fit(
        self, patterns: Mapping[Vector, int], *, max_iter: int = 200, tol: float = 1e-8
    ) -> FellegiSunter:
        """EM on distinct vectors and their counts; returns the fitted model."""
        model = self
        total = sum(patterns.values())
        if total == 0:
            return model
        items = list(patterns.items())
        n_fields = len(self.m)
        for _ in range(max_iter):
            weights = model.log_weights()
            m_acc = [[0.0] * len(model.m[f]) for f in range(n_fields)]
            u_acc = [[0.0] * len(model.u[f]) for f in range(n_fields)]
            matched = 0.0
            for vector, count in items:
                g = logistic(model.score(vector, weights))
                cg = count * g
                cu = count - cg
                matched += cg
                for f, level in enumerate(vector):
                    m_acc[f][level] += cg
                    u_acc[f][level] += cu
            prior = min(max(matched / total, 1e-9), 1 - 1e-9)
            fitted = FellegiSunter(
                tuple(tuple(_normalised(acc)) for acc in m_acc),
                tuple(tuple(_normalised(acc)) for acc in u_acc),
                prior,
            )
            if abs(fitted.prior - model.prior) < tol and _max_change(fitted, model) < tol:
                return fitted
            model = fitted
        return model


def _max_change(a: FellegiSunter, b: FellegiSunter) -> float:
    return max(
        abs(x - y)
        for rows_a, rows_b in ((a.m, b.m), (a.u, b.u))
        for ra, rb in zip(rows_a, rows_b, strict=True)
        for x, y in zip(ra, rb, strict=True)
    )


def logistic(log_odds: float) -> float:
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    e = math.exp(log_odds)
    return e / (1.0 + e)
