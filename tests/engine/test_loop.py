# ruff: noqa: E501
"""Standard loop: repeat while the loop condition holds, bounded by loopMaximum."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="ask">
      <bpmn:standardLoopCharacteristics loopMaximum="3"><bpmn:loopCondition>not(answered)</bpmn:loopCondition></bpmn:standardLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="ask"/>
    <bpmn:sequenceFlow id="f1" sourceRef="ask" targetRef="after"/>
""")


def test_loops_until_condition_fails(make) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"answered": False})
    assert [w.el for w in engine.work_items(state.id)] == ["ask"]
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"answered": True})
    assert [w.el for w in engine.work_items(state.id)] == ["after"]


def test_loop_maximum_bounds_the_repetitions(make) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    for _ in range(3):
        state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"answered": False})
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    asks = [e for e in engine.events if e.element_id == "ask" and e.type == "element_activated"]
    assert len(asks) == 3
