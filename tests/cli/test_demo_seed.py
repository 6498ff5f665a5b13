"""`flowdesk demo seed`: a reproducible history through the real runtime."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.demo.seed import seed
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

END = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def _seeded(url: str) -> tuple[Store, object]:
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    report = seed(
        store, default_demo_dir(), days=3, seed=11, customers=200, cases_per_day=25, end=END
    )
    return store, report


def test_seed_generates_cases_worked_by_agents(database_url: str) -> None:
    store, report = _seeded(database_url)
    try:
        assert report.customers == 200  # type: ignore[attr-defined]
        assert report.cases > 20 and report.work_done > report.cases / 2  # type: ignore[attr-defined]
        assert report.completed_cases > 0  # type: ignore[attr-defined]
        log = store.events.after(0, limit=100_000)
        types = Counter(e.type for e in log)
        assert types["process.started"] == report.cases  # type: ignore[attr-defined]
        assert types["work_item.completed"] == report.work_done  # type: ignore[attr-defined]
        agents = {e.actor for e in log if e.type == "work_item.completed"}
        assert len(agents) > 3  # the work is spread over the departments' agents
        departments = {e.department for e in log if e.type == "element.completed"}
        assert {"Front office", "Billing"} <= departments or len(departments) >= 3
        assert max(e.time for e in log if e.process_instance_id) <= END
        assert ProcessRuntime(store).has_instances()
    finally:
        store.close()


def test_same_seed_same_history(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        store, _ = _seeded(f"sqlite:///{tmp_path / name}.db")
        runs.append(
            [
                (e.type, e.element_id, e.time)
                for e in store.events.after(0, limit=100_000)
                if e.type.startswith(("process.", "element."))
            ]
        )
        store.close()
    assert runs[0] == runs[1] and len(runs[0]) > 100
