# ruff: noqa: E501
"""Compensating completed subprocesses (BPMN 2.0 10.5.6): a throw in the parent undoes what
completed inside, through the subprocess' compensation event subprocess or else through the
handlers of its inner activities, newest first; multi-instance and loop activities are undone
instance by instance. Every scenario also runs with the state stored as JSON and read back after
each command (the ``make`` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowdesk.bpmn.errors import BpmnModelError
from flowdesk.bpmn.parser import parse_bpmn
from flowdesk.engine.testing import wrap


def log(engine: Any, kind: str, ids: set[str]) -> list[str]:
    """Element ids of ``element_<kind>`` events for the given elements, in log order."""
    return [
        e.element_id for e in engine.events if e.type == f"element_{kind}" and e.element_id in ids
    ]


def undo(result: str, value: str) -> str:
    """A FEEL script handler appending ``value`` to the instance list ``undone``."""
    return f'<bpmn:scriptTask id="{result}" isForCompensation="true" scriptFormat="feel" camunda:resultVariable="undone"><bpmn:script>append(undone, {value})</bpmn:script></bpmn:scriptTask>'


def snapshot_scopes(state: Any) -> list[str]:
    return [s.kind for s in state.scopes.values() if s.kind.startswith("comp")]


# -- a completed subprocess, undone through its inner handlers ------------------------------
TRIP = wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="book">
      <bpmn:extensionElements><zeebe:ioMapping><zeebe:input source="=null" target="hotel_ref"/></zeebe:ioMapping></bpmn:extensionElements>
      <bpmn:startEvent id="bs"/>
      <bpmn:scriptTask id="hotel" scriptFormat="feel" camunda:resultVariable="hotel_ref"><bpmn:script>"H-" + trip</bpmn:script></bpmn:scriptTask>
      <bpmn:boundaryEvent id="hotel_cb" attachedToRef="hotel"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      {undo("cancel_hotel", "hotel_ref")}
      <bpmn:userTask id="flight"/>
      <bpmn:boundaryEvent id="flight_cb" attachedToRef="flight"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      <bpmn:userTask id="cancel_flight" isForCompensation="true"/>
      <bpmn:task id="note"/>
      <bpmn:endEvent id="be"/>
      <bpmn:sequenceFlow id="b0" sourceRef="bs" targetRef="hotel"/>
      <bpmn:sequenceFlow id="b1" sourceRef="hotel" targetRef="flight"/>
      <bpmn:sequenceFlow id="b2" sourceRef="flight" targetRef="note"/>
      <bpmn:sequenceFlow id="b3" sourceRef="note" targetRef="be"/>
      <bpmn:association id="ba1" associationDirection="One" sourceRef="hotel_cb" targetRef="cancel_hotel"/>
      <bpmn:association id="ba2" associationDirection="One" sourceRef="flight_cb" targetRef="cancel_flight"/>
    </bpmn:subProcess>
    <bpmn:scriptTask id="insure" scriptFormat="feel" camunda:resultVariable="insured"><bpmn:script>true</bpmn:script></bpmn:scriptTask>
    <bpmn:boundaryEvent id="insure_cb" attachedToRef="insure"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    {undo("cancel_insurance", '"insurance"')}
    <bpmn:userTask id="pay"/>
    <bpmn:exclusiveGateway id="paid" default="ok"/>
    <bpmn:intermediateThrowEvent id="undo_all"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
    <bpmn:intermediateThrowEvent id="undo_booking"><bpmn:compensateEventDefinition activityRef="book"/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="after"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="book"/>
    <bpmn:sequenceFlow id="f1" sourceRef="book" targetRef="insure"/>
    <bpmn:sequenceFlow id="f2" sourceRef="insure" targetRef="pay"/>
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="paid"/>
    <bpmn:sequenceFlow id="all" sourceRef="paid" targetRef="undo_all"><bpmn:conditionExpression>outcome = "all"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="only" sourceRef="paid" targetRef="undo_booking"><bpmn:conditionExpression>outcome = "booking"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="ok" sourceRef="paid" targetRef="e"/>
    <bpmn:sequenceFlow id="f4" sourceRef="undo_all" targetRef="after"/>
    <bpmn:sequenceFlow id="f5" sourceRef="undo_booking" targetRef="after"/>
    <bpmn:association id="a1" associationDirection="One" sourceRef="insure_cb" targetRef="cancel_insurance"/>
""")
HANDLERS = {"cancel_hotel", "cancel_flight", "cancel_insurance"}


