"""Calls from a CTI or telephony API, in one Flowdesk format (docs/channels.md):

    {"event": "call.offered" | "call.answered" | "call.transferred" | "call.ended"
              | "call.voicemail",
     "call_id": "...", "caller": "+44...", "agent": "username", "from_agent": "username",
     "duration_s": 93, "outcome": "completed", "transcript": "...", "recording_url": "...",
     "ivr_choice": "outage"}

A call is one phone contact (message id `call:{call_id}`), made when it is offered (or at its
first later event): the caller is identified by number, the IVR choice or the reason recognised,
the case opened or joined. Answered, transferred and ended are noted on that contact
(`details.call`) and in the event log with the case, so the call is on the case's timeline, and
the agent who answers (or takes the transfer) gets the case popped on their desktop. A voicemail
is a contact of its own whose text is the transcript, recognised like any text. Twilio Voice
status and transcription callbacks are mapped onto the same events (`from_twilio`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.intake import Intake, IntakeResult
from flowdesk.contacts.models import contacts
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.store import Store
from flowdesk.store.tables import events

CALL_EVENTS = ("call.offered", "call.answered", "call.transferred", "call.ended", "call.voicemail")
TWILIO_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
CLIENT = "client:"


@dataclass(frozen=True, slots=True)
class CallUpdate:
    event: str
    call_id: str
    caller: str = ""
    agent: str | None = None
    from_agent: str | None = None
    duration_s: int | None = None
    outcome: str | None = None
    transcript: str | None = None
    recording_url: str | None = None
    ivr_choice: str | None = None


@dataclass
class CallResult:
    event: str
    call_id: str
    contact_id: str | None = None
    case_reference: str | None = None
    contacts: list[IntakeResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "call_id": self.call_id,
            "contact_id": self.contact_id,
            "case_reference": self.case_reference,
        }


def _str(payload: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        if required:
            raise InvalidContactError(f"field {name!r} is required")
        return None
    if not isinstance(value, str | int):
        raise InvalidContactError(f"field {name!r} must be text")
    return str(value).strip()[:4000]


def parse_call_event(payload: dict[str, Any]) -> CallUpdate:
    """A call event in Flowdesk's format; InvalidContactError names what is wrong."""
    event = _str(payload, "event", required=True) or ""
    if event not in CALL_EVENTS:
        raise InvalidContactError(f"unknown call event {event!r}", hint=", ".join(CALL_EVENTS))
    duration = payload.get("duration_s")
    if duration is not None and (not isinstance(duration, int) or duration < 0):
        raise InvalidContactError("field 'duration_s' must be a whole number of seconds")
    update_ = CallUpdate(
        event=event,
        call_id=_str(payload, "call_id", required=True) or "",
        caller=_str(payload, "caller", required=event in ("call.offered", "call.voicemail")) or "",
        agent=_str(payload, "agent", required=event in ("call.answered", "call.transferred")),
        from_agent=_str(payload, "from_agent"),
        duration_s=duration,
        outcome=_str(payload, "outcome"),
        transcript=_str(payload, "transcript", required=event == "call.voicemail"),
        recording_url=_str(payload, "recording_url"),
        ivr_choice=_str(payload, "ivr_choice"),
    )
    return update_


def from_twilio(params: dict[str, str], current_agent: str | None) -> CallUpdate | None:
    """A Twilio Voice callback as a call event, None for one that changes nothing here.

    The customer's call is the parent leg; a leg Twilio dials to an agent's client
    (`To=client:{username}`, with ParentCallSid) answering means that agent answered, or took
    a transfer when another agent had it. A transcription callback is a voicemail."""
    parent = params.get("ParentCallSid")
    call_id = parent or params.get("CallSid") or ""
    if not call_id:
        raise InvalidContactError("a Twilio Voice callback without CallSid")
    status = (params.get("CallStatus") or "").lower()
    to = params.get("To") or ""
    agent = to[len(CLIENT) :] if to.startswith(CLIENT) else None
    caller = "" if parent else params.get("From", "")
    if params.get("TranscriptionText") is not None or params.get("TranscriptionStatus"):
        return CallUpdate(
            "call.voicemail",
            call_id,
            caller=params.get("From", ""),
            transcript=params.get("TranscriptionText") or "",
            recording_url=params.get("RecordingUrl"),
        )
    if not parent and status in ("queued", "initiated", "ringing"):
        return CallUpdate("call.offered", call_id, caller=caller)
    if status == "in-progress" and agent:
        if current_agent and current_agent != agent:
            return CallUpdate("call.transferred", call_id, agent=agent, from_agent=current_agent)
        if current_agent == agent:
            return None
        return CallUpdate("call.answered", call_id, agent=agent)
    if not parent and status in TWILIO_ENDED:
        duration = params.get("CallDuration")
        return CallUpdate(
            "call.ended",
            call_id,
            caller=caller,
            duration_s=int(duration) if duration and duration.isdigit() else None,
            outcome=status,
        )
    return None


