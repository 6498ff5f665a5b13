"""The dashboards read only what their window needs (analytics/facts.py `load_facts(since,
until)`): on seeded demo days, before and after the older month is archived to Parquet, every
figure of a window is exactly the one computed from all the facts of the history, on SQLite and
on PostgreSQL (the windows are SQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select

from flowdesk.analytics.archive import needed_live
from flowdesk.analytics.config import AnalyticsConfig
from flowdesk.analytics.facts import Facts, choices, load_facts
from flowdesk.analytics.scorecard import CriterionResult, scorecard
from flowdesk.analytics.service import Analytics, Filters, up_to
from flowdesk.cases.models import cases
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.core.clock import FixedClock
from flowdesk.customers.models import customers
from flowdesk.demo.seed import seed
from flowdesk.store import Store
from flowdesk.store.archive import EventRetention, archive

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # three seeded days over two months


class AllFacts(Analytics):
    """The way before: every case and item of the history, whatever the window."""

    def facts(self, filters: Filters | None = None) -> Facts:
        return super().facts(None)


def _figures(service: Analytics, filters: Filters) -> dict[str, Any]:
    overview = service.overview(filters, "day")
    out: dict[str, Any] = {
        k: v.to_dicts() if hasattr(v, "to_dicts") else v for k, v in overview.items()
    }
    for by in ("reason", "segment", "channel"):
        out[f"cases_{by}"] = service.case_kpis(filters, grain="day", by=by).to_dicts()
    for by in ("department", "agent", "step"):
        out[f"work_{by}"] = service.work_kpis(filters, grain="day", by=by).to_dicts()
    out["backlog"] = service.backlog(filters)
    return out


def _reopened_pair(store: Store) -> None:
    """A case closed two days ago whose customer came back with the same reason after the
    window that ends a day ago: it counts as reopened in that window too."""
    with store.unit_of_work() as uow:
        customer = uow.connection.execute(select(customers.c.id).limit(1)).scalar_one()
        for n, opened, closed in (
            (1, NOW - timedelta(hours=47), NOW - timedelta(hours=45)),
            (2, NOW - timedelta(hours=12), NOW - timedelta(hours=10)),
        ):
            uow.connection.execute(
                cases.insert().values(
                    id=f"reopen-{n}",
                    reference=f"FD-REOP{n}",
                    customer_id=customer,
                    reason="billing-dispute",
                    status="closed" if closed else "open",
                    channel="email",
                    opened_at=opened,
                    closed_at=closed,
                )
            )


def _scorecards(
    service: Analytics, store: Store, config: AnalyticsConfig
) -> list[list[CriterionResult]]:
    """The scorecard from the service, and (for AllFacts) from all the facts as before."""
    out = []
    for window, weeks in ((timedelta(hours=20), 0), (timedelta(days=7), 8)):
        if isinstance(service, AllFacts):
            every = load_facts(store, config, NOW).cases
            out.append(scorecard(every, config, now=up_to(NOW), window=window, weeks=weeks))
        else:
            out.append(service.scorecard(window, weeks))
    return out


def _windows() -> list[Filters]:
    day = timedelta(days=1)
    return [
        Filters.last(30, NOW),
        Filters.last(1, NOW),
        Filters(NOW - 2 * day, NOW - day),  # ends in the past: later closures stay out
        Filters(datetime(2026, 11, 1, tzinfo=UTC), NOW, channel="email"),
        Filters(NOW - day - timedelta(hours=7), NOW - timedelta(hours=5), flow="refund-request"),
    ]


def test_window_figures_equal_those_of_all_facts_before_and_after_archiving(
    tmp_path: Path, database_url: str
) -> None:
    store = Store.open(database_url)
    try:
        store.upgrade()
        list(load_demo_content(store))
        seed(store, default_demo_dir(), days=3, seed=11, customers=60, cases_per_day=25, end=NOW)
        _reopened_pair(store)
        config = AnalyticsConfig.from_file(default_demo_dir() / "company.yaml")
        clock = FixedClock(NOW)
        new, old = Analytics(store, config, clock), AllFacts(store, config, clock)
        every = load_facts(store, config, NOW)
        assert every.items.height > 30 and every.cases["closed_at"].null_count() > 0
        assert every.cases.filter(pl.col("reopened"))["reference"].to_list() == ["FD-REOP1"]
        window = load_facts(store, config, NOW, since=NOW - timedelta(hours=20), until=NOW)
        assert 0 < window.items.height < every.items.height  # it did read less
        assert choices(store) == {
            c: sorted(v for v in every.cases[c].unique().to_list() if v)
            for c in ("flow", "channel", "segment")
        }
        for filters in _windows():
            assert _figures(new, filters) == _figures(old, filters), filters
        assert _scorecards(new, store, config) == _scorecards(old, store, config)
        store.archive_dir = tmp_path / "archive"
        report = archive(
            store,
            store.archive_dir,
            before=date(2026, 11, 1),
            keep=needed_live(),
            retention=EventRetention(),
            now=NOW,
        )
        assert report.archived > 100
        for filters in _windows()[::2]:  # the 30 days, a past day and a flow's
            assert _figures(new, filters) == _figures(old, filters), filters
        assert _scorecards(new, store, config) == _scorecards(old, store, config)
    finally:
        store.close()