def book_and_pay(engine: Any, outcome: str) -> Any:
    state = engine.start("p", {"trip": "T7", "undone": []})
    assert [w.el for w in engine.work_items(state.id)] == ["flight"]
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert [w.el for w in engine.work_items(state.id)] == ["pay"]
    assert "hotel_ref" not in state.vars, "the subprocess' variables stay in its snapshot"
    assert snapshot_scopes(state) == ["comp"]
    return engine.complete_work_item(engine.work_items(state.id)[0].id, {"outcome": outcome})


def test_throw_without_activity_ref_undoes_the_subprocess_inside_newest_first(make) -> None:
    engine = make(TRIP)
    state = book_and_pay(engine, "all")
    # insurance completed last, so it is undone first; then the subprocess' flight waits ...
    assert state.vars["undone"] == ["insurance"]
    assert [w.el for w in engine.work_items(state.id)] == ["cancel_flight"]
    assert log(engine, "activated", HANDLERS) == ["cancel_insurance", "cancel_flight"]
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    # ... and only then the hotel, seeing the subprocess' data as it was when it completed.
    assert state.vars["undone"] == ["insurance", "H-T7"]
    assert log(engine, "completed", HANDLERS) == [
        "cancel_insurance",
        "cancel_flight",
        "cancel_hotel",
    ]
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert state.comp == [] and snapshot_scopes(state) == []


def test_activity_ref_undoes_only_the_subprocess(make) -> None:
    engine = make(TRIP)
    state = book_and_pay(engine, "booking")
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.vars["undone"] == ["H-T7"]
    assert log(engine, "activated", HANDLERS) == ["cancel_flight", "cancel_hotel"]
    assert state.comp == [["insure", ""]], "the insurance can still be compensated"
    assert snapshot_scopes(state) == []
    engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert engine.get(state.id).status == "completed"


def test_nothing_is_kept_once_the_instance_ends(make) -> None:
    engine = make(TRIP)
    state = book_and_pay(engine, "none")
    assert state.status == "completed"
    assert state.comp == [] and state.scopes == {}
    assert log(engine, "activated", HANDLERS) == []


# -- a compensation event subprocess, a nested subprocess ------------------------------------
ESP = wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="order">
      <bpmn:startEvent id="os"/>
      <bpmn:subProcess id="reserve">
        <bpmn:startEvent id="rs"/>
        <bpmn:scriptTask id="stock" scriptFormat="feel" camunda:resultVariable="reserved"><bpmn:script>sku</bpmn:script></bpmn:scriptTask>
        <bpmn:boundaryEvent id="stock_cb" attachedToRef="stock"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
        {undo("release", '"released " + reserved')}
        <bpmn:endEvent id="re"/>
        <bpmn:sequenceFlow id="r0" sourceRef="rs" targetRef="stock"/>
        <bpmn:sequenceFlow id="r1" sourceRef="stock" targetRef="re"/>
        <bpmn:association id="ra" sourceRef="stock_cb" targetRef="release"/>
      </bpmn:subProcess>
      <bpmn:task id="confirm"/>
      <bpmn:boundaryEvent id="confirm_cb" attachedToRef="confirm"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      {undo("retract", '"retracted"')}
      <bpmn:endEvent id="oe"/>
      <bpmn:sequenceFlow id="o0" sourceRef="os" targetRef="reserve"/>
      <bpmn:sequenceFlow id="o1" sourceRef="reserve" targetRef="confirm"/>
      <bpmn:sequenceFlow id="o2" sourceRef="confirm" targetRef="oe"/>
      <bpmn:association id="oa" sourceRef="confirm_cb" targetRef="retract"/>
      <bpmn:subProcess id="order_undo" triggeredByEvent="true">
        <bpmn:startEvent id="us"><bpmn:compensateEventDefinition/></bpmn:startEvent>
        <bpmn:userTask id="tell_customer"/>
        <bpmn:endEvent id="ue"><bpmn:compensateEventDefinition/></bpmn:endEvent>
        <bpmn:sequenceFlow id="u0" sourceRef="us" targetRef="tell_customer"/>
        <bpmn:sequenceFlow id="u1" sourceRef="tell_customer" targetRef="ue"/>
      </bpmn:subProcess>
    </bpmn:subProcess>
    <bpmn:userTask id="ship"/>
    <bpmn:exclusiveGateway id="shipped" default="fine"/>
    <bpmn:endEvent id="fail"><bpmn:compensateEventDefinition activityRef="order"/></bpmn:endEvent>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="order"/>
    <bpmn:sequenceFlow id="f1" sourceRef="order" targetRef="ship"/>
    <bpmn:sequenceFlow id="f2" sourceRef="ship" targetRef="shipped"/>
    <bpmn:sequenceFlow id="lost" sourceRef="shipped" targetRef="fail"><bpmn:conditionExpression>lost</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="fine" sourceRef="shipped" targetRef="done"/>
