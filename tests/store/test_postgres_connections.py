"""PostgreSQL connections (issue 24): fewer round trips per command, still robust."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.store import Store, database

pytestmark = pytest.mark.postgres

#: Quotes, a backslash and a non-ASCII letter: JSON text that must come back unchanged.
TRICKY = "\u00e9 \\ \" '"


def test_reads_run_without_a_transaction_and_writes_inside_one(pg_url: str) -> None:
    store = Store.open(pg_url)
    try:
        with store.reading() as conn:
            conn.execute(text("SELECT 1"))
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            # No BEGIN was sent: at READ COMMITTED every statement has its own snapshot anyway.
            assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with store.unit_of_work() as uow:
            uow.connection.execute(text("SELECT 1"))
            dbapi = uow.connection.connection.driver_connection
            assert dbapi is not None
            assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    finally:
        store.close()


def test_a_pooled_connection_whose_server_side_died_while_idle_is_replaced(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(pg_url)
    try:
        with store.reading() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        # The server ends the pooled connection's backend (a restart, an idle timeout).
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        monkeypatch.setattr(database, "IDLE_PING_S", 0.0)  # it has been idle long enough
        with store.reading() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        store.close()


@pytest.mark.usefixtures("loose_events")
def test_the_events_of_a_command_keep_their_order_and_values(
    pg_url: str, clock: FixedClock
) -> None:
    store = Store.open(pg_url)
    store.upgrade()
    try:
        with store.unit_of_work() as uow:
            for i in range(7):
                uow.append(
                    NewEvent(
                        "note.added",
                        clock.now(),
                        {"i": i, "text": TRICKY},
                        case_id="c1" if i % 2 else None,
                        channel=None,
                    )
                )
        got = store.events.after(0)
        assert [e.data for e in got] == [{"i": i, "text": TRICKY} for i in range(7)]
        assert [e.case_id for e in got] == ["c1" if i % 2 else None for i in range(7)]
        assert [e.seq for e in got] == sorted(e.seq for e in got)
        assert len({e.time for e in got}) == 1 and got[0].time == clock.now()
    finally:
        store.close()
