"""Routing through the store (SQLite and PostgreSQL): flows reach the queue through the
"routing" consumer, offers time out, SLAs escalate into the flow, transfers are logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect

from flowdesk.calendars import BusinessCalendar
from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.routing import Item, PriorityPolicy, RoutingError
from flowdesk.routing.models import routing_agents, routing_classes, routing_queue
from flowdesk.routing.service import RoutingService, WorkRef
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.sla import Escalation, Ola, SlaCatalog, SlaPolicy
from flowdesk.store import Store


def items_at(runtime: ProcessRuntime, instance_id: str, element_id: str) -> list[dict]:  # type: ignore[type-arg]
    return [w for w in runtime.work_items(instance_id=instance_id) if w["element_id"] == element_id]


def types(store: Store, since: int = 0) -> list[str]:
    return [e.type for e in store.events.after(since, 10_000)]


def contact(item_id: str, clock: FixedClock, **kw: object) -> Item:
    kw.setdefault("department", "support")
    channel = str(kw.pop("channel", "chat"))
    return Item(item_id, channel, clock.now(), **kw)  # type: ignore[arg-type]


def test_migration_creates_the_model_tables(store: Store) -> None:
    inspector = inspect(store.engine)
    for table in (routing_agents, routing_classes, routing_queue):
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    indexes = {i["name"] for i in inspector.get_indexes("routing_queue")}
    assert "ix_routing_queue_class_rank" in indexes


def test_work_items_of_a_flow_reach_the_queue_and_leave_when_completed(
    store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    catalog = SlaCatalog(
        policies=[SlaPolicy("refund", reason="refund", resolution=timedelta(hours=8))],
        olas=[Ola("billing", timedelta(hours=2), from_department="support")],
    )
    routing = RoutingService(store, clock=clock, catalog=catalog, runtime=runtime)
    routing.upsert_agent("ana", departments=["support"])
    routing.upsert_agent("lars", departments=["billing"])
    for a in ("ana", "lars"):
        routing.set_presence(a, "available")
    state = runtime.start("refund", {"case_ref": "C-1"}, business_key="C-1")
    assert routing.queue() == []  # nothing until the consumer runs
    routing.sync()
    routing.sync()  # at-least-once: running again adds nothing
    (entry,) = routing.queue()
    assert entry["element_id"] == "triage" and entry["department"] == "support"
    assert entry["sla"][0]["kind"] == "resolution"
    assert routing.next_for("lars") is None  # billing does not see support's work
    clock.advance(minutes=10)
    taken = routing.pull("ana")
    assert taken is not None and taken["agent"] == "ana"
    assert taken["waiting_seconds"] == 600
    (item,) = items_at(runtime, state.id, "triage")
    assert item["assignee"] == "ana"  # claimed in the flow too
    clock.advance(minutes=20)
    runtime.complete_work_item(item["id"], actor="ana")
    routing.sync()
    assert routing.entry(item["id"])["status"] == "closed"
    (refund,) = routing.queue()
    assert refund["element_id"] == "pay_refund" and refund["department"] == "billing"
    assert {c["kind"] for c in refund["sla"]} == {"resolution", "ola"}
    handoff = next(e for e in store.events.after(0, 1000) if e.type == "department.handoff")
    assert handoff.data["from_department"] == "support"
    assert handoff.data["to_department"] == "billing"
    assert handoff.data["waiting_seconds"] == 600 and handoff.data["working_seconds"] == 1200
    assert handoff.data["ola_minutes"] == 120
    left = next(e for e in store.events.after(0, 1000) if e.type == "work_item.left_queue")
    assert left.data["work_item_id"] == item["id"] and left.data["reason"] == "completed"
    assert routing.pull("lars") is not None
    (refund_item,) = items_at(runtime, state.id, "pay_refund")
    runtime.complete_work_item(refund_item["id"], actor="lars")
    routing.sync()
    assert routing.queue() == [] and routing.agent("lars")["load"] == {}


@pytest.mark.parametrize("batch", [500, 2])
def test_one_sync_applies_whole_flow_histories_in_order(
    store: Store, clock: FixedClock, runtime: ProcessRuntime, batch: int
) -> None:
    """The consumer reads the queue once per batch and writes it at the end: work created and
    completed before routing ran, hand-offs from a step closed in the same batch, and claims
    between them must come out as if every fact had been applied on its own."""
    catalog = SlaCatalog(olas=[Ola("billing", timedelta(hours=2), from_department="support")])
    routing = RoutingService(store, clock=clock, catalog=catalog, runtime=runtime)
    claimed = runtime.start("refund", {"case_ref": "A"}, business_key="A")
    (a_triage,) = items_at(runtime, claimed.id, "triage")
    runtime.claim(a_triage["id"], "ana")
    clock.advance(minutes=10)
    runtime.complete_work_item(a_triage["id"], actor="ana")
    direct = runtime.start("refund", {"case_ref": "B"}, business_key="B")
    (b_triage,) = items_at(runtime, direct.id, "triage")
    clock.advance(minutes=5)
    runtime.complete_work_item(b_triage["id"], actor="ana")
    (b_pay,) = items_at(runtime, direct.id, "pay_refund")
    clock.advance(minutes=2)
    runtime.complete_work_item(b_pay["id"], actor="lars")
    cancelled = runtime.start("refund", {"case_ref": "C"}, business_key="C")
    (c_triage,) = items_at(runtime, cancelled.id, "triage")
    runtime.cancel(cancelled.id)
    since = max(e.seq for e in store.events.after(0, 10_000))

    routing.sync(limit=batch)
    routing.sync(limit=batch)  # at-least-once: nothing twice

    (a_pay,) = items_at(runtime, claimed.id, "pay_refund")
    for item_id, status in (
        (a_triage["id"], "closed"),
        (b_triage["id"], "closed"),
        (b_pay["id"], "closed"),
        (c_triage["id"], "closed"),
        (a_pay["id"], "queued"),
    ):
        assert routing.entry(item_id)["status"] == status, item_id
    (queued,) = routing.queue()
    assert queued["id"] == a_pay["id"] and queued["department"] == "billing"
    assert [c["kind"] for c in queued["sla"]] == ["ola"]
    events = [e for e in store.events.after(since, 10_000)]
    left = {
        e.data["work_item_id"]: e.data["reason"] for e in events if e.type == "work_item.left_queue"
    }
    assert left == {
        a_triage["id"]: "completed",
        b_triage["id"]: "completed",
        b_pay["id"]: "completed",
        c_triage["id"]: "cancelled",
    }
    assert sum(e.type == "work_item.queued" for e in events) == 5
    handoffs = {e.data["to_work_item"]: e.data for e in events if e.type == "department.handoff"}
    assert set(handoffs) == {a_pay["id"], b_pay["id"]}
    b = handoffs[b_pay["id"]]
    assert b["from_work_item"] == b_triage["id"]
    assert (b["waiting_seconds"], b["working_seconds"]) == (300, None)
    assert handoffs[a_pay["id"]]["from_work_item"] == a_triage["id"]


def test_claims_in_the_flow_are_followed(
    store: Store, clock: FixedClock, runtime: ProcessRuntime, routing: RoutingService
) -> None:
    state = runtime.start("refund", {"case_ref": "C-2"}, business_key="C-2")
    (item,) = runtime.work_items(instance_id=state.id)
    runtime.claim(item["id"], "ana")
    routing.sync()
    assert routing.entry(item["id"])["status"] == "assigned"
    runtime.unclaim(item["id"], "ana")
    routing.sync()
    assert routing.entry(item["id"])["status"] == "queued"
    runtime.cancel(state.id)
    routing.sync()
    assert routing.entry(item["id"])["status"] == "closed"


def test_work_item_of_a_flow_transferred_to_another_department(
    store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    routing = RoutingService(store, clock=clock, runtime=runtime)
    for agent, department in (("ana", "support"), ("lars", "billing")):
        routing.upsert_agent(agent, departments=[department])
        routing.set_presence(agent, "available")
    state = runtime.start("refund", {"case_ref": "C-3"}, business_key="C-3")
    routing.sync()
    (item,) = runtime.work_items(instance_id=state.id)
    assert routing.pull("ana")["id"] == item["id"]  # type: ignore[index]
    routing.transfer(item["id"], department="billing", reason="needs billing", actor="ana")
    routing.sync()  # the unclaim in the flow does not put it back to support
    assert runtime.work_items(instance_id=state.id)[0]["assignee"] is None
    assert routing.next_for("ana") is None
    assert routing.pull("lars")["id"] == item["id"]  # type: ignore[index]
    runtime.complete_work_item(item["id"], actor="lars")
    routing.sync()
    assert routing.entry(item["id"])["status"] == "closed"


def test_offer_not_accepted_in_time_is_requeued_and_offered_to_the_next_agent(
    store: Store, clock: FixedClock
) -> None:
    routing = RoutingService(store, clock=clock, accept_timeout=timedelta(seconds=20))
    routing.upsert_agent("best", departments=["support"], skills={"billing": 5})
    routing.upsert_agent("next", departments=["support"], skills={"billing": 3})
    for a in ("best", "next"):
        routing.set_presence(a, "available")
    routing.enqueue(contact("c1", clock, skills={"billing": 2}))
    (first,) = routing.dispatch()
    assert first["agent"] == "best" and first["work_item_id"] == "c1"
    assert routing.agent("best")["offers"] == 1
    clock.advance(seconds=19)
    assert routing.dispatch() == []  # still out with "best"
    clock.advance(seconds=1)
    (second,) = routing.dispatch()
    assert second["agent"] == "next"
    assert "work_item.offer_expired" in types(store)
    with pytest.raises(NotFoundError):
        routing.accept(first["offer_id"], "best")
    clock.advance(seconds=5)
    accepted = routing.accept(second["offer_id"], "next")
    assert accepted["status"] == "assigned" and accepted["agent"] == "next"
    assert routing.agent("best")["load"] == {}


def test_late_accept_and_decline(store: Store, clock: FixedClock, routing: RoutingService) -> None:
    routing.upsert_agent("ana", departments=["support"])
    routing.set_presence("ana", "available")
    routing.enqueue(contact("c1", clock))
    routing.enqueue(contact("c2", clock))
    offer = routing.dispatch()[0]
    clock.advance(seconds=31)
    with pytest.raises(ConflictError, match="expired"):
        routing.accept(offer["offer_id"], "ana")
    assert routing.entry(offer["work_item_id"])["status"] == "queued"
    other = routing.dispatch()[0]
    assert other["work_item_id"] != offer["work_item_id"]  # ana is not asked again
    declined = routing.decline(other["offer_id"], "ana", reason="wrong language")
    assert declined["status"] == "queued"
    assert routing.dispatch() == []
    assert routing.next_for("ana") is None  # declined or expired: not hers any more
    routing.enqueue(contact("c3", clock))
    assert routing.next_for("ana")["id"] == "c3"  # type: ignore[index]
    event = next(e for e in store.events.after(0, 1000) if e.type == "work_item.declined")
    assert event.data["reason"] == "wrong language"


def test_capacity_skills_and_presence_through_the_store(
    store: Store, clock: FixedClock, routing: RoutingService
) -> None:
    routing.upsert_agent(
        "ana", departments=["support"], skills={"nl": 1}, capacity={"chat": 2, "call": 1}
    )
    for n in range(3):
        routing.enqueue(contact(f"chat{n}", clock))
    routing.enqueue(contact("expert", clock, skills={"nl": 3}))
    routing.enqueue(contact("mail", clock, channel="email"))
    assert routing.pull("ana") is None  # offline
    routing.set_presence("ana", "available")
    got = [routing.pull("ana") for _ in range(3)]
    assert [g["id"] if g else None for g in got] == ["chat0", "chat1", None]
    assert routing.agent("ana")["utilisation"] == 1.0
    routing.set_presence("ana", "away")
    assert routing.dispatch() == []
    entry = routing.entry("expert")
    assert entry["status"] == "queued"  # never offered: skill level 1 < 3
    with pytest.raises(NotFoundError):
        routing.set_presence("nobody", "available")
    with pytest.raises(ValueError):
        routing.set_presence("ana", "sleeping")


def test_priorities_reorder_when_sla_time_runs_low(store: Store, clock: FixedClock) -> None:
    catalog = SlaCatalog(
        policies=[SlaPolicy("complaint", reason="complaint", resolution=timedelta(hours=2))]
    )
    routing = RoutingService(
        store, clock=clock, catalog=catalog, policy=PriorityPolicy(aging_per_minute=0)
    )
    routing.upsert_agent("ana", departments=["support"])
    routing.set_presence("ana", "available")
    routing.enqueue(contact("vip", clock, reason_priority=3))
    routing.enqueue(contact("complaint", clock, reason="complaint"))
    assert [e["id"] for e in routing.queue()] == ["vip", "complaint"]
    clock.advance(minutes=100)  # 20 minutes left
    assert routing.next_for("ana")["id"] == "complaint"  # type: ignore[index]
    assert [e["id"] for e in routing.queue()] == ["complaint", "vip"]


def test_aging_lifts_old_low_priority_work(store: Store, clock: FixedClock) -> None:
    routing = RoutingService(store, clock=clock, policy=PriorityPolicy(aging_per_minute=1))
    routing.upsert_agent("ana", departments=["support"])
    routing.set_presence("ana", "available")
    routing.enqueue(contact("old", clock))
    clock.advance(minutes=45)
    routing.enqueue(contact("new", clock, reason_priority=3))  # 30 < 45 minutes of aging
    assert routing.pull("ana")["id"] == "old"  # type: ignore[index]


def test_transfer_is_recorded_with_its_reason(
    store: Store, clock: FixedClock, routing: RoutingService
) -> None:
    routing.upsert_agent("ana", departments=["support"])
    routing.upsert_agent("lars", departments=["billing"])
    for a in ("ana", "lars"):
        routing.set_presence(a, "available")
    routing.enqueue(contact("c1", clock))
    routing.pull("ana")
    moved = routing.transfer("c1", department="billing", reason="refund over 500", actor="ana")
    assert moved["status"] == "queued" and moved["department"] == "billing"
    event = next(e for e in store.events.after(0, 1000) if e.type == "work_item.transferred")
    assert event.data == {
        "work_item_id": "c1",
        "from_department": "support",
        "to_department": "billing",
        "from_agent": "ana",
        "reason": "refund over 500",
    }
    assert event.actor == "ana" and event.department == "billing"
    assert routing.next_for("ana") is None
    assert routing.pull("lars")["id"] == "c1"  # type: ignore[index]
    with pytest.raises(RoutingError, match="reason"):
        routing.transfer("c1", department="support", reason="")


def test_sla_paused_while_waiting_on_the_customer(store: Store, clock: FixedClock) -> None:
    catalog = SlaCatalog(policies=[SlaPolicy("any", first_response=timedelta(hours=1))])
    routing = RoutingService(store, clock=clock, catalog=catalog)
    routing.enqueue(contact("c1", clock))
    first_due = routing.entry("c1")["due_at"]
    clock.advance(minutes=20)
    paused = routing.pause_sla("c1")
    assert paused["sla"][0]["status"] == "paused" and paused["due_at"] is None
    clock.advance(hours=5)
    assert routing.escalate() == 0
    assert routing.entry("c1")["sla"][0]["remaining_seconds"] == 40 * 60
    resumed = routing.resume_sla("c1")
    assert resumed["due_at"] == first_due + timedelta(hours=5)
    assert {"sla.paused", "sla.resumed"} <= set(types(store))


def test_escalations_notify_raise_priority_and_message_the_flow(
    store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    office = BusinessCalendar.weekly("Europe/Amsterdam", {"mon-fri": "09:00-17:00"})
    policy = SlaPolicy(
        "refund",
        reason="refund",
        resolution=timedelta(hours=4),
        calendar=office,
        escalations=(
            Escalation(0.75, "notify"),
            Escalation(0.9, "raise_priority", by=500),
            Escalation(1.0, "message", message="sla-breached"),
        ),
    )
    routing = RoutingService(store, clock=clock, catalog=SlaCatalog([policy]), runtime=runtime)
    clock.set(clock.now().replace(hour=14))  # Monday 15:00 in Amsterdam
    state = runtime.start("refund", {"case_ref": "C-9"}, business_key="C-9")
    routing.sync()
    (entry,) = routing.queue()
    # 2 business hours on Monday, 2 on Tuesday from 09:00 CET: due Tuesday 11:00 = 10:00 UTC
    assert entry["due_at"] == clock.now().replace(day=3, hour=10)
    clock.set(clock.now().replace(hour=16, minute=59))
    assert routing.escalate() == 0
    clock.set(clock.now().replace(day=3, hour=9, minute=0))  # Tuesday 10:00 local: 3 h used (75 %)
    assert routing.escalate() == 1
    clock.advance(minutes=36)  # 90 %
    before = routing.entry(entry["id"])["priority"]
    assert routing.escalate() == 1
    assert routing.entry(entry["id"])["priority"] >= before + 500
    clock.advance(minutes=24)  # the deadline
    assert routing.escalate() == 1
    assert routing.escalate() == 0  # each escalation fires once
    escalated = [e for e in store.events.after(0, 1000) if e.type == "sla.escalated"]
    assert [e.data["action"] for e in escalated] == ["notify", "raise_priority", "message"]
    assert "sla.breached" in types(store)
    # the flow received the message: its non-interrupting boundary event opened a review task
    reviews = items_at(runtime, state.id, "review")
    assert len(reviews) == 1
    routing.sync()
    assert any(e["element_id"] == "review" for e in routing.queue())


def test_reassign_escalation_moves_work_to_another_department(
    store: Store, clock: FixedClock
) -> None:
    policy = SlaPolicy(
        "first",
        first_response=timedelta(minutes=30),
        resolution=timedelta(hours=1),
        escalations=(Escalation(0.5, "reassign", department="backoffice"),),
    )
    routing = RoutingService(store, clock=clock, catalog=SlaCatalog([policy]))
    routing.enqueue(contact("c1", clock))
    clock.advance(minutes=30)
    routing.escalate()
    entry = routing.entry("c1")
    assert entry["department"] == "backoffice"
    assert entry["sla"][0]["status"] == "breached"  # first response: nobody took it
    moved = next(e for e in store.events.after(0, 1000) if e.type == "work_item.transferred")
    assert moved.data["reason"] == "SLA escalation (resolution)" and moved.actor == "sla"


def test_supervisor_figures(store: Store, clock: FixedClock) -> None:
    catalog = SlaCatalog(policies=[SlaPolicy("any", resolution=timedelta(minutes=50))])
    routing = RoutingService(store, clock=clock, catalog=catalog)
    routing.upsert_agent("ana", departments=["support"], capacity={"chat": 2})
    routing.set_presence("ana", "available")
    routing.enqueue(contact("a", clock))
    clock.advance(minutes=10)
    routing.enqueue(contact("b", clock))
    routing.enqueue(contact("m", clock, channel="email", department="billing"))
    clock.advance(minutes=20)
    routing.pull("ana")  # takes "a" (oldest, same priority)
    clock.advance(minutes=10)
    view = routing.supervisor()
    queues = {(q["department"], q["channel"]): q for q in view["queues"]}
    assert queues[("support", "chat")]["size"] == 1
    assert queues[("support", "chat")]["oldest_wait_seconds"] == 30 * 60
    assert queues[("billing", "email")]["average_wait_seconds"] == pytest.approx(30 * 60, abs=1)
    assert view["queued"] == 2
    risky = {r["work_item_id"] for r in view["slas_at_risk"]}
    assert risky == {"a"}  # "a" used 40 of 50 minutes (80 %); the others 30 of 50
    (ana,) = view["agents"]
    assert ana["load"] == {"chat": 1} and ana["utilisation"] == 0.5


def test_enqueue_is_idempotent_and_refs_are_kept(
    store: Store, clock: FixedClock, routing: RoutingService
) -> None:
    ref = WorkRef("contact", name="Email from Jan")
    assert routing.enqueue(contact("c1", clock), ref) is True
    assert routing.enqueue(contact("c1", clock), ref) is False
    assert routing.entry("c1")["name"] == "Email from Jan"
    assert routing.close("c1", "answered") is True
    assert routing.close("c1") is False
    with pytest.raises(NotFoundError):
        routing.entry("nope")


def test_enqueue_many_in_one_transaction(
    store: Store, clock: FixedClock, routing: RoutingService
) -> None:
    routing.enqueue(contact("c0", clock))
    work = [
        (
            contact(f"c{n}", clock, reason_priority=n, channel="email" if n % 2 else "chat"),
            WorkRef(),
        )
        for n in range(5)
    ]
    assert routing.enqueue_many(work, batch=2) == 4  # c0 was queued already
    assert [e["id"] for e in routing.queue()] == ["c4", "c3", "c2", "c1", "c0"]
    assert types(store).count("work_item.queued") == 5
