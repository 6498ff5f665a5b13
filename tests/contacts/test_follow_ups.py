"""Follow-ups that quote a case reference, over the REST intake API as a channel integration
sends them: attached to the sender's open case (any letter case, with or without the dash), a
closed case handled by the company's follow-up policy (reopened within the window, a new case
linked to the old one after it, or linked), a stranger's reference never attached (triage,
flagged), and every decision an event with its why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from flowdesk.api import problems
from flowdesk.api.routes import contacts as contact_routes
from flowdesk.auth import service as auth
from flowdesk.cases import service as cases
from flowdesk.cases.references import references_in
from flowdesk.contacts.follow_ups import FollowUpPolicy
from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.company import load_company
from flowdesk.experience.errors import BundleError
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

DEMO = COMPANY_DIR
ANN = "ann@example.com"


def _key(
    store: Store, clock: FixedClock, username: str, role: str, groups: list[str] | None = None
) -> dict[str, str]:
    auth.create_user(store, clock, username=username, roles=[role], groups=groups)
    _, token = auth.create_api_key(store, clock, username=username, name="test")
    return {"Authorization": f"Bearer {token}"}


class Api:
    """The contacts API as an integration (portal) and an agent use it."""

    def __init__(self, http: TestClient, portal: dict[str, str], agent: dict[str, str]) -> None:
        self.http, self.portal, self.agent = http, portal, agent

    def contact(self, **fields: Any) -> dict[str, Any]:
        answer = self.http.post("/api/v1/contacts", json=fields, headers=self.portal)
        assert answer.status_code in (200, 201), answer.text
        body: dict[str, Any] = answer.json()
        return body

    def chat(self, email: str, text: str) -> dict[str, Any]:
        return self.contact(channel="chat", session_id=text[:20], email=email, text=text)

    def case(self, reference: str) -> dict[str, Any]:
        answer = self.http.get(f"/api/v1/cases/{reference}", headers=self.agent)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def app(store: Store, clock: FixedClock, runtime: ProcessRuntime) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.state.store = store
    app.state.clock = clock
    app.state.process_runtime = runtime
    app.state.contact_default_region = "GB"
    app.include_router(contact_routes.router)
    return app


@pytest.fixture
def api(app: FastAPI, store: Store, clock: FixedClock) -> Iterator[Api]:
    portal = _key(store, clock, "portal", "integration")
    agent = _key(store, clock, "agent1", "agent", ["front-office"])
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Api(http, portal, agent)


def _opened(api: Api, email: str = ANN) -> dict[str, Any]:
    started = api.contact(
        channel="web", email=email, reason="billing-inquiry", message="My bill is too high."
    )
    assert started["action"] == "started"
    return started


def _events(store: Store, kind: str) -> list[Any]:
    return [e for e in store.events.iterate() if e.type == kind]


def _close(
    store: Store, runtime: ProcessRuntime, clock: FixedClock, started: dict[str, Any]
) -> cases.Case:
    """The case's flow ends (cancelled here); the case closes with the time it ended."""
    runtime.cancel(started["instance_id"], "test")
    with store.unit_of_work() as uow:
        case = cases.get_case(uow.connection, started["case_id"])
        assert case is not None
        closed = cases.refresh(uow, case, clock.now())
    assert closed.status == "closed"
    return closed


@pytest.mark.parametrize("spelling", ["{lower}: I sent the details you asked for", "re {nodash}"])
def test_a_lower_case_reference_attaches_the_follow_up_to_the_open_case(
    api: Api, store: Store, clock: FixedClock, spelling: str
) -> None:
    started = _opened(api)
    ref = started["case_reference"]
    clock.advance(hours=2)
    text = spelling.format(lower=ref.lower(), nodash=ref.replace("-", "").lower())
    follow = api.chat(ANN, text)
    assert follow["action"] == "attached", follow
    assert follow["case_id"] == started["case_id"] and follow["case_reference"] == ref
    case = api.case(ref)
    assert follow["contact_id"] in [c["id"] for c in case["contacts"]]
    assert case["status"] == "open"
    (attached,) = _events(store, "case.contact_attached")
    assert attached.case_id == started["case_id"] and attached.data["how"] == "reference"
    assert "open case of this customer" in attached.data["why"]
    triage = api.http.get("/api/v1/contacts/triage", headers=api.agent).json()
    assert triage == []


