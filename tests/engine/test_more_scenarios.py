# ruff: noqa: E501
"""Further scenarios: timers on subprocesses, escalation to event subprocesses, incidents that
are fixed and retried, boundaries on multi-instance bodies, cycle-timer event subprocesses."""

from __future__ import annotations

from flowdesk.engine.testing import cond, wrap

SUB_TIMER = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="ss"/>
      <bpmn:userTask id="a"/>
      <bpmn:sequenceFlow id="i0" sourceRef="ss" targetRef="a"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="late" attachedToRef="sub"><bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:userTask id="escalate"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f1" sourceRef="late" targetRef="escalate"/>
""")


def test_interrupting_timer_on_subprocess_terminates_its_content(make, clock) -> None:
    engine = make(SUB_TIMER)
    state = engine.start("p")
    clock.advance(days=1)
    assert engine.fire_due_timers() == 1
    state = engine.get(state.id)
    assert [w.el for w in engine.work_items(state.id)] == ["escalate"]
    assert sorted(e.element_id or "" for e in engine.events if e.type == "element_terminated") == [
        "a",
        "sub",
    ]
    assert state.scopes == {}


ESCALATE_ESP = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="work"/>
    <bpmn:endEvent id="esc_end"><bpmn:escalationEventDefinition escalationRef="e"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
    <bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="esc_end"/>
    <bpmn:subProcess id="handler" triggeredByEvent="true">
      <bpmn:startEvent id="hs"><bpmn:escalationEventDefinition escalationRef="e"/></bpmn:startEvent>
      <bpmn:userTask id="manager"/>
      <bpmn:sequenceFlow id="h0" sourceRef="hs" targetRef="manager"/>
    </bpmn:subProcess>
""",
    extra='<bpmn:escalation id="e" escalationCode="NEEDS_MANAGER"/>',
)


def test_escalation_end_event_starts_event_subprocess(make) -> None:
    engine = make(ESCALATE_ESP)
    state = engine.start("p")
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert [w.el for w in engine.work_items(state.id)] == ["manager"]
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.status == "completed"


GATEWAY = wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:exclusiveGateway id="g" default="other"/>
    <bpmn:userTask id="big"/><bpmn:userTask id="small"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="big">{cond("amount > 100")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="other" sourceRef="g" targetRef="small"/>
""")


def test_incident_fixed_by_setting_variables_then_resolved(make) -> None:
    engine = make(GATEWAY)
    state = engine.start("p")
    incident = next(iter(state.incidents.values()))
    assert incident.el == "g"
    engine.set_variables(state.id, {"amount": 500})
    state = engine.engine.resolve_incident(engine.get(state.id), incident.id).state
    assert state.incidents == {}
    assert [t.el for t in state.tokens.values()] == ["big"]


MI_BOUNDARY = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="vote"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
    <bpmn:boundaryEvent id="timeout" attachedToRef="vote"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:userTask id="after"/><bpmn:userTask id="too_late"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="vote"/>
    <bpmn:sequenceFlow id="f1" sourceRef="vote" targetRef="after"/>
    <bpmn:sequenceFlow id="f2" sourceRef="timeout" targetRef="too_late"/>
""")


def test_boundary_on_multi_instance_interrupts_all_iterations(make, clock) -> None:
    engine = make(MI_BOUNDARY)
    state = engine.start("p")
    assert len(engine.work_items(state.id)) == 3
    assert len(state.jobs) == 1, "one timer for the whole multi-instance body"
    engine.complete_work_item(engine.work_items(state.id)[0].id)
    clock.advance(hours=1)
    engine.fire_due_timers()
    state = engine.get(state.id)
    assert [w.el for w in engine.work_items(state.id)] == ["too_late"]
    assert state.scopes == {}


CYCLE_ESP = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="work"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
    <bpmn:subProcess id="nag" triggeredByEvent="true">
      <bpmn:startEvent id="ns" isInterrupting="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>
      <bpmn:scriptTask id="count" scriptFormat="feel" camunda:resultVariable="reminders"><bpmn:script>if reminders = null then 1 else reminders + 1</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="n0" sourceRef="ns" targetRef="count"/>
    </bpmn:subProcess>
""")


def test_cycle_timer_event_subprocess_repeats_then_stops(make, clock) -> None:
    engine = make(CYCLE_ESP)
    state = engine.start("p", {"reminders": None})
    for _ in range(3):
        clock.advance(hours=1)
        engine.fire_due_timers()
    state = engine.get(state.id)
    assert state.vars["reminders"] == 2
    assert state.jobs == {}
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.status == "completed"


LEAVING = wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="check"/>
    <bpmn:userTask id="yes"/><bpmn:userTask id="no"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="check"/>
    <bpmn:sequenceFlow id="f1" sourceRef="check" targetRef="yes">{cond("ok")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="no">{cond("not(ok)")}</bpmn:sequenceFlow>
""")


def test_incident_while_leaving_is_retried_without_redoing_the_task(make) -> None:
    engine = make(LEAVING)
    state = engine.start("p")
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"other": 1})
    incident = next(iter(state.incidents.values()))
    assert incident.el == "check" and engine.work_items(state.id) == []
    engine.set_variables(state.id, {"ok": False})
    state = engine.engine.resolve_incident(engine.get(state.id), incident.id).state
    assert [t.el for t in state.tokens.values()] == ["no"]
    created = [
        e for e in engine.events if e.type == "element_activated" and e.element_id == "check"
    ]
    assert len(created) == 1
