"""JSON payloads of every non-email channel -> a ContactDraft.

One parser per channel: phone (CTI events), chat, SMS, web form, social post, letter and fax
(a scan with OCR text), counter visits entered by an agent, mobile app submissions (photo and GPS
position). Each one says precisely which field is missing or wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from flowdesk.cases.references import normalize_reference
from flowdesk.channels.ocr import ocr_pages
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.model import (
    MAX_TEXT_CHARS,
    Attachment,
    ContactDraft,
    check_channel,
    geo_from,
    make_attachment,
)
from flowdesk.core.safetext import json_problem

IDENTIFIER_FIELDS = {
    "email": "email",
    "phone": "phone",
    "account": "account",
    "account_number": "account",
    "handle": "social",
    "social": "social",
    "device_id": "device",
}
PERSON_FIELDS = ("given_name", "family_name", "birth_date", "street", "locality", "postcode")
#: call.offered and call.voicemail come from flowdesk.channels.voice (one contact per call, and
#: one per voicemail, whose transcript is the text).
CTI_EVENTS = ("call.started", "call.ended", "call.offered", "call.voicemail")
CALL_MESSAGE_IDS = {"call.offered": "call:{id}", "call.voicemail": "call:{id}:voicemail"}
#: The web survey form's fields (flowdesk.cases.surveys); either score makes it a survey.
SURVEY_FIELDS = ("reference", "csat", "nps", "comment")
SURVEY_SCORES = frozenset({"csat", "nps"})


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidContactError(f"payload is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InvalidContactError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InvalidContactError("payload is nested too deeply") from None
    if not isinstance(value, dict):
        raise InvalidContactError("payload must be a JSON object")
    bad = json_problem(value)
    if bad:
        raise InvalidContactError(f"payload refused: {bad}")
    return value


def _text(payload: dict[str, Any], *names: str, required: bool = False) -> str:
    for name in names:
        value = payload.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidContactError(f"field {name!r} must be text")
        return value.strip()[:MAX_TEXT_CHARS]
    if required:
        raise InvalidContactError(f"field {names[0]!r} is required")
    return ""


def _optional(payload: dict[str, Any], name: str) -> str | None:
    value = _text(payload, name)
    return value or None


def _who(payload: dict[str, Any]) -> tuple[tuple[tuple[str, str], ...], dict[str, Any]]:
    """Identifiers and person fields, from the payload or its `customer`/`from` object."""
    sources = [payload]
    for nested in ("customer", "from", "sender"):
        if isinstance(payload.get(nested), dict):
            sources.append(payload[nested])
    identifiers: list[tuple[str, str]] = []
    person: dict[str, Any] = {}
    for source in sources:
        for field, kind in IDENTIFIER_FIELDS.items():
            value = source.get(field)
            if isinstance(value, str) and value.strip():
                identifiers.append((kind, value.strip()))
        for field in PERSON_FIELDS:
            value = source.get(field)
            if isinstance(value, str) and value.strip():
                person[field] = value.strip()
        name = source.get("name")
        if isinstance(name, str) and " " in name.strip() and "family_name" not in person:
            given, _, family = name.strip().rpartition(" ")
            person.update(given_name=given, family_name=family)
    return tuple(dict.fromkeys(identifiers)), person


def _decode(data: Any, field: str) -> bytes:
    if not isinstance(data, str):
        raise InvalidContactError(f"field {field!r} must be base64 text")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidContactError(f"field {field!r} is not valid base64") from None


def _file(value: Any, field: str) -> tuple[Attachment, bytes]:
    if not isinstance(value, dict):
        raise InvalidContactError(
            f"field {field!r} must be an object with name, content_type, data"
        )
    data = _decode(value.get("data"), f"{field}.data")
    name = value.get("name") if isinstance(value.get("name"), str) else field
    kind = value.get("content_type")
    if not isinstance(kind, str):
        raise InvalidContactError(f"field '{field}.content_type' is required")
    return make_attachment(str(name), kind, data), data


def _draft(channel: str, payload: dict[str, Any], text: str, **extra: Any) -> ContactDraft:
    identifiers, person = _who(payload)
    if not identifiers and not person:
        raise InvalidContactError(
            f"a {channel} contact must say who sent it",
            hint="give email, phone, account, handle or device_id (or a customer object)",
        )
    details = extra.pop("details", {})
    return ContactDraft(
        channel=channel,
        text=text,
        identifiers=identifiers,
        sender=identifiers[0][1] if identifiers else None,
        person=person,
        details=details,
        reason=_optional(payload, "reason"),
        case_reference=normalize_reference(_text(payload, "case_reference")) or None,
        **extra,
    )


def phone(payload: dict[str, Any]) -> ContactDraft:
    event = _text(payload, "event", required=True)
    if event not in CTI_EVENTS:
        raise InvalidContactError(f"unknown CTI event {event!r}", hint="call.started or call.ended")
    caller = _text(payload, "caller", "phone", required=True)
    call_id = _text(payload, "call_id", required=True)
    body = dict(payload)
    body["phone"] = caller
    return _draft(
        "phone",
        body,
        _text(payload, "transcript"),
        ivr_choice=_optional(payload, "ivr_choice"),
        details={"event": event, "call_id": call_id, "duration_s": payload.get("duration_s")},
        message_id=CALL_MESSAGE_IDS.get(event, "call:{id}:" + event).format(id=call_id),
    )


def chat(payload: dict[str, Any]) -> ContactDraft:
    session = _text(payload, "session_id", required=True)
    return _draft(
        "chat",
        payload,
        _text(payload, "text", "message", required=True),
        details={"session_id": session},
    )


def _messaging(channel: str) -> Callable[[dict[str, Any]], ContactDraft]:
    """SMS and WhatsApp: a phone number, the text, and from a provider adapter
    (flowdesk.channels.twilio, .whatsapp) its message id, media and the provider's own fields."""

    def parse(payload: dict[str, Any]) -> ContactDraft:
        sender = _text(payload, "from", "phone", required=True)
        body = {k: v for k, v in payload.items() if k != "from"}
        body["phone"] = sender
        details: dict[str, Any] = {"to": payload.get("to")}
        for name in ("media", "provider"):
            if payload.get(name):
                details[name] = payload[name]
        replied = _optional(payload, "in_reply_to")
        return _draft(
            channel,
            body,
            _text(payload, "text", "body", required=True),
            details=details,
            message_id=_optional(payload, "message_id"),
            in_reply_to=(replied,) if replied else (),
        )

    return parse


