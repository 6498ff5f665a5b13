"""Adaptive propensity models: naive Bayes over binned predictors, learning from every outcome.

The approach of Pega's adaptive decision manager, written out here rather than taken from a
library: each predictor's values fall into bins (a symbol is its own bin; a number falls into
one of a fixed set of scale-free intervals, asinh-spaced so ages, euros and ratios all get a
handful of useful bins), and the model keeps, per bin, how many positive and negative outcomes
it saw. A predictor's power is its univariate AUC over its bins; only the predictors above
`ACTIVE_AUC` take part (the ranking is what the explanation shows). A propensity is the prior
log-odds plus each active predictor's smoothed log likelihood ratio, then calibrated by the
outcomes seen in the same raw-score bin (Pega's classifier binning), so the propensities of
different actions can be compared in arbitration.

Why not river or scikit-learn's partial_fit: the state must be JSON in a store row (inspectable,
no pickles), explanations need per-bin evidence, and one update must take well under a
millisecond (this is a few dict increments: about 10 µs for ten predictors).

Cold start: before any evidence the propensity is the action's prior; the prior also enters as
`PRIOR_WEIGHT` pseudo-outcomes. Exploration (Thompson-style, `sample`) draws around the
propensity with a spread that shrinks as evidence grows, so a new action gets tried.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Pseudo-outcomes the prior counts for.
PRIOR_WEIGHT = 10.0
#: A predictor takes part once its AUC over its bins reaches this (Pega's default threshold).
ACTIVE_AUC = 0.52
#: Evidence before predictors are used (below it the model answers its base rate).
MIN_EVIDENCE = 20
#: Active predictors are re-ranked every this many outcomes.
RERANK_EVERY = 10
#: Distinct symbols kept per predictor; later ones share the bin "other".
MAX_SYMBOLS = 50
#: Bins of the propensity histogram the model's AUC and calibration are read from.
HIST_BINS = 50


def bin_of(value: Any) -> str:
    """The bin label of a predictor value."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        x = float(value)
        if math.isnan(x):
            return "missing"
        return f"#{math.floor(math.asinh(4 * x) * 2.5)}"
    return str(value)[:60]


def bin_label(label: str) -> str:
    """A bin as people read it: the interval of a numeric bin, the symbol otherwise."""
    if not label.startswith("#"):
        return label
    k = int(label[1:])
    low = math.sinh(k / 2.5) / 4
    high = math.sinh((k + 1) / 2.5) / 4
    return f"[{low:.3g}, {high:.3g})"


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def _auc(pairs: list[tuple[float, float]]) -> float:
    """AUC of bins given as (positives, negatives), each bin one score level, taken in the
    order of their positive rate (ties count half)."""
    pos = sum(p for p, _ in pairs)
    neg = sum(n for _, n in pairs)
    if pos <= 0 or neg <= 0:
        return 0.5
    ordered = sorted(pairs, key=lambda b: (b[0] + 0.5) / (b[0] + b[1] + 1))
    area = 0.0
    negs_below = 0.0
    for p, n in ordered:
        area += p * (negs_below + n / 2)
        negs_below += n
    return area / (pos * neg)


@dataclass(frozen=True, slots=True)
class Contribution:
    predictor: str
    bin: str
    value: Any
    weight: float  # log likelihood ratio this bin adds to the log-odds
    auc: float  # the predictor's power


@dataclass(frozen=True, slots=True)
class Score:
    propensity: float
    raw: float  # log-odds before calibration
    contributions: tuple[Contribution, ...]


class _Weights:
    """A model's log-odds per bin of each active predictor, for its current counts. The base
    log-odds and each bin's smoothed log likelihood ratio are computed once per model version
    (in the order `score` adds them, so the sums are the same floats)."""

    __slots__ = ("active", "base", "calibration")

    def __init__(self, model: AdaptiveModel) -> None:
        self.base = model.base_log_odds()
        self.calibration = {int(k): (v[0], v[1]) for k, v in model.calibration.items()}
        self.active: list[tuple[str, dict[str, float], float]] = []
        pos_total = model.positives + 1.0
        neg_total = model.negatives + 1.0
        for name in model.active:
            bins = model.bins.get(name)
            if bins is None:
                continue
            width = len(bins) + 1
            pos_den = pos_total + width
            neg_den = neg_total + width
            weights = {
                label: math.log((p + 1) / pos_den) - math.log((n + 1) / neg_den)
                for label, (p, n) in bins.items()
            }
            fallback = weights.get("other", math.log(1 / pos_den) - math.log(1 / neg_den))
            self.active.append((name, weights, fallback))


