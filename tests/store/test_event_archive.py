"""The event log over years: retention per event kind (company file), closed months moved to
Parquet by `flowdesk archive`, on SQLite and on PostgreSQL (monthly partitions), crash-safe, and
read back by mining and the KPIs exactly as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.cli.main import app
from flowdesk.core.events import NewEvent
from flowdesk.demo.seed import seed
from flowdesk.experience.company import load_company
from flowdesk.experience.errors import BundleError
from flowdesk.store import Store
from flowdesk.store.archive import EventRetention, archive, month_file, read_archive
from flowdesk.store.tables import events

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
COMPANY = default_demo_dir() / "company.yaml"


def _live(store: Store) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_event_retention_errors_name_file_line_and_key(tmp_path: Path) -> None:
    demo = COMPANY.read_text(encoding="utf-8")
    assert "  events:\n    default: P3Y\n    variables.*: P90D\n" in demo  # the demo's rules
    text_ = demo.replace(
        "    default: P3Y\n    variables.*: P90D\n",
        "    default: 3y\n    Work Items: P1Y\n    variables.*: P0D\n",
    )
    broken = tmp_path / "company.yaml"
    broken.write_text(text_, encoding="utf-8")
    with pytest.raises(BundleError) as caught:
        load_company(broken)
    found = {i.field: i for i in caught.value.issues}
    assert set(found) == {
        "retention.events.default",
        "retention.events.Work Items",
        "retention.events.variables.*",
    }
    assert (
        "'3y' is not a retention period like P3Y or P90D"
        in found["retention.events.default"].message
    )
    assert "not an event type or pattern" in found["retention.events.Work Items"].message
    assert "zero" in found["retention.events.variables.*"].message
    line = text_.splitlines().index("    default: 3y") + 1
    assert found["retention.events.default"].line == line
    assert all(i.file == "company.yaml" for i in caught.value.issues)
    # the most specific key wins: exact type, then the longest pattern, then the default
    rules = EventRetention.parse(
        {"default": "P3Y", "variables.*": "P90D", "variables.changed": "P1Y10D", "work_*": "P1D"}
    )
    assert rules.period_of("variables.changed").days == 375
    assert rules.period_of("work_item.created").days == 1
    assert rules.period_of("case.opened").days == 3 * 365


def _event(kind: str, when: datetime, **subject: str) -> NewEvent:
    return NewEvent(kind, when, {"n": 1}, source="/test", **subject)  # type: ignore[arg-type]


def test_archive_moves_closed_months_and_keeps_open_cases_live(
    database_url: str, tmp_path: Path, loose_events: None
) -> None:
    store = Store.open(database_url)
    store.upgrade()
    store.archive_dir = tmp_path / "archive"
    try:
        august, september = datetime(2026, 8, 3, tzinfo=UTC), datetime(2026, 9, 9, tzinfo=UTC)
        with store.unit_of_work() as uow:
            for day in range(5):
                uow.append(_event("case.note", august.replace(day=day + 1), case_id="done"))
                uow.append(_event("case.note", september.replace(day=day + 1), case_id="done"))
                uow.append(_event("variables.changed", august.replace(day=day + 10)))
            uow.append(_event("case.note", september, case_id="open"))
            uow.append(_event("case.note", NOW))  # this month: never archived
        before = [(e.seq, e.id, e.type) for e in store.events.iterate()]
        assert len(before) == 17
        rules = EventRetention.parse({"variables.*": "P90D"})  # August's are past it
        report = archive(
            store,
            store.archive_dir,
            before=date(2026, 12, 1),
            keep=events.c.case_id == "open",
            retention=rules,
            now=NOW,
        )
        assert report.expired_live == 5
        assert [(m.month, m.archived, m.kept_live) for m in report.months][:2] == [
            ("2026-08", 5, 0),
            ("2026-09", 5, 1),
        ]
        assert _live(store) == 2
        assert sorted(p.name for p in store.archive_dir.iterdir()) == [
            "events-2026-08.parquet",
            "events-2026-09.parquet",
        ]
        after = [(e.seq, e.id, e.type) for e in store.events.iterate()]
        assert after == [b for b in before if b[2] != "variables.changed"]
        frame = pl.read_parquet(month_file(store.archive_dir, date(2026, 9, 1)))
        assert frame.height == 5 and frame["time"].dtype == pl.Datetime("us", "UTC")
        assert json.loads(frame["data"][0]) == {"n": 1}
        # a closed case's timeline is read from the archive
        assert len(store.events.where(case_id="done")) == 10
        assert len(store.events.where(case_id="open")) == 1
        if store.dialect == "postgresql":
            # August left nothing live: its partition is gone; September keeps the open case's
            assert report.months[0].partition_dropped and not report.months[1].partition_dropped
            with store.reading() as conn:
                exists = "SELECT to_regclass(:n) IS NOT NULL"
                assert not conn.execute(text(exists), {"n": "events_2026_08"}).scalar()
                assert conn.execute(text(exists), {"n": "events_2026_09"}).scalar()
        # the open case closes: a second run moves its event into September's file, once
        again = archive(
            store, store.archive_dir, before=date(2026, 12, 1), keep=None, retention=rules, now=NOW
        )
        assert again.archived == 1 and _live(store) == 1
        assert read_archive(store.archive_dir)["seq"].is_unique().all()
        assert read_archive(store.archive_dir, since=september.replace(day=1)).height == 6
    finally:
        store.close()


END = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)  # the seeded days straddle two months


def _figures(url: str) -> dict[str, str]:
    runner = CliRunner()
    out = {}
    for name, args in {
        "mine": ["mine", "--json", "--all-events"],
        "kpis": ["kpis", "--days", "3660", "--grain", "day", "--by", "flow", "--csv"],
    }.items():
        extra = ["--company-file", str(COMPANY)] if name == "kpis" else []
        result = runner.invoke(app, [*args, "--database-url", url, *extra])
        assert result.exit_code == 0, result.output
        out[name] = result.stdout
    return out


def test_mining_and_kpis_read_the_archive_and_a_crash_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    seed(store, default_demo_dir(), days=2, seed=5, customers=80, cases_per_day=12, end=END)
    total = _live(store)
    store.close()
    before = _figures(url)
    assert json.loads(before["mine"])["events"] > 50
    archive_dir = tmp_path / "archive"
    env = {**os.environ, "FLOWDESK_DATABASE_URL": url, "FLOWDESK_ARCHIVE_DIR": str(archive_dir)}
    # killed right after October's file is in place, before its live rows are deleted
    crashed = subprocess.run(
        [sys.executable, "-m", "flowdesk.cli.main", "archive", "--before", "2026-12"],
        env={**env, "FLOWDESK_CRASH_POINT": "archive-written"},
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == -9, crashed.stderr
    october = month_file(archive_dir, date(2026, 10, 1))
    in_file = pl.read_parquet(october).height
    assert in_file > 100
    assert not month_file(archive_dir, date(2026, 11, 1)).exists()
    monkeypatch.setenv("FLOWDESK_ARCHIVE_DIR", str(archive_dir))
    store = Store.open(url)
    assert _live(store) == total  # nothing deleted yet ...
    store.close()
    assert _figures(url) == before  # ... and the events in both places are read once
    runner = CliRunner()
    done = runner.invoke(app, ["archive", "--before", "2026-12", "--json", "--database-url", url])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert [m["month"] for m in report["months"]] == ["2026-10", "2026-11"]
    assert pl.read_parquet(october).height == in_file  # merged by seq, not duplicated
    store = Store.open(url)
    live = _live(store)
    store.close()
    assert live < total / 2  # open cases' events stay live, everything else went
    assert live >= sum(m["kept_live"] for m in report["months"])
    assert _figures(url) == before
    # a third run finds nothing to move
    again = runner.invoke(app, ["archive", "--json", "--database-url", url])
    assert again.exit_code == 0 and json.loads(again.stdout)["archived"] == 0
    # Polars reads the files directly, and pm4py where it is installed
    frame = pl.read_parquet(archive_dir / "*.parquet")
    assert frame.height == total - live
    assert {"seq", "time", "type", "process_instance_id", "data"} <= set(frame.columns)
    try:
        import pm4py  # type: ignore[import-not-found]
    except ImportError:
        return
    elements = frame.filter(pl.col("type") == "element.completed").to_pandas()
    log = pm4py.format_dataframe(
        elements, case_id="process_instance_id", activity_key="element_id", timestamp_key="time"
    )
    assert len(pm4py.get_variants(log)) > 0


def test_archive_refuses_an_open_month_and_a_bad_one(sqlite_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--database-url", sqlite_url]).exit_code == 0
    bad = runner.invoke(app, ["archive", "--before", "2026-13", "--database-url", sqlite_url])
    assert bad.exit_code == 2 and "is not a month" in bad.output
    future = runner.invoke(app, ["archive", "--before", "2999-01", "--database-url", sqlite_url])
    assert future.exit_code == 2 and "is not closed yet" in future.output


@pytest.mark.postgres
def test_the_partitioning_migration_keeps_the_rows(pg_url: str, loose_events: None) -> None:
    from flowdesk.store import migrate

    store = Store.open(pg_url)
    try:
        migrate.upgrade(store.engine, "0001")  # the event log as it was
        with store.unit_of_work() as uow:
            uow.append(_event("case.note", datetime(2025, 1, 5, tzinfo=UTC), case_id="old"))
            uow.append(_event("case.note", NOW, case_id="new"))
        before = [(e.seq, e.id, e.time) for e in store.events.iterate()]
        store.upgrade()
        partitioned = (
            "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'events'::regclass"
        )
        with store.reading() as conn:
            assert conn.execute(text(partitioned)).scalar() == 1
            months = conn.execute(
                text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
            ).scalar()
        assert months is not None and months >= 24 + 3  # 2025-01 .. next months, default
        assert [(e.seq, e.id, e.time) for e in store.events.iterate()] == before
        with store.unit_of_work() as uow:  # the sequence goes on
            uow.append(_event("case.note", NOW, case_id="new"))
        assert store.events.head() == before[-1][0] + 1
        migrate.downgrade(store.engine, "0012_event_partitions@-1")
        with store.reading() as conn:
            assert conn.execute(text(partitioned)).scalar() == 0
        assert len(list(store.events.iterate())) == 3
    finally:
        store.close()