""")


def test_compensation_event_subprocess_runs_and_compensates_inside(make) -> None:
    engine = make(ESP)
    state = engine.start("p", {"sku": "SKU-1", "undone": []})
    assert [w.el for w in engine.work_items(state.id)] == ["ship"]
    assert sorted(snapshot_scopes(state)) == ["comp", "comp"], "order and its inner reserve"
    assert log(engine, "activated", {"order_undo", "release", "retract"}) == []
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"lost": True})
    # The end event compensates 'order' through its event subprocess, which asks first.
    assert log(engine, "activated", {"order_undo", "us"}) == ["order_undo", "us"]
    assert [w.el for w in engine.work_items(state.id)] == ["tell_customer"]
    assert state.vars["undone"] == []
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    # Its own throw undoes 'confirm', then inside the completed 'reserve' (reserved = SKU-1).
    assert state.vars["undone"] == ["retracted", "released SKU-1"]
    assert log(engine, "completed", {"retract", "release", "order_undo", "fail"}) == [
        "retract",
        "release",
        "order_undo",
        "fail",
    ]
    assert state.status == "completed"
    assert state.comp == [] and state.scopes == {}


def test_without_a_throw_the_event_subprocess_never_runs(make) -> None:
    engine = make(ESP)
    state = engine.start("p", {"sku": "SKU-1", "undone": []})
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"lost": False})
    assert state.status == "completed" and state.vars["undone"] == []
    assert log(engine, "activated", {"order_undo", "tell_customer"}) == []


# -- multi-instance and loops ----------------------------------------------------------------
def multi(sequential: bool) -> str:
    return wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="ship_each">
      <bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">
        <bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=parcels" inputElement="parcel"/></bpmn:extensionElements>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:startEvent id="ms"/>
      <bpmn:userTask id="label"/>
      <bpmn:boundaryEvent id="label_cb" attachedToRef="label"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      {undo("void_label", 'parcel + "#" + string(loopCounter)')}
      <bpmn:endEvent id="me"/>
      <bpmn:sequenceFlow id="m0" sourceRef="ms" targetRef="label"/>
      <bpmn:sequenceFlow id="m1" sourceRef="label" targetRef="me"/>
      <bpmn:association id="ma" sourceRef="label_cb" targetRef="void_label"/>
    </bpmn:subProcess>
    <bpmn:scriptTask id="stamp" scriptFormat="feel" camunda:resultVariable="stamped">
      <bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>loopCounter</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:boundaryEvent id="stamp_cb" attachedToRef="stamp"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    {undo("unstamp", '"stamp " + string(loopCounter)')}
    <bpmn:userTask id="check"/>
    <bpmn:intermediateThrowEvent id="undo_all"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="ship_each"/>
    <bpmn:sequenceFlow id="f1" sourceRef="ship_each" targetRef="stamp"/>
    <bpmn:sequenceFlow id="f2" sourceRef="stamp" targetRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="undo_all"/>
    <bpmn:sequenceFlow id="f4" sourceRef="undo_all" targetRef="after"/>
    <bpmn:association id="sa" sourceRef="stamp_cb" targetRef="unstamp"/>
""")


def parcel_of(state: Any, token_id: str) -> str:
    scope = state.scopes[state.tokens[token_id].scope]  # the subprocess, inside the iteration
    return str(state.scopes[scope.parent].vars["parcel"])


