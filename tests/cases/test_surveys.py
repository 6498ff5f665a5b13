"""Surveys: sent on the case's channel when it closes (survey.sent), answered as contacts over
the intake API or by email through SMTP (survey.answered); bad scores are dead letters."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.channels.test_email_smtp import (  # the real SMTP harness
    Sink,
    inbound,
    mail,
    mail_intake,
    send,
    sink,
    wait_for,
)
from tests.contacts.test_api import _key

from flowdesk.api import problems
from flowdesk.api.routes import contacts as contact_routes
from flowdesk.cases.closing import CaseCloser
from flowdesk.cases.surveys import SurveySender
from flowdesk.channels.outbound import RecordingSender, SmtpSender
from flowdesk.channels.smtp_server import IntakeHandler
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.core.events import StoredEvent
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

__all__ = ["inbound", "mail_intake", "sink"]

PHONE = "+447911123456"
Client = tuple[TestClient, dict[str, str], RecordingSender]


@pytest.fixture
def client(store: Store, clock: FixedClock, runtime: ProcessRuntime) -> Iterator[Client]:
    app = FastAPI()
    problems.install(app)
    app.state.store = store
    app.state.clock = clock
    app.state.process_runtime = runtime
    sms = RecordingSender()
    app.state.contact_senders = {"sms": sms}
    app.state.contact_default_region = "GB"
    app.include_router(contact_routes.router)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http, _key(store, clock, "portal", "integration"), sms


def _of(store: Store, kind: str) -> list[StoredEvent]:
    return [e for e in store.events.after(0, 100_000) if e.type == kind]


def _closed_and_surveyed(
    store: Store, clock: FixedClock, runtime: ProcessRuntime, instance_id: str, sms: object
) -> None:
    clock.advance(hours=4)
    runtime.cancel(instance_id, "solved on the first call")
    clock.advance(minutes=10)
    CaseCloser(store).tick()
    SurveySender(store, clock, senders={"sms": sms}).tick()  # type: ignore[dict-item]


def test_sms_survey_is_answered_over_the_intake_api(
    client: Client, store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    http, key, sms = client
    call = {"event": "call.ended", "caller": PHONE, "call_id": "c-1", "ivr_choice": "7"}
    started = http.post("/api/v1/webhooks/phone", content=json.dumps(call), headers=key).json()
    assert started["action"] == "started"
    ref = started["case_reference"]
    _closed_and_surveyed(store, clock, runtime, started["instance_id"], sms)
    # a phone case gets its survey by SMS, to the caller's number, naming the reference
    [survey] = sms.sent
    assert survey.channel == "sms" and survey.to == PHONE and ref in survey.text
    [sent] = _of(store, "survey.sent")
    assert sent.case_id == started["case_id"] and sent.channel == "sms"
    assert sent.customer_id == started["customer_id"] and sent.data["reference"] == ref
    # the customer texts back the scores with a comment
    clock.advance(hours=2)
    answer = {"from": PHONE, "text": f"{ref.lower()} 4 9 quick and friendly"}
    done = http.post("/api/v1/webhooks/sms", content=json.dumps(answer), headers=key)
    assert done.status_code == 201, done.text
    assert done.json()["action"] == "survey" and done.json()["case_reference"] == ref
    [answered] = _of(store, "survey.answered")
    assert answered.case_id == started["case_id"] and answered.channel == "sms"
    assert answered.customer_id == started["customer_id"]
    assert answered.data == {"reference": ref, "csat": 4, "nps": 9, "comment": "quick and friendly"}
    # a second answer is kept as a contact but not counted twice
    again = {"from": PHONE, "text": f"{ref} 2 3 changed my mind"}
    second = http.post("/api/v1/webhooks/sms", content=json.dumps(again), headers=key).json()
    assert second["action"] == "survey" and second["notes"]
    assert len(_of(store, "survey.answered")) == 1
    # the survey is not sent twice for the same case, even from a fresh cursor
    assert SurveySender(store, clock, consumer="replay").tick() == []


def test_web_survey_form_with_bad_scores_is_a_dead_letter_with_the_reason(
    client: Client, store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    http, key, sms = client
    call = {"event": "call.ended", "caller": PHONE, "call_id": "c-2", "ivr_choice": "7"}
    started = http.post("/api/v1/webhooks/phone", content=json.dumps(call), headers=key).json()
    ref = started["case_reference"]
    _closed_and_surveyed(store, clock, runtime, started["instance_id"], sms)
    form = {"channel": "web", "form": "survey", "phone": PHONE, "reference": ref}
    bad = http.post(
        "/api/v1/contacts", content=json.dumps({**form, "csat": 7, "nps": 9}), headers=key
    )
    assert bad.status_code == 422
    problem = bad.json()
    assert "CSAT must be a whole number from 1 to 5, got 7" in problem["detail"]
    assert ref in problem["detail"] and problem["contact_id"]
    supervisor = _key(store, clock, "sup1", "supervisor")
    [letter] = http.get("/api/v1/contacts/dead-letters", headers=supervisor).json()
    assert letter["id"] == problem["contact_id"] and "CSAT" in letter["error"]
    text_nps = http.post(
        "/api/v1/contacts", content=json.dumps({**form, "csat": "3", "nps": 11.5}), headers=key
    )
    assert (
        text_nps.status_code == 422
        and "NPS must be a whole number from 0 to 10" in (text_nps.json()["detail"])
    )
    wrong_case = http.post(
        "/api/v1/contacts",
        content=json.dumps({**form, "reference": "FD-22222", "csat": 4, "nps": 8}),
        headers=key,
    )
    assert wrong_case.status_code == 422 and "FD-22222" in wrong_case.json()["detail"]
    assert _of(store, "survey.answered") == []  # nothing counted from bad answers
    good = http.post(
        "/api/v1/contacts",
        content=json.dumps({**form, "csat": 2, "nps": "6", "comment": "took too long"}),
        headers=key,
    )
    assert good.status_code == 201, good.text
    [answered] = _of(store, "survey.answered")
    assert answered.data == {"reference": ref, "csat": 2, "nps": 6, "comment": "took too long"}
    assert answered.channel == "web"


def test_text_naming_a_case_without_scores_is_an_ordinary_contact(
    client: Client, store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    http, key, sms = client
    first = {"from": PHONE, "text": "make a complaint: nobody came"}
    started = http.post("/api/v1/webhooks/sms", content=json.dumps(first), headers=key).json()
    ref = started["case_reference"]
    follow = {"from": PHONE, "text": f"{ref} 2 engineers were promised, none came"}
    attached = http.post("/api/v1/webhooks/sms", content=json.dumps(follow), headers=key).json()
    assert attached["action"] == "attached"  # open case, no survey sent: not an answer
    assert _of(store, "survey.answered") == []


def test_email_survey_goes_out_by_smtp_and_the_reply_is_recorded(
    store: Store,
    clock: FixedClock,
    runtime: ProcessRuntime,
    mail_intake: Intake,
    inbound: tuple[IntakeHandler, int],
    sink: tuple[Sink, int],
) -> None:
    handler, port = inbound
    mailbox, sink_port = sink
    send(port, mail("Complaint", "I want to make a complaint.", Message_ID="<c1@ex.com>"))
    wait_for(lambda: len(handler.results) == 1 and len(mailbox.messages) == 1)
    [started] = handler.results
    clock.advance(hours=1)
    runtime.cancel(started.instance_id or "", "resolved")
    CaseCloser(store).tick()
    smtp = SmtpSender("127.0.0.1", sink_port, from_address="service@northwind.example")
    [sent] = SurveySender(store, clock, senders={"email": smtp}).tick()
    assert sent.channel == "email" and sent.delivered
    wait_for(lambda: len(mailbox.messages) == 2)
    survey = mailbox.messages[1]
    assert survey["To"] == "ann.lee@example.com" and survey["Message-ID"] == sent.message_id
    assert (started.case_reference or "-") in str(survey["Subject"])
    reply = mail(
        f"Re: {survey['Subject']}",
        "5 10 - sorted in an hour, thank you!\n\nOn Monday Flowdesk wrote:\n> How did we do?",
        In_Reply_To=str(survey["Message-ID"]),
        Message_ID="<c2@ex.com>",
    )
    send(port, reply)
    wait_for(lambda: len(handler.results) == 2)
    assert handler.results[1].action == "survey"
    [answered] = _of(store, "survey.answered")
    assert answered.case_id == started.case_id and answered.channel == "email"
    assert answered.data["csat"] == 5 and answered.data["nps"] == 10
    assert answered.data["comment"] == "sorted in an hour, thank you!"
