# ruff: noqa: E501
"""User task work items: assignee, candidate groups (lanes as departments), form, due, priority."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_support" name="Support"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>triage</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_billing" name="Billing"><bpmn:flowNodeRef>refund</bpmn:flowNodeRef><bpmn:flowNodeRef>zeebe_task</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="triage" name="Triage"/>
    <bpmn:userTask id="refund" name="Refund" camunda:assignee="${owner}" camunda:candidateGroups="billing, finance" camunda:formKey="forms:refund" camunda:dueDate="PT4H" camunda:priority="70"/>
    <bpmn:userTask id="zeebe_task">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition assignee="=lead" candidateGroups="=[&quot;tier2&quot;, dept]"/>
        <zeebe:formDefinition formId="review-form"/>
        <zeebe:taskSchedule dueDate="2026-02-01T12:00:00Z"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="triage"/>
    <bpmn:sequenceFlow id="f1" sourceRef="triage" targetRef="refund"/>
    <bpmn:sequenceFlow id="f2" sourceRef="refund" targetRef="zeebe_task"/>
""")


def test_work_items_carry_assignment_and_lane(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {"owner": "mia", "lead": "raj", "dept": "quality"})
    triage = engine.work_items(state.id)[0]
    assert (triage.el, triage.name, triage.lane, triage.candidate_groups) == (
        "triage",
        "Triage",
        "Support",
        ["Support"],
    )
    state = engine.complete_work_item(triage.id, actor="sam")
    refund = engine.work_items(state.id)[0]
    assert refund.assignee == "mia"
    assert refund.candidate_groups == ["billing", "finance"]
    assert refund.form_key == "forms:refund"
    assert refund.due == "2026-01-05T13:00:00+00:00"
    assert refund.priority == 70
    assert refund.lane == "Billing"
    state = engine.complete_work_item(refund.id)
    item = engine.work_items(state.id)[0]
    assert (item.assignee, item.candidate_groups, item.form_key) == (
        "raj",
        ["tier2", "quality"],
        "review-form",
    )
    assert item.due == "2026-02-01T12:00:00+00:00"
    activated = [
        e for e in engine.events if e.type == "element_activated" and e.element_id == "refund"
    ]
    assert activated[0].lane == "Billing"
    completed = [
        e for e in engine.events if e.type == "element_completed" and e.element_id == "triage"
    ]
    assert completed[0].actor == "sam"


def test_unknown_work_item_is_rejected(make) -> None:
    import pytest

    from flowdesk.engine.errors import UnknownItemError

    engine = make(MODEL)
    engine.start("p", {"owner": "x"})
    with pytest.raises(UnknownItemError):
        engine.complete_work_item("nope")
