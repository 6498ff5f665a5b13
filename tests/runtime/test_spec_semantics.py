# ruff: noqa: E501
"""Execution semantics from the words of BPMN 2.0 (chapter 10 and 13), on the runtime a user
embeds (the in-memory store, `sqlite://`): each test quotes the sentence it checks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.api.test_service_api import DISCOUNT_DMN, RULES

from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import ModelError
from flowdesk.engine.memory import MemoryEngine
from flowdesk.engine.testing import cond, wrap
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository


def runtime_with(*files: tuple[str, str]) -> tuple[ProcessRuntime, FixedClock]:
    store = Store.open("sqlite://")
    store.upgrade()
    clock = FixedClock()
    runtime = ProcessRuntime(store, clock=clock)
    runtime.deploy("spec", [(name, text.encode()) for name, text in files])
    return runtime, clock


def instances_of(runtime: ProcessRuntime, key: str) -> list[dict[str, Any]]:
    with runtime.store.reading() as conn:
        return ProcessRepository(conn).instances(process_key=key)


def waiting(runtime: ProcessRuntime, instance_id: str) -> list[str]:
    return sorted(w["element_id"] for w in runtime.work_items(instance_id=instance_id))


def test_a_business_rule_task_on_the_in_memory_store() -> None:
    """10.3.3: "A Business Rule Task provides a mechanism for the Process to provide input to a
    Business Rules Engine and to get the output of calculations" -- inside the command's own
    transaction (an in-memory SQLite has one connection: no second transaction on it)."""
    runtime, _ = runtime_with(
        ("discount.dmn", DISCOUNT_DMN.replace("RATE", "0.2")), ("o.bpmn", RULES)
    )
    state = runtime.start("offer", {"segment": "gold"})
    assert not state.incidents
    assert runtime.instance(state.id).vars["discount"] == Decimal("0.2")
    assert waiting(runtime, state.id) == ["make_offer"]


TIMERS = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDuration>=duration("PT0.25S")</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="work"/>
    <bpmn:boundaryEvent id="late" attachedToRef="work"><bpmn:timerEventDefinition><bpmn:timeDuration>=duration("PT0.25S") * 2</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:userTask id="escalated"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="pause"/>
    <bpmn:sequenceFlow id="f1" sourceRef="pause" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="e"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalated"/>
    """,
    process_id="timers",
)


def test_timer_expressions_that_evaluate_to_a_duration() -> None:
    """10.5.5: "timeDuration ... an expression ... the return type ... is a duration" -- a FEEL
    duration value is a timer, on an intermediate and on a boundary event."""
    runtime, clock = runtime_with(("t.bpmn", TIMERS))
    state = runtime.start("timers")
    assert not state.incidents and waiting(runtime, state.id) == []
    clock.advance(timedelta(milliseconds=250))
    assert runtime.run_due_jobs() == 1
    assert waiting(runtime, state.id) == ["work"]
    clock.advance(timedelta(milliseconds=400))
    assert runtime.run_due_jobs() == 0  # the boundary is due 0.5 s after work began
    clock.advance(timedelta(milliseconds=100))
    assert runtime.run_due_jobs() == 1
    assert waiting(runtime, state.id) == ["escalated"]
    assert not runtime.instance(state.id).incidents


CONDITIONAL = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="until_paid"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">amount &gt; 100</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="ship"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="until_paid"/>
    <bpmn:sequenceFlow id="f1" sourceRef="until_paid" targetRef="ship"/>
    """,
    process_id="conditional",
)


def test_a_conditional_event_on_a_variable_not_yet_set_waits() -> None:
    """10.5.4: "the Event is triggered when the condition becomes true" -- a condition on a
    variable that does not exist yet (`amount > 100` before `amount` is set) is not true: the
    event waits, no incident."""
    runtime, _ = runtime_with(("c.bpmn", CONDITIONAL))
    state = runtime.start("conditional")
    assert not state.incidents and state.status == "active"
    assert [s.kind for s in runtime.instance(state.id).subs.values()] == ["conditional"]
    runtime.set_variables(state.id, {"amount": 50})
    assert waiting(runtime, state.id) == []
    runtime.set_variables(state.id, {"amount": 150})
    assert waiting(runtime, state.id) == ["ship"]


SIGNAL_ESP = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review"/>
    <bpmn:intermediateThrowEvent id="raise_alarm"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="wait_here"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="raise_alarm"/>
    <bpmn:sequenceFlow id="f2" sourceRef="raise_alarm" targetRef="wait_here"/>
    <bpmn:subProcess id="on_alarm" triggeredByEvent="true">
      <bpmn:startEvent id="alarm_start" isInterrupting="false"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:startEvent>
      <bpmn:userTask id="handle_alarm"/>
      <bpmn:endEvent id="alarm_end"/>
      <bpmn:sequenceFlow id="a0" sourceRef="alarm_start" targetRef="handle_alarm"/>
      <bpmn:sequenceFlow id="a1" sourceRef="handle_alarm" targetRef="alarm_end"/>
    </bpmn:subProcess>
    """,
    process_id="alarm",
    extra='<bpmn:signal id="sig" name="alarm"/>',
)


