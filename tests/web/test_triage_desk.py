"""Contacts waiting for a first answer on the desktop: they lead My work for the front office,
"Next best work item" takes the one due first, the agent decides the reason and lands on the
flow's first step; other departments do not see them; bad choices get a clear answer."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from tests.web.conftest import login

from flowdesk.contacts.intake import Intake
from flowdesk.store import Store


def _unclear(store: Store, text: str) -> str:
    """A web form no rule or model can place: it waits in triage."""
    result = Intake(store, use_model=False).submit(
        "web", json.dumps({"email": "zoe.unclear@example.com", "message": text}).encode()
    )
    assert result.status == "triage", result
    return result.contact_id


def test_front_office_triages_a_contact_into_its_flow(client: TestClient, store: Store) -> None:
    contact_id = _unclear(store, "Hello, something is not right with my account, please call")
    token = login(client, "bokafor")  # front office
    page = client.get("/work").text
    row = re.search(rf'<tr[^>]*data-contact="{contact_id}".*?</tr>', page, re.S)
    assert row, "the contact is not in My work"
    assert "Decide the reason" in row.group(0) and "something is not right" in row.group(0)

    taken = client.post("/work/next", data={"csrf": token}, follow_redirects=False)
    assert taken.headers["location"] == f"/triage/{contact_id}"
    form = client.get(taken.headers["location"])
    assert form.status_code == 200 and "something is not right with my account" in form.text

    refused = client.post(f"/triage/{contact_id}", data={"csrf": token, "reason": "no-such"})
    assert refused.status_code == 422 and "Choose one of the reasons" in refused.text
    decided = client.post(
        f"/triage/{contact_id}",
        data={"csrf": token, "reason": "complaint"},
        follow_redirects=False,
    )
    assert decided.status_code == 303 and decided.headers["location"].startswith("/work/")
    step = client.get(decided.headers["location"])
    assert step.status_code == 200 and "complaint" in step.text.lower()
    assert Intake(store).get(contact_id).status == "processed"
    assert f'data-contact="{contact_id}"' not in client.get("/work").text
    again = client.get(f"/triage/{contact_id}", follow_redirects=False)
    assert again.status_code == 303  # already handled


def test_other_departments_do_not_triage_and_forms_need_the_token(
    client: TestClient, store: Store
) -> None:
    contact_id = _unclear(store, "Is anyone there? Reply please.")
    login(client, "kkowalski")  # billing supervisor: supervisors see triage work too
    assert f'data-contact="{contact_id}"' in client.get("/work").text
    client.cookies.clear()
    login(client, "lmurphy")  # billing agent
    assert f'data-contact="{contact_id}"' not in client.get("/work").text
    forged = client.post(f"/triage/{contact_id}", data={"csrf": "x" * 30, "reason": "complaint"})
    assert forged.status_code == 400
    assert Intake(store).get(contact_id).status == "triage"


def test_a_stranger_quoting_someone_elses_reference_is_flagged_on_the_desk(
    client: TestClient, store: Store
) -> None:
    intake = Intake(store, use_model=False)
    owner = intake.submit(
        "web",
        json.dumps(
            {"email": "ann.owner@example.com", "reason": "complaint", "message": "x"}
        ).encode(),
    )
    assert owner.case_reference
    probe = intake.submit(
        "web",
        json.dumps(
            {
                "email": "eve.probe@example.com",
                "message": f"{owner.case_reference.lower()} cancel it",
            }
        ).encode(),
    )
    assert probe.status == "triage"
    login(client, "bokafor")
    row = re.search(
        rf'<tr[^>]*data-contact="{probe.contact_id}".*?</tr>', client.get("/work").text, re.S
    )
    assert row and "quotes another customer" in row.group(0)
    page = client.get(f"/triage/{probe.contact_id}").text
    assert f"quotes case {owner.case_reference}, which belongs to another customer" in page
