"""A command never pays for SQLite's WAL checkpoint: the writers' automatic checkpoint is far
off and a background thread copies the log back into the database within a fraction of a
second, so the database file holds what was written without any writer having checkpointed."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from flowdesk.store import Store, checkpoint


def test_the_log_is_checkpointed_in_the_background_not_by_the_writer(tmp_path: Path) -> None:
    db = tmp_path / "wal.db"
    store = Store.open(f"sqlite:///{db}")
    store.upgrade()
    try:
        with store.reading() as conn:
            autocheckpoint = conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
        assert autocheckpoint == checkpoint.SAFETY_NET_PAGES
        time.sleep(3 * checkpoint.INTERVAL_S)  # the migrations' pages are checkpointed
        before = db.stat().st_size
        with store.unit_of_work() as uow:
            uow.connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, x TEXT)"))
        for _ in range(40):  # ~1,600 pages: past SQLite's default threshold of 1,000
            with store.unit_of_work() as uow:
                uow.connection.execute(
                    text("INSERT INTO filler (x) VALUES (:x)"),
                    [{"x": "x" * 4000} for _ in range(40)],
                )
        deadline = time.monotonic() + 5
        while db.stat().st_size < before + 1_500 * 4096 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db.stat().st_size >= before + 1_500 * 4096, "the log was not checkpointed"
        # every frame of the log is in the database: nothing left for a writer to copy (the
        # probe is busy while the background thread checkpoints at that instant: look again)
        probe = sqlite3.connect(db)
        try:
            for _ in range(50):
                busy, frames, done = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if busy == 0:
                    break
                time.sleep(0.02)
        finally:
            probe.close()
        assert busy == 0 and frames == done
    finally:
        store.close()


def test_a_closed_store_stops_being_checkpointed(tmp_path: Path) -> None:
    db = tmp_path / "gone.db"
    store = Store.open(f"sqlite:///{db}")
    store.upgrade()
    key = str(db.resolve())
    assert key in checkpoint._paths
    store.close()
    assert key not in checkpoint._paths
    db.unlink()
    time.sleep(3 * checkpoint.INTERVAL_S)
    assert not db.exists(), "the checkpointer must never create a database file"


def test_a_store_dropped_without_close_stops_being_checkpointed(tmp_path: Path) -> None:
    import gc

    db = tmp_path / "dropped.db"
    store = Store.open(f"sqlite:///{db}")
    store.upgrade()
    key = str(db.resolve())
    assert key in checkpoint._paths
    store.engine.dispose()
    del store
    gc.collect()
    assert key not in checkpoint._paths
