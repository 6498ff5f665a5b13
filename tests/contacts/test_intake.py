"""Intake end to end on both backends: raw first, identify, recognise, attach or start."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from flowdesk.cases.models import cases
from flowdesk.channels.outbound import RecordingSender
from flowdesk.contacts.intake import Intake
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import FixedClock
from flowdesk.customers.service import create_customer, get_customer
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

ANN = "ann.lee@example.com"
BOB_PHONE = "+44 7911 123456"


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def customer(
    store: Store, clock: FixedClock, email: str, phone: str | None = None, **profile: Any
) -> str:
    identities = [("email", email)] + ([("phone", phone)] if phone else [])
    with store.unit_of_work() as uow:
        return create_customer(
            uow=uow,
            clock=clock,
            profile={"given_name": "Ann", "family_name": "Lee", **profile},
            identities=identities,
            default_region="GB",
        ).id


def count(store: Store, table: Any) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_web_form_with_a_reason_starts_its_flow_and_opens_a_case(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    known = customer(store, clock, ANN, segment="premium", value="1250.50")
    result = intake.submit(
        "web", body(email="Ann.Lee@Example.com", reason="complaint", message="Your agent was rude")
    )
    assert result.action == "started" and result.status == "processed"
    assert result.customer_id == known and not result.review_required
    assert result.case_reference is not None and result.case_reference.startswith("FD-")
    state = runtime.instance(result.instance_id or "")
    assert state.vars["caseRef"] == result.case_reference
    assert state.vars["contactReason"] == "complaint"
    # Who the customer is reaches the flow, so rules on segment and value can decide.
    assert state.vars["customerSegment"] == "premium"
    assert float(state.vars["customerValue"]) == 1250.5
    assert state.vars["customerName"] == "Ann Lee"
    assert state.business_key == result.case_reference
    stored = intake.get(result.contact_id)
    assert stored.reason_source == "explicit" and stored.case_id == result.case_id
    kinds = [e.type for e in store.events.after(0, 1000) if e.contact_id]
    assert kinds[0] == "contact.received" and "contact.recognised" in kinds


def test_the_raw_payload_is_stored_before_processing(store: Store, intake: Intake) -> None:
    contact_id = intake.receive("sms", b'{"from": "+44 7911 123456", "text": "hi"}')
    with store.reading() as conn:
        row = conn.execute(select(contacts).where(contacts.c.id == contact_id)).one()
    assert row.status == "received" and bytes(row.raw).startswith(b'{"from"')
    assert row.customer_id is None  # nothing decided yet


def test_unknown_sender_gets_a_provisional_customer_flagged_for_review(
    store: Store, intake: Intake
) -> None:
    result = intake.submit("sms", body(**{"from": BOB_PHONE, "text": "my internet is down"}))
    assert result.action == "started" and result.review_required
    with store.reading() as conn:
        created = get_customer(conn, result.customer_id or "")
    assert created is not None and created.status == "provisional" and created.review_required
    assert result.recognition is not None and result.recognition.reason == "no-internet"
    assert result.recognition.source == "keyword"


def test_same_reason_attaches_to_the_open_case_instead_of_a_second_flow(
    store: Store, clock: FixedClock, intake: Intake
) -> None:
    customer(store, clock, ANN)
    first = intake.submit("web", body(email=ANN, reason="complaint", message="rude agent"))
    clock.advance(hours=1)
    second = intake.submit(
        "chat", body(session_id="s1", email=ANN, reason="complaint", text="still")
    )
    assert second.action == "attached" and second.case_id == first.case_id
    assert second.instance_id == first.instance_id
    assert count(store, cases) == 1


def test_case_reference_of_the_same_customer_attaches(
    store: Store, clock: FixedClock, intake: Intake
) -> None:
    customer(store, clock, ANN)
    first = intake.submit("web", body(email=ANN, reason="complaint", message="rude agent"))
    ref = (first.case_reference or "").lower().replace("-", " ")  # as people type it
    later = intake.submit("web", body(email=ANN, message=f"About {ref}: he hung up on me"))
    assert later.action == "attached" and later.case_id == first.case_id
    assert later.recognition is not None and later.recognition.source == "case"


def test_a_spoofed_case_reference_is_not_attached_nor_answered(
    store: Store, clock: FixedClock, intake: Intake, sender: RecordingSender
) -> None:
    customer(store, clock, ANN)
    first = intake.submit("web", body(email=ANN, reason="complaint", message="rude agent"))
    ref = first.case_reference
    spoof = intake.submit("sms", body(**{"from": BOB_PHONE, "text": f"STATUS {ref}"}))
    assert spoof.action == "answered" and spoof.case_id is None
    assert spoof.reply is not None and "could not confirm" in spoof.reply
    assert "complaint" not in spoof.reply and ref not in (sender.sent[-1].text)
    other = intake.submit("sms", body(**{"from": BOB_PHONE, "text": f"about {ref}, refund please"}))
    assert other.case_id != first.case_id
    assert any("does not belong" in n for n in other.notes), other


def test_status_keyword_from_the_case_customer_tells_the_current_step(
    store: Store, clock: FixedClock, intake: Intake, sender: RecordingSender
) -> None:
    customer(store, clock, ANN, phone=BOB_PHONE)
    first = intake.submit("web", body(email=ANN, reason="complaint", message="rude agent"))
    answer = intake.submit(
        "sms", body(**{"from": "07911 123456", "text": f"STATUS {first.case_reference}"})
    )
    assert answer.action == "answered" and answer.case_id == first.case_id
    assert sender.sent[-1].to == "07911 123456" or sender.sent[-1].to.endswith("123456")
    assert f"registered your complaint {first.case_reference}" in sender.sent[-1].text


def test_duplicate_submission_within_the_window_is_merged(
    store: Store, clock: FixedClock, intake: Intake
) -> None:
    payload = body(email=ANN, reason="complaint", message="Rude agent!")
    first = intake.submit("web", payload)
    clock.advance(minutes=2)
    again = intake.submit("web", body(email=ANN, reason="complaint", message="rude  agent!"))
    assert again.action == "duplicate" and again.case_id == first.case_id
    assert intake.get(again.contact_id).duplicate_of == first.contact_id
    clock.advance(minutes=30)  # outside the window: a new contact (attached to the open case)
    later = intake.submit("web", payload)
    assert later.action == "attached"
    assert count(store, cases) == 1


def test_malformed_json_is_kept_as_a_dead_letter_with_the_reason(
    store: Store, intake: Intake
) -> None:
    result = intake.submit("chat", b'{"session_id": "s1", "text": ')
    assert result.action == "failed" and result.error is not None
    assert "malformed JSON at line 1" in result.error
    letters = intake.dead_letters()
    assert [c.id for c in letters] == [result.contact_id]
    assert letters[0].error == result.error and letters[0].attempts == 1


def test_invalid_phone_number_is_a_clear_dead_letter(intake: Intake) -> None:
    result = intake.submit("sms", body(**{"from": "12345", "text": "hello"}))
    assert result.action == "failed"
    assert "invalid phone '12345'" in (result.error or "")


def test_failure_after_the_case_opened_is_replayed_on_the_same_case(
    store: Store, intake: Intake, runtime: ProcessRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = runtime.start

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("database went away")

    monkeypatch.setattr(runtime, "start", broken)
    with pytest.raises(ConnectionError):
        intake.submit("web", body(email=ANN, reason="complaint", message="rude"))
    [letter] = intake.dead_letters()
    # the kind of the error is kept; its text (which can hold SQL and customer data) is not
    assert "ConnectionError" in (letter.error or "")
    assert "database went away" not in (letter.error or "")
    assert letter.case_id is not None
    monkeypatch.setattr(runtime, "start", original)
    [again] = intake.replay()
    assert again.action == "started" and again.case_id == letter.case_id
    assert again.instance_id is not None
    assert intake.dead_letters() == [] and count(store, cases) == 1


def test_replay_refuses_a_contact_that_is_not_a_dead_letter(intake: Intake) -> None:
    done = intake.submit("web", body(email=ANN, reason="complaint", message="x"))
    from flowdesk.contacts.errors import InvalidContactError

    with pytest.raises(InvalidContactError, match="not a dead letter"):
        intake.replay([done.contact_id])


def test_unrecognised_reason_waits_in_triage_until_a_person_decides(
    store: Store, intake: Intake
) -> None:
    result = intake.submit("web", body(email=ANN, message="Hello, I have a question"))
    assert result.action == "triage" and result.case_id is None
    assert [c.id for c in intake.triage_queue()] == [result.contact_id]
    decided = intake.assign_reason(result.contact_id, "billing-inquiry", actor="agent1")
    assert decided.action == "started" and decided.case_reference is not None
    assert intake.triage_queue() == []
    assert intake.get(result.contact_id).reason_source == "agent"


def test_cti_call_started_identifies_and_call_ended_uses_the_ivr_choice(
    store: Store, clock: FixedClock, intake: Intake
) -> None:
    known = customer(store, clock, ANN, phone=BOB_PHONE)
    started = intake.submit(
        "phone", body(event="call.started", call_id="c1", caller="+447911123456")
    )
    assert started.action == "identified" and started.customer_id == known
    ended = intake.submit(
        "phone",
        body(
            event="call.ended",
            call_id="c1",
            caller="+447911123456",
            ivr_choice="2",
            transcript="I have a question about an amount",
        ),
    )
    assert ended.action == "started" and ended.customer_id == known, ended
    assert ended.recognition is not None and ended.recognition.source == "ivr"
    assert ended.recognition.reason == "billing-inquiry"


def test_email_reply_acknowledgement_goes_to_the_sender(
    intake: Intake, sender: RecordingSender
) -> None:
    raw = (
        b"From: Ann Lee <ann.lee@example.com>\r\nTo: service@northwind.example\r\n"
        b"Subject: No internet\r\nMessage-ID: <m1@example.com>\r\n\r\n"
        b"My internet is down since this morning.\r\n"
    )
    result = intake.submit("email", raw, content_type="message/rfc822")
    assert result.action == "started"
    [ack] = sender.sent
    assert ack.to == "ann.lee@example.com" and ack.in_reply_to == "<m1@example.com>"
    assert result.case_reference in (ack.subject or "")
