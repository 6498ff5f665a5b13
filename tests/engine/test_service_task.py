# ruff: noqa: E501
"""Service tasks: registered handlers, external tasks (complete, fail, retries, incidents)."""

from __future__ import annotations

from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="lookup" camunda:type="external" camunda:topic="crm-lookup"/>
    <bpmn:serviceTask id="score"><bpmn:extensionElements><zeebe:taskDefinition type="scoring" retries="2"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="lookup"/>
    <bpmn:sequenceFlow id="f1" sourceRef="lookup" targetRef="score"/>
    <bpmn:sequenceFlow id="f2" sourceRef="score" targetRef="after"/>
""")


def test_external_then_handler(make) -> None:
    calls = []

    def scoring(call):
        calls.append((call.element_id, call.variables["segment"]))
        return {"score": 7}

    engine = make(MODEL, handlers={"scoring": scoring})
    state = engine.start("p")
    job = next(iter(state.jobs.values()))
    assert (job.kind, job.topic, job.el) == ("external", "crm-lookup", "lookup")
    state = engine.complete_external_task(job.id, {"segment": "gold"})
    assert calls == [("score", "gold")]
    assert state.vars["score"] == 7
    assert [w.el for w in engine.work_items(state.id)] == ["after"]


def test_failures_use_retries_then_raise_an_incident_that_can_be_resolved(make) -> None:
    engine = make(MODEL)
    state = engine.start("p")
    job_id = next(iter(state.jobs))
    state = engine.complete_external_task(job_id, {"segment": "x"})
    job_id = next(iter(state.jobs))
    assert state.jobs[job_id].retries == 2
    state = engine.fail_external_task(job_id, "timeout")
    assert state.jobs[job_id].retries == 1 and not state.incidents
    state = engine.fail_external_task(job_id, "timeout again")
    incident = next(iter(state.incidents.values()))
    assert incident.el == "score" and incident.job == job_id and incident.message == "timeout again"
    result = engine.engine.resolve_incident(state, incident.id, retries=3)
    state = result.state
    assert state.incidents == {} and state.jobs[job_id].retries == 3
    state = engine.engine.complete_external_task(state, job_id, {"score": 1}).state
    assert [t.el for t in state.tokens.values()] == ["after"]


def test_missing_handler_for_camunda_class_is_an_incident(make) -> None:
    model = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="java" camunda:class="com.acme.Charge"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="java"/>
    """)
    engine = make(model)
    state = engine.start("p")
    assert "com.acme.Charge" in next(iter(state.incidents.values())).message
    engine2 = make(model, handlers={"com.acme.Charge": lambda call: {"charged": True}})
    state = engine2.start("p")
    assert state.status == "completed" and state.vars["charged"] is True
