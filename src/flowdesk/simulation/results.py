"""Replications and their summary: every figure as a mean with a 95 % confidence interval.

Replications use seeds `seed, seed + 1, ...`, so a run is reproducible and two scenarios run
with the same seed share their random arrivals where their models agree (common random
numbers: the difference between them is sharper than either figure).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from flowdesk.simulation.engine import RunResult, simulate
from flowdesk.simulation.model import Model

Progress = Callable[[int, int], None]  # replications done, total

#: A waiting-channel contact is answered in time within this many minutes (the 80/20 rule's 20 s
#: is for phone queues with a dedicated line; the demo's queues are shared, so one minute).
ANSWER_WITHIN = 1.0


def ci(values: Sequence[float]) -> dict[str, float]:
    """Mean and the 95 % confidence interval of the mean (Student's t over replications)."""
    clean = [v for v in values if v is not None and math.isfinite(v)]
    if not clean:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan")}
    mean = statistics.fmean(clean)
    if len(clean) < 2:
        return {"mean": mean, "low": mean, "high": mean}
    from scipy import stats

    half = (
        float(stats.t.ppf(0.975, len(clean) - 1)) * statistics.stdev(clean) / math.sqrt(len(clean))
    )
    return {"mean": mean, "low": mean - half, "high": mean + half}


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _share(met: int, total: int) -> float:
    return met / total if total else float("nan")


def replicate(
    model: Model,
    *,
    days: float,
    replications: int,
    seed: int = 1,
    warmup_days: float = 3.0,
    progress: Progress | None = None,
) -> list[RunResult]:
    runs = []
    for r in range(replications):
        runs.append(simulate(model, days, seed=seed + r, warmup_days=warmup_days))
        if progress is not None:
            progress(r + 1, replications)
    return runs


def figures(run: RunResult) -> dict[str, float]:
    """One replication's figures, flat (name -> value), for `summarise`."""
    out: dict[str, float] = {}
    met = sum(run.sla_met.values())
    total = sum(run.sla_total.values())
    out["sla"] = _share(met, total)
    out["contacts_per_day"] = run.arrivals / max(run.days, 1)
    out["abandonment"] = _share(run.abandoned, run.waiting_offered)
    answered = sum(1 for w in run.waiting_served_waits if w <= ANSWER_WITHIN)
    out["answered_in_time"] = _share(answered, run.waiting_offered)
    out["handoffs_per_case"] = run.handoffs / max(run.arrivals, 1)
    out["repeat_contacts"] = float(run.repeats)
    out["cost"] = run.cost
    all_turnaround = [t for v in run.turnaround.values() for t in v]
    out["turnaround_p50_h"] = _quantile(all_turnaround, 0.5) / 60
    out["turnaround_p90_h"] = _quantile(all_turnaround, 0.9) / 60
    for flow, values in run.turnaround.items():
        out[f"flow.{flow}.sla"] = _share(run.sla_met[flow], run.sla_total[flow])
        out[f"flow.{flow}.turnaround_p50_h"] = _quantile(values, 0.5) / 60
        out[f"flow.{flow}.turnaround_p90_h"] = _quantile(values, 0.9) / 60
        out[f"flow.{flow}.cases"] = float(len(values))
    for dept, waits in run.waits.items():
        out[f"dept.{dept}.wait_mean_min"] = statistics.fmean(waits) if waits else float("nan")
        out[f"dept.{dept}.wait_p90_min"] = _quantile(waits, 0.9)
        shift = run.shift_minutes.get(dept, 0.0)
        out[f"dept.{dept}.occupancy"] = (
            run.busy_minutes.get(dept, 0.0) / shift if shift else float("nan")
        )
        out[f"dept.{dept}.ola"] = _share(run.ola_met.get(dept, 0), run.ola_total.get(dept, 0))
        out[f"dept.{dept}.queue_ola"] = _share(
            run.queue_met.get(dept, 0), run.ola_total.get(dept, 0)
        )
        out[f"dept.{dept}.staffed_hours"] = run.staffed_hours.get(dept, 0.0)
        series = run.backlog.get(dept, [])
        out[f"dept.{dept}.backlog_mean"] = statistics.fmean(series) if series else 0.0
    return out


def summarise(runs: Sequence[RunResult]) -> dict[str, Any]:
    """Every figure with its confidence interval, plus the backlog per day (mean open work
    over the day's hours, with its interval) for the charts."""
    per_run = [figures(r) for r in runs]
    names = sorted({k for f in per_run for k in f})
    figs = {
        name: _bounded(name, ci([f.get(name, float("nan")) for f in per_run])) for name in names
    }
    days = max((r.days for r in runs), default=0)
    backlog: list[dict[str, float]] = []
    for day in range(days):
        totals = []
        for r in runs:
            hours = [
                sum(series[h] for series in r.backlog.values() if h < len(series))
                for h in range(day * 24, day * 24 + 24)
            ]
            if hours:
                totals.append(statistics.fmean(hours))
        backlog.append(ci(totals))
    waits = sorted(w for r in runs for v in r.waits.values() for w in v)
    histogram = _histogram(waits)
    return {
        "replications": len(runs),
        "days": days,
        "figures": figs,
        "backlog_per_day": backlog,
        "wait_histogram": histogram,
        "events": sum(r.events for r in runs),
    }


_SHARES = ("sla", "abandonment", "answered_in_time", "occupancy", "ola", "queue_ola")


def _bounded(name: str, fig: dict[str, float]) -> dict[str, float]:
    """Every figure is a count, time or share: an interval of few replications is cut at 0
    (and at 100 % for shares) rather than shown below nothing."""
    out = dict(fig)
    if math.isfinite(out["low"]):
        out["low"] = max(0.0, out["low"])
    if name.rsplit(".", 1)[-1] in _SHARES and math.isfinite(out["high"]):
        out["high"] = min(1.0, out["high"])
    return out


_BINS = (0, 1, 5, 15, 30, 60, 120, 240, 480, 1440, math.inf)


def _histogram(waits: list[float]) -> list[dict[str, Any]]:
    """Share of work items by wait before an agent took them (minutes)."""
    total = len(waits) or 1
    out = []
    for lo, hi in zip(_BINS, _BINS[1:], strict=False):
        n = sum(1 for w in waits if lo <= w < hi)
        label = f"{lo:g}-{hi:g} min" if math.isfinite(hi) else f"{lo:g}+ min"
        out.append({"label": label, "share": n / total})
    return out