def test_parallel_multi_instance_subprocess_is_undone_instance_by_instance(make) -> None:
    engine = make(multi(False))
    state = engine.start("p", {"parcels": ["a", "b", "c"], "undone": []})
    items = {parcel_of(state, w.token): w.id for w in engine.work_items(state.id)}
    for parcel in ("b", "c", "a"):  # completion order, not collection order
        state = engine.complete_work_item(items[parcel])
    assert [w.el for w in engine.work_items(state.id)] == ["check"]
    assert sorted(snapshot_scopes(state)) == ["comp"] * 3 + ["comp-mi"] * 5  # 3 parcels, 2 stamps
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.vars["undone"] == ["stamp 2", "stamp 1", "a#1", "c#3", "b#2"]
    assert (
        log(engine, "activated", {"void_label", "unstamp"}) == ["unstamp"] * 2 + ["void_label"] * 3
    )
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert state.comp == [] and snapshot_scopes(state) == []


def test_sequential_multi_instance_is_undone_in_reverse(make) -> None:
    engine = make(multi(True))
    state = engine.start("p", {"parcels": ["x", "y"], "undone": []})
    for _ in range(2):
        state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.vars["undone"] == ["stamp 2", "stamp 1", "y#2", "x#1"]


LOOP = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:scriptTask id="charge" scriptFormat="feel" camunda:resultVariable="charges">
      <bpmn:standardLoopCharacteristics loopMaximum="3"><bpmn:loopCondition>true</bpmn:loopCondition></bpmn:standardLoopCharacteristics>
      <bpmn:script>charges + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:boundaryEvent id="charge_cb" attachedToRef="charge"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    <bpmn:scriptTask id="refund" isForCompensation="true" scriptFormat="feel" camunda:resultVariable="charges"><bpmn:script>charges - 1</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="check"/>
    <bpmn:endEvent id="e"><bpmn:compensateEventDefinition activityRef="charge"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="charge"/>
    <bpmn:sequenceFlow id="f1" sourceRef="charge" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="e"/>
    <bpmn:association id="a" sourceRef="charge_cb" targetRef="refund"/>
""")


def test_each_loop_iteration_is_compensated(make) -> None:
    engine = make(LOOP)
    state = engine.start("p", {"charges": 0})
    assert state.vars["charges"] == 3
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.vars["charges"] == 0
    assert log(engine, "completed", {"refund"}) == ["refund"] * 3
    assert state.status == "completed"


# -- what is not compensated -----------------------------------------------------------------
INTERRUPTED = wrap(
    f"""
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="work">
      <bpmn:startEvent id="ws"/>
      <bpmn:task id="step"/>
      <bpmn:boundaryEvent id="step_cb" attachedToRef="step"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      {undo("unstep", '"step"')}
      <bpmn:userTask id="wait"/>
      <bpmn:endEvent id="we"/>
      <bpmn:sequenceFlow id="w0" sourceRef="ws" targetRef="step"/>
      <bpmn:sequenceFlow id="w1" sourceRef="step" targetRef="wait"/>
      <bpmn:sequenceFlow id="w2" sourceRef="wait" targetRef="we"/>
      <bpmn:association id="wa" sourceRef="step_cb" targetRef="unstep"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="stop" attachedToRef="work"><bpmn:messageEventDefinition messageRef="m"/></bpmn:boundaryEvent>
    <bpmn:intermediateThrowEvent id="undo_all"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="after"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
    <bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="stop" targetRef="undo_all"/>
    <bpmn:sequenceFlow id="f3" sourceRef="undo_all" targetRef="after"/>