def test_a_follow_up_to_a_closed_case_reopens_it_within_the_window_and_opens_a_linked_case_after(
    api: Api, store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    first = _opened(api)
    ref = first["case_reference"]
    clock.advance(days=1)
    _close(store, runtime, clock, first)
    clock.advance(days=3)
    again = api.chat(ANN, f"{ref.lower()}: the problem is back again.")
    assert again["action"] == "reopened" and again["case_id"] == first["case_id"]
    assert again["instance_id"] and again["instance_id"] != first["instance_id"]
    assert api.case(ref)["status"] == "open"
    (reopened,) = _events(store, "case.reopened")
    assert (
        reopened.case_id == first["case_id"]
        and "within reopen_within P14D" in (reopened.data["why"])
    )
    assert runtime.work_items(instance_id=again["instance_id"])  # the flow runs again

    clock.advance(days=1)
    _close(store, runtime, clock, again)
    clock.advance(days=20)
    later = api.chat(ANN, f"Same issue as case {ref}, it is not solved.")
    assert later["action"] == "started" and later["case_id"] != first["case_id"]
    new_ref = later["case_reference"]
    assert api.case(new_ref)["status"] == "open" and api.case(ref)["status"] == "closed"
    linked = _events(store, "case.follow_up_linked")
    assert {(e.case_id, next(iter(sorted(e.data)))) for e in linked} == {
        (later["case_id"], "follows"),
        (first["case_id"], "followed_by"),
    }
    assert "over reopen_within P14D" in linked[0].data["why"]
    assert api.case(new_ref)["linked_cases"] == [{"follows": ref}]
    assert api.case(ref)["linked_cases"] == [{"followed_by": new_ref}]
    how = [e.data["how"] for e in _events(store, "case.contact_attached")]
    assert how == ["reopen", "new_case"]


def test_the_link_policy_keeps_the_follow_up_on_the_closed_case_without_a_flow(
    app: FastAPI, api: Api, store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    app.state.follow_up_policy = FollowUpPolicy("link", timedelta(days=7))
    first = _opened(api)
    _close(store, runtime, clock, first)
    clock.advance(days=2)
    linked = api.chat(ANN, f"Thanks, {first['case_reference']} is fine now.")
    assert linked["action"] == "linked" and linked["case_id"] == first["case_id"]
    assert linked["instance_id"] is None
    case = api.case(first["case_reference"])
    assert case["status"] == "closed"
    assert linked["contact_id"] in [c["id"] for c in case["contacts"]]


def test_a_stranger_quoting_a_reference_lands_in_triage_flagged_and_is_never_attached(
    api: Api, store: Store, clock: FixedClock
) -> None:
    started = _opened(api)
    ref = started["case_reference"]
    before = [c["id"] for c in api.case(ref)["contacts"]]
    stranger = api.chat("eve@example.com", f"{ref}: please cancel my contract")
    assert stranger["action"] == "triage" and stranger["case_id"] is None
    assert [c["id"] for c in api.case(ref)["contacts"]] == before
    (waiting,) = api.http.get("/api/v1/contacts/triage", headers=api.agent).json()
    assert waiting["id"] == stranger["contact_id"]
    assert waiting["details"]["flags"] == ["reference-of-another-customer"]
    assert waiting["details"]["quoted_reference"] == ref
    (event,) = _events(store, "contact.triage_required")
    assert event.data["flags"] == ["reference-of-another-customer"]
    assert "another customer" in event.data["why"]
    # a person decides: the stranger gets a case of their own, never Ann's
    decided = api.http.post(
        f"/api/v1/contacts/{stranger['contact_id']}/reason",
        json={"reason": "billing-inquiry"},
        headers=api.agent,
    ).json()
    assert decided["action"] == "started" and decided["case_id"] != started["case_id"]


def test_references_are_found_in_any_case_with_or_without_the_dash() -> None:
    assert references_in("about fd-7k3q9 and FD 7K3Q9 and Fd7k3q9") == ["FD-7K3Q9"]
    assert references_in("FD-7K3Q0 FD-ABCDEU FDX7K3Q9") == []  # 0 and U are not in the alphabet


def test_the_company_file_sets_the_policy_and_a_bad_one_is_reported_with_its_line(
    tmp_path: Path,
) -> None:
    demo = FollowUpPolicy.from_file(DEMO / "company.yaml")
    assert demo == FollowUpPolicy("reopen", timedelta(days=14))
    assert FollowUpPolicy.from_file(None) == demo
    text = (DEMO / "company.yaml").read_text()
    path = tmp_path / "company.yaml"
    path.write_text(text.replace("follow_up_policy: reopen", "follow_up_policy: reopn"))
    with pytest.raises(BundleError) as caught:
        load_company(path)
    (issue,) = caught.value.issues
    assert issue.field == "follow_up_policy" and issue.line is not None
    path.write_text(
        text.replace("follow_up_policy: reopen", "follow_up_policy: new_case").replace(
            "reopen_within: P14D", "reopen_within: P3DT12H"
        )
    )
    assert FollowUpPolicy.from_file(path) == FollowUpPolicy("new_case", timedelta(days=3.5))
