"""Twilio Programmable Messaging (SMS and WhatsApp) as Twilio sends and takes it.

Inbound: Twilio POSTs form-encoded parameters (MessageSid, From, To, Body, NumMedia,
MediaUrl0..., ProfileName and WaId for WhatsApp) and signs them in X-Twilio-Signature: the
base64 HMAC-SHA1, keyed by the account's Auth Token, of the full URL Twilio called followed by
every POST parameter's name and value, sorted by name, without separators. Flowdesk answers an
empty TwiML document (no automatic reply; the acknowledgement goes out through the API like any
reply). Status callbacks carry MessageSid and MessageStatus (queued, sending, sent, delivered,
undelivered, failed, read) and ErrorCode.

Outbound: POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth
(AccountSid:AuthToken) and the form fields To, From, Body and StatusCallback; Twilio answers
the created message as JSON, whose `sid` is kept as the outbound contact's message id so the
status callbacks find it. WhatsApp addresses carry the `whatsapp:` prefix on both sides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowdesk.channels.outbound import OutboundMessage, SentBytes

SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WHATSAPP_PREFIX = "whatsapp:"


def signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """The X-Twilio-Signature of a request: URL + sorted name/value pairs, HMAC-SHA1, base64."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify(auth_token: str, url: str, params: Sequence[tuple[str, str]], given: str) -> bool:
    """Whether `given` is Twilio's signature of this request (compared in constant time)."""
    if not auth_token or not given:
        return False
    return hmac.compare_digest(signature(auth_token, url, params), given)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A provider's word on an outbound message: its id there, its state, the error if any."""

    provider_id: str
    status: str
    error: str | None = None


def channel_of(params: Mapping[str, str]) -> str:
    """`whatsapp` when the sender is a WhatsApp address, else `sms`."""
    return "whatsapp" if params.get("From", "").startswith(WHATSAPP_PREFIX) else "sms"


def inbound_payload(params: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """A Twilio inbound message as the channel's Flowdesk JSON: the channel, and a payload with
    the sender's number, the text, the provider's message id and the media Twilio lists (their
    URLs; fetching them needs the account's credentials). Twilio's parameters are kept whole
    under `provider`."""
    channel = channel_of(params)
    sender = params.get("From", "").removeprefix(WHATSAPP_PREFIX)
    media = [
        {"url": params.get(f"MediaUrl{i}"), "content_type": params.get(f"MediaContentType{i}")}
        for i in range(_int(params.get("NumMedia")))
    ]
    text = params.get("Body", "")
    if not text.strip() and media:
        text = f"[{len(media)} attachment(s)]"
    payload: dict[str, Any] = {
        "from": sender,
        "text": text,
        "to": params.get("To", "").removeprefix(WHATSAPP_PREFIX),
        "message_id": f"twilio:{params.get('MessageSid') or params.get('SmsSid') or ''}",
        "media": media,
        "provider": {"name": "twilio", "params": dict(params)},
    }
    if params.get("ProfileName"):
        payload["name"] = params["ProfileName"]
    return channel, payload


def delivery_of(params: Mapping[str, str]) -> Delivery | None:
    """The delivery state a status callback reports; None for a callback without one."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not status:
        return None
    return Delivery(f"twilio:{sid}", status.lower(), params.get("ErrorCode") or None)


def _int(value: str | None) -> int:
    try:
        return max(0, min(10, int(value or 0)))
    except ValueError:
        return 0


class TwilioSender:
    """Sends SMS or WhatsApp messages through Twilio's Messages API (at `base_url`, Twilio's
    own by default; tests and proxies name another)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        whatsapp: bool = False,
        base_url: str = "https://api.twilio.com",
        status_callback: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"Twilio base URL must be http(s): {base_url!r}")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.prefix = WHATSAPP_PREFIX if whatsapp else ""
        self.from_number = from_number.removeprefix(WHATSAPP_PREFIX)
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.status_callback = status_callback
        self.timeout = timeout

    def send(self, message: OutboundMessage) -> bytes:
        fields = [
            ("To", self.prefix + message.to.removeprefix(WHATSAPP_PREFIX)),
            ("From", self.prefix + self.from_number),
            ("Body", message.text),
        ]
        if self.status_callback:
            fields.append(("StatusCallback", self.status_callback))
        body = urllib.parse.urlencode(fields).encode()
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {credentials}",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", "replace")
            raise OSError(f"Twilio refused the message ({exc.code}): {detail}") from None
        sid = answer.get("sid") if isinstance(answer, dict) else None
        return SentBytes(body, provider_id=f"twilio:{sid}" if sid else None)