""",
    extra='<bpmn:message id="m" name="stop"/>',
)


def test_an_interrupted_subprocess_is_not_compensated(make) -> None:
    engine = make(INTERRUPTED)
    state = engine.start("p", {"undone": []})
    assert state.comp != [], "the inner step is compensable while the subprocess runs"
    engine.correlate_message("stop")
    state = engine.get(state.id)
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert state.vars["undone"] == [] and state.comp == []
    assert log(engine, "activated", {"unstep"}) == []


def test_handlers_stop_when_the_waiting_throw_is_terminated(make) -> None:
    """A throw inside a subprocess that a message interrupts: its running handler (a user
    task living in the completed subprocess' snapshot) is terminated with it."""
    model = wrap(
        """
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="trip">
      <bpmn:startEvent id="ts"/>
      <bpmn:subProcess id="book">
        <bpmn:startEvent id="bs"/>
        <bpmn:task id="seat"/>
        <bpmn:boundaryEvent id="seat_cb" attachedToRef="seat"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
        <bpmn:userTask id="free_seat" isForCompensation="true"/>
        <bpmn:endEvent id="be"/>
        <bpmn:sequenceFlow id="b0" sourceRef="bs" targetRef="seat"/>
        <bpmn:sequenceFlow id="b1" sourceRef="seat" targetRef="be"/>
        <bpmn:association id="ba" sourceRef="seat_cb" targetRef="free_seat"/>
      </bpmn:subProcess>
      <bpmn:endEvent id="te"><bpmn:compensateEventDefinition/></bpmn:endEvent>
      <bpmn:sequenceFlow id="t0" sourceRef="ts" targetRef="book"/>
      <bpmn:sequenceFlow id="t1" sourceRef="book" targetRef="te"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="stop" attachedToRef="trip"><bpmn:messageEventDefinition messageRef="m"/></bpmn:boundaryEvent>
    <bpmn:userTask id="after"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="trip"/>
    <bpmn:sequenceFlow id="f1" sourceRef="trip" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="stop" targetRef="after"/>
    """,
        extra='<bpmn:message id="m" name="stop"/>',
    )
    engine = make(model)
    state = engine.start("p")
    assert [w.el for w in engine.work_items(state.id)] == ["free_seat"]
    engine.correlate_message("stop")
    state = engine.get(state.id)
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert log(engine, "terminated", {"free_seat", "te", "trip"}) == ["free_seat", "te", "trip"]
    assert state.comp == [] and snapshot_scopes(state) == []
    assert set(state.tokens) == {w.token for w in engine.work_items(state.id)}


# -- a model as Camunda Modeler writes it ----------------------------------------------------
TRIP_FILE = Path(__file__).parents[1] / "data" / "bpmn" / "trip_compensation.bpmn"
TRIP_HANDLERS = {"Activity_CancelHotel", "Activity_CancelFlight"}


def external_job(state: Any, topic: str) -> str:
    (job,) = [j.id for j in state.jobs.values() if j.kind == "external" and j.topic == topic]
    return str(job)


def test_camunda_modeler_trip_is_compensated_when_payment_fails(make) -> None:
    engine = make(TRIP_FILE.read_text(encoding="utf-8"))
    state = engine.start("Process_Trip")
    state = engine.complete_external_task(external_job(state, "hotel-reserve"), {"hotel": "HB-1"})
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert [w.el for w in engine.work_items(state.id)] == ["Activity_TakePayment"]
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"paid": False})
    # Newest first: the flight (a user task for the travel desk) ...
    (cancel,) = engine.work_items(state.id)
    assert (cancel.el, cancel.candidate_groups) == ("Activity_CancelFlight", ["travel-desk"])
    assert not [j for j in state.jobs.values() if j.topic == "hotel-cancel"]
    state = engine.complete_work_item(cancel.id)
    # ... then the hotel, through an external worker.
    state = engine.complete_external_task(external_job(state, "hotel-cancel"))
    assert state.status == "completed"
    assert log(engine, "activated", TRIP_HANDLERS) == [
        "Activity_CancelFlight",
        "Activity_CancelHotel",
    ]
    assert log(engine, "completed", TRIP_HANDLERS | {"Event_TripCancelled"}) == [
        "Activity_CancelFlight",
        "Activity_CancelHotel",
        "Event_TripCancelled",
    ]


def test_camunda_modeler_trip_paid_needs_no_compensation(make) -> None:
    engine = make(TRIP_FILE.read_text(encoding="utf-8"))
    state = engine.start("Process_Trip")
    state = engine.complete_external_task(external_job(state, "hotel-reserve"))
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"paid": True})
    assert state.status == "completed"
    assert log(engine, "activated", TRIP_HANDLERS) == []


# -- compensation forms the engine does not run: refused at deploy --------------------------
def refused(body: str) -> list[str]:
    with pytest.raises(BpmnModelError) as info:
        parse_bpmn(wrap(body), filename="model.bpmn")
    return [f"{e.message} | {e.hint}" for e in info.value.errors]


PLAIN = """
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="ss"/>
      <bpmn:task id="inner"/>
      <bpmn:boundaryEvent id="inner_cb" attachedToRef="inner"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      <bpmn:task id="undo_inner" isForCompensation="true"/>
      <bpmn:sequenceFlow id="i0" sourceRef="ss" targetRef="inner"/>
      <bpmn:association id="ia" sourceRef="inner_cb" targetRef="undo_inner"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f1" sourceRef="sub" targetRef="throw"/>
    {throw}
    {extra}
"""


