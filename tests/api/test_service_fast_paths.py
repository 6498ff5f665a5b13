# ruff: noqa: F811, E501
"""The shortcuts the API takes for throughput (docs/performance.md, "Service API") answer what
the long way answers: the work items of a start taken from the new state, the completion that
skips the visibility read for callers who see all work, and the key cache read on the event
loop. Through the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.api.test_service_api import Api, _problem, api  # noqa: F401

from flowdesk.auth import service
from flowdesk.engine.testing import wrap

# Three parallel user tasks: the queue orders them by priority (highest first, none last).
PARALLEL = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="low" name="Low" camunda:candidateGroups="billing" camunda:priority="10"/>
    <bpmn:userTask id="high" name="High" camunda:candidateGroups="billing,field-service" camunda:priority="50" camunda:formKey="forms:high"/>
    <bpmn:userTask id="plain" name="Plain" camunda:assignee="agent"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="low"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="high"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="plain"/>
    <bpmn:sequenceFlow id="f4" sourceRef="low" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="high" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="plain" targetRef="join"/>
    <bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="e"/>
    """,
    process_id="parallel",
)
STRAIGHT = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="e"/>
    """,
    process_id="straight",
)


def _instance(api: Api, instance_id: str) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/process-instances/{instance_id}", headers=api.as_("admin"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_start_answers_the_work_items_the_queue_holds(api: Api) -> None:
    assert api.deploy(("parallel.bpmn", PARALLEL), ("straight.bpmn", STRAIGHT)).status_code == 201
    started = api.start("parallel", {"amount": 5})
    assert [w["element_id"] for w in started["work_items"]] == ["high", "low", "plain"]
    high = started["work_items"][0]
    assert high["candidate_groups"] == ["billing", "field-service"]
    assert high["form_key"] == "forms:high" and high["name"] == "High"
    assert started["work_items"][2]["assignee"] == "agent"
    # The same list, field by field, as the database rows read back by GET.
    assert _instance(api, started["id"])["work_items"] == started["work_items"]
    queue = api.client.get(
        "/api/v1/work-items", params={"process_key": "parallel"}, headers=api.as_("admin")
    ).json()
    assert [w["id"] for w in queue] == [w["id"] for w in started["work_items"]]

    # A claim changes the row, not the instance state: GET reads the rows, so it shows it.
    low = started["work_items"][1]["id"]
    claimed = api.client.post(f"/api/v1/work-items/{low}/claim", headers=api.as_("other"))
    assert claimed.status_code == 200, claimed.text
    assert _instance(api, started["id"])["work_items"][1]["assignee"] == "other"

    done = api.start("straight")
    assert done["status"] == "completed" and done["work_items"] == []


def test_complete_by_a_caller_who_sees_all_keeps_the_answers(api: Api) -> None:
    assert api.deploy(("parallel.bpmn", PARALLEL)).status_code == 201
    started = api.start("parallel")
    items = {w["element_id"]: w["id"] for w in started["work_items"]}
    post = api.client.post
    for who in ("admin", "agent"):
        unknown = post(
            "/api/v1/work-items/nope/complete", json={"variables": {}}, headers=api.as_(who)
        )
        assert _problem(unknown, 404)["detail"] == "no work item 'nope'"
        # An unknown item with a bad variable: the 404 still comes first.
        both = post(
            "/api/v1/work-items/nope/complete", json={"variables": {"": 1}}, headers=api.as_(who)
        )
        assert _problem(both, 404)["detail"] == "no work item 'nope'"
    bad = post(
        f"/api/v1/work-items/{items['high']}/complete",
        json={"variables": {"": 1}},
        headers=api.as_("admin"),
    )
    assert "a variable name must not be empty" in _problem(bad, 422)["detail"]
    # Not offered to a field agent's group: 403 before anything else, as before.
    hidden = post(f"/api/v1/work-items/{items['low']}/complete", headers=api.as_("field"))
    assert _problem(hidden, 403)
    # Someone else's claim still stops an administrator (the command checks it).
    assert (
        post(f"/api/v1/work-items/{items['low']}/claim", headers=api.as_("agent")).status_code
        == 200
    )
    taken = post(f"/api/v1/work-items/{items['low']}/complete", headers=api.as_("admin"))
    assert "claimed by agent" in _problem(taken, 409)["detail"]

    ok = post(
        f"/api/v1/work-items/{items['high']}/complete",
        json={"variables": {"ok": True}},
        headers=api.as_("admin"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["instance_status"] == "active"
    assert {w["element_id"] for w in ok.json()["next_work_items"]} == {"low", "plain"}
    again = post(f"/api/v1/work-items/{items['high']}/complete", headers=api.as_("admin"))
    assert "already completed" in _problem(again, 409)["detail"]
    assert _instance(api, started["id"])["variables"]["ok"] is True


def test_a_cached_key_is_dropped_when_revoked_and_sessions_still_work(api: Api) -> None:
    get = api.client.get
    created = api.client.post(
        "/api/v1/api-keys", json={"name": "short-lived"}, headers=api.as_("agent")
    )
    assert created.status_code == 201, created.text
    token = created.json()["key"]
    headers = {"Authorization": f"Bearer {token}"}
    assert get("/api/v1/me", headers=headers).json()["username"] == "agent"
    assert get("/api/v1/me", headers=headers).status_code == 200  # now from the cache
    assert get("/api/v1/me", headers={"X-API-Key": token}).json()["username"] == "agent"
    revoked = api.client.delete(
        f"/api/v1/api-keys/{created.json()['id']}", headers=api.as_("admin")
    )
    assert revoked.status_code == 204, revoked.text
    assert _problem(get("/api/v1/me", headers=headers), 401)
    assert _problem(get("/api/v1/me", headers={"Authorization": "Bearer fdk_wrong"}), 401)
    assert _problem(get("/api/v1/me"), 401)["detail"].startswith("authentication required")

    # A login session is checked against the database (in the thread pool) on every request.
    service.create_user(
        api.store, api.clock, username="desk", roles=["agent"], password="pw-desk-1"
    )
    login = api.client.post(
        "/api/v1/auth/login", json={"username": "desk", "password": "pw-desk-1"}
    )
    assert login.status_code == 200, login.text
    assert get("/api/v1/me").json()["username"] == "desk"
    assert api.client.post("/api/v1/auth/logout").status_code == 204
    assert _problem(get("/api/v1/me"), 401)
