# ruff: noqa: E501
"""Scopes inside scopes: multi-instance subprocesses, event subprocesses inside subprocesses,
receive tasks behind event-based gateways, signal end events."""

from __future__ import annotations

from flowdesk.engine.errors import BpmnError
from flowdesk.engine.testing import wrap

MI_SUB = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="per_item">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="${items}" camunda:elementVariable="item"/>
      <bpmn:startEvent id="ss"/>
      <bpmn:scriptTask id="price" scriptFormat="feel" camunda:resultVariable="line_total"><bpmn:script>item.qty * item.price</bpmn:script></bpmn:scriptTask>
      <bpmn:userTask id="pack"/>
      <bpmn:sequenceFlow id="i0" sourceRef="ss" targetRef="price"/>
      <bpmn:sequenceFlow id="i1" sourceRef="price" targetRef="pack"/>
    </bpmn:subProcess>
    <bpmn:userTask id="ship"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="per_item"/>
    <bpmn:sequenceFlow id="f1" sourceRef="per_item" targetRef="ship"/>
""")


def test_multi_instance_subprocess_has_one_scope_per_item(make) -> None:
    engine = make(MI_SUB)
    state = engine.start("p", {"items": [{"qty": 2, "price": 3}, {"qty": 1, "price": 10}]})
    items = engine.work_items(state.id)
    assert [w.el for w in items] == ["pack", "pack"]
    kinds = sorted(s.kind for s in state.scopes.values())
    assert kinds == ["mi", "mi", "sub", "sub"]
    for item in items:
        state = engine.complete_work_item(item.id)
    assert [w.el for w in engine.work_items(state.id)] == ["ship"]
    assert state.scopes == {}


INNER_ESP = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="ss"/>
      <bpmn:serviceTask id="risky"><bpmn:extensionElements><zeebe:taskDefinition type="risky"/></bpmn:extensionElements></bpmn:serviceTask>
      <bpmn:endEvent id="se"/>
      <bpmn:sequenceFlow id="i0" sourceRef="ss" targetRef="risky"/>
      <bpmn:sequenceFlow id="i1" sourceRef="risky" targetRef="se"/>
      <bpmn:subProcess id="inner_handler" triggeredByEvent="true">
        <bpmn:startEvent id="hs"><bpmn:errorEventDefinition errorRef="e"/></bpmn:startEvent>
        <bpmn:scriptTask id="note" scriptFormat="feel" camunda:resultVariable="handled"><bpmn:script>true</bpmn:script></bpmn:scriptTask>
        <bpmn:sequenceFlow id="h0" sourceRef="hs" targetRef="note"/>
      </bpmn:subProcess>
    </bpmn:subProcess>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f1" sourceRef="sub" targetRef="after"/>
""",
    extra='<bpmn:error id="e" errorCode="RISK"/>',
)


def test_error_caught_by_event_subprocess_of_the_enclosing_subprocess(make) -> None:
    def risky(call):
        raise BpmnError("RISK")

    engine = make(INNER_ESP, handlers={"risky": risky})
    state = engine.start("p")
    assert state.vars["handled"] is True
    assert [w.el for w in engine.work_items(state.id)] == ["after"], "the subprocess completes"


RECEIVE = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:eventBasedGateway id="g"/>
    <bpmn:receiveTask id="answer" messageRef="m"/>
    <bpmn:intermediateCatchEvent id="alarm"><bpmn:signalEventDefinition signalRef="sg"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e1"/>
    <bpmn:endEvent id="e2"><bpmn:signalEventDefinition signalRef="sg2"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="answer"/>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="alarm"/>
    <bpmn:sequenceFlow id="f3" sourceRef="answer" targetRef="e1"/>
    <bpmn:sequenceFlow id="f4" sourceRef="alarm" targetRef="e2"/>
""",
    extra='<bpmn:message id="m" name="answer"/><bpmn:signal id="sg" name="alarm"/><bpmn:signal id="sg2" name="alarm-handled"/>',
)

LISTENER = wrap(
    """
    <bpmn:startEvent id="ls"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="sg2"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="le"/>
    <bpmn:sequenceFlow id="l0" sourceRef="ls" targetRef="wait"/>
    <bpmn:sequenceFlow id="l1" sourceRef="wait" targetRef="le"/>
""",
    process_id="listener",
    extra='<bpmn:signal id="sg2" name="alarm-handled"/>',
)


def test_receive_task_behind_event_gateway(make) -> None:
    engine = make(RECEIVE)
    state = engine.start("p")
    state = engine.correlate_message("answer", variables={"text": "ok"})
    assert state.status == "completed" and state.vars["text"] == "ok"
    assert [e.element_id for e in engine.events if e.type == "element_completed"][-2:] == [
        "answer",
        "e1",
    ]


def test_signal_end_event_reaches_other_instances(make) -> None:
    engine = make(RECEIVE, LISTENER)
    listener = engine.start("listener")
    state = engine.start("p")
    engine.broadcast_signal("alarm")
    assert engine.get(state.id).status == "completed"
    assert engine.get(listener.id).status == "completed"