class Calls:
    """Carries call events out through intake (the contact, the case) and the event log."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    def current_agent(self, call_id: str) -> str | None:
        found = self.intake.known_message("phone", f"call:{call_id}")
        if found is None:
            return None
        call = self.intake.get(found.contact_id).details.get("call") or {}
        agent = call.get("agent")
        return str(agent) if agent else None

    def handle(self, call: CallUpdate) -> CallResult:
        if call.event == "call.voicemail":
            return self._voicemail(call)
        contact, fresh = self._offered(call)
        result = CallResult(call.event, call.call_id, contact.contact_id, contact.case_reference)
        result.contacts.append(contact)
        if call.event == "call.offered" and not fresh:
            return result  # the CTI's retry
        self._note(contact, call)
        return result

    def _offered(self, call: CallUpdate) -> tuple[IntakeResult, bool]:
        found = self.intake.known_message("phone", f"call:{call.call_id}")
        if found is not None:
            return found, False
        if not call.caller:
            raise InvalidContactError(
                f"call {call.call_id!r} is unknown and this event names no caller",
                hint="send call.offered first, or the caller with this event",
            )
        payload = {"event": "call.offered", "call_id": call.call_id, "caller": call.caller}
        if call.ivr_choice:
            payload["ivr_choice"] = call.ivr_choice
        raw = json.dumps(payload).encode()
        result = self.intake.process(
            self.intake.receive("phone", raw, content_type="application/json")
        )
        if result.status == "failed":
            raise InvalidContactError(result.error or "the call could not be taken")
        if call.event != "call.offered":  # a call first heard of when answered or ended
            self._note(result, CallUpdate("call.offered", call.call_id, caller=call.caller))
        return result, True

    def _voicemail(self, call: CallUpdate) -> CallResult:
        seen = self.intake.known_message("phone", f"call:{call.call_id}:voicemail")
        if seen is None:
            payload = {
                "event": "call.voicemail",
                "call_id": call.call_id,
                "caller": call.caller,
                "transcript": call.transcript or "",
                "recording_url": call.recording_url,
            }
            raw = json.dumps(payload).encode()
            seen = self.intake.process(
                self.intake.receive("phone", raw, content_type="application/json")
            )
            if seen.status == "failed":
                raise InvalidContactError(seen.error or "the voicemail could not be taken")
            self._note(seen, call)
        result = CallResult(call.event, call.call_id, seen.contact_id, seen.case_reference)
        result.contacts.append(seen)
        return result

    def _note(self, contact: IntakeResult, call: CallUpdate) -> None:
        """The call's state on its contact, and the event with the case and the agent."""
        now = self.intake.clock.now()
        with self.intake.store.unit_of_work() as uow:
            row = uow.connection.execute(
                select(contacts.c.details, contacts.c.sender).where(
                    contacts.c.id == contact.contact_id
                )
            ).one()
            details = dict(row.details or {})
            state = dict(details.get("call") or {})
            history = list(state.get("history") or [])
            history.append({"event": call.event, "at": now.isoformat(), "agent": call.agent})
            state["history"] = history
            state["status"] = call.event.removeprefix("call.")
            if call.agent:
                state["agent"] = call.agent
            for name in ("duration_s", "outcome", "recording_url"):
                if getattr(call, name) is not None:
                    state[name] = getattr(call, name)
            details["call"] = state
            uow.connection.execute(
                update(contacts).where(contacts.c.id == contact.contact_id).values(details=details)
            )
            data = {
                "call_id": call.call_id,
                "caller": call.caller or str(row.sender or ""),
                "agent": call.agent,
                "from_agent": call.from_agent,
                "duration_s": call.duration_s,
                "outcome": call.outcome,
                "reference": contact.case_reference,
            }
            uow.append(
                NewEvent(
                    call.event,
                    now,
                    {k: v for k, v in data.items() if v is not None},
                    case_id=contact.case_id,
                    contact_id=contact.contact_id,
                    customer_id=contact.customer_id,
                    actor=call.agent,
                    channel="phone",
                )
            )


POPPING = (EventType.CALL_ANSWERED, EventType.CALL_TRANSFERRED)


def screen_pops(store: Store, username: str, after: int) -> tuple[int, list[dict[str, Any]]]:
    """Calls `username` answered or took over after event `after` (newest last), and the
    position to ask from next; `after` below 0 asks only for the position (a desktop that
    just opened pops nothing from before)."""
    with store.reading() as conn:
        if after < 0:
            head = conn.execute(select(func.max(events.c.seq))).scalar()
            return int(head or 0), []
        rows = conn.execute(
            select(events.c.seq, events.c.type, events.c.case_id, events.c.data)
            .where(events.c.seq > after, events.c.actor == username, events.c.type.in_(POPPING))
            .order_by(events.c.seq)
            .limit(20)
        ).all()
    pops = [
        {
            "seq": int(r.seq),
            "event": r.type,
            "case_id": r.case_id,
            "call_id": (r.data or {}).get("call_id"),
            "caller": (r.data or {}).get("caller"),
            "reference": (r.data or {}).get("reference"),
        }
        for r in rows
    ]
    return (pops[-1]["seq"] if pops else after), pops