def test_a_signal_thrown_inside_an_instance_starts_its_own_event_sub_process() -> None:
    """10.5.1: a signal "is broadcast to any Process that can receive it" -- the throwing
    instance included: its own signal event sub-process starts."""
    runtime, _ = runtime_with(
        ("a.bpmn", SIGNAL_ESP),
        (
            "b.bpmn",
            SIGNAL_ESP.replace('id="alarm"', 'id="alarm_then_end"').replace(
                '<bpmn:userTask id="wait_here"/>', '<bpmn:endEvent id="wait_here"/>'
            ),
        ),
    )
    state = runtime.start("alarm")
    item = runtime.work_items(instance_id=state.id)[0]
    runtime.complete_work_item(item["id"], {})
    assert waiting(runtime, state.id) == ["handle_alarm", "wait_here"]
    # the thrower's next step ends the main flow: the signal was thrown while it still ran
    ending = runtime.start("alarm_then_end")
    item = runtime.work_items(instance_id=ending.id)[0]
    runtime.complete_work_item(item["id"], {})
    assert waiting(runtime, ending.id) == ["handle_alarm"]
    assert runtime.instance(ending.id).status == "active"
    # other instances waiting on the signal got it once, the thrower's own sub-process once
    handled = [w for w in runtime.work_items() if w["element_id"] == "handle_alarm"]
    assert sorted(w["instance_id"] for w in handled) == sorted([state.id, ending.id, state.id])


