# ruff: noqa: E501
"""Parsing Camunda Modeler files into frozen, JSON-able definitions."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from flowdesk.bpmn.model import Definitions
from flowdesk.bpmn.parser import load_bpmn, parse_bpmn
from flowdesk.engine.testing import wrap

DATA = Path(__file__).parent.parent / "data" / "bpmn"


def test_support_case_structure() -> None:
    d = load_bpmn(DATA / "support_case.bpmn")
    p = d.process()
    assert p.id == "support_case" and p.name == "Support case"
    assert d.participants[0].process == "support_case"
    assert d.messages == {"msg_reply": "customer-reply"}
    assert d.errors == {"err_unreachable": "UNREACHABLE"}
    assert p.nodes["route"].default == "f_simple"
    assert p.nodes["route"].outgoing == ("f_tech", "f_simple")
    assert p.nodes["done"].incoming == ("f_simple", "f_diag", "f_sla")
    assert p.flows["f_tech"].condition == "technical"  # ${technical} translated
    assert p.nodes["call_customer"].scope == "diagnose"
    assert p.nodes["call_customer"].lane == "Technical"
    assert p.nodes["triage"].lane == "First line"
    assert p.nodes["triage"].task is not None
    assert p.nodes["triage"].task.candidate_groups == "first-line"
    assert p.nodes["triage"].task.form_key == "forms:triage"
    assert p.nodes["call_customer"].task.topic == "cti-call"  # type: ignore[union-attr]
    sla = p.nodes["sla"]
    assert (sla.attached_to, sla.cancel_activity) == ("triage", False)
    assert sla.events[0].timer == "duration" and sla.events[0].value == "PT4H"
    assert p.boundaries == {"triage": ("sla",)}
    assert p.data_objects[0].id == "case_file"
    assert p.nodes["triage"].line is not None and p.nodes["triage"].line > 1


def test_definitions_round_trip_through_json() -> None:
    d = load_bpmn(DATA / "support_case.bpmn")
    text = json.dumps(d.to_dict())
    again = Definitions.from_dict(json.loads(text))
    assert again == d
    assert again.process().boundaries == d.process().boundaries


def test_definitions_are_frozen() -> None:
    d = load_bpmn(DATA / "refund.bpmn")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.process().nodes["capture"].name = "x"  # type: ignore[misc]


def test_zeebe_and_camunda_extensions() -> None:
    d = parse_bpmn(
        wrap("""
      <bpmn:startEvent id="s"/>
      <bpmn:serviceTask id="z" camunda:asyncBefore="true">
        <bpmn:extensionElements>
          <zeebe:taskDefinition type="=&quot;crm-&quot; + region" retries="5"/>
          <zeebe:ioMapping><zeebe:input source="=customer.id" target="id"/><zeebe:input source="static" target="mode"/><zeebe:output source="=answer" target="crm_answer"/></zeebe:ioMapping>
        </bpmn:extensionElements>
      </bpmn:serviceTask>
      <bpmn:userTask id="c">
        <bpmn:extensionElements>
          <camunda:inputOutput><camunda:inputParameter name="label">Hello</camunda:inputParameter><camunda:outputParameter name="out">${result}</camunda:outputParameter></camunda:inputOutput>
        </bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:callActivity id="call" calledElement="child"><bpmn:extensionElements><camunda:in source="a" target="b"/><camunda:in variables="all"/></bpmn:extensionElements></bpmn:callActivity>
      <bpmn:businessRuleTask id="rule"><bpmn:extensionElements><zeebe:calledDecision decisionId="discount" resultVariable="d"/></bpmn:extensionElements></bpmn:businessRuleTask>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="z"/>
      <bpmn:sequenceFlow id="f1" sourceRef="z" targetRef="c"/>
      <bpmn:sequenceFlow id="f2" sourceRef="c" targetRef="call"/>
      <bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="rule"/>
    """)
    )
    p = d.process()
    z = p.nodes["z"]
    assert z.task is not None and z.task.topic == '="crm-" + region' and z.task.retries == 5
    assert z.async_before
    assert [(m.source, m.target) for m in z.inputs] == [("customer.id", "id"), ('"static"', "mode")]
    assert [(m.source, m.target) for m in z.outputs] == [("answer", "crm_answer")]
    c = p.nodes["c"]
    assert [(m.source, m.target) for m in c.inputs] == [('"Hello"', "label")]
    assert [(m.source, m.target) for m in c.outputs] == [("result", "out")]
    call = p.nodes["call"]
    assert call.task is not None and call.task.called_element == "child"
    assert [(m.source, m.target) for m in call.inputs] == [("a", "b")]
    rule = p.nodes["rule"].task
    assert rule is not None and (rule.decision_ref, rule.result_variable) == ("discount", "d")


def test_event_definitions_resolve_names() -> None:
    d = parse_bpmn(
        wrap(
            """
      <bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle>R/P1D</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>
      <bpmn:intermediateCatchEvent id="m"><bpmn:messageEventDefinition messageRef="msg"/></bpmn:intermediateCatchEvent>
      <bpmn:intermediateThrowEvent id="sig"><bpmn:signalEventDefinition signalRef="sg"/></bpmn:intermediateThrowEvent>
      <bpmn:endEvent id="esc"><bpmn:escalationEventDefinition escalationRef="es"/></bpmn:endEvent>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="m"/>
      <bpmn:sequenceFlow id="f1" sourceRef="m" targetRef="sig"/>
      <bpmn:sequenceFlow id="f2" sourceRef="sig" targetRef="esc"/>
    """,
            extra='<bpmn:message id="msg" name="Order paid"/><bpmn:signal id="sg" name="Stop"/><bpmn:escalation id="es" escalationCode="LATE"/>',
        )
    )
    p = d.process()
    assert p.nodes["s"].events[0].timer == "cycle"
    assert p.nodes["m"].events[0].ref == "Order paid"
    assert p.nodes["sig"].events[0].ref == "Stop"
    assert p.nodes["esc"].events[0].ref == "LATE"


def test_multi_instance_camunda_style() -> None:
    d = parse_bpmn(
        wrap("""
      <bpmn:startEvent id="s"/>
      <bpmn:userTask id="u"><bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:collection="${approvers}" camunda:elementVariable="approver"><bpmn:completionCondition>${nrOfCompletedInstances == 1}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="u"/>
    """)
    )
    loop = d.process().nodes["u"].loop
    assert loop is not None
    assert (loop.kind, loop.sequential, loop.collection, loop.element_variable) == (
        "multi",
        True,
        "approvers",
        "approver",
    )
    assert loop.completion_condition == "(nrOfCompletedInstances = 1)"
