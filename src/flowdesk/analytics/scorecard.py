"""The outside-in scorecard: each criterion customers judge the company by, measured on the
flows that deliver it, against its targets, with the trend over recent weeks.

A criterion is "met" when all its measures meet their targets, "at risk" when some do,
"missed" when none do and "no data" when nothing was closed in the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from flowdesk.analytics.config import AnalyticsConfig, Criterion
from flowdesk.analytics.kpis import case_kpis, filter_cases


@dataclass(frozen=True)
class MeasureResult:
    metric: str
    target: float
    lower_is_better: bool
    value: float | None
    met: bool | None
    #: One value per week, oldest first (None where the week closed nothing).
    trend: list[float | None]
    weeks: list[str]

    @property
    def direction(self) -> str:
        """'better', 'worse' or 'flat' comparing the last two weeks that have values."""
        values = [v for v in self.trend if v is not None]
        if len(values) < 2 or values[-1] == values[-2]:
            return "flat"
        up = values[-1] > values[-2]
        return "better" if up != self.lower_is_better else "worse"

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "target": self.target,
            "lower_is_better": self.lower_is_better,
            "value": self.value,
            "met": self.met,
            "direction": self.direction,
            "trend": [{"week": w, "value": v} for w, v in zip(self.weeks, self.trend, strict=True)],
        }


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    cases: int
    measures: list[MeasureResult]

    @property
    def status(self) -> str:
        outcomes = [m.met for m in self.measures if m.met is not None]
        if not outcomes:
            return "no data"
        if all(outcomes):
            return "met"
        return "at risk" if any(outcomes) else "missed"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.criterion.id,
            "name": self.criterion.name,
            "description": self.criterion.description,
            "flows": list(self.criterion.flows),
            "cases": self.cases,
            "status": self.status,
            "measures": [m.to_json() for m in self.measures],
        }


def scorecard(
    cases: pl.DataFrame,
    config: AnalyticsConfig,
    *,
    now: datetime,
    window: timedelta = timedelta(days=7),
    weeks: int = 8,
) -> list[CriterionResult]:
    """Each criterion's value over the last `window` and its weekly trend over `weeks`."""
    since = now - window
    trend_since = now - timedelta(weeks=weeks)
    results = []
    for criterion in config.scorecard:
        subset = filter_cases(cases, flows=criterion.flows)
        current = case_kpis(subset, grain=None, since=since, until=now).row(0, named=True)
        weekly = case_kpis(subset, grain="week", tz=config.timezone, since=trend_since, until=now)
        week_labels = [str(p) for p in weekly["period"].to_list()]
        measures = []
        for measure in criterion.measures:
            value = _number(current.get(measure.metric))
            measures.append(
                MeasureResult(
                    metric=measure.metric,
                    target=measure.target,
                    lower_is_better=measure.lower_is_better,
                    value=value,
                    met=measure.met(value),
                    trend=[_number(v) for v in weekly[measure.metric].to_list()],
                    weeks=week_labels,
                )
            )
        results.append(CriterionResult(criterion, int(current["closed"] or 0), measures))
    return results


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else round(number, 4)  # NaN: no data
