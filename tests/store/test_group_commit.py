"""Group commit (store/groupcommit.py), on SQLite and on a real PostgreSQL: units of work of
concurrent threads share a transaction, each still atomic, serial and committed before its
caller goes on."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, event, select
from sqlalchemy.exc import IntegrityError

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.engine.testing import wrap
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store, UnitOfWork

#: Made-up event types and partial payloads: this exercises the log, not the registry.
pytestmark = pytest.mark.usefixtures("loose_events")

scratch = MetaData()
notes = Table("gc_notes", scratch, Column("id", String(20), primary_key=True))
parents = Table("gc_parents", scratch, Column("id", Integer, primary_key=True))
children = Table(
    "gc_children",
    scratch,
    Column("id", Integer, primary_key=True),
    # Checked at COMMIT, not at the insert: a way to make a batch's COMMIT fail.
    Column(
        "parent",
        Integer,
        ForeignKey("gc_parents.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store.open(database_url, group_commit=True)
    s.upgrade()
    scratch.create_all(s.engine)
    try:
        yield s
    finally:
        s.close()


def _count_commits(store: Store) -> list[int]:
    commits = [0]

    @event.listens_for(store.engine, "commit")
    def _commit(_conn: Any) -> None:
        commits[0] += 1

    return commits


def _together(store: Store, units: list[Callable[[UnitOfWork], Any]]) -> list[Any]:
    """Run the units from as many threads at once, behind a first unit that holds the writer
    for a moment, so the others queue and go as one batch. Returns value or exception each."""
    results: list[Any] = [None] * len(units)
    first_inside = threading.Event()

    def slow(uow: UnitOfWork) -> str:
        first_inside.set()
        time.sleep(0.3)
        uow.connection.execute(notes.insert().values(id="first"))
        return "first"

    def call(i: int) -> None:
        try:
            results[i] = store.run_unit(units[i])
        except Exception as exc:
            results[i] = exc

    leader = threading.Thread(target=lambda: store.run_unit(slow))
    leader.start()
    assert first_inside.wait(10)
    threads = [
        threading.Thread(target=call, args=(i,), name=f"caller-{i}") for i in range(len(units))
    ]
    for t in threads:
        t.start()
    for t in threads + [leader]:
        t.join(30)
    return results


def _note(name: str, clock: FixedClock) -> Callable[[UnitOfWork], str]:
    def unit(uow: UnitOfWork) -> str:
        uow.connection.execute(notes.insert().values(id=name))
        uow.append(NewEvent("note.added", clock.now(), {"note": name}))
        return name

    return unit


def _notes(store: Store) -> set[str]:
    with store.reading() as conn:
        return set(conn.execute(select(notes.c.id)).scalars())


def test_concurrent_units_share_commits_and_all_take_effect(
    store: Store, clock: FixedClock
) -> None:
    commits = _count_commits(store)
    names = [f"n{i}" for i in range(12)]
    results = _together(store, [_note(n, clock) for n in names])
    assert results == names
    assert _notes(store) == {*names, "first"}
    assert sorted(e.data["note"] for e in store.events.after(0)) == sorted(names)
    assert commits[0] < len(names) + 1  # batched: fewer commits than units


def test_a_failing_unit_is_undone_alone_and_its_caller_gets_the_error(
    store: Store, clock: FixedClock
) -> None:
    def failing(uow: UnitOfWork) -> None:
        uow.connection.execute(notes.insert().values(id="half-written"))
        uow.append(NewEvent("note.added", clock.now(), {"note": "half-written"}))
        raise ValueError("this unit fails")

    results = _together(store, [_note("a", clock), failing, _note("b", clock)])
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], ValueError) and str(results[1]) == "this unit fails"
    assert _notes(store) == {"first", "a", "b"}
    assert {e.data["note"] for e in store.events.after(0)} == {"a", "b"}


def test_units_of_a_batch_see_the_ones_before_them(store: Store, clock: FixedClock) -> None:
    def count(uow: UnitOfWork) -> int:
        n = len(uow.connection.execute(select(notes.c.id)).all())
        uow.connection.execute(notes.insert().values(id=f"c{n}"))
        return n

    results = _together(store, [count] * 5)
    assert sorted(results) == [1, 2, 3, 4, 5]  # serial: every unit saw all earlier ones


def test_a_failed_commit_fails_every_unit_of_the_batch_and_writes_nothing(
    store: Store, clock: FixedClock
) -> None:
    def orphan(uow: UnitOfWork) -> str:
        uow.connection.execute(children.insert().values(id=1, parent=99))  # no parent 99
        return "orphan"

    results = _together(store, [_note("x", clock), orphan, _note("y", clock)])
    assert all(isinstance(r, Exception) and "foreign key" in str(r).lower() for r in results), (
        results
    )
    assert _notes(store) == {"first"}
    assert store.events.after(0) == []
    # The store goes on working.
    assert store.run_unit(_note("later", clock)) == "later"
    assert _notes(store) == {"first", "later"}


def test_a_unit_started_inside_a_unit_runs_in_the_same_transaction(
    store: Store, clock: FixedClock
) -> None:
    seen_by_callback: list[set[str]] = []

    def inner(uow: UnitOfWork) -> str:
        uow.connection.execute(notes.insert().values(id="inner"))
        # Runs after the COMMIT of the whole transaction, not when the inner unit ends.
        uow.after_commit(lambda: seen_by_callback.append(_notes(store)))
        return "inner"

    def outer(uow: UnitOfWork) -> str:
        uow.connection.execute(notes.insert().values(id="outer"))
        result = store.run_unit(inner)
        with pytest.raises(ValueError):
            store.run_unit(lambda _: (_ for _ in ()).throw(ValueError("inner fails")))
        assert seen_by_callback == []
        uow.connection.execute(notes.insert().values(id="outer-after"))
        return f"outer+{result}"

    assert store.run_unit(outer) == "outer+inner"
    assert _notes(store) == {"outer", "inner", "outer-after"}
    assert seen_by_callback == [{"outer", "inner", "outer-after"}]


def test_after_commit_callbacks_run_in_the_callers_thread_after_the_commit(
    store: Store, clock: FixedClock
) -> None:
    seen: list[tuple[int, str, bool]] = []

    def unit(i: int) -> Callable[[UnitOfWork], None]:
        def body(uow: UnitOfWork) -> None:
            uow.connection.execute(notes.insert().values(id=f"cb{i}"))
            uow.after_commit(
                lambda: seen.append((i, threading.current_thread().name, f"cb{i}" in _notes(store)))
            )

        return body

    # Several units in one batch: one thread leads it, yet each callback runs in its caller.
    results = _together(store, [unit(i) for i in range(4)])
    assert results == [None] * 4
    assert sorted(seen) == [(i, f"caller-{i}", True) for i in range(4)]


TASK = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="t"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f1" sourceRef="t" targetRef="e"/>
    """,
    process_id="task",
)


