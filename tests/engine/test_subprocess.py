# ruff: noqa: E501
"""Embedded subprocesses (scoped variables, error end caught outside) and event subprocesses."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

EMBEDDED = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:subProcess id="sub">
      <bpmn:extensionElements><zeebe:ioMapping><zeebe:input source="=amount * 2" target="doubled"/></zeebe:ioMapping></bpmn:extensionElements>
      <bpmn:startEvent id="ss"/>
      <bpmn:userTask id="inner"/>
      <bpmn:exclusiveGateway id="ok" default="fine"/>
      <bpmn:endEvent id="bad"><bpmn:errorEventDefinition errorRef="err"/></bpmn:endEvent>
      <bpmn:endEvent id="se"/>
      <bpmn:sequenceFlow id="i0" sourceRef="ss" targetRef="inner"/>
      <bpmn:sequenceFlow id="i1" sourceRef="inner" targetRef="ok"/>
      <bpmn:sequenceFlow id="broken" sourceRef="ok" targetRef="bad"><bpmn:conditionExpression>broken</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="fine" sourceRef="ok" targetRef="se"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="failed" attachedToRef="sub"><bpmn:errorEventDefinition errorRef="err"/></bpmn:boundaryEvent>
    <bpmn:userTask id="after"/><bpmn:userTask id="repair"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="sub"/>
    <bpmn:sequenceFlow id="f1" sourceRef="sub" targetRef="after"/>
    <bpmn:sequenceFlow id="f2" sourceRef="failed" targetRef="repair"/>
""",
    extra='<bpmn:error id="err" errorCode="BROKEN"/>',
)


def test_subprocess_scope_and_normal_completion(make) -> None:
    engine = make(EMBEDDED)
    state = engine.start("p", {"amount": 21})
    scope = next(iter(state.scopes.values()))
    assert scope.el == "sub" and scope.vars["doubled"] == 42
    assert "doubled" not in state.vars
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"broken": False})
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    assert state.scopes == {}
    assert state.vars["broken"] is False


def test_error_end_event_caught_by_boundary_on_subprocess(make) -> None:
    engine = make(EMBEDDED)
    state = engine.start("p", {"amount": 1})
    state = engine.complete_work_item(engine.work_items(state.id)[0].id, {"broken": True})
    assert [w.el for w in engine.work_items(state.id)] == ["repair"]
    assert [e.element_id for e in engine.events if e.type == "element_terminated"] == ["sub"]


ESP = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="work"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
    <bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="e"/>
    <bpmn:subProcess id="on_cancel" triggeredByEvent="true">
      <bpmn:startEvent id="cancel_start"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent>
      <bpmn:userTask id="confirm_cancel"/>
      <bpmn:sequenceFlow id="c0" sourceRef="cancel_start" targetRef="confirm_cancel"/>
    </bpmn:subProcess>
    <bpmn:subProcess id="on_status" triggeredByEvent="true">
      <bpmn:startEvent id="status_start" isInterrupting="false"><bpmn:messageEventDefinition messageRef="status"/></bpmn:startEvent>
      <bpmn:userTask id="answer_status"/>
      <bpmn:sequenceFlow id="t0" sourceRef="status_start" targetRef="answer_status"/>
    </bpmn:subProcess>
""",
    extra='<bpmn:message id="m" name="cancel"/><bpmn:message id="status" name="status"/>',
)


def test_non_interrupting_event_subprocess_runs_alongside(make) -> None:
    engine = make(ESP)
    state = engine.start("p")
    assert len(state.subs) == 2
    state = engine.correlate_message("status")
    assert sorted(w.el for w in engine.work_items(state.id)) == ["answer_status", "work"]
    state = engine.correlate_message("status")
    assert sorted(w.el for w in engine.work_items(state.id)) == [
        "answer_status",
        "answer_status",
        "work",
    ]


def test_interrupting_event_subprocess_replaces_the_scope(make) -> None:
    engine = make(ESP)
    state = engine.start("p")
    state = engine.correlate_message("cancel")
    assert [w.el for w in engine.work_items(state.id)] == ["confirm_cancel"]
    assert state.subs == {}
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.status == "completed"


def test_instance_waits_for_running_event_subprocess(make) -> None:
    engine = make(ESP)
    state = engine.start("p")
    state = engine.correlate_message("status")
    work = next(w for w in engine.work_items(state.id) if w.el == "work")
    state = engine.complete_work_item(work.id)
    assert state.active, "the non-interrupting event subprocess is still running"
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert state.status == "completed"


ERROR_ESP = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="call"><bpmn:extensionElements><zeebe:taskDefinition type="api"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f1" sourceRef="call" targetRef="e"/>
    <bpmn:subProcess id="handler" triggeredByEvent="true">
      <bpmn:startEvent id="hs"><bpmn:errorEventDefinition/></bpmn:startEvent>
      <bpmn:userTask id="fix"/>
      <bpmn:sequenceFlow id="h0" sourceRef="hs" targetRef="fix"/>
    </bpmn:subProcess>
""")


def test_error_event_subprocess_catches_external_task_error(make) -> None:
    engine = make(ERROR_ESP)
    state = engine.start("p")
    job = next(iter(state.jobs.values()))
    assert job.kind == "external" and job.topic == "api" and job.retries == 3
    state = engine.external_bpmn_error(job.id, "NOT_FOUND", {"status": 404})
    assert [w.el for w in engine.work_items(state.id)] == ["fix"]
    assert state.vars["status"] == 404
    assert state.jobs == {}
