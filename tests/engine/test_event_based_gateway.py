# ruff: noqa: E501
"""Event-based gateway: first of message / timer wins, the others are withdrawn."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MODEL = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:eventBasedGateway id="g"/>
    <bpmn:intermediateCatchEvent id="reply"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="handle"/><bpmn:userTask id="chase"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="reply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="wait"/>
    <bpmn:sequenceFlow id="f3" sourceRef="reply" targetRef="handle"/>
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="chase"/>
""",
    extra='<bpmn:message id="m" name="customer-reply"/>',
)


def test_message_first(make) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    assert len(state.subs) == 2 and len(state.jobs) == 1
    state = engine.correlate_message("customer-reply", variables={"text": "hi"})
    assert [w.el for w in engine.work_items(state.id)] == ["handle"]
    assert state.subs == {} and state.jobs == {}
    assert state.vars["text"] == "hi"


def test_timer_first(make, clock) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    job = next(iter(state.jobs.values()))
    assert job.due == "2026-01-07T09:00:00+00:00"
    clock.advance(days=1)
    assert engine.fire_due_timers() == 0
    clock.advance(days=1)
    assert engine.fire_due_timers() == 1
    state = engine.get(state.id)
    assert [w.el for w in engine.work_items(state.id)] == ["chase"]
    assert state.subs == {}
    assert engine.correlate_message("customer-reply") is None
