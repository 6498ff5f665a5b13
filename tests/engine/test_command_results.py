# ruff: noqa: E501
"""What the runtime reads from a CommandResult: work items and jobs created/closed, thrown
messages, child calls and their outcome, and matched=False when nothing was waiting."""

from __future__ import annotations

import pytest

from flowdesk.bpmn.parser import parse_bpmn
from flowdesk.core.clock import FixedClock
from flowdesk.core.ids import SequentialIds
from flowdesk.engine import commands as cmd
from flowdesk.engine.engine import DefinitionRegistry, Engine
from flowdesk.engine.errors import EngineError, UnknownItemError
from flowdesk.engine.testing import wrap

MODEL = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review" camunda:candidateGroups="billing"/>
    <bpmn:boundaryEvent id="sla" attachedToRef="review"><bpmn:timerEventDefinition><bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:serviceTask id="post" camunda:type="external" camunda:topic="ledger"/>
    <bpmn:sendTask id="notify" messageRef="m"><bpmn:extensionElements><zeebe:ioMapping><zeebe:input source="=case_id" target="case"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:sendTask>
    <bpmn:callActivity id="sub" calledElement="child"/>
    <bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="post"/>
    <bpmn:sequenceFlow id="f2" sourceRef="post" targetRef="notify"/>
    <bpmn:sequenceFlow id="f3" sourceRef="notify" targetRef="sub"/>
    <bpmn:sequenceFlow id="f4" sourceRef="sub" targetRef="e"/>
    <bpmn:sequenceFlow id="f5" sourceRef="sla" targetRef="e2"/>
""",
    extra='<bpmn:message id="m" name="case-update"/>',
)
CHILD = wrap(
    '<bpmn:startEvent id="cs"/><bpmn:endEvent id="ce"/><bpmn:sequenceFlow id="c0" sourceRef="cs" targetRef="ce"/>',
    process_id="child",
)


@pytest.fixture
def engine() -> Engine:
    registry = DefinitionRegistry(parse_bpmn(MODEL), parse_bpmn(CHILD))
    return Engine(registry, clock=FixedClock(), ids=SequentialIds("x"))


def test_the_runtime_sees_everything_it_must_do(engine: Engine) -> None:
    started = engine.start("p", {"case_id": "C-9"}, "C-9")
    (item,) = started.work_items_created
    assert (item.el, item.candidate_groups) == ("review", ["billing"])
    (timer,) = started.jobs_created
    assert (timer.kind, timer.due) == ("timer", "2026-01-05T11:00:00+00:00")
    assert started.state.version == 1 and started.snapshot()["ver"] == 1

    done = engine.apply(started.state, cmd.CompleteWorkItem(item.id, {"ok": True}, actor="ann"))
    assert done.work_items_closed == [item.id]
    assert done.jobs_removed == [timer.id]
    (external,) = done.jobs_created
    assert (external.kind, external.topic, external.retries) == ("external", "ledger", 3)

    posted = engine.apply(done.state, cmd.CompleteExternalTask(external.id, {"posted": True}))
    assert posted.jobs_removed == [external.id]
    (message,) = posted.messages
    assert (message.name, message.variables, message.element_id) == (
        "case-update",
        {"case": "C-9"},
        "notify",
    )
    (call,) = posted.calls
    assert (call.process_key, call.parent_instance, call.business_key) == (
        "child",
        posted.state.id,
        "C-9",
    )
    assert call.variables["posted"] is True

    child = engine.start(
        call.process_key, call.variables, parent=(call.parent_instance, call.parent_token)
    )
    assert child.completed and child.call_outcome is not None
    assert child.call_outcome.parent_token == call.parent_token
    final = engine.apply(
        posted.state, cmd.CompleteCall(call.parent_token, child.call_outcome.variables or {})
    )
    assert final.completed


def test_unmatched_and_unknown(engine: Engine) -> None:
    started = engine.start("p")
    assert engine.correlate_message(started.state, "nobody-waits").matched is False
    assert engine.broadcast_signal(started.state, "nothing").matched is False
    with pytest.raises(UnknownItemError):
        engine.fire_timer(started.state, "no-such-job")
    with pytest.raises(EngineError):
        engine.start("unknown-process")