CORRELATED = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="wait_payment"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="ship"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="wait_payment"/>
    <bpmn:sequenceFlow id="f1" sourceRef="wait_payment" targetRef="ship"/>
    <bpmn:correlationSubscription id="cs" correlationKeyRef="ck_order">
      <bpmn:correlationPropertyBinding id="cb" correlationPropertyRef="prop_order"><bpmn:dataPath>order.id</bpmn:dataPath></bpmn:correlationPropertyBinding>
    </bpmn:correlationSubscription>
    """,
    process_id="orders",
    extra="""
    <bpmn:message id="m_paid" name="payment-received"/>
    <bpmn:correlationProperty id="prop_order" name="order id">
      <bpmn:correlationPropertyRetrievalExpression messageRef="m_paid"><bpmn:messagePath>/payment/orderId</bpmn:messagePath></bpmn:correlationPropertyRetrievalExpression>
    </bpmn:correlationProperty>
    <bpmn:collaboration id="c"><bpmn:participant id="shop" processRef="orders"/>
      <bpmn:correlationKey id="ck_order" name="order"><bpmn:correlationPropertyRef>prop_order</bpmn:correlationPropertyRef></bpmn:correlationKey>
    </bpmn:collaboration>
    """,
)


def test_standard_correlation_delivers_only_to_the_instance_whose_key_matches() -> None:
    """8.3.2: "the CorrelationKey ... of the Message ... is matched against the CorrelationKey
    of the Process instance" -- the message's key is read through its messagePath, the
    instance's through the correlationPropertyBinding's dataPath; a wrong key is not matched."""
    runtime, _ = runtime_with(("o.bpmn", CORRELATED))
    first = runtime.start("orders", {"order": {"id": "A-1"}})
    second = runtime.start("orders", {"order": {"id": "B-2"}})
    assert (
        runtime.correlate_message("payment-received", None, {"payment": {"orderId": "Z-9"}}) == []
    )
    assert waiting(runtime, first.id) == [] and waiting(runtime, second.id) == []
    reached = runtime.correlate_message("payment-received", None, {"payment": {"orderId": "B-2"}})
    assert reached == [second.id]
    assert waiting(runtime, first.id) == [] and waiting(runtime, second.id) == ["ship"]


def test_a_standard_correlation_message_buffered_before_any_instance_waits() -> None:
    """8.3.2: the message's key is "extracted from the Message payload" through the
    messagePath, so a message sent before its instance waits - buffered, with no key given -
    reaches the instance whose key matches once it subscribes, and no other."""
    runtime, _ = runtime_with(("o.bpmn", CORRELATED))
    assert (
        runtime.correlate_message("payment-received", None, {"payment": {"orderId": "C-3"}}) == []
    )
    other = runtime.start("orders", {"order": {"id": "D-4"}})
    assert waiting(runtime, other.id) == []
    matching = runtime.start("orders", {"order": {"id": "C-3"}})
    assert waiting(runtime, matching.id) == ["ship"]
    assert runtime.instance(matching.id).vars["payment"] == {"orderId": "C-3"}
    late = runtime.start("orders", {"order": {"id": "C-3"}})
    assert waiting(runtime, late.id) == []  # the one buffered message was delivered once


MULTI = wrap(
    """
    <bpmn:property id="claims_prop" name="claims"/>
    <bpmn:property id="verdicts_prop" name="verdicts"/>
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="assess">
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopDataInputRef>claims_prop</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>verdicts_prop</bpmn:loopDataOutputRef>
        <bpmn:inputDataItem id="claim" name="claim"/>
        <bpmn:outputDataItem id="verdict" name="verdict"/>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:userTask id="report"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="assess"/>
    <bpmn:sequenceFlow id="f1" sourceRef="assess" targetRef="report"/>
    """,
    process_id="assessments",
)


def test_standard_multi_instance_data_inputs_and_outputs() -> None:
    """13.3.7: "loopDataInputRef ... the collection ... each instance ... inputDataItem ... one
    item of the collection"; "loopDataOutputRef ... outputDataItem ... collected" -- the
    standard form, not only Camunda's or Zeebe's extension attributes."""
    runtime, _ = runtime_with(("m.bpmn", MULTI))
    state = runtime.start("assessments", {"claims": ["dent", "theft", "flood"]})
    current = runtime.instance(state.id)
    claim_of = {
        w.id: current.scopes[current.tokens[w.token].scope].vars["claim"]
        for w in current.work.values()
    }
    assert sorted(claim_of.values()) == ["dent", "flood", "theft"]
    verdicts = {"dent": "pay", "theft": "investigate", "flood": "pay"}
    for item_id, claim in claim_of.items():
        runtime.complete_work_item(item_id, {"verdict": verdicts[claim]})
    assert waiting(runtime, state.id) == ["report"]
    assert runtime.instance(state.id).vars["verdicts"] == ["pay", "investigate", "pay"]


CHILD = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateThrowEvent id="warn"><bpmn:escalationEventDefinition escalationRef="esc_late"/></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="child_work"/>
    <bpmn:endEvent id="give_up"><bpmn:escalationEventDefinition escalationRef="esc_stop"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="warn"/>
    <bpmn:sequenceFlow id="f1" sourceRef="warn" targetRef="child_work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="child_work" targetRef="give_up"/>
    """,
    process_id="child",
    extra='<bpmn:escalation id="esc_late" escalationCode="late"/><bpmn:escalation id="esc_stop" escalationCode="stop"/>',
)
PARENT = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="call" calledElement="child"/>
    <bpmn:boundaryEvent id="on_late" attachedToRef="call" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="p_late"/></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="on_stop" attachedToRef="call"><bpmn:escalationEventDefinition escalationRef="p_stop"/></bpmn:boundaryEvent>
    <bpmn:userTask id="notify_late"/>
    <bpmn:userTask id="stopped"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f1" sourceRef="call" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="on_late" targetRef="notify_late"/>
    <bpmn:sequenceFlow id="f3" sourceRef="on_stop" targetRef="stopped"/>
    """,
    process_id="parent",
    extra='<bpmn:escalation id="p_late" escalationCode="late"/><bpmn:escalation id="p_stop" escalationCode="stop"/>',
)


def test_escalation_in_a_called_process_reaches_the_call_activity_boundaries() -> None:
    """10.5.2 (escalation): "the Escalation is propagated to ... the Call Activity" -- a
    non-interrupting boundary runs beside the call, an interrupting one ends the call."""
    runtime, _ = runtime_with(("child.bpmn", CHILD), ("parent.bpmn", PARENT))
    parent = runtime.start("parent")
    assert waiting(runtime, parent.id) == ["notify_late"]
    child_item = next(w for w in runtime.work_items() if w["element_id"] == "child_work")
    runtime.complete_work_item(child_item["id"], {})
    assert waiting(runtime, parent.id) == ["notify_late", "stopped"]
    assert runtime.instance(child_item["instance_id"]).status != "active"


def test_an_uncaught_escalation_is_recorded() -> None:
    """10.5.2: an escalation nobody catches does not stop the flow; it is recorded."""
    runtime, _ = runtime_with(("child.bpmn", CHILD))
    child = runtime.start("child")
    assert waiting(runtime, child.id) == ["child_work"]
    types = [e.type for e in runtime.history(child.id)]
    assert types.count("escalation.uncaught") == 1, types


MULTIPLE = wrap(
    """
    <bpmn:startEvent id="any_request"><bpmn:messageEventDefinition messageRef="m_mail"/><bpmn:signalEventDefinition signalRef="sig_storm"/></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="either"><bpmn:messageEventDefinition messageRef="m_ok"/><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="handle"/>
    <bpmn:sequenceFlow id="f0" sourceRef="any_request" targetRef="either"/>
    <bpmn:sequenceFlow id="f1" sourceRef="either" targetRef="handle"/>
    """,
    process_id="multi_start",
    extra='<bpmn:message id="m_mail" name="mail"/><bpmn:message id="m_ok" name="ok"/><bpmn:signal id="sig_storm" name="storm"/>',
)


def test_a_multiple_start_event_starts_on_any_one_of_its_triggers() -> None:
    """10.5.2 (Multiple): "there are multiple ways of triggering the Process ... Only one of
    them is required" -- a message or a signal starts it; a multiple catch event waits for
    the first of its triggers (here a timer beats the message)."""
    runtime, clock = runtime_with(("m.bpmn", MULTIPLE))
    by_mail = runtime.correlate_message("mail", None, {"via": "mail"})
    by_storm = runtime.broadcast_signal("storm", {"via": "storm"})
    assert len(by_mail) == 1 and len(by_storm) == 1 and by_mail != by_storm
    assert runtime.correlate_message("ok", None, {}) == by_mail
    assert waiting(runtime, by_mail[0]) == ["handle"]
    clock.advance(timedelta(hours=1))
    assert runtime.run_due_jobs() == 1
    assert waiting(runtime, by_storm[0]) == ["handle"]
    assert runtime.instance(by_storm[0]).subs == {}


TRANSACTION = wrap(
    f"""
    <bpmn:startEvent id="s"/>
    <bpmn:transaction id="booking">
      <bpmn:startEvent id="ts"/>
      <bpmn:userTask id="book_hotel"/>
      <bpmn:boundaryEvent id="undo_hook" attachedToRef="book_hotel"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
      <bpmn:userTask id="cancel_hotel" isForCompensation="true"/>
      <bpmn:association id="a1" associationDirection="One" sourceRef="undo_hook" targetRef="cancel_hotel"/>
      <bpmn:userTask id="charge"/>
      <bpmn:exclusiveGateway id="paid" default="ok"/>
      <bpmn:endEvent id="tx_done"/>
      <bpmn:endEvent id="tx_cancel"><bpmn:cancelEventDefinition/></bpmn:endEvent>
      <bpmn:sequenceFlow id="t0" sourceRef="ts" targetRef="book_hotel"/>
      <bpmn:sequenceFlow id="t1" sourceRef="book_hotel" targetRef="charge"/>
      <bpmn:sequenceFlow id="t2" sourceRef="charge" targetRef="paid"/>
      <bpmn:sequenceFlow id="ok" sourceRef="paid" targetRef="tx_done"/>
      <bpmn:sequenceFlow id="declined" sourceRef="paid" targetRef="tx_cancel">{cond("declined = true")}</bpmn:sequenceFlow>
    </bpmn:transaction>
    <bpmn:boundaryEvent id="on_cancel" attachedToRef="booking"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>
    <bpmn:userTask id="tell_customer"/>
    <bpmn:userTask id="confirm"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="booking"/>
    <bpmn:sequenceFlow id="f1" sourceRef="booking" targetRef="confirm"/>
    <bpmn:sequenceFlow id="f2" sourceRef="on_cancel" targetRef="tell_customer"/>
    """,
    process_id="trip",
)


def complete(runtime: ProcessRuntime, instance_id: str, element: str, **variables: object) -> None:
    item = next(
        w for w in runtime.work_items(instance_id=instance_id) if w["element_id"] == element
    )
    runtime.complete_work_item(item["id"], dict(variables))


def test_a_transaction_cancelled_is_compensated_then_leaves_by_its_cancel_boundary() -> None:
    """10.5.3 / 10.3.5 (Transaction): a Cancel End Event "triggers the cancellation of the
    Transaction": completed activities inside are compensated, then the cancel boundary event's
    flow is taken; a transaction that ends normally leaves by its outgoing flow."""
    runtime, _ = runtime_with(("t.bpmn", TRANSACTION))
    cancelled = runtime.start("trip")
    complete(runtime, cancelled.id, "book_hotel")
    complete(runtime, cancelled.id, "charge", declined=True)
    assert waiting(runtime, cancelled.id) == ["cancel_hotel"]  # the rollback runs first
    complete(runtime, cancelled.id, "cancel_hotel")
    assert waiting(runtime, cancelled.id) == ["tell_customer"]
    confirmed = runtime.start("trip")
    complete(runtime, confirmed.id, "book_hotel")
    complete(runtime, confirmed.id, "charge", declined=False)
    assert waiting(runtime, confirmed.id) == ["confirm"]


PARALLEL = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="both" parallelMultiple="true"><bpmn:messageEventDefinition messageRef="m_docs"/><bpmn:signalEventDefinition signalRef="sig_open"/></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="process_claim"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="both"/>
    <bpmn:sequenceFlow id="f1" sourceRef="both" targetRef="process_claim"/>
    """,
    process_id="parallel_catch",
    extra='<bpmn:message id="m_docs" name="documents"/><bpmn:signal id="sig_open" name="office-open"/>',
)