def sample_many(
    models: Sequence[AdaptiveModel], propensities: Sequence[float], gen: np.random.Generator
) -> list[float]:
    """`AdaptiveModel.sample` for many models in one draw (a decision explores fifty actions:
    one vectorised Beta draw instead of a hundred Python gamma draws)."""
    if not models:
        return []
    shapes = [m.beta_shape(p) for m, p in zip(models, propensities, strict=True)]
    a = np.fromiter((s[0] for s in shapes), dtype=float, count=len(shapes))
    b = np.fromiter((s[1] for s in shapes), dtype=float, count=len(shapes))
    drawn: list[float] = gen.beta(a, b).tolist()
    return drawn


@dataclass
class AdaptiveModel:
    """One action on one channel. All state is counts (JSON-able, see `to_dict`)."""

    prior: float = 0.05
    positives: float = 0.0
    negatives: float = 0.0
    bins: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # pred -> bin -> [p, n]
    active: dict[str, float] = field(default_factory=dict)  # active predictor -> AUC
    powers: dict[str, float] = field(default_factory=dict)  # every predictor -> AUC
    calibration: dict[str, list[float]] = field(default_factory=dict)  # raw bin -> [p, n]
    hist_pos: list[float] = field(default_factory=lambda: [0.0] * HIST_BINS)
    hist_neg: list[float] = field(default_factory=lambda: [0.0] * HIST_BINS)
    hist_sum: list[float] = field(default_factory=lambda: [0.0] * HIST_BINS)  # predicted p summed
    #: scoring table of the current counts (not state: rebuilt after every outcome)
    _table: _Weights | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def evidence(self) -> int:
        return int(self.positives + self.negatives)

    # -- scoring ----------------------------------------------------------------------------
    def base_log_odds(self) -> float:
        pos = self.positives + self.prior * PRIOR_WEIGHT
        neg = self.negatives + (1 - self.prior) * PRIOR_WEIGHT
        return math.log(pos / neg)

    def _weights(self) -> _Weights:
        """The log-odds table of the model as it is now: built on the first score after an
        outcome, so a decision over fifty actions looks weights up instead of taking logs."""
        table = self._table
        if table is None:
            table = self._table = _Weights(self)
        return table

    def score(self, predictors: Mapping[str, Any], *, explain: bool = False) -> Score:
        """The propensity for one customer, with each active predictor's contribution when
        `explain` is set."""
        if not explain:
            return self.score_bins({name: bin_of(predictors.get(name)) for name in self.active})
        z = self.base_log_odds()
        contributions: list[Contribution] = []
        if self.active:
            pos_total = self.positives + 1.0
            neg_total = self.negatives + 1.0
            for name, auc in self.active.items():
                value = predictors.get(name)
                label = bin_of(value)
                bins = self.bins.get(name)
                if bins is None:
                    continue
                width = len(bins) + 1
                p, n = bins.get(label) or bins.get("other") or (0.0, 0.0)
                w = math.log((p + 1) / (pos_total + width)) - math.log(
                    (n + 1) / (neg_total + width)
                )
                z += w
                contributions.append(Contribution(name, label, value, w, auc))
        contributions.sort(key=lambda c: abs(c.weight), reverse=True)
        return Score(self._calibrated(z), z, tuple(contributions))

    def propensity_of_bins(self, labels: Mapping[str, str]) -> float:
        """The propensity from predictor bins already computed (`bin_of`, once per decision
        for every model): the same number `score` gives, from the cached weight table."""
        table = self._weights()
        z = table.base
        for name, weights, fallback in table.active:
            z += weights.get(labels.get(name, "missing"), fallback)
        propensity = sigmoid(z)
        cal = table.calibration.get(max(-12, min(12, math.floor(z * 2))))
        if cal is not None:
            p, n = cal
            propensity = (p + 5 * propensity) / (p + n + 5)
        return propensity

    def score_bins(self, labels: Mapping[str, str]) -> Score:
        """`propensity_of_bins` with the raw log-odds (for learning)."""
        table = self._weights()
        z = table.base
        for name, weights, fallback in table.active:
            z += weights.get(labels.get(name, "missing"), fallback)
        return Score(self._calibrated(z), z, ())

    def _calibrated(self, z: float) -> float:
        propensity = sigmoid(z)
        cal = self.calibration.get(str(self._raw_bin(z)))
        if cal is not None:
            # the outcomes seen at this raw score, smoothed toward the raw propensity
            p, n = cal
            propensity = (p + 5 * propensity) / (p + n + 5)
        return propensity

    def propensity(self, predictors: Mapping[str, Any]) -> float:
        return self.score(predictors).propensity

    def sample(self, propensity: float, rng: random.Random) -> float:
        """An exploring draw around the propensity: Beta with a sixteenth of the model's
        evidence as pseudo-outcomes, so the spread shrinks as it learns (the share was tuned
        with benchmarks/nba.py over seeds 1-7: a quarter explored too little, seed 2 stayed
        under 90 % of the oracle). `sample_many` draws the same for many models at once."""
        a, b = self.beta_shape(propensity)
        return rng.betavariate(a, b)

    def beta_shape(self, propensity: float) -> tuple[float, float]:
        """The (a, b) of the Beta distribution `sample` draws from."""
        weight = max(self.evidence, PRIOR_WEIGHT) / 16
        return propensity * weight + 0.5, (1 - propensity) * weight + 0.5

    @staticmethod
    def _raw_bin(z: float) -> int:
        return max(-12, min(12, math.floor(z * 2)))

    # -- learning ---------------------------------------------------------------------------
    def learn(
        self, predictors: Mapping[str, Any], accepted: bool, predicted: float | None = None
    ) -> None:
        """One outcome. `predicted` is the propensity the decision was made with (it feeds the
        model's own AUC and calibration: measured on decisions before learning from them)."""
        if predicted is None:
            predicted = self.propensity(predictors)
        raw = self.score(predictors).raw
        k = 0 if accepted else 1
        self._table = None
        slot = min(HIST_BINS - 1, max(0, int(predicted * HIST_BINS)))
        (self.hist_pos if accepted else self.hist_neg)[slot] += 1
        self.hist_sum[slot] += predicted
        cal = self.calibration.setdefault(str(self._raw_bin(raw)), [0.0, 0.0])
        cal[k] += 1
        if accepted:
            self.positives += 1
        else:
            self.negatives += 1
        for name, value in predictors.items():
            bins = self.bins.setdefault(name, {})
            label = bin_of(value)
            if label not in bins and len(bins) >= MAX_SYMBOLS:
                label = "other"
            counts = bins.setdefault(label, [0.0, 0.0])
            counts[k] += 1
        if self.evidence % RERANK_EVERY == 0 and self.evidence >= MIN_EVIDENCE:
            self.rerank()

    def rerank(self) -> None:
        """Each predictor's AUC over its bins; the ones above ACTIVE_AUC become active. The
        calibration restarts because the raw scores change meaning."""
        self._table = None
        self.powers = {
            name: _auc([(p, n) for p, n in bins.values()]) for name, bins in self.bins.items()
        }
        active = {k: v for k, v in self.powers.items() if v >= ACTIVE_AUC}
        if set(active) != set(self.active):
            self.calibration = {}
        self.active = dict(sorted(active.items(), key=lambda kv: kv[1], reverse=True))

    # -- quality ----------------------------------------------------------------------------
    def auc(self) -> float | None:
        """AUC of the propensities the model gave before each outcome (None without both
        kinds of outcome)."""
        pairs = list(zip(self.hist_pos, self.hist_neg, strict=True))
        if sum(self.hist_pos) == 0 or sum(self.hist_neg) == 0:
            return None
        pos = sum(self.hist_pos)
        neg = sum(self.hist_neg)
        area = 0.0
        below = 0.0
        for p, n in pairs:  # bins are in propensity order already
            area += p * (below + n / 2)
            below += n
        return area / (pos * neg)

    def calibration_table(self, buckets: int = 10) -> list[dict[str, float]]:
        """Predicted against observed acceptance, per propensity bucket with evidence."""
        per = HIST_BINS // buckets
        out = []
        for b in range(buckets):
            sl = slice(b * per, (b + 1) * per)
            n = sum(self.hist_pos[sl]) + sum(self.hist_neg[sl])
            if n:
                out.append(
                    {
                        "predicted": sum(self.hist_sum[sl]) / n,
                        "observed": sum(self.hist_pos[sl]) / n,
                        "count": n,
                    }
                )
        return out

    # -- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "positives": self.positives,
            "negatives": self.negatives,
            "bins": self.bins,
            "active": self.active,
            "powers": self.powers,
            "calibration": self.calibration,
            "hist_pos": self.hist_pos,
            "hist_neg": self.hist_neg,
            "hist_sum": self.hist_sum,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdaptiveModel:
        return cls(
            prior=float(data.get("prior", 0.05)),
            positives=float(data.get("positives", 0)),
            negatives=float(data.get("negatives", 0)),
            bins={k: {b: list(c) for b, c in v.items()} for k, v in data.get("bins", {}).items()},
            active=dict(data.get("active", {})),
            powers=dict(data.get("powers", {})),
            calibration={k: list(v) for k, v in data.get("calibration", {}).items()},
            hist_pos=list(data.get("hist_pos", [0.0] * HIST_BINS)),
            hist_neg=list(data.get("hist_neg", [0.0] * HIST_BINS)),
            hist_sum=list(data.get("hist_sum", [0.0] * HIST_BINS)),
        )
