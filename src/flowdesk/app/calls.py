"""Calls as use cases: a CTI's events in Flowdesk's format, Twilio Voice's callbacks (signed,
like its messaging webhooks), and the screen-pop an agent's desktop asks for."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowdesk.app.contacts import get_case
from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.providers import check_twilio
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.channels import voice
from flowdesk.channels.voice import CallResult, Calls
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.core.errors import NotFoundError


def _calls(ops: Ops) -> Calls:
    return Calls(ops.service("intake"))


def call_event(caller: Caller, ops: Ops, raw: bytes) -> CallResult:
    """One call event from a CTI (docs/channels.md, "Voice")."""
    require(caller, Permission.CONTACTS_INGEST)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidContactError("a call event must be a JSON object") from None
    if not isinstance(payload, dict):
        raise InvalidContactError("a call event must be a JSON object")
    return _calls(ops).handle(voice.parse_call_event(payload))


def twilio_voice(
    ops: Ops, url: str, params: Sequence[tuple[str, str]], given: str | None
) -> CallResult | None:
    """A Twilio Voice status or transcription callback; None when it changes nothing."""
    fields = check_twilio(ops, url, params, given)
    calls = _calls(ops)
    call_id = fields.get("ParentCallSid") or fields.get("CallSid") or ""
    update = voice.from_twilio(fields, calls.current_agent(call_id) if call_id else None)
    return calls.handle(update) if update is not None else None


def screen_pop(caller: Caller, ops: Ops, after: int) -> dict[str, Any]:
    """The calls the caller answered since `after`, each with the page of its case's open step
    where they may see it (the desktop opens it): `{"cursor", "pops": [...]}`."""
    require(caller, Permission.WORK_READ)
    cursor, pops = voice.screen_pops(ops.store, caller.username, after)
    for pop in pops:
        pop["url"] = None
        if not pop.get("reference"):
            continue
        try:
            case = get_case(caller, ops, str(pop["reference"]))
        except (Forbidden, NotFoundError):
            continue
        instance = case.get("instance_id")
        items = ops.runtime.work_items(instance_id=instance, status="open") if instance else []
        if items:
            pop["url"] = f"/work/{items[0]['id']}"
    return {"cursor": cursor, "pops": pops}
