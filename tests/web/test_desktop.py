"""The agent desktop of issue 17 through the pages and the API: My work filtered and sorted in
SQL (the order really changes), one conversation per case (email in, the agent's reply through
a real SMTP server, a note and a status-page message, in order), the timeline in business
words, search that finds by phone and reference but hides another department's case, macros
with their placeholders filled, and triage that attaches a contact to the sender's open case."""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.channels.test_email_smtp import Sink, serving_sink, wait_for
from tests.web.conftest import login

import flowdesk.demo
from flowdesk.api.app import create_app
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock, SystemClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

COMPANY = Path(flowdesk.demo.__file__).resolve().parent / "company" / "company.yaml"
_n = itertools.count(1)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with serving_sink() as served:
        yield served


def desk_app(url: str, store: Store, port: int | None = None) -> FastAPI:
    """The app as `flowdesk serve` runs it with the demo: the company file (macros) and SMTP."""
    settings = Settings(
        database_url=url,
        company_file=str(COMPANY),
        smtp_host="127.0.0.1" if port else None,
        smtp_port=port or 25,
        smtp_from="service@northwind.example",
    )
    return create_app(settings, store)


def email_case(
    store: Store, text: str = "I want to make a complaint about my bill."
) -> dict[str, Any]:
    """A complaint arriving by email through intake."""
    n = next(_n)
    address = f"dora.desk{n}@example.com"
    message = EmailMessage()
    message["From"] = f"Dora Desk{n} <{address}>"
    message["To"] = "service@northwind.example"
    message["Subject"] = f"Bill trouble {n}"
    message["Message-ID"] = f"<desk-{n}@example.com>"
    message.set_content(text)
    result = Intake(store, default_region="GB").submit("email", message.as_bytes())
    assert result.action == "started", result
    [item] = ProcessRuntime(store).work_items(instance_id=result.instance_id)
    return {
        "address": address,
        "name": f"Dora Desk{n}",
        "reference": result.case_reference,
        "contact_id": result.contact_id,
        "instance_id": result.instance_id,
        "item": item["id"],
    }


def sms_case(store: Store, number: str) -> dict[str, Any]:
    raw = json.dumps({"from": number, "text": "I want to make a complaint about my bill"})
    result = Intake(store, default_region="GB").submit("sms", raw.encode())
    assert result.action == "started", result
    [item] = ProcessRuntime(store).work_items(instance_id=result.instance_id)
    return {"reference": result.case_reference, "item": item["id"]}


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-item="([^"]+)"', page)


# -- My work ---------------------------------------------------------------------------------
def test_queue_filters_and_sort_change_what_is_listed_and_in_which_order(
    demo_store: tuple[str, Store],
) -> None:
    url, store = demo_store
    now = SystemClock().now()
    made = {}
    # moving house (SLA 8h) 3 h ago, outage (1h) 2 h ago: overdue, complaint (4h) 1 h ago
    for key, flow, hours in (
        ("old", "moving_house", 3),
        ("late", "outage_restoration", 2),
        ("new", "complaint", 1),
    ):
        runtime = ProcessRuntime(store, clock=FixedClock(now - timedelta(hours=hours)))
        state = runtime.start(flow, {"customerName": f"Quinn {key}"}, business_key=f"FD-Q{key}")
        item = next(
            i
            for i in runtime.work_items(instance_id=state.id)
            if "front-office" in (i["candidate_groups"] or []) + [i["lane"] or ""]
        )
        runtime.claim(item["id"], "enovak")
        made[key] = item["id"]
    with TestClient(desk_app(url, store)) as client:
        login(client, "enovak")

        def listed(**params: str) -> list[str]:
            page = client.get("/work", params={"scope": "mine", **params})
            assert page.status_code == 200
            return [i for i in _rows(page.text) if i in made.values()]

        by_age = listed(sort="age")
        by_due = listed(sort="due")
        assert by_age == [made["old"], made["late"], made["new"]]
        assert by_due == [made["late"], made["new"], made["old"]]
        assert listed(overdue="1") == [made["late"]]
        assert listed(flow="complaint") == [made["new"]]
        page = client.get("/work", params={"scope": "mine", "overdue": "1"}).text
        row = re.search(rf'<tr class="late" data-item="{made["late"]}".*?</tr>', page, re.S)
        assert row and "overdue 1h" in row.group(0) and "Quinn late" in row.group(0)
        # unassigned hides claimed work; the list fragment polls with the same filters
        assert not set(made.values()) & set(_rows(client.get("/work?scope=unassigned").text))
        assert (
            'hx-get="/work/queue?flow=complaint&amp;scope=mine&amp;page=1"'
            in client.get("/work", params={"flow": "complaint", "scope": "mine"}).text
        )
        fragment = client.get("/work/queue", params={"scope": "mine", "sort": "due"})
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert [i for i in _rows(fragment.text) if i in made.values()] == by_due
        assert 'hx-trigger="every 15s"' in fragment.text