def test_a_parallel_multiple_catch_event_waits_for_all_its_triggers() -> None:
    """10.5.1 (Parallel Multiple): "all of the triggers are required" -- the documents alone
    do not continue the flow; with the office open too, it goes on."""
    runtime, _ = runtime_with(("p.bpmn", PARALLEL))
    state = runtime.start("parallel_catch")
    assert runtime.correlate_message("documents", None, {"pages": 3}) == [state.id]
    assert waiting(runtime, state.id) == []
    runtime.broadcast_signal("office-open")
    assert waiting(runtime, state.id) == ["process_claim"]
    assert runtime.instance(state.id).vars["pages"] == 3


PARALLEL_BOUNDARY = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review"/>
    <bpmn:boundaryEvent id="withdrawn" attachedToRef="review" parallelMultiple="true"><bpmn:messageEventDefinition messageRef="m_withdraw"/><bpmn:signalEventDefinition signalRef="sig_close"/></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="chase" attachedToRef="review" cancelActivity="false" parallelMultiple="true"><bpmn:messageEventDefinition messageRef="m_docs"/><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:userTask id="done"/>
    <bpmn:userTask id="archive"/>
    <bpmn:userTask id="remind"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="done"/>
    <bpmn:sequenceFlow id="f2" sourceRef="withdrawn" targetRef="archive"/>
    <bpmn:sequenceFlow id="f3" sourceRef="chase" targetRef="remind"/>
    """,
    process_id="parallel_boundary",
    extra=(
        '<bpmn:message id="m_withdraw" name="withdraw"/><bpmn:message id="m_docs" name="docs"/>'
        '<bpmn:signal id="sig_close" name="close-office"/>'
    ),
)


def test_a_parallel_multiple_boundary_event_fires_once_all_its_triggers_came() -> None:
    """10.5.1 (Parallel Multiple): "all of the triggers are required" -- on a boundary event,
    one trigger alone leaves the activity running; the last one fires the boundary
    (interrupting: the activity ends; non-interrupting: it goes on beside the new path)."""
    runtime, clock = runtime_with(("b.bpmn", PARALLEL_BOUNDARY))
    state = runtime.start("parallel_boundary")
    assert runtime.correlate_message("docs", None, {"pages": 2}) == [state.id]
    assert waiting(runtime, state.id) == ["review"]
    clock.advance(timedelta(hours=2))
    runtime.run_due_jobs()
    assert waiting(runtime, state.id) == ["remind", "review"]  # non-interrupting: both
    assert runtime.correlate_message("withdraw", None, {"why": "moved"}) == [state.id]
    assert waiting(runtime, state.id) == ["remind", "review"]
    runtime.broadcast_signal("close-office")
    assert waiting(runtime, state.id) == ["archive", "remind"]  # interrupting: review ended
    assert runtime.instance(state.id).vars["why"] == "moved"


PARALLEL_START = wrap(
    """
    <bpmn:startEvent id="both" parallelMultiple="true"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition><bpmn:messageEventDefinition messageRef="m_batch"/></bpmn:startEvent>
    <bpmn:userTask id="post_batch"/>
    <bpmn:sequenceFlow id="f0" sourceRef="both" targetRef="post_batch"/>
    """,
    process_id="hourly_batch",
    extra='<bpmn:message id="m_batch" name="batch-ready"/>',
)


def test_a_parallel_multiple_start_event_with_a_timer_waits_for_the_timer_and_the_message() -> None:
    """10.5.2 (Start Event, Parallel Multiple): "all of the triggers must occur before the
    Process is instantiated" -- a timer firing alone starts nothing, the message then starts
    one instance; the next firing waits for the next message (each trigger consumed once)."""
    runtime, clock = runtime_with(("h.bpmn", PARALLEL_START))
    assert runtime.correlate_message("batch-ready", None, {"rows": 10}) == []
    clock.advance(timedelta(hours=1, minutes=1))
    runtime.run_due_jobs()  # the hour came and the batch was there: one instance
    [first] = [i["id"] for i in instances_of(runtime, "hourly_batch")]
    assert runtime.instance(first).vars == {"rows": 10}
    clock.advance(timedelta(hours=1))
    runtime.run_due_jobs()  # the next hour, no batch yet: held
    assert len(instances_of(runtime, "hourly_batch")) == 1
    [second] = runtime.correlate_message("batch-ready", None, {"rows": 20})
    assert waiting(runtime, second) == ["post_batch"]
    assert runtime.instance(second).vars == {"rows": 20}


def test_a_parallel_multiple_start_of_an_event_subprocess_is_refused_with_the_reason() -> None:
    """Event sub-processes are started inside a running instance; collecting their triggers
    there is not done, so the model is refused at deploy, naming the element."""
    body = PARALLEL_START.replace(
        '<bpmn:startEvent id="both"',
        '<bpmn:startEvent id="s0"/><bpmn:userTask id="t0"/><bpmn:sequenceFlow id="g0" sourceRef="s0" targetRef="t0"/>'
        '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="both"',
    ).replace(
        '<bpmn:sequenceFlow id="f0" sourceRef="both" targetRef="post_batch"/>',
        '<bpmn:sequenceFlow id="f0" sourceRef="both" targetRef="post_batch"/></bpmn:subProcess>',
    )
    with pytest.raises(
        ModelError,
        match="'both' has 2 event definitions .a parallel multiple start event of an event sub-process",
    ):
        runtime_with(("h.bpmn", body))


def test_the_embedded_engine_holds_parallel_start_triggers_too() -> None:
    """The same rule in `MemoryEngine` (tests, benchmarks, small embedded uses)."""
    engine = MemoryEngine(
        PARALLEL_START.replace(
            "<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>",
            '<bpmn:signalEventDefinition signalRef="sig"/>',
        ).replace("</bpmn:definitions>", '<bpmn:signal id="sig" name="go"/></bpmn:definitions>')
    )
    assert engine.correlate_message("batch-ready", "B-1", {"rows": 1}) is None
    assert engine.instances == {}
    engine.broadcast_signal("go", {"by": "ops"})
    [state] = engine.instances.values()
    assert state.business_key == "B-1" and state.vars == {"rows": 1, "by": "ops"}