sms = _messaging("sms")
whatsapp = _messaging("whatsapp")


def web(payload: dict[str, Any]) -> ContactDraft:
    """A web form; the survey form (fields reference, csat, nps, comment) needs no message:
    its fields go to details["survey"] as given, and intake checks the scores."""
    survey = {k: payload.get(k) for k in SURVEY_FIELDS} if SURVEY_SCORES & payload.keys() else {}
    text = _text(payload, "message", "text", "comment", required=not survey)
    if survey and not text:
        text = f"Survey {survey['reference']}: CSAT {survey['csat']}, NPS {survey['nps']}"
    return _draft(
        "web",
        payload,
        text,
        subject=_optional(payload, "subject"),
        details={"form": payload.get("form"), **({"survey": survey} if survey else {})},
    )


def social(payload: dict[str, Any]) -> ContactDraft:
    network = _text(payload, "network", required=True).lower()
    handle = _text(payload, "handle", required=True)
    body = dict(payload)
    body["handle"] = f"{network}:{handle}"
    return _draft(
        "social",
        body,
        _text(payload, "text", required=True),
        details={"network": network, "post_id": payload.get("post_id"), "public": True},
    )


def scan(channel: str) -> Callable[[dict[str, Any]], ContactDraft]:
    def parse(payload: dict[str, Any]) -> ContactDraft:
        attachment, data = _file(payload.get("scan"), "scan")
        kind = attachment.content_type
        pages = (
            ocr_pages(data, kind) if kind.startswith("image/") or kind.endswith("/pdf") else None
        )
        text = "\n\n".join(p.text for p in pages if p.text).strip() if pages else None
        source = "ocr"
        if not text:
            text = _text(payload, "text")
            source = "supplied"
        if not text:
            raise InvalidContactError(
                f"no text for the {channel}: OCR is not available for this scan",
                hint="send the transcribed text in the field 'text'",
            )
        details: dict[str, Any] = {"text_source": source}
        if pages:  # per page: its text and the image it was read from (rendered again to show)
            details["pages"] = [
                {"page": p.number, "text": p.text[:MAX_TEXT_CHARS], "image_bytes": len(p.png)}
                for p in pages
            ]
        return _draft(channel, payload, text, attachments=(attachment,), details=details)

    return parse


def counter(payload: dict[str, Any]) -> ContactDraft:
    agent = _text(payload, "agent", required=True)
    return _draft(
        "counter",
        payload,
        _text(payload, "notes", "text", required=True),
        details={"agent": agent, "office": payload.get("office")},
    )


def app(payload: dict[str, Any]) -> ContactDraft:
    attachments: tuple[Attachment, ...] = ()
    if payload.get("photo") is not None:
        attachments = (_file(payload["photo"], "photo")[0],)
    return _draft(
        "app",
        payload,
        _text(payload, "text", "message", required=True),
        attachments=attachments,
        geo=geo_from(payload.get("geo")),
        details={"app_version": payload.get("app_version")},
    )


PARSERS: dict[str, Callable[[dict[str, Any]], ContactDraft]] = {
    "phone": phone,
    "chat": chat,
    "sms": sms,
    "web": web,
    "social": social,
    "letter": scan("letter"),
    "fax": scan("fax"),
    "counter": counter,
    "app": app,
    "whatsapp": whatsapp,
}


def parse_payload(channel: str, raw: bytes) -> ContactDraft:
    """The draft of a JSON payload on a channel (email goes through `email_in`)."""
    check_channel(channel)
    if channel == "email":
        from flowdesk.channels.email_in import parse_email

        return _storable(parse_email(raw))
    return _storable(PARSERS[channel](parse_json(raw)))


def _storable(draft: ContactDraft) -> ContactDraft:
    """A draft whose text the store can hold (a mail can carry NUL or undecodable bytes)."""
    bad = json_problem(
        {
            "text": draft.text,
            "subject": draft.subject,
            "sender": draft.sender,
            "identifiers": [list(pair) for pair in draft.identifiers],
            "person": draft.person,
            "details": draft.details,
            "message_id": draft.message_id,
            "in_reply_to": list(draft.in_reply_to),
        }
    )
    if bad:
        raise InvalidContactError(f"payload refused: {bad}")
    return draft
