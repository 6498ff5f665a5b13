"""Closing a case is an event: the case-closing consumer turns process.completed / cancelled
into case.closed once, with the time the flow ended; a lookup that closes first logs it too."""

from __future__ import annotations

import json
from collections import Counter

from typer.testing import CliRunner

from flowdesk.cases import service as cases
from flowdesk.cases.closing import CaseCloser
from flowdesk.cli.main import app
from flowdesk.contacts.intake import Intake, IntakeResult
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


def _complaint(intake: Intake, email: str = "ann@example.com") -> IntakeResult:
    body = {"email": email, "reason": "complaint", "message": "the engineer never came"}
    return intake.submit("web", json.dumps(body).encode())


def _closed_events(store: Store) -> list[object]:
    return [e for e in store.events.after(0, 100_000) if e.type == "case.closed"]


def test_a_cancelled_flow_closes_its_case_with_the_flow_end_time(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    started = _complaint(intake)
    other = _complaint(intake, "bob@example.com")
    clock.advance(hours=3)
    runtime.cancel(started.instance_id or "", "resolved by phone")
    ended_at = clock.now()
    clock.advance(hours=2)  # the consumer runs later than the flow ended
    closer = CaseCloser(store)
    [closed] = closer.tick()
    assert closed.id == started.case_id
    with store.reading() as conn:
        case = cases.get_case(conn, started.case_id or "")
        still_open = cases.get_case(conn, other.case_id or "")
    assert case is not None and case.status == "closed" and case.closed_at == ended_at
    assert still_open is not None and still_open.status == "open"
    [event] = [
        e for e in store.events.where(case_id=started.case_id or "") if e.type == "case.closed"
    ]
    assert event.time == ended_at and event.customer_id == started.customer_id
    assert event.channel == "web"
    assert event.data == {
        "reference": started.case_reference,
        "reason": "complaint",
        "process_key": case.process_key,
        "instance_id": started.instance_id,
        "outcome": "cancelled",
    }
    # idempotent: a second tick, and a redelivery from a fresh cursor, close nothing again
    assert closer.tick() == []
    assert CaseCloser(store, consumer="case-closing-replay").tick() == []
    assert len(_closed_events(store)) == 1


def test_a_completed_flow_closes_as_completed(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    body = {"email": "ann@example.com", "reason": "no-internet", "message": "no internet"}
    started = intake.submit("web", json.dumps(body).encode())
    answers = {
        "serviceType": "broadband",
        "areaOutage": False,
        "lineTest": "pass",
        "technicianNeeded": False,
        "restorationConfirmed": True,
    }
    for _ in range(10):  # work the flow to its end as an agent would: claim, then complete
        items = runtime.work_items(instance_id=started.instance_id)
        if not items:
            break
        clock.advance(minutes=20)
        runtime.claim(items[0]["id"], "agent1")
        runtime.complete_work_item(items[0]["id"], answers, actor="agent1")
    assert runtime.instance(started.instance_id or "").status == "completed"
    CaseCloser(store).tick()
    [event] = _closed_events(store)
    assert event.data["outcome"] == "completed"  # type: ignore[attr-defined]
    assert event.time == clock.now()  # type: ignore[attr-defined]


def test_a_lookup_that_closes_first_logs_case_closed_once(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    started = _complaint(intake)
    clock.advance(hours=1)
    runtime.cancel(started.instance_id or "", "duplicate")
    ended_at = clock.now()
    clock.advance(days=1)
    status = cases.lookup_status(
        store, started.case_reference or "", identifiers=[("email", "ann@example.com")]
    )
    assert status.status == "closed"
    assert CaseCloser(store).tick() == []  # already closed by the lookup
    events = _closed_events(store)
    assert len(events) == 1 and events[0].time == ended_at  # type: ignore[attr-defined]
    assert (
        Counter(e.type for e in store.events.where(case_id=started.case_id or ""))["case.closed"]
        == 1
    )


def test_flowdesk_worker_closes_the_case_and_sends_its_survey(
    database_url: str, store: Store, intake: Intake, runtime: ProcessRuntime
) -> None:
    started = _complaint(intake)
    runtime.cancel(started.instance_id or "", "withdrawn")
    result = CliRunner().invoke(
        app, ["worker", "--until-idle", "--no-routing", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    types = Counter(e.type for e in store.events.where(case_id=started.case_id or ""))
    assert types["case.closed"] == 1 and types["survey.sent"] == 1
