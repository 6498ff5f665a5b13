from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.store import Store

#: Made-up event types and partial payloads: this exercises the log, not the registry.
pytestmark = pytest.mark.usefixtures("loose_events")

scratch_meta = MetaData()
accounts = Table(
    "scratch_accounts",
    scratch_meta,
    Column("id", String(10), primary_key=True),
    Column("balance", Integer, nullable=False),
)


@pytest.fixture
def accounts_store(store: Store) -> Store:
    scratch_meta.create_all(store.engine)
    with store.unit_of_work() as uow:
        uow.connection.execute(accounts.insert().values(id="a", balance=10))
    return store


def _balance(store: Store) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(accounts.c.balance)).scalar_one())


def test_state_change_and_its_events_commit_together(
    accounts_store: Store, clock: FixedClock
) -> None:
    with accounts_store.unit_of_work() as uow:
        uow.connection.execute(accounts.update().values(balance=accounts.c.balance + 5))
        uow.append(
            NewEvent("account.credited", clock.now(), {"amount": Decimal("5")}, case_id="a"),
            NewEvent("account.checked", clock.now(), {}, case_id="a"),
        )
    assert _balance(accounts_store) == 15
    log = accounts_store.events.where(case_id="a")
    assert [e.type for e in log] == ["account.credited", "account.checked"]
    assert log[0].data == {"amount": 5}
    assert log[0].seq < log[1].seq


def test_a_failing_command_writes_neither_state_nor_events(
    accounts_store: Store, clock: FixedClock
) -> None:
    head = accounts_store.events.head()
    with pytest.raises(RuntimeError, match="boom"), accounts_store.unit_of_work() as uow:
        uow.connection.execute(accounts.update().values(balance=0))
        uow.append(NewEvent("account.emptied", clock.now(), {}))
        raise RuntimeError("boom")
    assert _balance(accounts_store) == 10
    assert accounts_store.events.head() == head


def test_a_failing_event_insert_rolls_back_the_state_change(
    accounts_store: Store, clock: FixedClock
) -> None:
    with accounts_store.unit_of_work() as uow:
        uow.append(NewEvent("first", clock.now(), {}, id="fixed-id"))
    with (
        pytest.raises(Exception, match=r"(?i)unique|duplicate"),
        accounts_store.unit_of_work() as uow,
    ):
        uow.connection.execute(accounts.update().values(balance=99))
        uow.append(NewEvent("again", clock.now(), {}, id="fixed-id"))
    assert _balance(accounts_store) == 10
    assert [e.type for e in accounts_store.events.after(0)] == ["first"]


def test_after_commit_callbacks_run_only_after_a_commit(
    accounts_store: Store, clock: FixedClock
) -> None:
    calls: list[str] = []
    with accounts_store.unit_of_work() as uow:
        uow.after_commit(lambda: calls.append("committed"))
        assert calls == []
    assert calls == ["committed"]
    with pytest.raises(ValueError), accounts_store.unit_of_work() as uow:
        uow.after_commit(lambda: calls.append("never"))
        raise ValueError
    assert calls == ["committed"]


def test_events_keep_times_in_utc(accounts_store: Store, clock: FixedClock) -> None:
    with accounts_store.unit_of_work() as uow:
        uow.append(NewEvent("tick", clock.now(), {}))
    (event,) = accounts_store.events.after(0)
    assert event.time == clock.now()
    assert event.time.utcoffset() is not None
    with accounts_store.reading() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 1
