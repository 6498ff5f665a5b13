"""Calls: Flowdesk's call events over REST (offered with the IVR choice opens the case, the
answering agent's desktop gets the case page popped, a transfer pops it for the next agent,
the call is on the case timeline), and Twilio Voice's signed status and transcription
callbacks mapped onto the same events (a voicemail's transcript recognised like any text)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.app import casework
from flowdesk.app.context import Ops
from flowdesk.auth import service as auth
from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

TOKEN = "twilio-auth-token"
PUBLIC = "https://flowdesk.example.org"
CALLER = "+447911123456"


@pytest.fixture
def setup(sqlite_url: str, clock: FixedClock) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    store = Store.open(sqlite_url)
    store.upgrade()
    deploy_bundle(ProcessRuntime(store, clock=clock), store, COMPANY_DIR / "outage-restoration")
    keys: dict[str, Any] = {"store": store}
    for name, roles, groups in (
        ("cti", ["integration"], []),
        ("ana", ["agent"], ["front-office"]),
        ("ben", ["agent"], ["front-office"]),
    ):
        auth.create_user(store, clock, username=name, roles=roles, groups=groups)
        _, key = auth.create_api_key(store, clock, username=name, name="t")
        keys[name] = {"Authorization": f"Bearer {key}"}
    settings = Settings(
        database_url=sqlite_url,
        public_url=PUBLIC,
        twilio_auth_token=TOKEN,  # type: ignore[arg-type]
        load_demo=False,
    )
    with TestClient(create_app(settings, store, clock)) as http:
        yield http, keys
    store.close()


def _event(http: TestClient, keys: dict[str, Any], **fields: Any) -> dict[str, Any]:
    answer = http.post("/api/v1/calls/events", content=json.dumps(fields), headers=keys["cti"])
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _pops(http: TestClient, keys: dict[str, Any], who: str, after: int) -> dict[str, Any]:
    answer = http.get("/api/v1/me/screen-pop", params={"after": after}, headers=keys[who])
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_call_events_open_the_case_pop_it_and_land_on_the_timeline(
    setup: tuple[TestClient, dict[str, Any]],
) -> None:
    http, keys = setup
    ana = _pops(http, keys, "ana", -1)["cursor"]
    ben = _pops(http, keys, "ben", -1)["cursor"]
    offered = _event(http, keys, event="call.offered", call_id="c-1", caller=CALLER, ivr_choice="1")
    reference = offered["case_reference"]
    assert reference and reference.startswith("FD-")
    assert _event(http, keys, event="call.offered", call_id="c-1", caller=CALLER) == offered
    _event(http, keys, event="call.answered", call_id="c-1", agent="ana")

    popped = _pops(http, keys, "ana", ana)
    assert [(p["event"], p["reference"], p["caller"]) for p in popped["pops"]] == [
        ("call.answered", reference, CALLER)
    ]
    url = popped["pops"][0]["url"]
    assert url and url.startswith("/work/")
    assert _pops(http, keys, "ana", popped["cursor"])["pops"] == []  # popped once
    assert _pops(http, keys, "ben", ben)["pops"] == []  # not ben's call

    _event(http, keys, event="call.transferred", call_id="c-1", agent="ben", from_agent="ana")
    assert [p["event"] for p in _pops(http, keys, "ben", ben)["pops"]] == ["call.transferred"]
    _event(http, keys, event="call.ended", call_id="c-1", duration_s=185, outcome="completed")

    bad = http.post(
        "/api/v1/calls/events",
        content=json.dumps({"event": "call.answered", "call_id": "c-1"}),
        headers=keys["cti"],
    )
    assert bad.status_code == 422 and "agent" in bad.json()["detail"]
    anonymous = http.post("/api/v1/calls/events", content=json.dumps({"event": "call.ended"}))
    assert anonymous.status_code == 401

    contact = http.get(f"/api/v1/contacts/{offered['contact_id']}", headers=keys["ana"]).json()
    call = contact["details"]["call"]
    assert [h["event"] for h in call["history"]] == [
        "call.offered",
        "call.answered",
        "call.transferred",
        "call.ended",
    ]
    assert (call["agent"], call["duration_s"], call["status"]) == ("ben", 185, "ended")

    app = http.app
    ops = Ops(app.state.store, app.state.clock, app.state.process_runtime, app.state.settings)  # type: ignore[attr-defined]
    ana_user = auth.authenticate_key(app.state.store, keys["ana"]["Authorization"][7:])  # type: ignore[attr-defined]
    moments = casework.timeline(ana_user, ops, url.removeprefix("/work/"))
    words = [m.text for m in moments]
    assert f"Call from {CALLER}" in words
    assert any(w.startswith("Call answered by") for w in words)
    assert any(w.startswith("Call transferred to") for w in words)
    assert "Call ended (completed, 3:05)" in words


def _signed(http: TestClient, params: list[tuple[str, str]]) -> int:
    url = f"{PUBLIC}/api/v1/providers/twilio/voice"
    data = url + "".join(k + v for k, v in sorted(params))
    signature = base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest())
    answer = http.post(
        "/api/v1/providers/twilio/voice",
        content=urlencode(params),
        headers={
            "X-Twilio-Signature": signature.decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    return answer.status_code


def _twilio(sid: str, status: str, **more: str) -> list[tuple[str, str]]:
    """A Twilio Voice status callback's parameters as its docs list them."""
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        "Called": "+15005550006",
        "Caller": CALLER,
        "Direction": "inbound",
        "From": CALLER,
        "To": "+15005550006",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
    }
    params.update(more)
    return list(params.items())


