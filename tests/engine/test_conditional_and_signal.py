# ruff: noqa: E501
"""Conditional catch events wait for variables; signals reach every waiting instance."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

CONDITIONAL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="until_paid"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">paid = true</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="until_paid"/>
    <bpmn:sequenceFlow id="f1" sourceRef="until_paid" targetRef="after"/>
""")

SIGNAL = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="wait"/>
    <bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="after"/>
""",
    extra='<bpmn:signal id="sig" name="outage-over"/>',
)


def test_conditional_event_fires_when_variables_make_it_true(make) -> None:
    engine = make(CONDITIONAL)
    state = engine.start("p", {"paid": False})
    assert [s.kind for s in state.subs.values()] == ["conditional"]
    state = engine.set_variables(state.id, {"paid": True})
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert state.subs == {}


def test_conditional_already_true_passes_through(make) -> None:
    engine = make(CONDITIONAL)
    state = engine.start("p", {"paid": True})
    assert [w.el for w in engine.work_items(state.id)] == ["after"]


def test_signal_broadcast_reaches_all_instances(make) -> None:
    engine = make(SIGNAL)
    first = engine.start("p")
    second = engine.start("p")
    engine.broadcast_signal("outage-over", {"note": "ok"})
    for instance in (first, second):
        assert [w.el for w in engine.work_items(instance.id)] == ["after"]
        assert engine.get(instance.id).vars["note"] == "ok"
