# ruff: noqa: E501
"""Terminate end events end the whole scope; link events jump within a process."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

TERMINATE = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="slow"/>
    <bpmn:task id="fast"/>
    <bpmn:endEvent id="kill"><bpmn:terminateEventDefinition/></bpmn:endEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="slow"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="fast"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fast" targetRef="kill"/>
    <bpmn:sequenceFlow id="f4" sourceRef="slow" targetRef="e"/>
""")

LINK = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="page2"/></bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="land"><bpmn:linkEventDefinition name="page2"/></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="continue"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="go"/>
    <bpmn:sequenceFlow id="f1" sourceRef="land" targetRef="continue"/>
""")


def test_terminate_end_event_stops_other_branches(make) -> None:
    engine = make(TERMINATE)
    state = engine.start("p")
    assert state.status == "completed"
    assert state.work == {} and state.tokens == {}
    assert [e.element_id for e in engine.events if e.type == "element_terminated"] == ["slow"]


def test_link_event_jumps(make) -> None:
    engine = make(LINK)
    state = engine.start("p")
    assert [w.el for w in engine.work_items(state.id)] == ["continue"]
