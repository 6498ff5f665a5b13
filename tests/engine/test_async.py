# ruff: noqa: E501
"""asyncBefore/asyncAfter: the command stops at a job the runtime executes later."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:scriptTask id="heavy" scriptFormat="feel" camunda:resultVariable="x" camunda:asyncBefore="true" camunda:asyncAfter="true"><bpmn:script>1 + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="heavy"/>
    <bpmn:sequenceFlow id="f1" sourceRef="heavy" targetRef="after"/>
""")


def test_async_before_and_after_create_jobs(make) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    assert [j.kind for j in state.jobs.values()] == ["async"]
    assert "x" not in state.vars
    assert engine.run_jobs() == 2
    state = engine.get(state.id)
    assert state.vars["x"] == 2
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
