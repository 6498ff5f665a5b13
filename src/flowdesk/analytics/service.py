"""The figures behind the API and the dashboards: one place that reads the facts and applies
the filters, so a number on a dashboard and the same number from the API cannot differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from flowdesk.analytics import kpis
from flowdesk.analytics.config import AnalyticsConfig
from flowdesk.analytics.facts import Facts, choices, load_facts
from flowdesk.analytics.scorecard import CriterionResult, scorecard
from flowdesk.core.clock import Clock
from flowdesk.store import Store


def up_to(now: datetime) -> datetime:
    """The end of a window that ends now: just after it, so what happened this very instant
    (a case closed by the request before) counts in a [since, until) window."""
    return now + timedelta(microseconds=1)


@dataclass(frozen=True)
class Filters:
    """What a reader narrows the figures to; the window is [since, until)."""

    since: datetime | None = None
    until: datetime | None = None
    flow: str | None = None
    channel: str | None = None
    segment: str | None = None

    @classmethod
    def last(
        cls,
        days: float,
        now: datetime,
        *,
        flow: str | None = None,
        channel: str | None = None,
        segment: str | None = None,
    ) -> Filters:
        """The last `days` up to now, this very instant included (windows are half-open)."""
        until = up_to(now)
        return cls(until - timedelta(days=days), until, flow, channel, segment)

    def cases(self, facts: Facts) -> pl.DataFrame:
        return kpis.filter_cases(
            facts.cases,
            flows=[self.flow] if self.flow else [],
            channel=self.channel,
            segment=self.segment,
        )

    def items(self, facts: Facts) -> pl.DataFrame:
        if not (self.flow or self.channel or self.segment):
            return facts.items
        instances = self.cases(facts)["instance_id"].drop_nulls()
        return facts.items.filter(pl.col("instance_id").is_in(instances.to_list()))


class Analytics:
    def __init__(self, store: Store, config: AnalyticsConfig, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def facts(self, filters: Filters | None = None) -> Facts:
        """All facts, or (with `filters`) those its window's figures need: a dashboard's
        cost then follows its window, not the length of the history."""
        if filters is None:
            return load_facts(self.store, self.config, self.clock.now())
        return load_facts(
            self.store,
            self.config,
            self.clock.now(),
            since=filters.since,
            until=filters.until,
        )

    def case_kpis(
        self, filters: Filters, *, grain: kpis.Grain | None, by: str | None
    ) -> pl.DataFrame:
        facts = self.facts(filters)
        return kpis.case_kpis(
            filters.cases(facts),
            grain=grain,
            by=by,
            tz=self.config.timezone,
            since=filters.since,
            until=filters.until,
        )

    def work_kpis(
        self,
        filters: Filters,
        *,
        grain: kpis.Grain | None,
        by: str | None,
        facts: Facts | None = None,
    ) -> pl.DataFrame:
        """`facts`: those a page already read, so two tables on one page cost one read."""
        facts = facts or self.facts(filters)
        return kpis.work_kpis(
            filters.items(facts),
            grain=grain,
            by=by,
            tz=self.config.timezone,
            since=filters.since,
            until=filters.until,
        )

    def backlog(self, filters: Filters, facts: Facts | None = None) -> dict[str, Any]:
        facts = facts or self.facts(filters)
        return kpis.backlog(filters.cases(facts), filters.items(facts), facts.now)

    def scorecard(self, window: timedelta, weeks: int = 8) -> list[CriterionResult]:
        now = self.clock.now()
        until = up_to(now)
        # the cases of the value's window and of the weekly trend, nothing older
        since = until - max(window, timedelta(weeks=weeks))
        facts = load_facts(self.store, self.config, now, since=since, until=until)
        return scorecard(facts.cases, self.config, now=until, window=window, weeks=weeks)

    def overview(self, filters: Filters, grain: kpis.Grain) -> dict[str, Any]:
        """Everything the overview dashboard draws, from one read of the facts."""
        facts = self.facts(filters)
        cases = filters.cases(facts)
        since, until = filters.since, filters.until
        contacts = facts.contacts
        if filters.channel:
            contacts = contacts.filter(pl.col("channel") == filters.channel)
        if filters.flow or filters.segment:
            contacts = contacts.filter(pl.col("case").is_in(cases["case"].to_list()))
        tz = self.config.timezone
        return {
            "choices": choices(self.store),
            "totals": kpis.case_kpis(cases, grain=None, since=since, until=until).row(
                0, named=True
            ),
            "series": kpis.case_kpis(cases, grain=grain, tz=tz, since=since, until=until),
            "by_flow": kpis.case_kpis(cases, grain=None, by="flow", since=since, until=until),
            "histogram": kpis.turnaround_histogram(cases, since, until),
            "funnel": kpis.funnel(cases, contacts, since, until),
            "channels": kpis.channel_mix(contacts, since, until),
            "backlog": kpis.backlog(cases, filters.items(facts), facts.now),
        }
