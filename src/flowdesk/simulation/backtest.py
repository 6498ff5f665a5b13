"""Back-testing: fit on one window of the log, simulate the next, compare with what happened.

The model is fitted on [until - 2 x days, until - days) and simulates [until - days, until)
after a week of warm-up from empty; both sides are measured by the same rules (`fit.measure`
and `results.figures`): daily case starts, turnaround median and p90 of the cases started and
ended in the window, and step SLA attainment, per flow and pooled. Agents work the hours the
log shows them working (the history is the truth here, not the roster).
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flowdesk.experience.company import load_company
from flowdesk.simulation.baseline import flows_of, history, model_of
from flowdesk.simulation.fit import fit_history, measure
from flowdesk.simulation.results import _quantile, replicate
from flowdesk.store import Store

WARMUP_DAYS = 7


def _relative(simulated: float, observed: float) -> float | None:
    if observed == 0 or observed != observed or simulated != simulated:
        return None
    return (simulated - observed) / observed


def backtest(
    store: Store,
    company_file: str | Path,
    *,
    until: datetime,
    days: int = 30,
    replications: int = 5,
    seed: int = 1,
) -> dict[str, Any]:
    company = load_company(company_file)
    zone = str(company.get("company", {}).get("timezone", "UTC"))
    flows = flows_of(store, company)
    middle = until - timedelta(days=days)
    since = middle - timedelta(days=days)
    events = list(history(store, since, until))
    fitted = fit_history(events, flows, since=since, until=middle, zone=zone)
    model = model_of(
        company, flows, fitted, start=middle - timedelta(days=WARMUP_DAYS), fitted_hours=True
    )
    observed = measure(events, flows, since=middle, until=until, calendars=model.calendars)
    runs = replicate(
        model, days=days, replications=replications, seed=seed, warmup_days=WARMUP_DAYS
    )

    def pooled_turnaround(per_flow: dict[str, list[float]]) -> list[float]:
        return [t for v in per_flow.values() for t in v]

    def sim_mean(values: list[float]) -> float:
        clean = [v for v in values if v == v]
        return statistics.fmean(clean) if clean else float("nan")

    rows: dict[str, dict[str, Any]] = {}
    for key in sorted(flows):
        obs_t = observed.turnaround[key]
        sla_obs = (
            observed.sla_met[key] / observed.sla_total[key] if observed.sla_total[key] else None
        )
        sims_sla = [r.sla_met[key] / r.sla_total[key] for r in runs if r.sla_total[key]]
        row: dict[str, Any] = {
            "cases": len(obs_t),
            "turnaround_p50_h": (
                _quantile(obs_t, 0.5) / 60,
                sim_mean([_quantile(r.turnaround[key], 0.5) / 60 for r in runs]),
            ),
            "turnaround_p90_h": (
                _quantile(obs_t, 0.9) / 60,
                sim_mean([_quantile(r.turnaround[key], 0.9) / 60 for r in runs]),
            ),
            "sla": (sla_obs, statistics.fmean(sims_sla) if sims_sla else None),
        }
        rows[key] = row
    all_obs = pooled_turnaround(observed.turnaround)
    pooled: dict[str, tuple[float, float]] = {
        "daily_cases": (
            statistics.fmean(observed.daily),
            statistics.fmean(statistics.fmean(r.daily_arrivals) for r in runs),
        ),
        "turnaround_p50_h": (
            _quantile(all_obs, 0.5) / 60,
            sim_mean([_quantile(pooled_turnaround(r.turnaround), 0.5) / 60 for r in runs]),
        ),
        "turnaround_p90_h": (
            _quantile(all_obs, 0.9) / 60,
            sim_mean([_quantile(pooled_turnaround(r.turnaround), 0.9) / 60 for r in runs]),
        ),
        "sla": (
            sum(observed.sla_met.values()) / max(1, sum(observed.sla_total.values())),
            sim_mean([sum(r.sla_met.values()) / max(1, sum(r.sla_total.values())) for r in runs]),
        ),
    }
    errors = {
        name: _relative(sim, obs)
        for name, (obs, sim) in pooled.items()
        if obs is not None and sim is not None
    }
    for key, row in rows.items():
        for name in ("turnaround_p50_h", "turnaround_p90_h", "sla"):
            pair: tuple[float | None, float | None] = row[name]
            if pair[0] is not None and pair[1] is not None:
                errors[f"{key}.{name}"] = _relative(pair[1], pair[0])
    return {
        "fit": [since.isoformat(), middle.isoformat()],
        "test": [middle.isoformat(), until.isoformat()],
        "replications": replications,
        "pooled": pooled,
        "flows": rows,
        "relative_errors": errors,
        "notes": fitted.notes,
    }
