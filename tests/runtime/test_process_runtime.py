# ruff: noqa: E501
"""The persisted runtime on SQLite and PostgreSQL: every command is one transaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.runtime.conftest import DATA, deploy_file

from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import ConflictError, ModelError, NotFoundError
from flowdesk.engine.testing import cond, wrap
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository

APPROVAL = wrap(
    f"""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="billing"/>
    <bpmn:exclusiveGateway id="g" default="f_no"/>
    <bpmn:userTask id="pay" name="Pay out"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="g"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="g" targetRef="pay">{cond("amount > 100")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="g" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="e"/>
    """,
    process_id="approval",
)


def _open(runtime: ProcessRuntime, instance_id: str) -> list[dict]:  # type: ignore[type-arg]
    return runtime.work_items(instance_id=instance_id)


def test_refund_model_runs_to_completion_through_the_store(
    runtime: ProcessRuntime, store: Store
) -> None:
    deploy_file(runtime, "refund.bpmn")
    for amount, expect_approval in ((50, False), (500, True)):
        state = runtime.start("refund", business_key=f"R-{amount}")
        seen = []
        while state.status == "active":
            (item,) = _open(runtime, state.id) or [None]
            assert item is not None, "an active refund waits on exactly one user task here"
            seen.append(item["element_id"])
            data = {
                "capture": {"amount": amount},
                "approve": {"approved": True},
                "notify": {"notified": True},
                "crm": {"crm_updated": True},
            }[item["element_id"]]
            state = runtime.complete_work_item(item["id"], data, actor="ana")
            if state.status == "active" and len(_open(runtime, state.id)) == 2:
                # the parallel branch: both tasks are open at once
                for other in _open(runtime, state.id):
                    seen.append(other["element_id"])
                    state = runtime.complete_work_item(
                        other["id"],
                        {"notified": True}
                        if other["element_id"] == "notify"
                        else {"crm_updated": True},
                    )
        assert state.status == "completed"
        assert state.vars["refunded"] is True
        assert ("approve" in seen) is expect_approval
        history = [e.type for e in runtime.history(state.id)]
        assert history[0] == "process.started" and history[-1] == "process.completed"
        assert runtime.instance(state.id).status == "completed"
    assert runtime.work_items() == []


def test_variables_keep_exact_decimals(runtime: ProcessRuntime) -> None:
    runtime.deploy("approval", [("approval.bpmn", APPROVAL.encode())])
    state = runtime.start("approval", {"amount": Decimal("100.0000000000000000000000000001")})
    assert runtime.instance(state.id).vars["amount"] == Decimal("100.0000000000000000000000000001")
    (item,) = runtime.work_items(instance_id=state.id)
    state = runtime.complete_work_item(item["id"])
    assert [w["element_id"] for w in runtime.work_items(instance_id=state.id)] == ["pay"]


def test_work_item_row_carries_the_queue_fields(runtime: ProcessRuntime) -> None:
    runtime.deploy("approval", [("approval.bpmn", APPROVAL.encode())])
    state = runtime.start("approval", {"amount": 10})
    (item,) = runtime.work_items(instance_id=state.id)
    assert item["candidate_groups"] == ["billing"]
    assert item["name"] == "Review" and item["process_key"] == "approval"
    assert runtime.work_items(candidate_group="billing")[0]["id"] == item["id"]
    assert runtime.work_items(candidate_group="field-service") == []


def test_claimed_item_cannot_be_completed_by_someone_else(runtime: ProcessRuntime) -> None:
    runtime.deploy("approval", [("approval.bpmn", APPROVAL.encode())])
    state = runtime.start("approval", {"amount": 10})
    (item,) = runtime.work_items(instance_id=state.id)
    runtime.claim(item["id"], "ana")
    with pytest.raises(ConflictError, match="already claimed by ana"):
        runtime.claim(item["id"], "bob")
    with pytest.raises(ConflictError, match="claimed by ana"):
        runtime.complete_work_item(item["id"], actor="bob")
    runtime.delegate(item["id"], "bob", actor="ana")
    runtime.complete_work_item(item["id"], actor="bob")
    with pytest.raises(ConflictError, match="already completed"):
        runtime.complete_work_item(item["id"], actor="bob")
    with pytest.raises(NotFoundError):
        runtime.complete_work_item("no-such-item")


def test_a_changed_model_is_a_new_version_and_running_instances_stay(
    runtime: ProcessRuntime,
) -> None:
    first = runtime.deploy("v1", [("approval.bpmn", APPROVAL.encode())])
    assert [(d.key, d.version, d.new) for d in first.definitions] == [("approval", 1, True)]
    again = runtime.deploy("same", [("approval.bpmn", APPROVAL.encode())])
    assert [(d.version, d.new) for d in again.definitions] == [(1, False)]
    old = runtime.start("approval", {"amount": 500})
    changed = APPROVAL.replace('name="Pay out"', 'name="Pay the customer"')
    second = runtime.deploy("v2", [("approval.bpmn", changed.encode())])
    assert [(d.version, d.new) for d in second.definitions] == [(2, True)]
    new = runtime.start("approval", {"amount": 500})
    for state in (old, new):
        (item,) = runtime.work_items(instance_id=state.id)
        runtime.complete_work_item(item["id"])
    names = {w["instance_id"]: w["name"] for w in runtime.work_items() if w["element_id"] == "pay"}
    assert names == {old.id: "Pay out", new.id: "Pay the customer"}


def test_an_invalid_model_writes_nothing(runtime: ProcessRuntime, store: Store) -> None:
    broken = APPROVAL.replace('targetRef="pay"', 'targetRef="nowhere"')
    head = store.events.head()
    with pytest.raises(ModelError, match="nowhere"):
        runtime.deploy("broken", [("approval.bpmn", broken.encode())])
    assert runtime.definitions() == []
    assert store.events.head() == head


def test_concurrent_change_is_detected_by_the_version(
    runtime: ProcessRuntime, store: Store, clock: FixedClock
) -> None:
    runtime.deploy("approval", [("approval.bpmn", APPROVAL.encode())])
    state = runtime.start("approval", {"amount": 500})
    from flowdesk.store.processes import ProcessRepository

    with store.unit_of_work() as uow:
        repo = ProcessRepository(uow.connection)
        loaded = repo.load(state.id)
        assert loaded is not None
        repo.save(state.id, loaded.version, loaded.state, "active", None)
        with pytest.raises(ConflictError, match="changed by another command"):
            repo.save(state.id, loaded.version, loaded.state, "active", None)


TIMER = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="answer" name="Answer the customer"/>
    <bpmn:boundaryEvent id="late" attachedToRef="answer" cancelActivity="true">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="escalate" name="Supervisor call-back"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="answer"/>
    <bpmn:sequenceFlow id="f1" sourceRef="answer" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="late" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f3" sourceRef="escalate" targetRef="e"/>
    """,
    process_id="sla",
)


