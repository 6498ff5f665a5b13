# ruff: noqa: E501
"""Send/receive tasks, message throw/catch events with correlation keys, message start."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MESSAGES = '<bpmn:message id="m_paid" name="payment-received"><bpmn:extensionElements><zeebe:subscription correlationKey="=order_id"/></bpmn:extensionElements></bpmn:message><bpmn:message id="m_new" name="new-order"/>'

ORDER = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:receiveTask id="wait_payment" messageRef="m_paid"/>
    <bpmn:userTask id="ship"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="wait_payment"/>
    <bpmn:sequenceFlow id="f1" sourceRef="wait_payment" targetRef="ship"/>
""",
    process_id="order",
    extra=MESSAGES,
)

PAYMENT = wrap(
    """
    <bpmn:startEvent id="ps"><bpmn:messageEventDefinition messageRef="m_new"/></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="notify"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateThrowEvent>
    <bpmn:sendTask id="confirm" messageRef="m_paid"/>
    <bpmn:endEvent id="pe"/>
    <bpmn:sequenceFlow id="p0" sourceRef="ps" targetRef="notify"/>
    <bpmn:sequenceFlow id="p1" sourceRef="notify" targetRef="pe"/>
""",
    process_id="payment",
    extra=MESSAGES,
)


def test_correlation_key_selects_the_instance(make) -> None:
    engine = make(ORDER)
    first = engine.start("order", {"order_id": 1001})
    second = engine.start("order", {"order_id": 1002})
    assert next(iter(first.subs.values())).key == "1001"
    engine.correlate_message("payment-received", 1002, {"paid": 20})
    assert [w.el for w in engine.work_items(second.id)] == ["ship"]
    assert engine.work_items(first.id) == []
    assert engine.get(second.id).vars["paid"] == 20
    assert engine.correlate_message("payment-received", 9999) is None


def test_message_start_and_throw_event_reach_the_waiting_instance(make) -> None:
    engine = make(ORDER, PAYMENT)
    order = engine.start("order", {"order_id": 7})
    payment = engine.correlate_message("new-order", None, {"order_id": 7})
    assert payment is not None and payment.process == "payment"
    assert engine.get(payment.id).status == "completed"
    thrown = [e for e in engine.events if e.element_id == "notify"]
    assert thrown
    assert [w.el for w in engine.work_items(order.id)] == ["ship"]
