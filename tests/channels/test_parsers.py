"""Channel adapters turn payloads into contacts, and refuse bad ones with a precise reason."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from typing import Any

import pytest

from flowdesk.channels.email_in import parse_email
from flowdesk.channels.payloads import parse_payload
from flowdesk.contacts.errors import AttachmentRefusedError, InvalidContactError
from flowdesk.contacts.model import MAX_ATTACHMENT_BYTES

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100).decode()


def j(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def email_with(attachment: bytes, maintype: str, subtype: str, name: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann@example.com>"
    message["To"] = "service@example.com"
    message["Subject"] = "Re: [FD-7K3Q9] my case"
    message["Message-ID"] = "<m2@example.com>"
    message["In-Reply-To"] = "<out1@flowdesk.invalid>"
    message.set_content("Here is the photo.\n> quoted FD-22222 from before")
    message.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def test_email_reads_sender_threading_reference_and_attachment() -> None:
    draft = parse_email(email_with(b"%PDF-1.4 test", "application", "pdf", "bill.pdf"))
    assert draft.identifiers == (("email", "ann@example.com"),)
    assert draft.person == {"given_name": "Ann", "family_name": "Lee"}
    assert draft.message_id == "<m2@example.com>"
    assert draft.in_reply_to == ("<out1@flowdesk.invalid>",)
    assert draft.case_reference == "FD-7K3Q9"
    [attachment] = draft.attachments
    assert (attachment.name, attachment.content_type) == ("bill.pdf", "application/pdf")


def test_email_attachment_of_a_refused_type_is_refused() -> None:
    raw = email_with(b"MZ\x90\x00", "application", "x-msdownload", "invoice.exe")
    with pytest.raises(AttachmentRefusedError, match="refused type 'application/x-msdownload'"):
        parse_email(raw)


def test_email_attachment_over_the_limit_is_refused() -> None:
    raw = email_with(b"0" * (MAX_ATTACHMENT_BYTES + 1), "application", "pdf", "big.pdf")
    with pytest.raises(AttachmentRefusedError, match="over the limit"):
        parse_email(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b"From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nx",
            "malformed MIME",
        ),
        (
            b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\nno parts at all\r\n',
            "malformed MIME",
        ),
        (b"Subject: no sender\r\n\r\nhello", "no sender address"),
    ],
)
def test_malformed_email_is_refused_with_the_reason(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidContactError, match=message):
        parse_email(raw)


def test_phone_cti_event() -> None:
    draft = parse_payload(
        "phone",
        j(
            event="call.ended",
            call_id="c9",
            caller="+447911123456",
            ivr_choice="1",
            transcript="my broadband is off",
        ),
    )
    assert draft.identifiers == (("phone", "+447911123456"),)
    assert draft.ivr_choice == "1" and draft.details["event"] == "call.ended"
    with pytest.raises(InvalidContactError, match="unknown CTI event 'call.parked'"):
        parse_payload("phone", j(event="call.parked", call_id="c9", caller="+447911123456"))


def test_social_post_makes_a_network_handle() -> None:
    draft = parse_payload("social", j(network="Twitter", handle="@Ann_L", text="help!"))
    assert draft.identifiers == (("social", "twitter:@Ann_L"),)
    assert draft.details["public"] is True


def test_letter_uses_the_supplied_text_when_ocr_is_not_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("flowdesk.channels.payloads.ocr_pages", lambda data, kind: None)
    scan = {"name": "letter.png", "content_type": "image/png", "data": PNG}
    draft = parse_payload(
        "letter", j(scan=scan, text="I wish to complain", customer={"name": "Ann Lee"})
    )
    assert draft.text == "I wish to complain" and draft.details["text_source"] == "supplied"
    assert draft.person == {"given_name": "Ann", "family_name": "Lee"}
    with pytest.raises(InvalidContactError, match="OCR is not available"):
        parse_payload("fax", j(scan=scan, customer={"name": "Ann Lee"}))


def test_app_submission_with_photo_and_gps() -> None:
    draft = parse_payload(
        "app",
        j(
            device_id="dev-1",
            text="cable cut in the street",
            photo={"name": "p.png", "content_type": "image/png", "data": PNG},
            geo={"latitude": 51.5, "longitude": -0.12, "accuracy_m": 8},
        ),
    )
    assert draft.geo is not None and draft.geo.latitude == 51.5
    assert draft.attachments[0].content_type == "image/png"
    assert draft.identifiers == (("device", "dev-1"),)
    with pytest.raises(InvalidContactError, match="out of range"):
        parse_payload("app", j(device_id="d", text="x", geo={"latitude": 91, "longitude": 0}))
    with pytest.raises(InvalidContactError, match="not valid base64"):
        parse_payload(
            "app",
            j(device_id="d", text="x", photo={"content_type": "image/png", "data": "@@"}),
        )


def test_counter_visit_entered_by_an_agent() -> None:
    draft = parse_payload(
        "counter", j(agent="lena", notes="Customer moving next month", phone="07911 123456")
    )
    assert draft.details["agent"] == "lena" and draft.channel == "counter"
    with pytest.raises(InvalidContactError, match="'agent' is required"):
        parse_payload("counter", j(notes="x", phone="07911 123456"))


@pytest.mark.parametrize(
    ("channel", "raw", "message"),
    [
        ("chat", b"{not json", "malformed JSON at line 1, column 2"),
        ("chat", b"[1, 2]", "must be a JSON object"),
        ("chat", b"\xff\xfe", "not UTF-8"),
        ("chat", j(session_id="s", text="hi"), "must say who sent it"),
        ("sms", j(text="hi"), "'from' is required"),
        ("web", j(email="a@example.com", message=5), "'message' must be text"),
        ("pigeon", j(text="hi"), "unknown channel 'pigeon'"),
    ],
)
def test_bad_payloads_are_refused_with_a_clear_reason(
    channel: str, raw: bytes, message: str
) -> None:
    with pytest.raises(InvalidContactError, match=message):
        parse_payload(channel, raw)
