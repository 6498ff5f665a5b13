"""Duration distributions: what the simulation samples, and how they are chosen from data.

Durations are in minutes. Sampling goes through `random.Random` (its exponential, lognormal
and gamma variates cost well under a microsecond, which the month-in-seconds target needs);
fitting uses scipy's maximum-likelihood fits and keeps the candidate with the lowest AIC, so
a distribution is chosen by the data rather than assumed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

KINDS = ("const", "exp", "lognorm", "gamma", "uniform")


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
