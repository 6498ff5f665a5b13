"""Messaging providers' webhooks (Twilio, the WhatsApp Cloud API) as use cases. A provider
cannot hold a Flowdesk API key: its signature over the request is its credential, so each use
case checks it first (403 without it) and then acts as the provider, allowed to ingest contacts
and nothing else. Each message is stored as its channel's Flowdesk payload with the provider's
own fields inside; a retry of a message already stored (the same provider message id) is
answered again without a second contact; a delivery-status callback is noted on the outbound
message it names."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowdesk.app.contacts import IntakeResult, receive
from flowdesk.app.context import Caller, Ops
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden, Principal
from flowdesk.channels import twilio, whatsapp
from flowdesk.channels.twilio import Delivery
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.intake import Intake
from flowdesk.contacts.outbox import record_delivery
from flowdesk.core.errors import NotFoundError

#: The empty TwiML document Twilio's webhooks are answered with (no automatic reply).
EMPTY_TWIML = twilio.EMPTY_TWIML


@dataclass(frozen=True, slots=True)
class ProviderReport:
    """What one provider request did: the contacts it made or found again, the deliveries."""

    contacts: list[IntakeResult] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # provider message ids seen before
    deliveries: list[str] = field(default_factory=list)  # outbound contact ids updated
    unknown: list[str] = field(default_factory=list)  # provider ids of no message of ours

    def to_dict(self) -> dict[str, Any]:
        return {
            "contacts": [c.to_dict() for c in self.contacts],
            "repeated": self.repeated,
            "deliveries": self.deliveries,
            "unknown": self.unknown,
        }


def provider_caller(name: str) -> Caller:
    """The provider, once its signature checked: it may ingest contacts, nothing more."""
    return Principal(
        f"provider:{name}",
        name,
        name.capitalize(),
        (),
        (),
        frozenset({Permission.CONTACTS_INGEST}),
    )


def _secret(ops: Ops, name: str) -> str:
    value = getattr(ops.settings, name, None)
    if value is None:
        return ""
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def _unconfigured(setting: str) -> NotFoundError:
    return NotFoundError(
        "this provider is not configured", hint=f"set FLOWDESK_{setting.upper()} (docs/channels.md)"
    )


def _intake(ops: Ops) -> Intake:
    intake: Intake = ops.service("intake")
    return intake


def _ingest(
    ops: Ops, caller: Caller, channel: str, payload: dict[str, Any], report: ProviderReport
) -> None:
    message_id = str(payload.get("message_id") or "")
    if message_id:
        seen = _intake(ops).known_message(channel, message_id)
        if seen is not None:
            report.repeated.append(message_id)
            report.contacts.append(seen)
            return
    raw = json.dumps(payload).encode()
    report.contacts.append(receive(caller, ops, channel, raw, "application/json"))


def _deliver(ops: Ops, deliveries: Sequence[Delivery], report: ProviderReport) -> None:
    for delivery in deliveries:
        with ops.store.unit_of_work() as uow:
            found = record_delivery(
                uow,
                provider_id=delivery.provider_id,
                status=delivery.status,
                error=delivery.error,
                now=ops.clock.now(),
            )
        (report.deliveries if found else report.unknown).append(found or delivery.provider_id)


def check_twilio(
    ops: Ops, url: str, params: Sequence[tuple[str, str]], given: str | None
) -> dict[str, str]:
    token = _secret(ops, "twilio_auth_token")
    if not token:
        raise _unconfigured("twilio_auth_token")
    if not twilio.verify(token, url, params, given or ""):
        raise Forbidden(
            f"{twilio.SIGNATURE_HEADER} does not match this request",
            hint="Twilio signs the URL it called: set FLOWDESK_PUBLIC_URL behind a proxy",
        )
    return dict(params)


def twilio_message(
    ops: Ops, url: str, params: Sequence[tuple[str, str]], given: str | None
) -> ProviderReport:
    """An inbound SMS or WhatsApp message from Twilio; the door answers empty TwiML."""
    fields = check_twilio(ops, url, params, given)
    report = ProviderReport()
    channel, payload = twilio.inbound_payload(fields)
    if payload["message_id"] == "twilio:":
        raise InvalidContactError("a Twilio message without MessageSid")
    _ingest(ops, provider_caller("twilio"), channel, payload, report)
    return report


def twilio_status(
    ops: Ops, url: str, params: Sequence[tuple[str, str]], given: str | None
) -> ProviderReport:
    """A Twilio status callback: the state of a message Flowdesk sent."""
    fields = check_twilio(ops, url, params, given)
    report = ProviderReport()
    delivery = twilio.delivery_of(fields)
    if delivery is None:
        raise InvalidContactError("a status callback needs MessageSid and MessageStatus")
    _deliver(ops, [delivery], report)
    return report


def whatsapp_subscribe(ops: Ops, params: Mapping[str, str]) -> str:
    """Meta's subscription check: the challenge back when the verify token is ours."""
    token = _secret(ops, "whatsapp_verify_token")
    if not token:
        raise _unconfigured("whatsapp_verify_token")
    answer = whatsapp.challenge(params, token)
    if answer is None:
        raise Forbidden("hub.verify_token does not match", hint="FLOWDESK_WHATSAPP_VERIFY_TOKEN")
    return answer


def whatsapp_notification(ops: Ops, body: bytes, given: str | None) -> ProviderReport:
    """A WhatsApp Cloud API notification: its messages become contacts, its statuses are noted
    on the messages Flowdesk sent."""
    secret = _secret(ops, "whatsapp_app_secret")
    if not secret:
        raise _unconfigured("whatsapp_app_secret")
    if not whatsapp.verify(secret, body, given or ""):
        raise Forbidden(f"{whatsapp.SIGNATURE_HEADER} does not match this body")
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidContactError("a WhatsApp notification must be JSON") from None
    if not isinstance(parsed, dict) or parsed.get("object") != "whatsapp_business_account":
        raise InvalidContactError("not a whatsapp_business_account notification")
    payloads, deliveries = whatsapp.notification(parsed)
    report = ProviderReport()
    caller = provider_caller("whatsapp")
    for payload in payloads:
        _ingest(ops, caller, "whatsapp", payload, report)
    _deliver(ops, deliveries, report)
    return report
