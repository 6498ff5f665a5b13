"""Twilio (SMS, WhatsApp) and the WhatsApp Cloud API as the providers send and take messages:
signatures computed from the documented algorithms on the documented bodies, retries that make
no second contact, status callbacks noted on the message Flowdesk sent, and what Flowdesk sent
checked on a real HTTP server standing in for the provider's API."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.channels.provider_server import ProviderServer, Seen, provider_server

from flowdesk.api import problems
from flowdesk.api.routes import providers as provider_routes
from flowdesk.channels import twilio, whatsapp
from flowdesk.channels.outbound import OutboundMessage
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

PUBLIC = "https://flowdesk.example.org"
TOKEN = "twilio-auth-token"
APP_SECRET = "meta-app-secret"
CUSTOMER = "+447911123456"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """SQLite only: the provider adapters add no SQL of their own worth a second backend."""
    s = Store.open(sqlite_url)
    s.upgrade()
    yield s
    s.close()


def test_twilio_signature_is_the_documented_example() -> None:
    # Twilio's security docs: token 12345, this URL and these parameters sign to this value.
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio.signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio.verify("12345", url, list(reversed(params)), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio.verify("12345", url + "&x=1", params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio.verify("other", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def _twilio_sign(url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's algorithm written out here: URL + sorted name/value, HMAC-SHA1, base64."""
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _meta_sign(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _twilio_api(seen: Seen) -> tuple[int, dict[str, Any]]:
    form = dict(parse_qsl(seen.body.decode()))
    sid = f"SM{len(form['Body']):032d}"
    return 201, {"sid": sid, "status": "queued", "to": form["To"], "from": form["From"]}


def _graph_api(seen: Seen) -> tuple[int, dict[str, Any]]:
    body = seen.json()
    return 200, {
        "messaging_product": "whatsapp",
        "contacts": [{"input": body["to"], "wa_id": body["to"]}],
        "messages": [{"id": f"wamid.OUT{len(seen.body)}"}],
    }


@pytest.fixture
def api() -> Iterator[ProviderServer]:
    with provider_server(_twilio_api) as server:
        yield server


def _app(store: Store, clock: FixedClock, runtime: ProcessRuntime, settings: Settings) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.state.store = store
    app.state.clock = clock
    app.state.process_runtime = runtime
    app.state.settings = settings
    app.state.contact_default_region = "GB"
    app.include_router(provider_routes.router)
    return app


def _inbound_sms(sid: str, sender: str, body: str) -> list[tuple[str, str]]:
    """An incoming-message webhook's parameters as Twilio's docs list them."""
    return [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", body),
        ("FromCountry", "GB"),
        ("To", "+15005550006" if not sender.startswith("whatsapp:") else "whatsapp:+14155238886"),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", sender),
        ("ApiVersion", "2010-04-01"),
    ]


def _post_form(
    http: TestClient, path: str, params: list[tuple[str, str]], sign: bool = True
) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = _twilio_sign(PUBLIC + path, params)
    return http.post(path, content=urlencode(params), headers=headers)


def test_twilio_sms_and_whatsapp_in_out_retries_and_status(
    store: Store, clock: FixedClock, runtime: ProcessRuntime, api: ProviderServer
) -> None:
    settings = Settings(
        public_url=PUBLIC,
        twilio_account_sid="AC0123456789abcdef0123456789abcdef",
        twilio_auth_token=TOKEN,  # type: ignore[arg-type]
        twilio_api_url=api.url,
        twilio_sms_from="+15005550006",
        twilio_whatsapp_from="+14155238886",
    )
    app = _app(store, clock, runtime, settings)
    path = "/api/v1/providers/twilio/messages"
    sms = _inbound_sms("SM1111", CUSTOMER, "my internet is down since this morning")
    with TestClient(app, raise_server_exceptions=False) as http:
        forged = _post_form(http, path, sms, sign=False)
        assert forged.status_code == 403
        tampered = [(k, "+15551234567" if k == "From" else v) for k, v in sms]
        headers = {"X-Twilio-Signature": _twilio_sign(PUBLIC + path, sms)}
        assert http.post(path, content=urlencode(tampered), headers=headers).status_code == 403

        answer = _post_form(http, path, sms)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        assert answer.text == twilio.EMPTY_TWIML
        retry = _post_form(http, path, sms)  # Twilio's retry of the same MessageSid
        assert retry.status_code == 200

        # what went to Twilio's Messages API: the acknowledgement with the case reference
        assert len(api.requests) == 1
        sent = api.requests[0]
        assert sent.path == "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
        user, _, password = (
            base64.b64decode(sent.headers["Authorization"].removeprefix("Basic ")).decode()
        ).partition(":")
        assert (user, password) == ("AC0123456789abcdef0123456789abcdef", TOKEN)
        form = dict(parse_qsl(sent.body.decode()))
        assert form["To"] == CUSTOMER and form["From"] == "+15005550006"
        assert form["StatusCallback"] == f"{PUBLIC}/api/v1/providers/twilio/status"
        assert "case reference is FD-" in form["Body"]

        intake: Intake = app.state.contact_intake
        with store.reading() as conn:
            from flowdesk.contacts.models import contacts

            rows = conn.execute(contacts.select().order_by(contacts.c.received_at)).all()
        inbound = [r for r in rows if r.direction == "in"]
        outbound = [r for r in rows if r.direction == "out"]
        assert [(r.channel, r.message_id, r.sender) for r in inbound] == [
            ("sms", "twilio:SM1111", CUSTOMER)
        ]
        assert inbound[0].details["provider"]["params"]["SmsStatus"] == "received"
        sid = f"twilio:SM{len(form['Body']):032d}"
        assert outbound[0].message_id == sid

        # status callbacks, one arriving late: delivered stays, the history keeps both
        status = "/api/v1/providers/twilio/status"
        for state in ("sent", "delivered", "sent"):
            callback = [
                ("MessageSid", sid.removeprefix("twilio:")),
                ("MessageStatus", state),
                ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
                ("To", CUSTOMER),
            ]
            assert _post_form(http, status, callback).status_code == 200
        delivery = intake.get(outbound[0].id).details["delivery"]
        assert delivery["status"] == "delivered"
        assert [h["status"] for h in delivery["history"]] == ["sent", "delivered"]

        # WhatsApp through Twilio: the whatsapp: prefix on both sides
        wa = _inbound_sms("SM2222", f"whatsapp:{CUSTOMER}", "my internet is still down")
        wa += [("ProfileName", "Ada Lovelace"), ("WaId", CUSTOMER.lstrip("+"))]
        assert _post_form(http, path, wa).status_code == 200
    found = intake.known_message("whatsapp", "twilio:SM2222")
    assert found is not None and found.status in ("processed", "triage")
    if len(api.requests) > 1:  # a follow-up of the open case is acknowledged only when new
        form = dict(parse_qsl(api.requests[1].body.decode()))
        assert (form["To"], form["From"]) == (f"whatsapp:{CUSTOMER}", "whatsapp:+14155238886")


WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
# The text-message notification of Meta's webhook docs, with its placeholders filled in.
META_MESSAGE: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "changes": [
                {
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": "106540352242922",
                        },
                        "contacts": [
                            {"profile": {"name": "Ada Lovelace"}, "wa_id": "447911123456"}
                        ],
                        "messages": [
                            {
                                "from": "447911123456",
                                "id": WAMID,
                                "timestamp": "1749416383",
                                "text": {"body": "my internet is down since this morning"},
                                "type": "text",
                            }
                        ],
                    },
                    "field": "messages",
                }
            ],
        }
    ],
}


