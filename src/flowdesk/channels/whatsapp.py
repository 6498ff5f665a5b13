"""The WhatsApp Business Cloud API (Meta) as Meta sends and takes it.

Subscription: Meta GETs the callback URL with hub.mode=subscribe, hub.verify_token (the token
set in the app dashboard) and hub.challenge; the answer is the challenge itself.
Notifications: Meta POSTs JSON `{"object": "whatsapp_business_account", "entry": [{"changes":
[{"field": "messages", "value": {"metadata", "contacts", "messages", "statuses"}}]}]}` and signs
the raw body in X-Hub-Signature-256: `sha256=` + hex HMAC-SHA256 keyed by the app secret. Any
answer but 200 makes Meta retry, so a valid notification is always answered 200 (a message that
intake refuses stays a dead letter).

Outbound: POST {base}/{phone-number-id}/messages with `Authorization: Bearer {token}` and
`{"messaging_product": "whatsapp", "to", "type": "text", "text": {"body"}}`. Free-form text is
allowed only within 24 hours of the customer's last message; outside it the configured template
goes (`"type": "template"` with the text as its one body parameter). The sender asks when the
customer last wrote where it can; where it cannot, Meta's refusal with error 131047
(re-engagement) makes it send the template instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flowdesk.channels.outbound import OutboundMessage, SentBytes
from flowdesk.channels.twilio import Delivery

SIGNATURE_HEADER = "X-Hub-Signature-256"
WINDOW = timedelta(hours=24)
REENGAGEMENT_ERROR = 131047


def signature(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value of a body: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify(app_secret: str, body: bytes, given: str) -> bool:
    if not app_secret or not given:
        return False
    return hmac.compare_digest(signature(app_secret, body), given.strip())


def challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The hub.challenge to echo when Meta's subscription request carries our verify token."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(params.get("hub.verify_token", ""), verify_token):
        return None
    return params.get("hub.challenge") or None


def _text_of(message: dict[str, Any]) -> str:
    kind = message.get("type")
    part = message.get(kind) if isinstance(kind, str) else None
    part = part if isinstance(part, dict) else {}
    if kind == "text":
        return str(part.get("body") or "")
    if kind in ("image", "document", "video", "audio", "sticker"):
        caption = part.get("caption") or part.get("filename") or ""
        return str(caption) or f"[{kind}]"
    if kind == "button":
        return str(part.get("text") or "")
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return str(reply.get("title") or "") if isinstance(reply, dict) else ""
    if kind == "location":
        return f"[location {part.get('latitude')},{part.get('longitude')}] {part.get('name') or ''}"
    return f"[{kind}]"


def notification(body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Delivery]]:
    """The messages (as Flowdesk `whatsapp` payloads) and delivery states in a notification."""
    payloads: list[dict[str, Any]] = []
    deliveries: list[Delivery] = []
    for entry in _list(body.get("entry")):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            names = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in _list(value.get("contacts"))
            }
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            for message in _list(value.get("messages")):
                sender = str(message.get("from") or "")
                kind = message.get("type")
                part = message.get(kind) if isinstance(kind, str) else None
                payload: dict[str, Any] = {
                    "from": "+" + sender.lstrip("+") if sender else "",
                    "text": _text_of(message),
                    "to": (metadata or {}).get("display_phone_number"),
                    "message_id": f"whatsapp:{message.get('id') or ''}",
                    "media": [{"id": part.get("id"), "content_type": part.get("mime_type")}]
                    if isinstance(part, dict) and part.get("id")
                    else [],
                    "provider": {"name": "whatsapp", "message": message},
                }
                if names.get(sender):
                    payload["name"] = names[sender]
                context = message.get("context")
                if isinstance(context, dict) and context.get("id"):
                    payload["in_reply_to"] = f"whatsapp:{context['id']}"
                payloads.append(payload)
            for status in _list(value.get("statuses")):
                errors = _list(status.get("errors"))
                error = None
                if errors:
                    error = f"{errors[0].get('code')}: {errors[0].get('title') or ''}".strip()
                if status.get("id") and status.get("status"):
                    deliveries.append(
                        Delivery(f"whatsapp:{status['id']}", str(status["status"]), error)
                    )
    return payloads, deliveries


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class WhatsAppCloudSender:
    """Sends through the Cloud API's /messages endpoint of one business phone number."""

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        template: str,
        template_language: str = "en_US",
        base_url: str = "https://graph.facebook.com/v19.0",
        last_inbound: Callable[[str], datetime | None] | None = None,
        now: Callable[[], datetime] | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"WhatsApp API base URL must be http(s): {base_url!r}")
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self.access_token = access_token
        self.template = template
        self.template_language = template_language
        self.last_inbound = last_inbound
        self.now = now
        self.timeout = timeout

    def _window_open(self, to: str) -> bool:
        if self.last_inbound is None or self.now is None:
            return True  # unknown here: Meta says 131047 when it is closed
        last = self.last_inbound(to)
        return last is not None and self.now() - last < WINDOW

    def _text(self, to: str, text: str) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"preview_url": False, "body": text},
        }

    def _template(self, to: str, text: str) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": {
                "name": self.template,
                "language": {"code": self.template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": text}]}],
            },
        }

    def _post(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any], bytes]:
        body = json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.access_token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, _json(response.read()), body
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read()), body

    def send(self, message: OutboundMessage) -> bytes:
        to = message.to.lstrip("+")
        first = self._text if self._window_open(message.to) else self._template
        status, answer, body = self._post(first(to, message.text))
        error = answer.get("error") if isinstance(answer.get("error"), dict) else None
        if (
            status >= 400
            and first == self._text
            and error
            and error.get("code") == REENGAGEMENT_ERROR
        ):
            status, answer, body = self._post(self._template(to, message.text))
            error = answer.get("error") if isinstance(answer.get("error"), dict) else None
        if status >= 400:
            detail = (error or {}).get("message") or f"HTTP {status}"
            raise OSError(f"WhatsApp refused the message: {detail}")
        ids = [m.get("id") for m in _list(answer.get("messages")) if m.get("id")]
        return SentBytes(body, provider_id=f"whatsapp:{ids[0]}" if ids else None)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
