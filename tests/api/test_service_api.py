# ruff: noqa: E501
"""The service API through the ASGI app, on SQLite and PostgreSQL: deployments, instances,
work items, messages, decisions, idempotency and bad input. Other service test files import the
`api` fixture and the models from here."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.auth import service
from flowdesk.core.clock import FixedClock
from flowdesk.engine.testing import cond, wrap
from flowdesk.settings import Settings
from flowdesk.store import Store

APPROVAL = wrap(
    f"""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="billing" camunda:formKey="forms:review"/>
    <bpmn:exclusiveGateway id="g" default="f_no"/>
    <bpmn:userTask id="pay" name="Pay out" camunda:candidateGroups="billing"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="g"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="g" targetRef="pay">{cond("amount > 100")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="g" targetRef="e"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="e"/>
    """,
    process_id="approval",
)
FIELD = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="visit" name="Visit" camunda:candidateGroups="field-service"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="visit"/>
    <bpmn:sequenceFlow id="f1" sourceRef="visit" targetRef="e"/>
    """,
    process_id="field",
)
WAIT = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="crm" camunda:type="external" camunda:topic="crm-update"/>
    <bpmn:boundaryEvent id="no_customer" attachedToRef="crm"><bpmn:errorEventDefinition errorRef="err_nc"/></bpmn:boundaryEvent>
    <bpmn:receiveTask id="wait_reply" messageRef="m_reply"/>
    <bpmn:userTask id="fix" name="Fix the customer record" camunda:candidateGroups="billing"/>
    <bpmn:endEvent id="e"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="crm"/>
    <bpmn:sequenceFlow id="f1" sourceRef="crm" targetRef="wait_reply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_reply" targetRef="e"/>
    <bpmn:sequenceFlow id="f3" sourceRef="no_customer" targetRef="fix"/>
    <bpmn:sequenceFlow id="f4" sourceRef="fix" targetRef="e2"/>
    """,
    process_id="wait",
    extra=(
        '<bpmn:message id="m_reply" name="customer-reply"><bpmn:extensionElements>'
        '<zeebe:subscription correlationKey="=case_ref"/></bpmn:extensionElements></bpmn:message>'
        '<bpmn:error id="err_nc" errorCode="NO_CUSTOMER"/>'
    ),
)
SIGNAL = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="wait"/>
    <bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="e"/>
    """,
    process_id="outage",
    extra='<bpmn:signal id="sig" name="outage-over"/>',
)
DISCOUNT_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="Discounts" namespace="http://flowdesk.example/dmn">
  <inputData id="i_segment" name="segment"><variable name="segment" typeRef="string"/></inputData>
  <decision id="discount" name="Discount">
    <variable name="Discount" typeRef="number"/>
    <informationRequirement><requiredInput href="#i_segment"/></informationRequirement>
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="in" label="segment"><inputExpression typeRef="string"><text>segment</text></inputExpression></input>
      <output id="out" name="discount" typeRef="number"/>
      <rule><inputEntry><text>"gold"</text></inputEntry><outputEntry><text>RATE</text></outputEntry></rule>
      <rule><inputEntry><text>-</text></inputEntry><outputEntry><text>0</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""
