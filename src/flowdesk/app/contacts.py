"""Contacts, cases and reasons as both doors serve them: intake of a channel's payload, dead letters
and replay, triage decisions, a contact or case read, the verified status lookup and the reason
model. A contact carries what the customer wrote, so an agent reads one only where they may read
its case's process instance (one of their groups has or had work on it), where its case is their
department's, or where it waits in triage and they triage; supervisors, administrators and
integrations read every one (work:read-all)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.processes import may_read
from flowdesk.app.selfservice import limited_check
from flowdesk.app.services import reply_senders
from flowdesk.app.triage import SETTINGS as TRIAGE
from flowdesk.app.triage import triages
from flowdesk.app.work import sees_all
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.cases import service as cases
from flowdesk.contacts import classifier
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.follow_ups import FollowUpPolicy
from flowdesk.contacts.intake import Intake, IntakeResult, default_runtime
from flowdesk.contacts.model import CHANNELS, Contact
from flowdesk.core.errors import NotFoundError
from flowdesk.runtime.processes import ProcessRuntime

__all__ = ["CHANNELS", "MAX_CSV_BYTES", "Intake", "IntakeResult", "InvalidContactError"]

MAX_CSV_BYTES = classifier.MAX_FILE_BYTES


def build_intake(state: Any) -> Intake:
    """The one Intake of an app, from its state: the app's process runtime when it has one, the
    outbound senders it was given (`contact_senders`, else those of its settings: the
    acknowledgement with the case reference goes out like any reply), the follow-up policy it
    was given or the company file of its settings names. The door that owns the app's life
    cycle keeps it."""
    runtime = getattr(state, "process_runtime", None)
    if not isinstance(runtime, ProcessRuntime):
        runtime = default_runtime(state.store, state.clock)
    policy = getattr(state, "follow_up_policy", None)
    if not isinstance(policy, FollowUpPolicy):
        settings = getattr(state, "settings", None)
        policy = FollowUpPolicy.from_file(getattr(settings, "company_file", None))
    senders = getattr(state, "contact_senders", None)
    if senders is None:  # the senders the settings configure, as replies and notifications use
        settings = getattr(state, "settings", None)
        senders = reply_senders(settings, state.store, state.clock) if settings else {}
    return Intake(
        state.store,
        runtime,
        clock=state.clock,
        senders=senders,
        default_region=getattr(state, "contact_default_region", None),
        follow_ups=policy,
    )


def _intake(ops: Ops) -> Intake:
    intake: Intake = ops.service("intake")
    return intake


def receive(
    caller: Caller, ops: Ops, channel: str, raw: bytes, content_type: str | None
) -> IntakeResult:
    """A channel's inbound payload: stored raw first (a bad one stays as a dead letter), then
    processed. The result says `failed` with the reason for a payload intake refused."""
    require(caller, Permission.CONTACTS_INGEST)
    if channel not in CHANNELS:
        raise NotFoundError(f"no webhook for channel {channel!r}", hint=", ".join(CHANNELS))
    intake = _intake(ops)
    return intake.process(intake.receive(channel, raw, content_type=content_type))


def submit(caller: Caller, ops: Ops, raw: bytes, content_type: str | None) -> IntakeResult:
    """A contact as JSON naming its `channel`; a body that is not JSON or names no known channel
    is kept as a web contact (and refused with the reason)."""
    require(caller, Permission.CONTACTS_INGEST)
    channel = "web"
    try:
        parsed = json.loads(raw)
        if isinstance(parsed, dict) and parsed.get("channel") in CHANNELS:
            channel = str(parsed["channel"])
    except (ValueError, UnicodeDecodeError):
        pass
    if channel == "email":
        raise InvalidContactError(
            "email contacts come as RFC 5322 messages",
            hint="POST the message to /api/v1/webhooks/email as message/rfc822",
        )
    return receive(caller, ops, channel, raw, content_type)


def dead_letters(caller: Caller, ops: Ops, limit: int = 100) -> list[Contact]:
    """Contacts whose processing failed, with the reason, oldest first."""
    require(caller, Permission.CONTACTS_ADMIN)
    return _intake(ops).dead_letters(limit=limit)


def replay(caller: Caller, ops: Ops, ids: Sequence[str] | None) -> list[IntakeResult]:
    """Process dead letters again, the ones named or all, after the cause was fixed."""
    require(caller, Permission.CONTACTS_ADMIN)
    return _intake(ops).replay(ids)


def triage_queue(caller: Caller, ops: Ops, limit: int = 100) -> list[Contact]:
    """Contacts whose reason intake could not tell confidently, oldest first; empty for those
    who do not triage (the triage department and supervisors do), as the desktop shows it."""
    require(caller, Permission.CONTACTS_TRIAGE)
    if not triages(caller):
        return []
    return _intake(ops).triage_queue(limit=limit)


def decide_reason(caller: Caller, ops: Ops, contact_id: str, reason: str) -> IntakeResult:
    """A person decides the reason of a contact in triage; its flow starts or it joins its case.
    Only those who triage decide (an unknown contact answers 404 first)."""
    require(caller, Permission.CONTACTS_TRIAGE)
    intake = _intake(ops)
    intake.get(contact_id)
    if not triages(caller):
        raise Forbidden(
            f"{caller.username} does not triage contacts",
            hint=f"triage is the work of the {TRIAGE.department} department and supervisors",
        )
    return intake.assign_reason(contact_id, reason, actor=caller.username)


def _may_read_case(caller: Caller, ops: Ops, case: cases.Case) -> bool:
    if case.department is not None and case.department in caller.groups:
        return True
    return case.instance_id is not None and may_read(caller, ops, case.instance_id)


def may_read_contact(caller: Caller, ops: Ops, contact: Contact) -> bool:
    """The visibility rule of a contact (see the module's docstring)."""
    if sees_all(caller):
        return True
    if contact.status == "triage" and triages(caller):
        return True
    if contact.case_id is None:
        return False
    with ops.store.reading() as conn:
        case = cases.get_case(conn, contact.case_id)
    return case is not None and _may_read_case(caller, ops, case)


def get_contact(caller: Caller, ops: Ops, contact_id: str) -> Contact:
    require(caller, Permission.CONTACTS_READ)
    contact = _intake(ops).get(contact_id)  # NotFoundError first: an id that exists nowhere
    if not may_read_contact(caller, ops, contact):
        raise Forbidden(
            f"contact {contact_id} belongs to no case that {caller.username} or their groups work",
            hint="readable by the departments that work on its case, and by supervisors",
        )
    return contact


def get_case(caller: Caller, ops: Ops, reference: str) -> dict[str, Any]:
    """A case by its public reference, with its contacts, its follow-ups and the customer-facing
    status; readable like its contacts."""
    require(caller, Permission.CASES_READ)
    with ops.store.reading() as conn:
        case = cases.by_reference(conn, reference)
        follow_ups = cases.linked_cases(conn, case.id) if case is not None else []
    if case is None:
        raise NotFoundError(f"no case {reference!r}")
    if not sees_all(caller) and not _may_read_case(caller, ops, case):
        raise Forbidden(
            f"case {case.reference} has no work for {caller.username} or their groups",
            hint="a case is readable by the departments that work on it and by supervisors",
        )
    status = cases.case_status(ops.store, case, ops.clock.now())
    linked = _intake(ops).case_contacts(case.id)
    return {
        **case.to_dict(),
        "status": status.status,
        "status_texts": status.texts,
        "contacts": [c.to_dict() for c in linked],
        "linked_cases": follow_ups,
    }


def case_status(
    caller: Caller, ops: Ops, reference: str, identifiers: list[tuple[str, str]]
) -> dict[str, Any]:
    """The status page's answer: the reference plus one identifier of the case's customer.
    Without a matching identifier it says nothing about the case, nor whether it exists."""
    require(caller, Permission.CASES_STATUS)

    def check() -> cases.CaseStatus | None:
        found = cases.lookup_status(ops.store, reference, identifiers=identifiers)
        return found if found.verified else None

    # limited as the status page is, with the caller in place of the address
    status = limited_check(ops, f"caller:{caller.user_id}", reference, check)
    if status is None:
        status = cases.lookup_status(ops.store, reference, identifiers=[])  # the unverified answer
    return {**status.to_dict(), "message": status.message()}


def _examples(data: bytes) -> list[tuple[str, str]]:
    if len(data) > MAX_CSV_BYTES:
        raise InvalidContactError(f"training file over {MAX_CSV_BYTES} bytes")
    return classifier.read_examples(data)


def train_reasons(caller: Caller, ops: Ops, data: bytes) -> dict[str, Any]:
    """Train and activate a new reason model version from a CSV (text,reason); its accuracy and
    macro-F1 on a held-out split."""
    require(caller, Permission.REASONS_TRAIN)
    rows = _examples(data)
    return classifier.train(ops.store, ops.clock, rows, actor=caller.username).to_dict()


def evaluate_reasons(caller: Caller, ops: Ops, data: bytes) -> dict[str, Any]:
    """Accuracy and macro-F1 of the active model on a labelled CSV."""
    require(caller, Permission.REASONS_TRAIN)
    return classifier.evaluate(ops.store, _examples(data)).to_dict()


def reason_models(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    require(caller, Permission.CONTACTS_READ)
    return classifier.models(ops.store)