def test_activity_ref_into_a_subprocess_is_refused() -> None:
    body = PLAIN.format(
        throw='<bpmn:endEvent id="throw"><bpmn:compensateEventDefinition activityRef="inner"/></bpmn:endEvent>',
        extra="",
    )
    (problem,) = refused(body)
    assert problem.startswith(
        "compensate activityRef 'inner' is not in the same (sub)process as 'throw'"
    )
    assert "refer to the subprocess" in problem


def test_activity_ref_to_a_non_activity_is_refused() -> None:
    body = PLAIN.format(
        throw='<bpmn:endEvent id="throw"><bpmn:compensateEventDefinition activityRef="s"/></bpmn:endEvent>',
        extra="",
    )
    assert refused(body)[0].startswith("compensate activityRef 's' is a startEvent")


def test_not_waiting_for_completion_is_refused() -> None:
    body = PLAIN.format(
        throw='<bpmn:endEvent id="throw"><bpmn:compensateEventDefinition waitForCompletion="false"/></bpmn:endEvent>',
        extra="",
    )
    (problem,) = refused(body)
    assert 'waitForCompletion="false"' in problem and "remove the attribute" in problem


def test_compensation_event_subprocess_at_process_level_is_refused() -> None:
    esp = """<bpmn:subProcess id="top_undo" triggeredByEvent="true">
      <bpmn:startEvent id="ts"><bpmn:compensateEventDefinition/></bpmn:startEvent>
      <bpmn:endEvent id="te"/><bpmn:sequenceFlow id="t0" sourceRef="ts" targetRef="te"/>
    </bpmn:subProcess>"""
    body = PLAIN.format(throw='<bpmn:endEvent id="throw"/>', extra=esp)
    (problem,) = refused(body)
    assert problem.startswith(
        "compensation event subprocess 'top_undo' is not inside an embedded subProcess"
    )


def test_handler_wired_with_sequence_flows_is_refused() -> None:
    body = PLAIN.format(
        throw='<bpmn:endEvent id="throw"/>',
        extra='<bpmn:task id="h" isForCompensation="true"/><bpmn:boundaryEvent id="sub_cb" attachedToRef="sub"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
        '<bpmn:association id="ha" sourceRef="sub_cb" targetRef="h"/><bpmn:endEvent id="he"/><bpmn:sequenceFlow id="hf" sourceRef="h" targetRef="he"/>',
    )
    assert any(p.startswith("compensation handler 'h' has sequence flows") for p in refused(body))


def test_boundary_associated_with_a_plain_activity_is_refused() -> None:
    body = PLAIN.format(
        throw='<bpmn:endEvent id="throw"/>',
        extra='<bpmn:task id="h"/><bpmn:boundaryEvent id="sub_cb" attachedToRef="sub"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
        '<bpmn:association id="ha" sourceRef="sub_cb" targetRef="h"/>',
    )
    (problem,) = refused(body)
    assert problem.startswith(
        "compensation boundary 'sub_cb' is associated with task 'h', which is not a compensation handler"
    )


def test_subprocess_with_two_compensation_handlers_is_refused() -> None:
    body = PLAIN.replace(
        "</bpmn:subProcess>",
        """<bpmn:subProcess id="sub_undo" triggeredByEvent="true">
        <bpmn:startEvent id="us"><bpmn:compensateEventDefinition/></bpmn:startEvent>
        <bpmn:endEvent id="ue"/><bpmn:sequenceFlow id="u0" sourceRef="us" targetRef="ue"/>
      </bpmn:subProcess></bpmn:subProcess>""",
        1,
    ).format(
        throw='<bpmn:endEvent id="throw"/>',
        extra='<bpmn:task id="h" isForCompensation="true"/><bpmn:boundaryEvent id="sub_cb" attachedToRef="sub"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
        '<bpmn:association id="ha" sourceRef="sub_cb" targetRef="h"/>',
    )
    (problem,) = refused(body)
    assert problem.startswith(
        "subProcess 'sub' has both a compensation boundary event and a compensation event subprocess"
    )


def test_the_supported_forms_deploy() -> None:
    body = PLAIN.format(
        throw='<bpmn:endEvent id="throw"><bpmn:compensateEventDefinition activityRef="sub"/></bpmn:endEvent>',
        extra="",
    )
    assert "p" in parse_bpmn(wrap(body)).processes
