"""Duration distributions: what the simulation samples, and how they are chosen from data.

Durations are in minutes. Sampling goes through `random.Random` (its exponential, lognormal
and gamma variates cost well under a microsecond, which the month-in-seconds target needs);
fitting uses scipy's maximum-likelihood fits and keeps the candidate with the lowest AIC, so
a distribution is chosen by the data rather than assumed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

KINDS = ("const", "exp", "lognorm", "gamma", "uniform")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Dist:
    """`exp`: a = mean; `lognorm`: a = mu, b = sigma (of the log); `gamma`: a = shape,
    b = scale; `const`: a = value; `uniform`: a = low, b = high."""

    kind: str
    a: float
    b: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown distribution {self.kind!r}; use one of {', '.join(KINDS)}")
        if self.kind in ("exp", "gamma") and self.a <= 0:
            raise ValueError(f"{self.kind} distribution needs a positive first parameter")

    @property
    def mean(self) -> float:
        if self.kind == "exp" or self.kind == "const":
            return self.a
        if self.kind == "lognorm":
            return math.exp(self.a + self.b**2 / 2)
        if self.kind == "gamma":
            return self.a * self.b
        return (self.a + self.b) / 2

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A zero-argument function drawing one value (bound once, called in the hot loop)."""
        a, b = self.a, self.b
        if self.kind == "exp":
            expo, rate = rng.expovariate, 1.0 / a
            return lambda: expo(rate)
        if self.kind == "lognorm":
            logn = rng.lognormvariate
            return lambda: logn(a, b)
        if self.kind == "gamma":
            gam = rng.gammavariate
            return lambda: gam(a, b)
        if self.kind == "uniform":
            uni = rng.uniform
            return lambda: uni(a, b)
        return lambda: a

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "a": self.a, "b": self.b, "mean_minutes": round(self.mean, 3)}

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Dist:
        if "mean" in spec and "kind" not in spec:
            return cls("exp", float(spec["mean"]))
        return cls(
            str(spec["kind"]),
            float(spec.get("a", spec.get("mean", 0.0))),
            float(spec.get("b", 0.0)),
        )

    @classmethod
    def exponential(cls, mean: float) -> Dist:
        return cls("exp", mean)


def fit(values: Sequence[float], candidates: Sequence[str] = ("exp", "lognorm", "gamma")) -> Dist:
    """The candidate with the lowest AIC on `values` (minutes, > 0). Fewer than 5 values: an
    exponential with their mean (too few to tell shapes apart)."""
    data = [max(v, 1e-3) for v in values if v >= 0 and math.isfinite(v)]
    if not data:
        raise ValueError("no durations to fit")
    mean = sum(data) / len(data)
    if len(data) < 5 or max(data) - min(data) < 1e-6:
        return Dist("exp", mean) if len(data) < 5 else Dist("const", mean)
    import numpy as np
    from scipy import stats

    arr = np.asarray(data)
    best: tuple[float, Dist] | None = None
    for kind in candidates:
        if kind == "exp":
            loglik = float(stats.expon.logpdf(arr, scale=mean).sum())
            dist, k = Dist("exp", mean), 1
        elif kind == "lognorm":
            logs = np.log(arr)
            mu, sigma = float(logs.mean()), float(max(logs.std(), 1e-6))
            loglik = float(stats.lognorm.logpdf(arr, sigma, scale=math.exp(mu)).sum())
            dist, k = Dist("lognorm", mu, sigma), 2
        elif kind == "gamma":
            shape, _, scale = stats.gamma.fit(arr, floc=0)
            loglik = float(stats.gamma.logpdf(arr, shape, scale=scale).sum())
            dist, k = Dist("gamma", float(shape), float(scale)), 2
        else:
            continue
        aic = 2 * k - 2 * loglik
        if math.isfinite(aic) and (best is None or aic < best[0]):
            best = (aic, dist)
    return best[1] if best is not None else Dist("exp", mean)


def loglik(dist: Dist, values: Sequence[float]) -> float:
    """Log-likelihood of `values` (minutes) under `dist` (-inf where it cannot produce them)."""
    import numpy as np
    from scipy import stats

    arr = np.asarray([max(v, 1e-3) for v in values], dtype=float)
    if dist.kind == "exp":
        return float(stats.expon.logpdf(arr, scale=dist.a).sum())
    if dist.kind == "lognorm":
        return float(stats.lognorm.logpdf(arr, dist.b, scale=math.exp(dist.a)).sum())
    if dist.kind == "gamma":
        return float(stats.gamma.logpdf(arr, dist.a, scale=dist.b).sum())
    if dist.kind == "uniform":
        return float(stats.uniform.logpdf(arr, dist.a, dist.b - dist.a).sum())
    return 0.0 if all(abs(v - dist.a) < 1e-6 for v in arr) else -math.inf


_PARAMETERS = {"exp": 1, "lognorm": 2, "gamma": 2, "uniform": 2, "const": 1}
#: A step breaks away from its department's pooled fit when a likelihood-ratio test rejects the
#: pooled one for it at this level (5 % let one alike step in twenty go its own way by chance).
SPLIT_LEVEL = 0.01


def fit_pooled(groups: Mapping[K, Sequence[float]]) -> dict[K, Dist]:
    """One distribution per group, borrowing strength across groups (partial pooling).

    The groups are the steps of one department: a step keeps a distribution of its own only
    where a likelihood-ratio test says, at 1 %, that the pooled one does not fit its data;
    the others share the pooled fit of the steps that did not break away. A step seen 60 times
    estimates an exponential mean to +-13 %; five steps of one queue that wait alike estimate
    it together to +-6 %, which keeps a back-test's per-flow turnarounds from inheriting each
    step's sampling noise, while a step that really waits differently (a priority, another
    team) still gets its own."""
    data = {k: [v for v in vs if v >= 0 and math.isfinite(v)] for k, vs in groups.items()}
    data = {k: vs for k, vs in data.items() if vs}
    if not data:
        return {}
    from scipy import stats

    alone = {k: fit(vs) for k, vs in data.items() if len(vs) >= 5}
    # -2 log-likelihood under its own fit, plus what the own parameters must earn: the
    # likelihood-ratio test's 1 % critical value (the pooled fit counting as given)
    cost = {
        k: float(stats.chi2.ppf(1 - SPLIT_LEVEL, _PARAMETERS[d.kind])) - 2 * loglik(d, data[k])
        for k, d in alone.items()
    }
    own: dict[K, Dist] = {}
    shared = list(data)
    while shared:
        pooled = fit([v for k in shared for v in data[k]])
        # the step the pooled fit serves worst breaks away first (one at a time: a pooled fit
        # bent by one odd step serves the alike ones badly too, until that step is out)
        gains = {k: -2 * loglik(pooled, data[k]) - cost[k] for k in shared if k in alone}
        worst = max(gains, key=lambda k: gains[k], default=None)
        if worst is None or gains[worst] <= 0 or len(shared) == 1:
            for key in shared:
                own[key] = pooled
            break
        own[worst] = alone[worst]
        shared.remove(worst)
    return own
