# ruff: noqa: F811
"""External tasks, CloudEvents in and webhook subscriptions through the ASGI app (both backends)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from tests.api.test_service_api import WAIT, Api, _problem, api  # noqa: F401

from flowdesk.runtime.processes import ProcessRuntime

FETCH = "/api/v1/external-tasks/fetch-and-lock"


def _fetch(api: Api, worker: str = "w1", **extra: object) -> list[dict]:  # type: ignore[type-arg]
    body = {
        "workerId": worker,
        "topics": [{"topicName": "crm-update", "lockDuration": 60_000}],
        **extra,
    }
    response = api.client.post(FETCH, json=body, headers=api.as_("integration"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_fetch_lock_complete_fail_retry_and_bpmn_error(api: Api) -> None:
    api.deploy(("wait.bpmn", WAIT))
    headers = api.as_("integration")
    one = api.start("wait", {"case_ref": "FD-1", "customer": "c-1"}, businessKey="FD-1")
    (task,) = _fetch(api)
    assert task["topicName"] == "crm-update" and task["workerId"] == "w1"
    assert task["processInstanceId"] == one["id"] and task["activityId"] == "crm"
    assert task["businessKey"] == "FD-1" and task["variables"]["customer"] == "c-1"
    assert _fetch(api, "w2") == []  # locked by w1
    post = api.client.post
    url = f"/api/v1/external-tasks/{task['id']}"
    assert (
        "not locked by worker 'w2'"
        in _problem(post(f"{url}/complete", json={"workerId": "w2"}, headers=headers), 409)[
            "detail"
        ]
    )
    extended = post(
        f"{url}/extend-lock", json={"workerId": "w1", "newDuration": 600_000}, headers=headers
    )
    assert extended.status_code == 200
    assert extended.json()["lockExpirationTime"].startswith(
        (api.clock.now() + timedelta(minutes=10)).isoformat()[:19]
    )
    failed = post(
        f"{url}/failure",
        json={"workerId": "w1", "errorMessage": "CRM down", "retries": 1, "retryTimeout": 30_000},
        headers=headers,
    )
    assert failed.status_code == 200, failed.text
    assert _fetch(api) == []  # backing off
    api.clock.advance(timedelta(seconds=31))
    (again,) = _fetch(api, "w2")
    post(
        f"/api/v1/external-tasks/{again['id']}/failure",
        json={"workerId": "w2", "errorMessage": "still down", "retries": 0},
        headers=headers,
    )
    state = api.client.get(f"/api/v1/process-instances/{one['id']}", headers=headers).json()
    (incident,) = state["incidents"]
    assert "still down" in incident["message"]
    retried = post(
        f"/api/v1/process-instances/{one['id']}/incidents/{incident['id']}/retry",
        json={"retries": 2},
        headers=api.as_("admin"),
    )
    assert retried.status_code == 200 and retried.json()["incidents"] == []
    (third,) = _fetch(api, "w3")
    done = post(
        f"/api/v1/external-tasks/{third['id']}/complete",
        json={"workerId": "w3", "variables": {"crm": "ok"}},
        headers=headers,
    )
    assert done.json() == {"processInstanceId": one["id"], "status": "active"}
    assert api.client.get(f"/api/v1/process-instances/{one['id']}", headers=headers).json()[
        "active_elements"
    ] == ["wait_reply"]
    _problem(
        post("/api/v1/process-instances/nope/incidents/x/retry", headers=api.as_("admin")), 404
    )
    _problem(
        post(
            f"/api/v1/process-instances/{one['id']}/incidents/nope/retry", headers=api.as_("admin")
        ),
        404,
    )

    two = api.start("wait", {"case_ref": "FD-2"})
    (task,) = _fetch(api)
    thrown = post(
        f"/api/v1/external-tasks/{task['id']}/bpmn-error",
        json={"workerId": "w1", "errorCode": "NO_CUSTOMER", "variables": {"why": "unknown"}},
        headers=headers,
    )
    assert thrown.status_code == 200, thrown.text
    got = api.client.get(f"/api/v1/process-instances/{two['id']}", headers=headers).json()
    assert [w["element_id"] for w in got["work_items"]] == ["fix"] and got["variables"][
        "why"
    ] == "unknown"
    _problem(
        post("/api/v1/external-tasks/nope/complete", json={"workerId": "w1"}, headers=headers), 404
    )
    _problem(post(f"{url}/failure", json={"workerId": "w1"}, headers=headers), 422)
    _problem(post(FETCH, json={"workerId": "w1", "topics": []}, headers=headers), 422)
    _problem(
        post(
            FETCH,
            json={"workerId": "w1", "topics": [{"topicName": "x", "lockDuration": -5}]},
            headers=headers,
        ),
        422,
    )
    _problem(
        post(
            FETCH,
            json={"workerId": "w1", "topics": [{"topicName": "x"}], "maxTasks": "many"},
            headers=headers,
        ),
        422,
    )


def test_long_polling_waits_for_a_task(api: Api) -> None:
    api.deploy(("wait.bpmn", WAIT))
    began = time.monotonic()
    assert _fetch(api, asyncResponseTimeout=300) == []
    assert time.monotonic() - began >= 0.28  # it waited, then answered empty
    runtime = ProcessRuntime(api.store, clock=api.clock)
    timer = threading.Timer(0.4, lambda: runtime.start("wait", {"case_ref": "FD-7"}))
    timer.start()
    began = time.monotonic()
    tasks = _fetch(api, asyncResponseTimeout=10_000)
    waited = time.monotonic() - began
    timer.join()
    assert len(tasks) == 1 and tasks[0]["variables"]["case_ref"] == "FD-7"
    assert 0.3 <= waited < 5  # woke up when the task appeared, not at the timeout


CE = {
    "specversion": "1.0",
    "id": "evt-1",
    "source": "/crm",
    "type": "com.example.customer.updated",
    "subject": "c-42",
    "data": {"tier": "gold"},
    "tenant": "acme",
}


def test_cloudevents_single_batch_duplicates_and_validation(api: Api) -> None:
    headers = {**api.as_("integration"), "content-type": "application/cloudevents+json"}
    post = api.client.post
    first = post("/api/v1/events", json=CE, headers=headers)
    assert first.status_code == 202, first.text
    assert first.json()["accepted"] == 1 and first.json()["duplicates"] == 0
    again = post("/api/v1/events", json=CE, headers=headers)
    assert again.json()["accepted"] == 0 and again.json()["duplicates"] == 1
    assert again.json()["ids"] == first.json()["ids"]
    other_source = post("/api/v1/events", json={**CE, "source": "/billing"}, headers=headers)
    assert other_source.json()["accepted"] == 1  # the id is only unique per source
    batch_headers = {**api.as_("integration"), "content-type": "application/cloudevents-batch+json"}
    batch = [dict(CE, id=f"b-{i}", time="2026-03-02T08:00:00Z") for i in range(3)] + [CE]
    response = post("/api/v1/events", json=batch, headers=batch_headers)
    assert response.json()["accepted"] == 3 and response.json()["duplicates"] == 1
    log = [e for e in api.store.events.after(0) if e.type == "com.example.customer.updated"]
    assert len(log) == 5
    stored = log[0]
    assert stored.source == "/crm" and stored.actor == "integration"
    assert stored.data == {
        "cloudevent_id": "evt-1",
        "subject": "c-42",
        "data": {"tier": "gold"},
        "extensions": {"tenant": "acme"},
    }
    assert log[2].time.isoformat().startswith("2026-03-02T08:00:00")

    def bad(
        body: object, content_type: str = "application/cloudevents+json", status: int = 422
    ) -> str:
        h = {**api.as_("integration"), "content-type": content_type}
        raw = body if isinstance(body, bytes) else __import__("json").dumps(body).encode()
        return str(_problem(post("/api/v1/events", content=raw, headers=h), status)["detail"])

    assert "'id'" in bad({k: v for k, v in CE.items() if k != "id"})
    assert "'source'" in bad({**CE, "source": ""})
    assert "'type'" in bad({**CE, "type": 7})
    assert "specversion" in bad({**CE, "specversion": "0.3"})
    assert "not valid JSON" in bad(b"{oops")
    assert "JSON object" in bad([1], "application/cloudevents-batch+json")
    assert "event 1:" in bad([CE, {**CE, "id": None}], "application/cloudevents-batch+json")
    assert "JSON array" in bad(CE, "application/cloudevents-batch+json")
    assert "1 to 1000" in bad([], "application/cloudevents-batch+json")
    assert "RFC 3339" in bad({**CE, "time": "yesterday"})
    assert "attribute name" in bad({**CE, "Bad-Name": 1})
    assert "not accepted" in bad(CE, "text/plain", status=415)
    assert (
        len([e for e in api.store.events.after(0) if e.type == "com.example.customer.updated"]) == 5
    )


def test_webhook_subscriptions_api(api: Api) -> None:
    headers = api.as_("admin")
    post = api.client.post
    created = post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "eventTypes": ["process.*"], "secret": "s" * 20},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"] == "s" * 20 and hook["event_types"] == ["process.*"]
    generated = post(
        "/api/v1/webhooks",
        json={"url": "https://example.com/x", "event_types": ["*"]},
        headers=headers,
    ).json()
    assert len(generated["secret"]) >= 32
    listed = api.client.get("/api/v1/webhooks", headers=headers).json()
    assert {h["id"] for h in listed} == {hook["id"], generated["id"]}
    assert all("secret" not in h for h in listed)
    assert (
        api.client.get(f"/api/v1/webhooks/{hook['id']}", headers=headers).json()["url"]
        == "http://127.0.0.1:9/hook"
    )
    assert api.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=headers).json() == []
    assert (
        "http(s)"
        in _problem(
            post(
                "/api/v1/webhooks", json={"url": "ftp://x/y", "eventTypes": ["*"]}, headers=headers
            ),
            422,
        )["detail"]
    )
    assert (
        "not valid"
        in _problem(
            post(
                "/api/v1/webhooks",
                json={"url": "http://x/y", "eventTypes": ["pro*cess"]},
                headers=headers,
            ),
            422,
        )["detail"]
    )
    _problem(
        post("/api/v1/webhooks", json={"url": "http://x/y", "eventTypes": []}, headers=headers), 422
    )
    _problem(
        post(
            "/api/v1/webhooks",
            json={"url": "http://x/y", "eventTypes": ["*"], "secret": "short"},
            headers=headers,
        ),
        422,
    )
    assert api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=headers).status_code == 204
    _problem(api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=headers), 404)
    assert (
        api.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=headers).status_code
        == 200
    )
    _problem(api.client.get("/api/v1/webhooks/nope/deliveries", headers=headers), 404)
    _problem(api.client.get("/api/v1/webhooks", headers=api.as_("agent")), 403)