RULES = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:businessRuleTask id="rate" camunda:decisionRef="discount" camunda:resultVariable="discount" camunda:mapDecisionResult="singleEntry"/>
    <bpmn:userTask id="make_offer" name="Make the offer"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="rate"/>
    <bpmn:sequenceFlow id="f1" sourceRef="rate" targetRef="make_offer"/>
    """,
    process_id="offer",
)
BROKEN = APPROVAL.replace('targetRef="pay"', 'targetRef="nowhere"')


@dataclass
class Api:
    client: TestClient
    store: Store
    clock: FixedClock
    keys: dict[str, dict[str, str]]

    def as_(self, who: str) -> dict[str, str]:
        return self.keys[who]

    def deploy(self, *files: tuple[str, str | bytes], who: str = "admin") -> Any:
        upload = [
            ("files", (name, body.encode() if isinstance(body, str) else body, "application/xml"))
            for name, body in files
        ]
        response = self.client.post("/api/v1/deployments", files=upload, headers=self.as_(who))
        return response

    def start(self, key: str, variables: dict[str, Any] | None = None, **extra: Any) -> Any:
        body = {"processKey": key, "variables": variables or {}, **extra}
        response = self.client.post(
            "/api/v1/process-instances", json=body, headers=self.as_("admin")
        )
        assert response.status_code == 201, response.text
        return response.json()


USERS = {
    "admin": (["admin"], []),
    "supervisor": (["supervisor"], ["billing"]),
    "agent": (["agent"], ["billing"]),
    "other": (["agent"], ["billing"]),
    "field": (["agent"], ["field-service"]),
    "integration": (["integration"], []),
}


def make_api(store: Store, clock: FixedClock, database_url: str, **settings: Any) -> Iterator[Api]:
    keys = {}
    for username, (roles, groups) in USERS.items():
        service.create_user(store, clock, username=username, roles=roles, groups=groups)
        _, key = service.create_api_key(store, clock, username=username, name="test")
        keys[username] = {"Authorization": f"Bearer {key}"}
    app = create_app(Settings(database_url=database_url, **settings), store, clock)
    with TestClient(app) as client:
        yield Api(client, store, clock, keys)


@pytest.fixture
def api(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")  # tests drive delivery themselves
    yield from make_api(store, clock, database_url, max_body_bytes=64 * 1024)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


# -- deployments ---------------------------------------------------------------------------------


def test_deploy_list_versions_xml_and_diagram(api: Api) -> None:
    from tests.runtime.conftest import DATA

    first = api.deploy(("approval.bpmn", APPROVAL))
    assert first.status_code == 201, first.text
    assert [(d["key"], d["version"], d["new"]) for d in first.json()["definitions"]] == [
        ("approval", 1, True)
    ]
    same = api.deploy(("approval.bpmn", APPROVAL))
    assert [(d["version"], d["new"]) for d in same.json()["definitions"]] == [(1, False)]
    changed = api.deploy(("approval.bpmn", APPROVAL.replace("Pay out", "Pay the customer")))
    assert changed.json()["definitions"][0]["id"] == "approval:2"
    support = api.deploy(("support_case.bpmn", (DATA / "support_case.bpmn").read_bytes()))
    assert support.status_code == 201

    headers = api.as_("agent")
    deployments = api.client.get("/api/v1/deployments", headers=headers).json()
    assert len(deployments) == 4
    assert {r["name"] for d in deployments for r in d["resources"]} == {
        "approval.bpmn",
        "support_case.bpmn",
    }
    versions = api.client.get("/api/v1/process-definitions/approval", headers=headers).json()
    assert [v["version"] for v in versions] == [1, 2]
    latest = api.client.get("/api/v1/process-definitions?latest=true", headers=headers).json()
    assert sorted((d["key"], d["version"]) for d in latest) == [
        ("approval", 2),
        ("support_case", 1),
    ]
    xml = api.client.get("/api/v1/process-definitions/approval:1/xml", headers=headers)
    assert xml.headers["content-type"].startswith("application/xml")
    assert "Pay out" in xml.text and "Pay the customer" not in xml.text
    svg = api.client.get("/api/v1/process-definitions/support_case:1/diagram.svg", headers=headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") or "<svg" in svg.text[:200]
    assert 'data-element-id="triage"' in svg.text
    _problem(api.client.get("/api/v1/process-definitions/nope", headers=headers), 404)
    _problem(api.client.get("/api/v1/process-definitions/nope:1/xml", headers=headers), 404)


def test_invalid_model_is_a_422_naming_file_line_and_element(api: Api) -> None:
    response = api.deploy(("ok.bpmn", FIELD), ("broken.bpmn", BROKEN))
    body = _problem(response, 422)
    assert body["file"] == "broken.bpmn"
    assert body["line"] > 1
    assert body["element_id"] == "f_yes"
    assert "nowhere" in body["detail"]
    assert api.client.get("/api/v1/deployments", headers=api.as_("admin")).json() == []
    bad_dmn = api.deploy(("rules.dmn", DISCOUNT_DMN.replace("RATE", "0.1 +")))
    body = _problem(bad_dmn, 422)
    assert body["file"] == "rules.dmn" and body["type"].endswith("invalid-model")
    not_xml = _problem(api.deploy(("x.bpmn", "this is not xml")), 422)
    assert not_xml["file"] == "x.bpmn"
    latin1 = _problem(api.deploy(("x.bpmn", "caf\xe9".encode("latin-1"))), 422)
    assert "not UTF-8" in latin1["detail"]
    assert "not a deployable file" in _problem(api.deploy(("notes.txt", "hi")), 422)["detail"]
    assert "not a readable zip" in _problem(api.deploy(("m.zip", b"PK-garbage")), 422)["detail"]
    doctype = APPROVAL.replace(
        "<bpmn:definitions", '<!DOCTYPE x [<!ENTITY e "boom">]>\n<bpmn:definitions', 1
    )
    _problem(api.deploy(("evil.bpmn", doctype)), 422)
    no_files = api.client.post("/api/v1/deployments", headers=api.as_("admin"))
    _problem(no_files, 422)
    assert api.client.get("/api/v1/deployments", headers=api.as_("admin")).json() == []


def test_deploy_a_zip_bundle(api: Api) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("flows/approval.bpmn", APPROVAL)
        archive.writestr("rules/discount.dmn", DISCOUNT_DMN.replace("RATE", "0.1"))
        archive.writestr("README.md", "ignored")
    response = api.deploy(("bundle.zip", buffer.getvalue()))
    assert response.status_code == 201, response.text
    (deployment,) = api.client.get("/api/v1/deployments", headers=api.as_("admin")).json()
    assert sorted((r["name"], r["kind"]) for r in deployment["resources"]) == [
        ("flows/approval.bpmn", "bpmn"),
        ("rules/discount.dmn", "dmn"),
    ]


# -- instances -----------------------------------------------------------------------------------


def test_start_query_history_variables_and_cancel(api: Api) -> None:
    api.deploy(("approval.bpmn", APPROVAL))
    started = api.start("approval", {"amount": 150.25, "note": "x"}, businessKey="R-1")
    assert started["status"] == "active" and started["business_key"] == "R-1"
    assert started["definition_id"] == "approval:1"
    assert started["variables"] == {"amount": 150.25, "note": "x"}
    (item,) = started["work_items"]
    assert item["element_id"] == "review" and item["form_key"] == "forms:review"
    snake = api.client.post(
        "/api/v1/process-instances",
        json={"process_key": "approval", "business_key": "R-2"},
        headers=api.as_("integration"),
    )
    assert snake.status_code == 201 and snake.json()["business_key"] == "R-2"

    admin = api.as_("admin")
    listed = api.client.get("/api/v1/process-instances?business_key=R-1", headers=admin).json()
    assert [i["id"] for i in listed] == [started["id"]]
    assert (
        len(
            api.client.get(
                "/api/v1/process-instances?process_key=approval&status=active", headers=admin
            ).json()
        )
        == 2
    )
    got = api.client.get(f"/api/v1/process-instances/{started['id']}", headers=admin).json()
    assert got["active_elements"] == ["review"] and got["incidents"] == []

    patched = api.client.patch(
        f"/api/v1/process-instances/{started['id']}/variables",
        json={"variables": {"amount": 50, "when": "2026-03-02"}},
        headers=admin,
    )
    assert patched.status_code == 200 and patched.json()["variables"]["amount"] == 50
    history = api.client.get(
        f"/api/v1/process-instances/{started['id']}/history", headers=admin
    ).json()
    types = [e["type"] for e in history]
    assert types[0] == "process.started" and "variables.changed" in types
    assert [e["seq"] for e in history] == sorted(e["seq"] for e in history)

    cancelled = api.client.delete(f"/api/v1/process-instances/{started['id']}", headers=admin)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["work_items"] == []
    again = api.client.delete(f"/api/v1/process-instances/{started['id']}", headers=admin)
    assert 400 <= again.status_code < 500
    _problem(api.client.get("/api/v1/process-instances/nope", headers=admin), 404)
    _problem(api.client.get("/api/v1/process-instances/nope/history", headers=admin), 404)
    _problem(api.client.delete("/api/v1/process-instances/nope", headers=admin), 404)


def test_start_bad_input_is_4xx_and_starts_nothing(api: Api) -> None:
    api.deploy(("approval.bpmn", APPROVAL))
    admin = {**api.as_("admin"), "content-type": "application/json"}
    post = api.client.post
    url = "/api/v1/process-instances"
    assert "processKey" in _problem(post(url, json={"variables": {}}, headers=admin), 422)["detail"]
    _problem(post(url, content=b'{"processKey": "approval",', headers=admin), 422)
    _problem(post(url, json={"processKey": "approval", "variables": [1, 2]}, headers=admin), 422)
    _problem(post(url, json={"processKey": 42}, headers=admin), 422)
    _problem(post(url, json=["approval"], headers=admin), 422)
    _problem(post(url, json={"processKey": "approval", "surprise": 1}, headers=admin), 422)
    nope = _problem(post(url, json={"processKey": "nope"}, headers=admin), 404)
    assert "no process 'nope' is deployed" in nope["detail"]
    _problem(
        post(url, json={"processKey": "approval", "variables": {"x": "y" * 70_000}}, headers=admin),
        413,
    )
    assert api.client.get(url, headers=admin).json() == []


def test_idempotency_key_starts_once(api: Api) -> None:
    api.deploy(("approval.bpmn", APPROVAL))
    url = "/api/v1/process-instances"
    headers = {**api.as_("integration"), "Idempotency-Key": "order-4711"}
    body = {"processKey": "approval", "variables": {"amount": 10}, "businessKey": "O-4711"}
    first = api.client.post(url, json=body, headers=headers)
    retry = api.client.post(url, json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers.get("idempotent-replayed") == "true"
    listed = api.client.get(f"{url}?business_key=O-4711", headers=api.as_("admin")).json()
    assert len(listed) == 1
    other = api.client.post(url, json={**body, "variables": {"amount": 11}}, headers=headers)
    assert "already used with a different request" in _problem(other, 422)["detail"]
    # Keys are per caller: the same key from someone else is a new request.
    admin = {**api.as_("admin"), "Idempotency-Key": "order-4711"}
    assert api.client.post(url, json=body, headers=admin).json()["id"] != first.json()["id"]
    # A failed request releases its key: the retry runs.
    failing = {**api.as_("integration"), "Idempotency-Key": "k2"}
    _problem(api.client.post(url, json={"processKey": "later"}, headers=failing), 404)
    api.deploy(("later.bpmn", FIELD.replace('id="field"', 'id="later"')))
    assert api.client.post(url, json={"processKey": "later"}, headers=failing).status_code == 201
    long_key = {**api.as_("integration"), "Idempotency-Key": "k" * 201}
    _problem(api.client.post(url, json=body, headers=long_key), 422)
    # Without a key every request starts an instance.
    plain = api.as_("integration")
    a = api.client.post(url, json=body, headers=plain).json()
    b = api.client.post(url, json=body, headers=plain).json()
    assert a["id"] != b["id"]


def test_idempotent_deploy_and_webhook_create(api: Api) -> None:
    headers = {**api.as_("admin"), "Idempotency-Key": "deploy-1"}
    upload = [("files", ("approval.bpmn", APPROVAL.encode(), "application/xml"))]
    first = api.client.post("/api/v1/deployments", files=upload, headers=headers)
    second = api.client.post("/api/v1/deployments", files=upload, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    assert len(api.client.get("/api/v1/deployments", headers=headers).json()) == 1
    hook = {"url": "http://127.0.0.1:9/x", "eventTypes": ["*"]}
    h = {**api.as_("admin"), "Idempotency-Key": "hook-1"}
    assert (
        api.client.post("/api/v1/webhooks", json=hook, headers=h).json()["id"]
        == api.client.post("/api/v1/webhooks", json=hook, headers=h).json()["id"]
    )


# -- work items ----------------------------------------------------------------------------------


def test_agents_see_work_of_their_groups_only(api: Api) -> None:
    api.deploy(("approval.bpmn", APPROVAL), ("field.bpmn", FIELD))
    billing = api.start("approval", {"amount": 10})
    field = api.start("field")
    get = api.client.get

    def ids(who: str, query: str = "") -> set[str]:
        response = get(f"/api/v1/work-items{query}", headers=api.as_(who))
        assert response.status_code == 200, response.text
        return {w["instance_id"] for w in response.json()}

    assert ids("agent") == {billing["id"]}
    assert ids("field") == {field["id"]}
    assert ids("supervisor") == ids("admin") == {billing["id"], field["id"]}
    assert ids("admin", "?candidate_group=field-service") == {field["id"]}
    assert ids("admin", "?process_key=approval") == {billing["id"]}
    assert ids("admin", "?due_before=2020-01-01T00:00:00Z") == set()
    field_item = field["work_items"][0]["id"]
    denied = get(f"/api/v1/work-items/{field_item}", headers=api.as_("agent"))
    assert "not offered to agent" in _problem(denied, 403)["detail"]
    _problem(
        api.client.post(f"/api/v1/work-items/{field_item}/claim", headers=api.as_("agent")), 403
    )
    detail = get(f"/api/v1/work-items/{billing['work_items'][0]['id']}", headers=api.as_("agent"))
    assert detail.json()["form_key"] == "forms:review"
    assert detail.json()["variables"] == {"amount": 10}
    _problem(get("/api/v1/work-items/nope", headers=api.as_("agent")), 404)
    _problem(get("/api/v1/work-items?due_before=yesterday", headers=api.as_("agent")), 422)


def test_claim_complete_delegate_and_conflicts(api: Api) -> None:
    api.deploy(("approval.bpmn", APPROVAL))
    started = api.start("approval", {"amount": 500})
    item = started["work_items"][0]["id"]
    post = api.client.post
    claimed = post(f"/api/v1/work-items/{item}/claim", headers=api.as_("agent"))
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "agent"
    assert (
        "already claimed by agent"
        in _problem(post(f"/api/v1/work-items/{item}/claim", headers=api.as_("other")), 409)[
            "detail"
        ]
    )
    taken = post(
        f"/api/v1/work-items/{item}/complete",
        json={"variables": {"ok": True}},
        headers=api.as_("other"),
    )
    assert "claimed by agent" in _problem(taken, 409)["detail"]
    _problem(post(f"/api/v1/work-items/{item}/unclaim", headers=api.as_("other")), 409)
    delegated = post(
        f"/api/v1/work-items/{item}/delegate", json={"user": "other"}, headers=api.as_("agent")
    )
    assert delegated.json()["assignee"] == "other"
    _problem(
        post(f"/api/v1/work-items/{item}/delegate", json={"user": ""}, headers=api.as_("other")),
        422,
    )
    unclaimed = post(f"/api/v1/work-items/{item}/unclaim", headers=api.as_("supervisor"))
    assert unclaimed.json()["assignee"] is None
    done = post(
        f"/api/v1/work-items/{item}/complete",
        json={"variables": {"approved": True}},
        headers=api.as_("other"),
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["instance_status"] == "active"
    assert [w["element_id"] for w in body["next_work_items"]] == ["pay"]
    again = post(f"/api/v1/work-items/{item}/complete", json={}, headers=api.as_("other"))
    assert "already completed" in _problem(again, 409)["detail"]
    bad = post(
        f"/api/v1/work-items/{body['next_work_items'][0]['id']}/complete",
        json={"variables": "yes"},
        headers=api.as_("agent"),
    )
    _problem(bad, 422)
    history = api.client.get(
        f"/api/v1/process-instances/{started['id']}/history", headers=api.as_("admin")
    ).json()
    assert {"work_item.claimed", "work_item.delegated", "work_item.unclaimed"} <= {
        e["type"] for e in history
    }


# -- messages, signals, decisions ----------------------------------------------------------------


def test_messages_correlate_or_buffer_and_signals_broadcast(api: Api) -> None:
    api.deploy(("wait.bpmn", WAIT), ("outage.bpmn", SIGNAL))
    waiting = api.start("wait", {"case_ref": "FD-1"})
    headers = api.as_("integration")
    early = api.client.post(
        "/api/v1/messages",
        json={"name": "customer-reply", "correlationKey": "FD-9", "variables": {"text": "hi"}},
        headers=headers,
    )
    assert early.json() == {"instances": [], "buffered": True, "held": False}
    for task in api.client.post(
        "/api/v1/external-tasks/fetch-and-lock",
        json={"workerId": "w", "topics": [{"topicName": "crm-update"}]},
        headers=headers,
    ).json():
        api.client.post(
            f"/api/v1/external-tasks/{task['id']}/complete", json={"workerId": "w"}, headers=headers
        )
    reply = api.client.post(
        "/api/v1/messages",
        json={"name": "customer-reply", "correlationKey": "FD-1", "variables": {"text": "thanks"}},
        headers=headers,
    )
    assert reply.json() == {"instances": [waiting["id"]], "buffered": False, "held": False}
    state = api.client.get(f"/api/v1/process-instances/{waiting['id']}", headers=headers).json()
    assert state["status"] == "completed" and state["variables"]["text"] == "thanks"
    a, b = api.start("outage"), api.start("outage")
    sent = api.client.post(
        "/api/v1/signals",
        json={"name": "outage-over", "variables": {"note": "ok"}},
        headers=headers,
    )
    assert sorted(sent.json()["instances"]) == sorted([a["id"], b["id"]])
    _problem(
        api.client.post("/api/v1/messages", json={"correlationKey": "x"}, headers=headers), 422
    )
    _problem(api.client.post("/api/v1/signals", json={"name": ""}, headers=headers), 422)


def test_decisions_evaluate_and_business_rule_tasks_use_deployed_dmn(api: Api) -> None:
    api.deploy(("discount.dmn", DISCOUNT_DMN.replace("RATE", "0.1")), ("offer.bpmn", RULES))
    headers = api.as_("agent")
    url = "/api/v1/decisions/discount/evaluate"
    gold = api.client.post(url, json={"inputs": {"segment": "gold"}}, headers=headers)
    assert gold.status_code == 200 and gold.json()["value"] == 0.1
    by_name = api.client.post(
        "/api/v1/decisions/Discount/evaluate", json={"inputs": {"segment": "tin"}}, headers=headers
    )
    assert by_name.json()["value"] == 0
    wrong_type = api.client.post(url, json={"inputs": {"segment": 5}}, headers=headers).json()
    assert wrong_type[
        "diagnostics"
    ]  # a non-conforming input is null with a diagnostic, not an error
    _problem(api.client.post("/api/v1/decisions/nope/evaluate", json={}, headers=headers), 404)
    _problem(api.client.post(url, json={"inputs": []}, headers=headers), 422)
    started = api.start("offer", {"segment": "gold"})
    assert started["variables"]["discount"] == 0.1
    api.clock.advance(__import__("datetime").timedelta(seconds=1))
    api.deploy(("discount.dmn", DISCOUNT_DMN.replace("RATE", "0.2")))  # the newest wins
    assert (
        api.client.post(url, json={"inputs": {"segment": "gold"}}, headers=headers).json()["value"]
        == 0.2
    )
    assert api.start("offer", {"segment": "gold"})["variables"]["discount"] == 0.2


# -- authentication and generic bad input --------------------------------------------------------


def test_missing_or_wrong_key_is_401_and_unknown_routes_404(api: Api) -> None:
    _problem(api.client.get("/api/v1/work-items"), 401)
    wrong = api.client.get("/api/v1/work-items", headers={"Authorization": "Bearer fdk_nope"})
    _problem(wrong, 401)
    _problem(api.client.get("/api/v1/nothing-here", headers=api.as_("admin")), 404)
    wrong_method = api.client.put("/api/v1/work-items", headers=api.as_("admin"))
    assert wrong_method.status_code == 405