def _statuses(wamid: str, state: str) -> dict[str, Any]:
    body = copy.deepcopy(META_MESSAGE)
    value = body["entry"][0]["changes"][0]["value"]
    del value["messages"], value["contacts"]
    value["statuses"] = [
        {
            "id": wamid,
            "status": state,
            "timestamp": "1749416390",
            "recipient_id": "447911123456",
            **(
                {"errors": [{"code": 131026, "title": "Message undeliverable"}]}
                if state == "failed"
                else {}
            ),
        }
    ]
    return body


def test_whatsapp_cloud_api_subscription_messages_statuses_and_retries(
    store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    with provider_server(_graph_api) as graph:
        settings = Settings(
            whatsapp_verify_token="verify-me",  # type: ignore[arg-type]
            whatsapp_app_secret=APP_SECRET,  # type: ignore[arg-type]
            whatsapp_access_token="EAAG-token",  # type: ignore[arg-type]
            whatsapp_phone_number_id="106540352242922",
            whatsapp_api_url=graph.url + "/v19.0",
        )
        app = _app(store, clock, runtime, settings)
        path = "/api/v1/providers/whatsapp"
        with TestClient(app, raise_server_exceptions=False) as http:
            check = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": ""}
            assert http.get(path, params=check).status_code == 403
            check["hub.verify_token"] = "verify-me"
            ok = http.get(path, params=check)
            assert (ok.status_code, ok.text) == (200, "1158201444")

            body = json.dumps(META_MESSAGE).encode()
            bad = http.post(path, content=body, headers={"X-Hub-Signature-256": "sha256=00"})
            assert bad.status_code == 403
            signed = {"X-Hub-Signature-256": _meta_sign(body), "Content-Type": "application/json"}
            first = http.post(path, content=body, headers=signed)
            assert first.status_code == 200, first.text
            assert first.json()["contacts"][0]["case_reference"].startswith("FD-")
            again = http.post(path, content=body, headers=signed)  # Meta retries on a timeout
            assert again.json()["repeated"] == [f"whatsapp:{WAMID}"]

            # the acknowledgement: free text, as the customer wrote a moment ago
            assert len(graph.requests) == 1
            sent = graph.requests[0]
            assert sent.path == "/v19.0/106540352242922/messages"
            assert sent.headers["Authorization"] == "Bearer EAAG-token"
            out = sent.json()
            assert (out["messaging_product"], out["to"], out["type"]) == (
                "whatsapp",
                "447911123456",
                "text",
            )
            assert "case reference is FD-" in out["text"]["body"]

            wamid = f"wamid.OUT{len(sent.body)}"
            for state in ("delivered", "read", "delivered"):
                status_body = json.dumps(_statuses(wamid, state)).encode()
                done = http.post(
                    path,
                    content=status_body,
                    headers={"X-Hub-Signature-256": _meta_sign(status_body)},
                )
                assert done.status_code == 200
            assert len(done.json()["deliveries"]) == 1
            unknown = json.dumps(_statuses("wamid.NOTOURS", "failed")).encode()
            answer = http.post(
                path, content=unknown, headers={"X-Hub-Signature-256": _meta_sign(unknown)}
            )
            assert answer.json()["unknown"] == ["whatsapp:wamid.NOTOURS"]
        intake: Intake = app.state.contact_intake
        reply_id = done.json()["deliveries"][0]
        delivery = intake.get(reply_id).details["delivery"]
        assert delivery["status"] == "read"
        assert intake.get(reply_id).channel == "whatsapp"


def test_whatsapp_template_outside_the_24_hour_window() -> None:
    """Outside the window (no message from the customer for a day, or Meta's 131047 answer
    where Flowdesk cannot tell), the template goes with the text as its body parameter."""

    def graph_api(seen: Seen) -> tuple[int, dict[str, Any]]:
        if seen.json()["type"] == "text":
            return 400, {"error": {"code": 131047, "message": "Re-engagement message"}}
        return _graph_api(seen)

    now = datetime(2026, 3, 2, 9, 0)
    with provider_server(graph_api) as graph:
        message = OutboundMessage(channel="whatsapp", to="+447911123456", text="Case FD-1 solved")
        knows = whatsapp.WhatsAppCloudSender(
            phone_number_id="1065",
            access_token="tok",
            template="case_update",
            template_language="en_GB",
            base_url=graph.url,
            last_inbound=lambda to: datetime(2026, 2, 28, 9, 0),
            now=lambda: now,
        )
        sent = knows.send(message)
        assert getattr(sent, "provider_id", "").startswith("whatsapp:wamid.OUT")
        assert [r.json()["type"] for r in graph.requests] == ["template"]
        assert graph.requests[0].json()["template"] == {
            "name": "case_update",
            "language": {"code": "en_GB"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Case FD-1 solved"}]}
            ],
        }
        blind = whatsapp.WhatsAppCloudSender(
            phone_number_id="1065", access_token="tok", template="case_update", base_url=graph.url
        )
        blind.send(message)
        assert [r.json()["type"] for r in graph.requests[1:]] == ["text", "template"]


def test_meta_signature_matches_an_independent_vector() -> None:
    # HMAC-SHA256("secret", "test"), as published with Meta webhook SDKs' examples
    assert whatsapp.signature("secret", b"test") == (
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    )
    assert not whatsapp.verify("secret", b"test ", whatsapp.signature("secret", b"test"))


def test_demo_live_sends_sms_as_twilio_and_whatsapp_send_them() -> None:
    import random

    from flowdesk.channels.payloads import parse_payload
    from flowdesk.demo.live import provider_formats

    reformat = provider_formats(random.Random(7))
    seen: dict[str, int] = {}
    for n in range(20):
        raw = json.dumps({"from": CUSTOMER, "text": f"my internet is down {n}"}).encode()
        channel, payload = reformat("sms", raw)
        draft = parse_payload(channel, payload)
        assert draft.sender == CUSTOMER and draft.text == f"my internet is down {n}"
        assert draft.message_id and draft.message_id.split(":")[0] in ("twilio", "whatsapp")
        provider = draft.details["provider"]["name"]
        seen[f"{channel}/{provider}"] = seen.get(f"{channel}/{provider}", 0) + 1
    assert set(seen) == {"sms/twilio", "whatsapp/twilio", "whatsapp/whatsapp"}
    assert reformat("email", b"x") == ("email", b"x")
