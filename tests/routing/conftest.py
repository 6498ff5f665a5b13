from __future__ import annotations

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.engine.testing import wrap
from flowdesk.routing.service import RoutingService
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

#: A refund flow across two departments; an SLA breach message reaches the triage step.
REFUND = wrap(
    """
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="support" name="support">
        <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>triage</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>breach</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="billing" name="billing">
        <bpmn:flowNodeRef>pay_refund</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="triage" name="Triage" camunda:candidateGroups="support"/>
    <bpmn:boundaryEvent id="breach" attachedToRef="triage" cancelActivity="false">
      <bpmn:messageEventDefinition messageRef="m_breach"/>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="review" name="Supervisor review" camunda:candidateGroups="support"/>
    <bpmn:userTask id="pay_refund" name="Pay refund" camunda:candidateGroups="billing"/>
    <bpmn:endEvent id="e"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="triage"/>
    <bpmn:sequenceFlow id="f1" sourceRef="triage" targetRef="pay_refund"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pay_refund" targetRef="e"/>
    <bpmn:sequenceFlow id="f3" sourceRef="breach" targetRef="review"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="e2"/>
    """,
    process_id="refund",
    extra=(
        '<bpmn:message id="m_breach" name="sla-breached"><bpmn:extensionElements>'
        '<zeebe:subscription correlationKey="=case_ref"/></bpmn:extensionElements></bpmn:message>'
    ),
)


@pytest.fixture
def runtime(store: Store, clock: FixedClock) -> ProcessRuntime:
    rt = ProcessRuntime(store, clock=clock)
    rt.deploy("refund", [("refund.bpmn", REFUND.encode())])
    return rt


@pytest.fixture
def routing(store: Store, clock: FixedClock) -> RoutingService:
    return RoutingService(store, clock=clock)