def test_timer_fires_once_when_due_and_cancels_the_task(
    runtime: ProcessRuntime, clock: FixedClock
) -> None:
    runtime.deploy("sla", [("sla.bpmn", TIMER.encode())])
    state = runtime.start("sla")
    clock.advance(timedelta(hours=3, minutes=59))
    assert runtime.run_due_jobs() == 0
    clock.advance(timedelta(minutes=2))
    assert runtime.run_due_jobs() == 1
    assert runtime.run_due_jobs() == 0
    items = runtime.work_items(instance_id=state.id)
    assert [i["element_id"] for i in items] == ["escalate"]
    cancelled = runtime.work_items(instance_id=state.id, status="cancelled")
    assert [i["element_id"] for i in cancelled] == ["answer"]


def test_completing_the_task_removes_its_timer(runtime: ProcessRuntime, clock: FixedClock) -> None:
    runtime.deploy("sla", [("sla.bpmn", TIMER.encode())])
    state = runtime.start("sla")
    (item,) = runtime.work_items(instance_id=state.id)
    runtime.complete_work_item(item["id"])
    clock.advance(timedelta(hours=5))
    assert runtime.run_due_jobs() == 0
    assert runtime.instance(state.id).status == "completed"


MESSAGES = (
    '<bpmn:message id="m_reply" name="customer-reply"><bpmn:extensionElements>'
    '<zeebe:subscription correlationKey="=case_ref"/></bpmn:extensionElements></bpmn:message>'
)
WAIT = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="prepare" camunda:type="external" camunda:topic="prepare"/>
    <bpmn:receiveTask id="wait_reply" messageRef="m_reply"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="prepare"/>
    <bpmn:sequenceFlow id="f1" sourceRef="prepare" targetRef="wait_reply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_reply" targetRef="e"/>
    """,
    process_id="wait",
    extra=MESSAGES,
)


def test_message_correlates_by_key_and_early_messages_are_buffered(
    runtime: ProcessRuntime,
) -> None:
    runtime.deploy("wait", [("wait.bpmn", WAIT.encode())])
    a = runtime.start("wait", {"case_ref": "FD-1"})
    b = runtime.start("wait", {"case_ref": "FD-2"})
    # B's reply arrives while B is still preparing: buffered, not lost.
    assert runtime.correlate_message("customer-reply", "FD-2", {"text": "hi"}) == []
    tasks = runtime.fetch_and_lock("w1", ["prepare"])
    for task in tasks:
        runtime.complete_external_task(task.id, "w1")
    with runtime.store.reading() as conn:  # a completed task leaves no job row behind
        assert all(ProcessRepository(conn).job(t.id) is None for t in tasks) and tasks
    assert runtime.instance(b.id).status == "completed"
    assert runtime.instance(b.id).vars["text"] == "hi"
    assert runtime.instance(a.id).status == "active"
    assert runtime.correlate_message("customer-reply", "FD-1") == [a.id]
    assert runtime.instance(a.id).status == "completed"


def test_external_task_lock_retry_and_incident(runtime: ProcessRuntime, clock: FixedClock) -> None:
    runtime.deploy("wait", [("wait.bpmn", WAIT.encode())])
    state = runtime.start("wait", {"case_ref": "FD-9"})
    (task,) = runtime.fetch_and_lock("w1", ["prepare"], lock_duration=timedelta(minutes=1))
    assert task.variables["case_ref"] == "FD-9" and task.topic == "prepare"
    assert runtime.fetch_and_lock("w2", ["prepare"]) == []  # locked by w1
    with pytest.raises(ConflictError, match="not locked by worker 'w2'"):
        runtime.complete_external_task(task.id, "w2")
    until = runtime.extend_lock(task.id, "w1", timedelta(minutes=10))
    assert until == clock.now() + timedelta(minutes=10)
    runtime.fail_external_task(
        task.id, "w1", "CRM down", retries=1, retry_timeout=timedelta(seconds=30)
    )
    assert runtime.fetch_and_lock("w2", ["prepare"]) == []  # backoff
    clock.advance(timedelta(seconds=31))
    (again,) = runtime.fetch_and_lock("w2", ["prepare"])
    runtime.fail_external_task(again.id, "w2", "CRM still down", retries=0)
    assert runtime.fetch_and_lock("w2", ["prepare"]) == []
    assert runtime.instance(state.id).incidents  # visible as an incident on the instance


def test_unknown_process_is_a_clear_error(runtime: ProcessRuntime) -> None:
    with pytest.raises(NotFoundError, match="no process 'nope' is deployed"):
        runtime.start("nope")


def test_support_case_lanes_are_departments_in_the_log(
    runtime: ProcessRuntime, store: Store
) -> None:
    deploy_file(runtime, "support_case.bpmn")
    state = runtime.start("support_case", {"technical": True})
    (item,) = runtime.work_items(instance_id=state.id)
    runtime.complete_work_item(item["id"], {"technical": True}, actor="ana")
    events = runtime.history(state.id)
    triage_done = [e for e in events if e.type == "element.completed" and e.element_id == "triage"]
    assert triage_done and triage_done[0].department == "First line"
    assert triage_done[0].actor == "ana"
    assert triage_done[0].data["element_name"] == "Triage"
    assert (DATA / "support_case.bpmn").exists()


def test_work_items_are_announced_in_the_event_log(runtime: ProcessRuntime) -> None:
    runtime.deploy("approval", [("approval.bpmn", APPROVAL.encode())])
    state = runtime.start("approval", {"amount": 10}, business_key="B-7")
    (item,) = runtime.work_items(instance_id=state.id)
    runtime.complete_work_item(item["id"], actor="ana")
    log = [e for e in runtime.history(state.id) if e.type.startswith("work_item.")]
    assert [e.type for e in log] == ["work_item.created", "work_item.completed"]
    created = log[0]
    assert created.data["work_item_id"] == item["id"]
    assert created.data["candidate_groups"] == ["billing"]
    assert created.data["business_key"] == "B-7"
    assert log[1].actor == "ana"


def _start_model(definition: str) -> str:
    return wrap(
        f"""
        <bpmn:startEvent id="s">{definition}</bpmn:startEvent>
        <bpmn:userTask id="work"/>
        <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
        """,
        process_id="started",
    )


def test_timer_start_event_cycle_starts_instances_then_stops(
    runtime: ProcessRuntime, clock: FixedClock
) -> None:
    cycle = "<bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>"
    runtime.deploy("timers", [("t.bpmn", _start_model(cycle).encode())])
    assert runtime.run_due_jobs() == 0
    for _ in range(3):
        clock.advance(timedelta(hours=1, seconds=1))
        runtime.run_due_jobs()
    assert len(runtime.work_items()) == 2  # R2: two repetitions, then the timer is gone


def test_timer_start_expression_is_evaluated_at_deploy(
    runtime: ProcessRuntime, clock: FixedClock
) -> None:
    timer = '<bpmn:timerEventDefinition><bpmn:timeDuration>=duration("PT30M")</bpmn:timeDuration></bpmn:timerEventDefinition>'
    runtime.deploy("timers", [("t.bpmn", _start_model(timer).encode())])
    clock.advance(timedelta(minutes=31))
    assert runtime.run_due_jobs() == 1
    assert len(runtime.work_items()) == 1


def test_conditional_start_event_is_refused_at_deploy(
    runtime: ProcessRuntime, store: Store
) -> None:
    conditional = "<bpmn:conditionalEventDefinition><bpmn:condition>x &gt; 1</bpmn:condition></bpmn:conditionalEventDefinition>"
    head = store.events.head()
    with pytest.raises(ModelError, match="conditional start event 's'"):
        runtime.deploy("cond", [("c.bpmn", _start_model(conditional).encode())])
    assert runtime.definitions() == [] and store.events.head() == head
