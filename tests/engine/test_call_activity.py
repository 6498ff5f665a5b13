# ruff: noqa: E501
"""Call activity: a child instance started through the runtime, its outcome handed back."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

PARENT = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="call" calledElement="child">
      <bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=result" target="child_result"/></zeebe:ioMapping></bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:boundaryEvent id="failed" attachedToRef="call"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
    <bpmn:userTask id="after"/><bpmn:userTask id="recover"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f1" sourceRef="call" targetRef="after"/>
    <bpmn:sequenceFlow id="f2" sourceRef="failed" targetRef="recover"/>
""",
    process_id="parent",
)

CHILD = wrap(
    """
    <bpmn:startEvent id="cs"/>
    <bpmn:userTask id="child_work"/>
    <bpmn:exclusiveGateway id="cg" default="ok"/>
    <bpmn:endEvent id="ce"/>
    <bpmn:endEvent id="cerr"><bpmn:errorEventDefinition errorRef="e"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="c0" sourceRef="cs" targetRef="child_work"/>
    <bpmn:sequenceFlow id="c1" sourceRef="child_work" targetRef="cg"/>
    <bpmn:sequenceFlow id="ok" sourceRef="cg" targetRef="ce"/>
    <bpmn:sequenceFlow id="bad" sourceRef="cg" targetRef="cerr"><bpmn:conditionExpression>fail</bpmn:conditionExpression></bpmn:sequenceFlow>
""",
    process_id="child",
    extra='<bpmn:error id="e" errorCode="CHILD_FAILED"/>',
)


def test_child_runs_and_maps_its_result_back(make) -> None:
    engine = make(PARENT, CHILD)
    parent = engine.start("parent", {"customer": "c-1"})
    assert parent.tokens[next(iter(parent.tokens))].wait == "call"
    child_item = engine.work_items()[0]
    child = engine.get(next(i for i in engine.instances if i != parent.id))
    assert child.process == "child" and child.vars["customer"] == "c-1"
    assert child.parent == [parent.id, next(iter(parent.tokens))]
    engine.complete_work_item(child_item.id, {"result": "done", "fail": False})
    parent = engine.get(parent.id)
    assert [w.el for w in engine.work_items(parent.id)] == ["after"]
    assert parent.vars["child_result"] == "done"
    assert "fail" not in parent.vars, "only mapped outputs come back"


def test_unhandled_child_error_is_rethrown_at_the_call(make) -> None:
    engine = make(PARENT, CHILD)
    parent = engine.start("parent")
    child_item = engine.work_items()[0]
    engine.complete_work_item(child_item.id, {"fail": True})
    parent = engine.get(parent.id)
    assert [w.el for w in engine.work_items(parent.id)] == ["recover"]


def test_cancelling_the_parent_cancels_the_child(make) -> None:
    engine = make(PARENT, CHILD)
    parent = engine.start("parent")
    child_id = next(i for i in engine.instances if i != parent.id)
    engine.cancel(parent.id)
    assert engine.get(child_id).status == "cancelled"


ESC_PARENT = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="call" calledElement="esc_child"/>
    <bpmn:boundaryEvent id="heads_up" attachedToRef="call" cancelActivity="false"><bpmn:escalationEventDefinition/></bpmn:boundaryEvent>
    <bpmn:userTask id="inform_manager"/><bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f1" sourceRef="call" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="heads_up" targetRef="inform_manager"/>
""",
    process_id="esc_parent",
)

ESC_CHILD = wrap(
    """
    <bpmn:startEvent id="cs"/>
    <bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="late"/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="keep_working"/>
    <bpmn:sequenceFlow id="c0" sourceRef="cs" targetRef="raise"/>
    <bpmn:sequenceFlow id="c1" sourceRef="raise" targetRef="keep_working"/>
""",
    process_id="esc_child",
    extra='<bpmn:escalation id="late" escalationCode="LATE"/>',
)


def test_uncaught_child_escalation_reaches_the_call_activity(make) -> None:
    engine = make(ESC_PARENT, ESC_CHILD)
    parent = engine.start("esc_parent")
    assert sorted(w.el for w in engine.work_items()) == ["inform_manager", "keep_working"]
    assert engine.get(parent.id).tokens, "the call activity keeps waiting for its child"
