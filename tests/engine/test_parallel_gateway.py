"""Parallel gateway fork and join."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:task id="c"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:userTask id="after"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
    <bpmn:sequenceFlow id="fa" sourceRef="fork" targetRef="a"/>
    <bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="b"/>
    <bpmn:sequenceFlow id="fc" sourceRef="fork" targetRef="c"/>
    <bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="join"/>
    <bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="join"/>
    <bpmn:sequenceFlow id="fc2" sourceRef="c" targetRef="join"/>
    <bpmn:sequenceFlow id="f1" sourceRef="join" targetRef="after"/>
    <bpmn:sequenceFlow id="f2" sourceRef="after" targetRef="e"/>
""")


def test_join_waits_for_every_branch(make) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    items = {w.el: w.id for w in engine.work_items(state.id)}
    assert sorted(items) == ["a", "b"]
    state = engine.complete_work_item(items["a"])
    assert sorted(w.el for w in engine.work_items(state.id)) == ["b"]
    assert sorted(t.wait for t in state.tokens.values()) == ["join", "join", "task"]
    state = engine.complete_work_item(items["b"])
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert len(state.tokens) == 1
    joins = [e for e in engine.events if e.element_id == "join" and e.type == "element_completed"]
    assert len(joins) == 1
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.status == "completed"
