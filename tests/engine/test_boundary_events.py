# ruff: noqa: E501
"""Boundary events: interrupting/non-interrupting timer, message, signal, error, escalation."""

from __future__ import annotations

from flowdesk.engine.errors import BpmnError
from flowdesk.engine.testing import wrap

TIMER = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="work"/>
    <bpmn:boundaryEvent id="sla" attachedToRef="work"><bpmn:timerEventDefinition><bpmn:timeDuration>PT4H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="remind" attachedToRef="work" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="cancelled" attachedToRef="work"><bpmn:messageEventDefinition messageRef="m"/></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="alert" attachedToRef="work" cancelActivity="false"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:boundaryEvent>
    <bpmn:userTask id="escalate"/><bpmn:task id="reminder"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
    <bpmn:userTask id="after_cancel"/><bpmn:userTask id="on_alert"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
    <bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="e1"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sla" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="reminder"/>
    <bpmn:sequenceFlow id="f4" sourceRef="reminder" targetRef="e2"/>
    <bpmn:sequenceFlow id="f5" sourceRef="cancelled" targetRef="after_cancel"/>
    <bpmn:sequenceFlow id="f6" sourceRef="alert" targetRef="on_alert"/>
""",
    extra='<bpmn:message id="m" name="withdrawn"/><bpmn:signal id="sig" name="outage"/>',
)


def test_non_interrupting_cycle_then_interrupting_timer(make, clock) -> None:
    engine = make(TIMER)
    state = engine.start("p")
    assert sorted(j.due or "" for j in state.jobs.values()) == [
        "2026-01-05T10:00:00+00:00",
        "2026-01-05T13:00:00+00:00",
    ]
    clock.advance(hours=1)
    assert engine.fire_due_timers() == 1
    state = engine.get(state.id)
    assert [w.el for w in engine.work_items(state.id)] == ["work"], "host keeps running"
    clock.advance(hours=1)
    assert engine.fire_due_timers() == 1  # second and last repetition
    reminders = [
        e for e in engine.events if e.element_id == "reminder" and e.type == "element_completed"
    ]
    assert len(reminders) == 2
    clock.advance(hours=5)
    assert engine.fire_due_timers() == 1  # only the SLA timer is left
    state = engine.get(state.id)
    assert [w.el for w in engine.work_items(state.id)] == ["escalate"]
    assert any(e.type == "element_terminated" and e.element_id == "work" for e in engine.events)
    assert state.jobs == {} and state.subs == {}


def test_interrupting_message_boundary(make) -> None:
    engine = make(TIMER)
    state = engine.start("p")
    state = engine.correlate_message("withdrawn", variables={"why": "changed mind"})
    assert [w.el for w in engine.work_items(state.id)] == ["after_cancel"]
    assert state.vars["why"] == "changed mind"
    assert state.jobs == {}


def test_non_interrupting_signal_boundary(make) -> None:
    engine = make(TIMER)
    state = engine.start("p")
    engine.broadcast_signal("outage")
    state = engine.get(state.id)
    assert sorted(w.el for w in engine.work_items(state.id)) == ["on_alert", "work"]


def test_completing_host_removes_boundary_subscriptions(make) -> None:
    engine = make(TIMER)
    state = engine.start("p")
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.status == "completed"
    assert state.jobs == {} and state.subs == {}


ERRORS = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="charge"><bpmn:extensionElements><zeebe:taskDefinition type="charge-card"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:boundaryEvent id="declined" attachedToRef="charge"><bpmn:errorEventDefinition errorRef="err_declined"/></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="any_error" attachedToRef="charge"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
    <bpmn:userTask id="ask_other_card"/><bpmn:userTask id="investigate"/><bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="charge"/>
    <bpmn:sequenceFlow id="f1" sourceRef="charge" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="declined" targetRef="ask_other_card"/>
    <bpmn:sequenceFlow id="f3" sourceRef="any_error" targetRef="investigate"/>
""",
    extra='<bpmn:error id="err_declined" errorCode="CARD_DECLINED"/>',
)


def test_error_from_handler_caught_by_matching_boundary(make) -> None:
    def charge(call):
        raise BpmnError("CARD_DECLINED", variables={"reason": "limit"})

    engine = make(ERRORS, handlers={"charge-card": charge})
    state = engine.start("p")
    assert [w.el for w in engine.work_items(state.id)] == ["ask_other_card"]
    assert state.vars["reason"] == "limit"


def test_catch_all_error_boundary(make) -> None:
    def charge(call):
        raise BpmnError("FRAUD")

    engine = make(ERRORS, handlers={"charge-card": charge})
    state = engine.start("p")
    assert [w.el for w in engine.work_items(state.id)] == ["investigate"]


def test_handler_exception_becomes_incident(make) -> None:
    def charge(call):
        raise RuntimeError("gateway down")

    engine = make(ERRORS, handlers={"charge-card": charge})
    state = engine.start("p")
    incident = next(iter(state.incidents.values()))
    assert incident.el == "charge" and "gateway down" in incident.message


ESCALATION = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="ss"/>
      <bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="esc"/></bpmn:intermediateThrowEvent>
      <bpmn:userTask id="inner"/>
      <bpmn:sequenceFlow id="i0" sourceRef="ss" targetRef="raise"/>
      <bpmn:sequenceFlow id="i1" sourceRef="raise" targetRef="inner"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="caught" attachedToRef="sub" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="esc"/></bpmn:boundaryEvent>
    <bpmn:userTask id="supervisor"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f1" sourceRef="caught" targetRef="supervisor"/>
""",
    extra='<bpmn:escalation id="esc" escalationCode="TOO_SLOW"/>',
)


def test_non_interrupting_escalation_keeps_subprocess_running(make) -> None:
    engine = make(ESCALATION)
    state = engine.start("p")
    assert sorted(w.el for w in engine.work_items(state.id)) == ["inner", "supervisor"]
