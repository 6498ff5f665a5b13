# ruff: noqa: E501
"""Basic compensation: a compensation throw runs handlers of completed activities, newest first."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:task id="book_hotel"/>
    <bpmn:boundaryEvent id="cb_hotel" attachedToRef="book_hotel"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    <bpmn:userTask id="cancel_hotel" isForCompensation="true"/>
    <bpmn:task id="book_flight"/>
    <bpmn:boundaryEvent id="cb_flight" attachedToRef="book_flight"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    <bpmn:scriptTask id="cancel_flight" isForCompensation="true" scriptFormat="feel" camunda:resultVariable="flight_cancelled"><bpmn:script>true</bpmn:script></bpmn:scriptTask>
    <bpmn:intermediateThrowEvent id="undo"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="book_hotel"/>
    <bpmn:sequenceFlow id="f1" sourceRef="book_hotel" targetRef="book_flight"/>
    <bpmn:sequenceFlow id="f2" sourceRef="book_flight" targetRef="undo"/>
    <bpmn:sequenceFlow id="f3" sourceRef="undo" targetRef="after"/>
    <bpmn:association id="a1" associationDirection="One" sourceRef="cb_hotel" targetRef="cancel_hotel"/>
    <bpmn:association id="a2" associationDirection="One" sourceRef="cb_flight" targetRef="cancel_flight"/>
""")


def test_throw_waits_for_handlers_then_continues(make) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    assert state.vars["flight_cancelled"] is True
    assert [w.el for w in engine.work_items(state.id)] == ["cancel_hotel"]
    order = [e.element_id for e in engine.events if e.type == "element_activated"]
    assert order.index("cancel_flight") < order.index("cancel_hotel"), "newest first"
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert state.comp == []


IN_ESP = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:task id="reserve"/>
    <bpmn:boundaryEvent id="cb" attachedToRef="reserve"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    <bpmn:scriptTask id="release" isForCompensation="true" scriptFormat="feel" camunda:resultVariable="released"><bpmn:script>true</bpmn:script></bpmn:scriptTask>
    <bpmn:serviceTask id="charge"><bpmn:extensionElements><zeebe:taskDefinition type="charge"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="reserve"/>
    <bpmn:sequenceFlow id="f1" sourceRef="reserve" targetRef="charge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="e"/>
    <bpmn:association id="a1" sourceRef="cb" targetRef="release"/>
    <bpmn:subProcess id="on_error" triggeredByEvent="true">
      <bpmn:startEvent id="es"><bpmn:errorEventDefinition/></bpmn:startEvent>
      <bpmn:endEvent id="undo_all"><bpmn:compensateEventDefinition/></bpmn:endEvent>
      <bpmn:sequenceFlow id="e0" sourceRef="es" targetRef="undo_all"/>
    </bpmn:subProcess>
""")


def test_compensation_from_an_error_event_subprocess(make) -> None:
    from flowdesk.engine.errors import BpmnError

    def charge(call):
        raise BpmnError("DECLINED")

    engine = make(IN_ESP, handlers={"charge": charge})
    state = engine.start("p")
    assert state.vars.get("released") is True
    assert state.status == "completed"