def test_twilio_voice_callbacks_become_call_events(
    setup: tuple[TestClient, dict[str, Any]],
) -> None:
    http, keys = setup
    ana = _pops(http, keys, "ana", -1)["cursor"]
    parent = "CA" + "1" * 32
    assert _signed(http, _twilio(parent, "ringing")) == 200
    leg = {"ParentCallSid": parent, "Direction": "outbound-dial"}
    assert _signed(http, _twilio("CA" + "2" * 32, "in-progress", To="client:ana", **leg)) == 200
    assert _signed(http, _twilio("CA" + "3" * 32, "in-progress", To="client:ben", **leg)) == 200
    assert _signed(http, _twilio(parent, "completed", CallDuration="42")) == 200
    forged = _twilio(parent, "completed")
    answer = http.post("/api/v1/providers/twilio/voice", content=urlencode(forged))
    assert answer.status_code == 403

    store: Store = keys["store"]
    from flowdesk.contacts.intake import Intake

    intake = Intake(store, clock=http.app.state.clock)  # type: ignore[attr-defined]
    found = intake.known_message("phone", f"call:{parent}")
    assert found is not None
    call = intake.get(found.contact_id).details["call"]
    assert [(h["event"], h["agent"]) for h in call["history"]] == [
        ("call.offered", None),
        ("call.answered", "ana"),
        ("call.transferred", "ben"),
        ("call.ended", None),
    ]
    assert call["duration_s"] == 42 and call["outcome"] == "completed"
    assert [p["event"] for p in _pops(http, keys, "ana", ana)["pops"]] == ["call.answered"]

    # the voicemail of another call: Twilio's transcription callback
    voicemail = _twilio(
        "CA" + "4" * 32,
        "completed",
        TranscriptionText="Hello, my internet is down since this morning, please call back.",
        TranscriptionStatus="completed",
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
    )
    assert _signed(http, voicemail) == 200
    assert _signed(http, voicemail) == 200  # Twilio's retry
    message = intake.known_message("phone", f"call:{'CA' + '4' * 32}:voicemail")
    assert message is not None and message.case_reference  # recognised: the outage flow
    assert "internet is down" in (intake.get(message.contact_id).text or "")