def test_engine_commands_from_many_threads_all_complete(store: Store) -> None:
    runtime = ProcessRuntime(store)
    runtime.deploy("task", [("task.bpmn", TASK.encode())])
    commits = _count_commits(store)
    errors: list[BaseException] = []
    ids: list[str] = []

    def client() -> None:
        try:
            for _ in range(15):
                state = runtime.start("task")
                ids.append(state.id)
                item = next(iter(state.work.values()))
                assert runtime.complete_work_item(item.id, {}).status == "completed"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(set(ids)) == 8 * 15
    for instance_id in ids:
        assert runtime.instance(instance_id).status == "completed"
    completed = [e for e in store.events.after(0, limit=100_000) if e.type == "process.completed"]
    assert len(completed) == 8 * 15
    assert commits[0] < 2 * 8 * 15  # commands of different threads shared commits


@pytest.mark.postgres
def test_on_postgresql_a_unit_that_swallowed_a_database_error_is_undone_alone(
    pg_url: str, clock: FixedClock
) -> None:
    s = Store.open(pg_url, group_commit=True)
    s.upgrade()
    scratch.create_all(s.engine)
    try:

        def swallowing(uow: UnitOfWork) -> str:
            uow.connection.execute(notes.insert().values(id="dup"))
            # PostgreSQL aborts the transaction: nothing more of it can commit.
            with contextlib.suppress(IntegrityError):
                uow.connection.execute(notes.insert().values(id="dup"))
            return "swallowed"

        results = _together(s, [_note("a", clock), swallowing, _note("b", clock)])
        assert results[0] == "a" and results[2] == "b"
        assert "aborted" in str(results[1])
        assert _notes(s) == {"first", "a", "b"}
    finally:
        s.close()


@pytest.mark.postgres
def test_on_postgresql_a_unit_caught_in_a_deadlock_by_its_batch_runs_again_after_it(
    pg_url: str, clock: FixedClock
) -> None:
    """Another transaction holds row 1 and then waits for row 2, which a unit earlier in the
    batch locked while a later unit waits for row 1: a deadlock the later unit would not have
    met alone. It is undone to its savepoint, the batch commits, and it runs again."""
    s = Store.open(pg_url, group_commit=True)
    s.upgrade()
    scratch.create_all(s.engine)
    with s.engine.begin() as conn:
        conn.execute(parents.insert(), [{"id": 1}, {"id": 2}])
    attempts: list[str] = []

    def lock(row: int, name: str) -> Callable[[UnitOfWork], str]:
        def unit(uow: UnitOfWork) -> str:
            attempts.append(name)
            uow.connection.execute(parents.update().where(parents.c.id == row).values(id=row))
            return name

        return unit

    other_done: list[str] = []

    def other() -> None:
        with s.engine.connect() as conn, conn.begin():
            # Its own deadlock check comes late, so the batch's backend is the one that finds it.
            conn.exec_driver_sql("SET LOCAL deadlock_timeout = '20s'")
            conn.execute(parents.update().where(parents.c.id == 1).values(id=1))
            holding.set()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # until the later unit waits for row 1
                with s.engine.connect() as probe:
                    waiting = probe.exec_driver_sql(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    ).scalar_one()
                if waiting:
                    break
                time.sleep(0.05)
            conn.execute(parents.update().where(parents.c.id == 2).values(id=2))
        other_done.append("committed")

    holding = threading.Event()
    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert holding.wait(10)
        results = _together(s, [lock(2, "u1"), lock(1, "u2")])
    finally:
        thread.join(30)
    assert results == ["u1", "u2"]
    assert other_done == ["committed"]
    assert sorted(attempts) == ["u1", "u2", "u2"]  # the later unit ran twice
    s.close()
