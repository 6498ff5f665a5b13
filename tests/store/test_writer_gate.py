"""Writers on one SQLite file queue for their turn instead of failing in SQLite's busy handler.

Each test holds a write transaction open longer than the busy timeout (200 ms here); without
the gate the second writer gets "database is locked" after 200 ms.
"""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.store import Store
from flowdesk.store.writers import lock_file_of

#: Made-up event types and partial payloads: this exercises the log, not the registry.
pytestmark = pytest.mark.usefixtures("loose_events")

BUSY_MS = 200
HOLD_S = 0.8


def _open(url: str) -> Store:
    return Store.open(url, sqlite_busy_timeout_ms=BUSY_MS)


def _append(store: Store, clock: FixedClock, kind: str) -> None:
    with store.unit_of_work() as uow:
        uow.append(NewEvent(kind, clock.now(), {}))


def _hold_in_other_process(url: str, started: mp.synchronize.Event, hold_s: float) -> None:
    store = _open(url)
    with store.unit_of_work() as uow:
        uow.connection.execute(text("SELECT 1"))
        started.set()
        time.sleep(hold_s)
        uow.append(NewEvent("held.elsewhere", FixedClock().now(), {}))
    store.close()


def test_a_second_writer_in_the_process_waits_for_its_turn(
    sqlite_url: str, clock: FixedClock
) -> None:
    store = _open(sqlite_url)
    store.upgrade()
    other = _open(sqlite_url)  # a second Store on the same file shares the gate
    inside = threading.Event()

    def hold() -> None:
        with store.unit_of_work() as uow:
            inside.set()
            time.sleep(HOLD_S)
            uow.append(NewEvent("first", clock.now(), {}))

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)
    t0 = time.monotonic()
    _append(other, clock, "second")
    waited = time.monotonic() - t0
    holder.join()
    assert waited > BUSY_MS / 1000  # it waited past the busy timeout instead of failing
    assert [e.type for e in store.events.after(0)] == ["first", "second"]
    store.close()
    other.close()


def test_a_writer_in_another_process_waits_for_its_turn(sqlite_url: str, clock: FixedClock) -> None:
    store = _open(sqlite_url)
    store.upgrade()
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_hold_in_other_process, args=(sqlite_url, started, HOLD_S + 0.4))
    proc.start()
    try:
        assert started.wait(60), "the other process did not start its transaction"
        t0 = time.monotonic()
        _append(store, clock, "after")
        assert time.monotonic() - t0 > BUSY_MS / 1000
    finally:
        proc.join(30)
    assert proc.exitcode == 0
    assert [e.type for e in store.events.after(0)] == ["held.elsewhere", "after"]
    database = sqlite_url.removeprefix("sqlite:///")
    assert Path(lock_file_of(database)).is_file()
    store.close()


def test_a_unit_of_work_inside_another_on_one_thread_fails_in_sqlite_not_in_a_deadlock(
    sqlite_url: str, clock: FixedClock
) -> None:
    store = _open(sqlite_url)
    store.upgrade()
    with store.unit_of_work() as outer:
        outer.append(NewEvent("outer", clock.now(), {}))
        with pytest.raises((OperationalError, sqlite3.OperationalError), match="locked"):
            _append(store, clock, "inner")
    assert [e.type for e in store.events.after(0)] == ["outer"]
    # and the gate is free again afterwards
    _append(store, clock, "later")
    assert len(store.events.after(0)) == 2
    store.close()
