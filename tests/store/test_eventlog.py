from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.core.cloudevents import to_cloudevent
from flowdesk.core.errors import NotFoundError
from flowdesk.core.events import NewEvent
from flowdesk.store import Store

#: Made-up event types and partial payloads: this exercises the log, not the registry.
pytestmark = pytest.mark.usefixtures("loose_events")


def _append(store: Store, clock: FixedClock, n: int, **subject: str) -> None:
    for i in range(n):
        with store.unit_of_work() as uow:
            uow.append(NewEvent("thing.happened", clock.now(), {"i": i}, **subject))
        clock.advance(timedelta(seconds=1))


def test_events_are_read_in_order_and_by_subject(store: Store, clock: FixedClock) -> None:
    _append(store, clock, 3, case_id="case-1", customer_id="cust-1")
    _append(store, clock, 2, case_id="case-2", customer_id="cust-1")
    everything = store.events.after(0)
    assert [e.seq for e in everything] == sorted(e.seq for e in everything)
    assert len(everything) == 5
    assert [e.data["i"] for e in store.events.where(case_id="case-2")] == [0, 1]
    assert len(store.events.where(customer_id="cust-1")) == 5
    assert store.events.after(everything[2].seq) == everything[3:]
    assert store.events.head() == everything[-1].seq
    assert list(store.events.iterate(0, batch=2)) == everything


def test_two_consumers_keep_their_own_cursors(store: Store, clock: FixedClock) -> None:
    _append(store, clock, 4)
    store.events.register("webhooks")
    store.events.register("analytics")
    first = store.events.read("webhooks", limit=3)
    assert len(first) == 3
    store.events.ack("webhooks", first[-1].seq)
    assert [e.data["i"] for e in store.events.read("webhooks")] == [3]
    assert [e.data["i"] for e in store.events.read("analytics")] == [0, 1, 2, 3]
    # A stale acknowledgement never moves a cursor backwards.
    store.events.ack("webhooks", first[0].seq)
    assert store.events.position("webhooks") == first[-1].seq
    # Registering again keeps the cursor.
    assert store.events.register("webhooks") == first[-1].seq


def test_a_consumer_reads_only_its_types_and_passes_over_the_rest(
    store: Store, clock: FixedClock
) -> None:
    for kind in ["a", "noise", "noise", "b", "noise", "a", "noise", "noise"]:
        with store.unit_of_work() as uow:
            uow.append(NewEvent(kind, clock.now(), {"kind": kind}))
    everything = store.events.after(0)
    store.events.register("picky")
    # A window of five events: two match; acknowledge the fifth, not the last match.
    first = store.events.read_types("picky", {"a", "b"}, limit=5)
    assert [e.type for e in first.events] == ["a", "b"]
    assert first.events == [everything[0], everything[3]]  # decoded like any read
    assert (first.position, first.scanned) == (everything[4].seq, 5)
    assert store.events.position("picky") == 0  # reading does not move the cursor
    store.events.ack("picky", first.position)
    second = store.events.read_types("picky", {"a", "b"}, limit=5)
    assert [e.seq for e in second.events] == [everything[5].seq]
    assert (second.position, second.scanned) == (everything[-1].seq, 3)
    store.events.ack("picky", second.position)
    assert store.events.read_types("picky", {"a", "b"}) == ([], None, 0)
    with store.unit_of_work() as uow:
        uow.append(NewEvent("noise", clock.now(), {}))
    only_noise = store.events.read_types("picky", {"a", "b"})
    assert only_noise.events == [] and only_noise.position == store.events.head()


def test_a_new_consumer_can_start_at_the_head(store: Store, clock: FixedClock) -> None:
    _append(store, clock, 2)
    store.events.register("late", from_start=False)
    assert store.events.read("late") == []
    _append(store, clock, 1)
    assert len(store.events.read("late")) == 1


def test_unknown_consumer_is_a_clear_error(store: Store) -> None:
    with pytest.raises(NotFoundError, match="'nobody' is not registered"):
        store.events.read("nobody")
    with pytest.raises(NotFoundError):
        store.events.ack("nobody", 1)


def test_a_consumer_killed_before_acknowledging_gets_the_events_again(
    store: Store, database_url: str, clock: FixedClock
) -> None:
    _append(store, clock, 3)
    store.events.register("mailer")
    # A real consumer process reads, reports what it read, then dies (SIGKILL) before its ack.
    script = textwrap.dedent(
        f"""
        import sys, time
        from flowdesk.store import Store
        s = Store.open({database_url!r})
        batch = s.events.read("mailer")
        print(",".join(str(e.seq) for e in batch), flush=True)
        time.sleep(60)
        s.events.ack("mailer", batch[-1].seq)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert proc.stdout is not None
    seen = [int(x) for x in proc.stdout.readline().strip().split(",")]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(seen) == 3
    # After the restart the same events are delivered again: at least once, nothing lost.
    again = Store.open(database_url)
    try:
        assert [e.seq for e in again.events.read("mailer")] == seen
        again.events.ack("mailer", seen[-1])
        assert again.events.read("mailer") == []
    finally:
        again.close()


def test_concurrent_writers_never_make_a_consumer_skip_an_event(
    store: Store, clock: FixedClock
) -> None:
    """Sequence order must be commit order, or a reader racing writers would skip events."""
    store.events.register("racer")
    writers, per_writer = 4, 40
    stop = threading.Event()
    delivered: list[int] = []

    def write(w: int) -> None:
        for i in range(per_writer):
            with store.unit_of_work() as uow:
                uow.append(
                    NewEvent("race.a", clock.now(), {"w": w, "i": i}),
                    NewEvent("race.b", clock.now(), {"w": w, "i": i}),
                )

    def consume() -> None:
        while True:
            done = stop.is_set()
            batch = store.events.read("racer", limit=50)
            if batch:
                delivered.extend(e.seq for e in batch)
                store.events.ack("racer", batch[-1].seq)
            elif done:
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    consumer.join(timeout=60)
    all_seqs = [e.seq for e in store.events.after(0, limit=10_000)]
    assert len(all_seqs) == writers * per_writer * 2
    assert len(delivered) == len(set(delivered))  # once each
    assert sorted(delivered) == all_seqs  # none skipped


def test_cloudevents_export_carries_the_subject_ids(store: Store, clock: FixedClock) -> None:
    with store.unit_of_work() as uow:
        uow.append(
            NewEvent(
                "contact.received",
                clock.now(),
                {"text": "my internet is down"},
                case_id="case-9",
                customer_id="cust-3",
                channel="email",
            )
        )
    (event,) = store.events.after(0)
    ce = to_cloudevent(event)
    assert ce["specversion"] == "1.0"
    assert ce["type"] == "io.flowdesk.contact.received"
    assert ce["id"] == event.id and ce["source"] == "/flowdesk"
    assert ce["time"] == "2026-03-02T09:00:00Z"
    assert ce["subject"] == "case-9"
    assert ce["caseid"] == "case-9" and ce["customerid"] == "cust-3" and ce["channel"] == "email"
    assert ce["data"] == {"text": "my internet is down"}
    assert all(k.isalnum() and k.islower() for k in ce)
