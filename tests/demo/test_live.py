"""`flowdesk demo live` through the CLI: against a seeded store it keeps adding contacts, cases
and agents' work on the real clock, and stops by itself after --duration."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.cli.main import app
from flowdesk.demo.seed import seed
from flowdesk.store import Store


def test_live_adds_contacts_cases_and_work_to_a_seeded_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    seed(
        store,
        default_demo_dir(),
        days=2,
        seed=3,
        customers=150,
        cases_per_day=20,
        end=datetime.now(UTC) - timedelta(minutes=5),
    )
    head = store.events.head()
    before = Counter(e.type for e in store.events.after(0, 100_000))
    store.close()
    started = datetime.now(UTC)

    result = CliRunner().invoke(
        app,
        [
            "demo",
            "live",
            "--rate",
            "300",
            "--duration",
            "6",
            "--pace",
            "0.0005",
            "--seed",
            "5",
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "contacts" in result.output and "open work" in result.output
    assert "offers " in result.output  # simulated customers answer next best actions

    store = Store.open(url)
    try:
        new = store.events.after(head, 100_000)
        types = Counter(e.type for e in new)
        assert types["contact.received"] >= 10  # about 30 expected at 300 a minute
        assert types["case.opened"] >= 5
        assert types["work_item.claimed"] >= 3 and types["work_item.completed"] >= 1
        assert len({e.channel for e in new if e.type == "contact.received"}) >= 3
        assert all(e.time >= started - timedelta(seconds=1) for e in new)  # the real clock
        assert before["contact.received"] > 0  # the seed was there first
    finally:
        store.close()