def test_queue_rows_show_customer_and_channel_and_filter_by_channel(
    demo_store: tuple[str, Store],
) -> None:
    url, store = demo_store
    cases = [email_case(store), email_case(store)]
    with TestClient(desk_app(url, store)) as client:
        login(client, "bokafor")
        page = client.get("/work", params={"channel": "email", "sort": "age"}).text
        for case in cases:  # each row shows its own case's customer and reference
            row = re.search(rf'data-item="{case["item"]}".*?</tr>', page, re.S)
            assert row, "the email case is not listed under channel=email"
            assert case["name"] in row.group(0) and ">email<" in row.group(0)
            assert case["reference"] in row.group(0)
            assert client.get("/work", params={"channel": "sms"}).text.count(case["item"]) == 0


# -- the case: one conversation, business timeline ---------------------------------------------
def test_the_conversation_lists_email_reply_note_and_status_message_in_order(
    demo_store: tuple[str, Store], sink: tuple[Sink, int]
) -> None:
    url, store = demo_store
    mailbox, port = sink
    case = email_case(store, "I want to make a complaint about my bill, it is wrong.")
    with TestClient(desk_app(url, store, port)) as client:
        token = login(client, "bokafor")
        sent = client.post(
            f"/work/{case['item']}/reply",
            data={"csrf": token, "contact": case["contact_id"], "reply": "We are on it, Dora."},
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        wait_for(lambda: len(mailbox.messages) == 1)
        noted = client.post(
            f"/work/{case['item']}/note",
            data={"csrf": token, "note": "Checked the meter readings <ok>."},
            follow_redirects=False,
        )
        assert noted.status_code == 303
        status = client.post(
            "/status/message",
            data={
                "csrf": token,
                "reference": case["reference"],
                "proof": case["address"],
                "message": "My meter number is 42.",
            },
        )
        assert status.status_code == 200, status.text

        page = client.get(f"/work/{case['item']}").text
        thread = re.search(r'<ol class="thread" id="conversation">(.*?)</ol>', page, re.S)
        assert thread
        items = re.findall(r'data-direction="(\w+)">(.*?)</li>', thread.group(1), re.S)
        said = [(d, html.unescape(re.sub(r"<[^>]+>", " ", body))) for d, body in items]
        assert [d for d, _ in said] == ["in", "out", "note", "in"]
        assert "complaint about my bill" in said[0][1] and "email" in said[0][1]
        assert case["name"] in said[0][1]
        assert "We are on it, Dora." in said[1][1] and "Ben Okafor" in said[1][1]
        assert "Checked the meter readings <ok>." in said[2][1]
        assert "Internal note, not sent" in said[2][1]
        assert "My meter number is 42." in said[3][1] and "status page" in said[3][1]
        assert "&lt;ok&gt;" in thread.group(1)  # escaped, not markup

        api = client.get(f"/api/v1/work-items/{case['item']}/conversation")
        assert api.status_code == 200, api.text
        body = api.json()
        assert [m["direction"] for m in body["messages"]] == ["in", "out", "note", "in"]
        assert body["messages"][1]["channel"] == "email" and body["messages"][1]["who"] == (
            "Ben Okafor"
        )
        words = [m["text"] for m in body["timeline"]]
        assert "Case opened from email" in words
        assert "Reply sent by email by Ben Okafor" in words
        assert "Internal note by Ben Okafor" in words
        assert "Customer added information on the status page" in words
        kinds = {m["kind"] for m in body["timeline"]}
        assert not kinds & {"element.activated", "element.completed", "variables.changed"}
        timeline = re.search(r'<ol class="timeline" id="timeline">(.*?)</ol>', page, re.S)
        assert timeline and "Case opened from email" in timeline.group(1)
        assert "element.activated" not in timeline.group(1)

        login(client, "lmurphy")  # billing: not their case
        assert client.get(f"/api/v1/work-items/{case['item']}/conversation").status_code == 403
        assert client.get("/api/v1/work-items/nope/conversation").status_code == 404


def test_completing_a_step_reads_as_business_words(demo_store: tuple[str, Store]) -> None:
    url, store = demo_store
    case = email_case(store)
    with TestClient(desk_app(url, store)) as client:
        login(client, "bokafor")
        client.post(f"/api/v1/work-items/{case['item']}/claim")
        name = client.get(f"/api/v1/work-items/{case['item']}").json()["name"]
        done = client.post(
            f"/api/v1/work-items/{case['item']}/complete",
            json={"variables": {"severity": "low", "complaintCategory": "billing"}},
        )
        assert done.status_code == 200, done.text
        timeline = client.get(f"/api/v1/work-items/{case['item']}/conversation").json()["timeline"]
        words = [m["text"] for m in timeline]
        assert f"Step '{name}' completed by Ben Okafor" in words
        assert f"Step '{name}' taken by Ben Okafor" in words


# -- search ----------------------------------------------------------------------------------
def test_search_finds_by_phone_and_reference_and_hides_another_departments_case(
    demo_store: tuple[str, Store],
) -> None:
    url, store = demo_store
    n = next(_n)
    number = f"+4479460{70000 + n:05d}"
    case = sms_case(store, number)  # front office's complaint
    with TestClient(desk_app(url, store)) as client:
        login(client, "bokafor")
        national = "0" + number[3:6] + " " + number[6:]
        page = client.get("/search", params={"q": national})
        assert page.status_code == 200
        customers = re.search(r'id="customer-results">(.*?)</section>', page.text, re.S)
        assert customers and number in customers.group(1)
        assert case["reference"] in customers.group(1)
        by_ref = client.get("/api/v1/search", params={"q": case["reference"].lower()}).json()
        assert [c["reference"] for c in by_ref["cases"]] == [case["reference"]]
        assert by_ref["cases"][0]["work_item_id"] == case["item"]
        assert (
            f'href="/work/{case["item"]}"'
            in client.get("/search", params={"q": case["reference"]}).text
        )
        assert client.get("/api/v1/search", params={"q": "x"}).status_code == 422
        assert 'id="header-search"' in page.text

        login(client, "lmurphy")  # billing sees neither the case nor its customer
        hidden = client.get("/api/v1/search", params={"q": case["reference"]}).json()
        assert hidden["cases"] == [] and hidden["customers"] == []
        by_phone = client.get("/api/v1/search", params={"q": number}).json()
        assert by_phone["customers"] == []
        page = client.get("/search", params={"q": case["reference"]}).text
        assert case["item"] not in page and "No case you may see matches." in page

        login(client, "akeller")  # a supervisor reads all work
        seen = client.get("/api/v1/search", params={"q": case["reference"]}).json()
        assert [c["reference"] for c in seen["cases"]] == [case["reference"]]


# -- macros ----------------------------------------------------------------------------------
def test_a_macro_fills_its_placeholders_into_the_reply_box(demo_store: tuple[str, Store]) -> None:
    url, store = demo_store
    case = email_case(store)
    with TestClient(desk_app(url, store)) as client:
        token = login(client, "bokafor")
        page = client.get(f"/work/{case['item']}").text
        assert '<option value="acknowledge"' in page and 'id="use-macro"' in page
        filled = client.post(
            f"/work/{case['item']}/macro",
            data={"csrf": token, "macro": "acknowledge", "contact": case["contact_id"]},
        )
        assert filled.status_code == 200
        box = re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', filled.text, re.S)
        assert box
        text = html.unescape(box.group(1))
        assert text.startswith(f"Dear {case['name']},")
        assert case["reference"] in text and "Ben Okafor, Northwind Energy & Fibre" in text
        assert "{{" not in text
        api = client.get(f"/api/v1/work-items/{case['item']}/macros/acknowledge")
        assert api.status_code == 200 and api.json()["text"] == text
        unknown = client.post(
            f"/work/{case['item']}/macro", data={"csrf": token, "macro": "no-such"}
        )
        assert unknown.status_code == 422 and "Choose one of the macros." in unknown.text
        assert len(client.get("/api/v1/macros").json()) >= 4


def test_the_company_file_refuses_an_unknown_placeholder_with_its_line(tmp_path: Path) -> None:
    from flowdesk.experience.company import load_company
    from flowdesk.experience.errors import BundleError

    text = COMPANY.read_text(encoding="utf-8")
    bad = tmp_path / "company.yaml"
    bad.write_text(
        text.replace("regards,\n      {{ agent.name }}", "regards,\n      {{ agent.salary }}", 1)
    )
    with pytest.raises(BundleError) as caught:
        load_company(bad)
    message = str(caught.value)
    assert "unknown placeholder {{ agent.salary }}" in message
    line = next(
        i for i, t in enumerate(bad.read_text().splitlines(), 1) if "- id: acknowledge" in t
    )
    assert f"company.yaml:{line + 2}:" in message  # the macro's text: file and line


# -- triage ----------------------------------------------------------------------------------
def _unclear_email(store: Store, name: str, address: str) -> str:
    """An email no rule or model can place: it waits in triage."""
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = "service@northwind.example"
    message["Subject"] = "Hello"
    n = next(_n)
    message["Message-ID"] = f"<desk-triage-{n}@example.com>"
    message.set_content(f"Hello, just checking in ({n}), call me when you can.")
    result = Intake(store, default_region="GB", use_model=False).submit("email", message.as_bytes())
    assert result.status == "triage", result
    return result.contact_id


def test_triage_shows_the_senders_open_case_and_attaches_the_contact_to_it(
    demo_store: tuple[str, Store],
) -> None:
    url, store = demo_store
    case = email_case(store)
    contact_id = _unclear_email(store, case["name"], case["address"])
    with TestClient(desk_app(url, store)) as client:
        token = login(client, "bokafor")
        page = client.get(f"/triage/{contact_id}").text
        assert case["name"] in page and case["address"] in page
        assert f'data-case="{case["reference"]}"' in page
        assert f"Attach to case {case['reference']}" in page
        empty = client.post(f"/triage/{contact_id}/attach", data={"csrf": token})
        assert empty.status_code == 422 and "Choose the case to attach to." in empty.text
        attached = client.post(
            f"/triage/{contact_id}/attach",
            data={"csrf": token, "reference": case["reference"]},
            follow_redirects=False,
        )
        assert attached.status_code == 303, attached.text
        assert attached.headers["location"].startswith(f"/work/{case['item']}")
        assert Intake(store).get(contact_id).status == "processed"
        thread = client.get(f"/work/{case['item']}").text
        assert "just checking in" in thread
        assert client.post("/triage/nope/attach", data={"csrf": token}).status_code == 404

        # the API: the same sender again attaches; a stranger cannot join this customer's case
        again = _unclear_email(store, case["name"], case["address"])
        api = client.post(f"/api/v1/contacts/{again}/attach", json={"reference": case["reference"]})
        assert api.status_code == 200 and api.json()["action"] == "attached", api.text
        stranger = _unclear_email(store, "Sly Stranger", "sly.stranger@example.com")
        refused = client.post(
            f"/api/v1/contacts/{stranger}/attach", json={"reference": case["reference"]}
        )
        assert refused.status_code == 404, refused.text
        assert Intake(store).get(stranger).status == "triage"
        page = client.get(f"/triage/{stranger}").text
        assert "No open case." in page and 'id="attach-form"' not in page


def test_pages_load_the_shortcuts_script_and_list_the_keys(client: TestClient) -> None:
    login(client, "bokafor")
    page = client.get("/work").text
    assert '<script src="/static/web/shortcuts.js" defer></script>' in page
    for key in ("n", "/", "r", "c", "?"):
        assert f"<dt><kbd>{key}</kbd></dt>" in page
    script = client.get("/static/web/shortcuts.js")
    assert script.status_code == 200 and "nextBest" in script.text
