"""Intake: store every contact raw first, then identify, recognise and attach or start.

`receive` writes the raw payload in its own transaction and nothing else, so a contact exists
before anything can fail. `process` then parses it with its channel's adapter and, in one
transaction, merges a duplicate submission, resolves the customer, answers a status question,
finds the open case it belongs to (a reply to a case message, a case reference of the same
customer, the same reason) or recognises its reason (rules, then the trained model; below the
confidence threshold it waits in the triage queue for a person) and opens a case. The flow is
started (or the contact correlated into it as a message) by the process runtime in the same
transaction, in a savepoint of its own, and the contact's final row is written once: two commits
a contact in all. A flow that fails to start is undone alone and the contact dead-lettered with
the case it opened; a failure before leaves it dead-lettered with nothing decided. `replay` takes
it up again where it stopped (a case already opened is reused).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import Any, NamedTuple

from sqlalchemy import JSON, Connection, select, update

from flowdesk.cases import service as cases
from flowdesk.cases import surveys
from flowdesk.cases.references import references_in
from flowdesk.channels.outbound import OutboundMessage, Sender
from flowdesk.channels.payloads import parse_payload
from flowdesk.contacts import classifier
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.follow_ups import FollowUpPolicy
from flowdesk.contacts.model import (
    REPLYABLE,
    Contact,
    ContactDraft,
    check_channel,
    contact_from_row,
)
from flowdesk.contacts.models import LIGHT_COLUMNS, contacts
from flowdesk.contacts.outbox import record_outbound
from flowdesk.contacts.rules import ReasonRules, Recognition
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.customers.resolve import Resolution, resolve_contact
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store, UnitOfWork
from flowdesk.store.crashpoints import crash_point
from flowdesk.store.hotpath import driver_io
from flowdesk.store.tables import UtcDateTime

_log = logging.getLogger(__name__)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


MAX_RAW_BYTES = 50 * 1024 * 1024
#: A contact still `received` this long after it arrived was dropped by a process that died.
RESCUE_LEASE = timedelta(seconds=60)
RESCUE_ATTEMPTS = 3
#: The flag of a contact that quotes the reference of another customer's case.
FLAG_FOREIGN_REFERENCE = "reference-of-another-customer"
STATUS_QUESTION = re.compile(r"^\s*(status|where is my|what is the status)\b", re.I)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    contact_id: str
    status: str
    # started | attached | reopened | linked | duplicate | triage | answered | survey |
    # identified | failed
    action: str
    customer_id: str | None = None
    review_required: bool = False
    case_id: str | None = None
    case_reference: str | None = None
    instance_id: str | None = None
    recognition: Recognition | None = None
    reply: str | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "status": self.status,
            "action": self.action,
            "customer_id": self.customer_id,
            "review_required": self.review_required,
            "case_id": self.case_id,
            "case_reference": self.case_reference,
            "instance_id": self.instance_id,
            "recognition": self.recognition.to_dict() if self.recognition else None,
            "reply": self.reply,
            "error": self.error,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class _Received:
    """The row `receive` just wrote, as far as processing reads it (no need to read it back)."""

    id: str
    channel: str
    raw: bytes
    received_at: datetime
    status: str = "received"
    case_id: str | None = None
    reason: str | None = None
    reason_source: str | None = None


@dataclass
class _Plan:
    """What the decision found; `_carry_out_in` starts or feeds the flow in the same
    transaction and writes the contact's final row once (`pending`: its decided columns)."""

    result: IntakeResult
    start: tuple[str, dict[str, Any]] | None = None  # process key, variables
    attach: cases.Case | None = None
    draft: ContactDraft | None = None
    notes: list[str] = field(default_factory=list)
    waiting_since: Any = None  # when the contact arrived: the start of the flow's SLA clocks
    pending: dict[str, Any] = field(default_factory=dict)
    instance_id: str | None = None


@dataclass
class _Quoted:
    """What the case references a contact quotes point at, for its sender."""

    open: cases.Case | None = None
    closed: cases.Case | None = None
    foreign: str | None = None  # a reference of another customer's case
    unknown: str | None = None  # a well-formed reference of no case


_contact = contact_from_row
_LIGHT = LIGHT_COLUMNS

# The statements every contact runs, built once: building a Core statement costs several times
# what executing it does (about 300 µs against 100 µs for the duplicate lookup).
# The two hottest go straight to the driver (as the runtime's do, store/hotpath.py): through
# Core, even built once, a statement costs about 90 µs of Python for the driver's 5.
_INSERT_RAW = (
    "INSERT INTO contacts (id, channel, direction, received_at, content_type, raw, status, "
    "attempts, attachments, details) VALUES (?, ?, ?, ?, ?, ?, 'received', 0, ?, ?)"
)
_DUPLICATE = (
    "SELECT id, case_id, customer_id FROM contacts WHERE dedup_key = ? AND id <> ? "
    "AND direction = 'in' AND received_at >= ? AND status IN ('processed', 'triage', 'received') "
    "ORDER BY received_at, id LIMIT 1"
)


class _Original(NamedTuple):
    """The contact a duplicate repeats."""

    id: str
    case_id: str | None
    customer_id: str | None


#: How the contact's final row converts its columns on the driver, as their column types do.
_JSON_COLUMNS = frozenset(c.name for c in contacts.columns if isinstance(c.type, JSON))
_TIME_COLUMNS = frozenset(c.name for c in contacts.columns if isinstance(c.type, UtcDateTime))
_KNOWN_REASONS = "SELECT id, process_key FROM contact_reasons"
_WHO = "SELECT display_name, given_name, family_name, segment, value FROM customers WHERE id = ?"


def _settle(conn: Connection, contact_id: str, values: dict[str, Any]) -> None:
    """The contact's final row in one UPDATE on the driver (JSON and times converted as the
    column types convert them), counting the attempt."""
    io = driver_io(conn)
    names = sorted(values)
    params: list[Any] = []
    for name in names:
        if name not in contacts.c:  # pragma: no cover - the keys are intake's own
            raise KeyError(f"contacts has no column {name!r}")
        value = values[name]
        if name in _JSON_COLUMNS:
            value = io.json_in(value)
        elif name in _TIME_COLUMNS:
            value = io.time(value)
        params.append(value)
    assigned = ", ".join(f'"{name}" = ?' for name in names)
    sql = f"UPDATE contacts SET {assigned}, attempts = attempts + 1 WHERE id = ?"
    io.run(conn, io.sql(sql), (*params, contact_id))


def default_runtime(store: Store, clock: Clock) -> ProcessRuntime:
    """A process runtime (with the deployed DMN decisions, as every ProcessRuntime has)."""
    return ProcessRuntime(store, clock=clock)


class Intake:
    def __init__(
        self,
        store: Store,
        runtime: ProcessRuntime | None = None,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        rules: ReasonRules | None = None,
        threshold: float = 0.45,
        dedup_window: timedelta = timedelta(minutes=10),
        senders: dict[str, Sender] | None = None,
        default_region: str | None = None,
        use_model: bool = True,
        follow_ups: FollowUpPolicy | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.runtime = runtime or default_runtime(store, self.clock)
        self.ids = ids or UuidIds()
        self.rules = rules or ReasonRules()
        self.threshold = threshold
        self.dedup_window = dedup_window
        self.senders = dict(senders or {})
        self.default_region = default_region
        self.use_model = use_model
        self.follow_ups = follow_ups or FollowUpPolicy()

    # -- storing ------------------------------------------------------------------------------
    def receive(
        self,
        channel: str,
        raw: bytes,
        *,
        content_type: str | None = None,
        direction: str = "in",
    ) -> str:
        """Store the raw payload, in its own transaction; returns the contact id."""
        return self._store_raw(channel, raw, content_type, direction).id

    def _store_raw(
        self, channel: str, raw: bytes, content_type: str | None, direction: str
    ) -> _Received:
        check_channel(channel)
        if len(raw) > MAX_RAW_BYTES:
            raise InvalidContactError(f"payload is {len(raw)} bytes, over {MAX_RAW_BYTES}")
        contact_id = self.ids.new_id()
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            io = driver_io(uow.connection)
            io.run(
                uow.connection,
                io.sql(_INSERT_RAW),
                (
                    contact_id,
                    channel,
                    direction,
                    io.time(now),
                    (content_type or "")[:100] or None,
                    raw,
                    "[]",
                    "{}",
                ),
            )
            uow.append(
                NewEvent(
                    EventType.CONTACT_RECEIVED,
                    now,
                    {"bytes": len(raw)},
                    contact_id=contact_id,
                    channel=channel,
                )
            )
        crash_point("after-raw-store")
        return _Received(contact_id, channel, raw, now)

    def submit(self, channel: str, raw: bytes, *, content_type: str | None = None) -> IntakeResult:
        """`receive` then `process`, without reading back the row just written."""
        return self._handle(self._store_raw(channel, raw, content_type, "in"), None)

    # -- processing ---------------------------------------------------------------------------
    def process(self, contact_id: str, *, reason: str | None = None) -> IntakeResult:
        """Process a stored contact; never raises for a bad contact (it is dead-lettered)."""
        with self.store.reading() as conn:
            row = conn.execute(select(contacts).where(contacts.c.id == contact_id)).first()
        if row is None:
            raise NotFoundError(f"no contact {contact_id!r}")
        status = row.status
        if status not in ("received", "failed") and not (status == "triage" and reason):
            return self._settled(_contact(row))
        return self._handle(row, reason)

    def _handle(self, row: Any, reason: str | None) -> IntakeResult:
        """Decide and carry out in one transaction: the decision's rows, the flow's start and the
        contact's final state commit together (one COMMIT a contact instead of three). A flow
        that fails to start is undone alone (its savepoint) and the contact is dead-lettered in
        the same transaction with the case it opened, so replay goes on on that case."""
        contact_id = row.id
        try:
            draft = parse_payload(row.channel, bytes(row.raw))
            with self.store.one_transaction() as uow:
                plan = self._decide(uow, row, draft, reason)
                failure = self._carry_out_in(uow, plan)
            if failure is None:
                return self._finish(plan)
        except Exception as exc:  # every failure is kept with its reason: nothing is lost
            message = self._failure_text(contact_id, exc)
            self._fail(contact_id, message)
            if not isinstance(exc, FlowdeskError):
                raise
            return IntakeResult(contact_id, "failed", "failed", error=message)
        if not isinstance(failure, FlowdeskError):
            raise failure
        return IntakeResult(contact_id, "failed", "failed", error=str(failure))

    @staticmethod
    def _failure_text(contact_id: str, exc: Exception) -> str:
        # An unexpected error's text can hold the SQL statement and the customer's data: the
        # dead letter keeps its kind only, the server log the rest.
        if isinstance(exc, FlowdeskError):
            return str(exc)
        _log.exception("contact %s failed", contact_id, exc_info=exc)
        return f"internal error ({type(exc).__name__}); see the server log"

    def _fail(
        self, contact_id: str, message: str, uow: UnitOfWork | None = None, **values: Any
    ) -> None:
        if uow is None:
            with self.store.unit_of_work() as own:
                self._fail(contact_id, message, own, **values)
            return
        uow.connection.execute(
            update(contacts)
            .where(contacts.c.id == contact_id)
            .values(
                **values,
                status="failed",
                error=message[:4000],
                attempts=contacts.c.attempts + 1,
            )
        )
        uow.append(
            NewEvent(
                EventType.CONTACT_FAILED,
                self.clock.now(),
                {"error": message[:500]},
                contact_id=contact_id,
            )
        )

    def _settled(self, contact: Contact) -> IntakeResult:
        reference = None
        if contact.case_id:
            with self.store.reading() as conn:
                case = cases.get_case(conn, contact.case_id)
            reference = case.reference if case else None
        action = {"processed": "processed", "duplicate": "duplicate", "triage": "triage"}.get(
            contact.status, contact.status
        )
        return IntakeResult(
            contact.id,
            contact.status,
            action,
            customer_id=contact.customer_id,
            case_id=contact.case_id,
            case_reference=reference,
            error=contact.error,
        )

    def _decide(
        self, uow: UnitOfWork, row: Any, draft: ContactDraft, assigned: str | None
    ) -> _Plan:
        now = self.clock.now()
        conn = uow.connection
        base: dict[str, Any] = {
            "sender": (draft.sender or "")[:320] or None,
            "subject": draft.subject,
            "text": draft.text,
            "attachments": [a.to_dict() for a in draft.attachments],
            "geo": draft.geo.to_dict() if draft.geo else None,
            "details": {
                **draft.details,
                **({"ivr_choice": draft.ivr_choice} if draft.ivr_choice else {}),
            },
            "message_id": (draft.message_id or "")[:500] or None,
            "in_reply_to": " ".join(draft.in_reply_to)[:500] or None,
            "dedup_key": draft.dedup_key(),
        }
        duplicate = self._duplicate_of(conn, row.id, base["dedup_key"], now)
        if duplicate is not None:
            return self._merge_duplicate(uow, row, base, duplicate)
        resolution = self._resolve(uow, draft)
        customer_id = resolution.customer_id
        assert customer_id is not None
        base["customer_id"] = customer_id
        result = IntakeResult(
            row.id,
            "processed",
            "identified",
            customer_id=customer_id,
            review_required=resolution.review_required,
            notes=tuple(f"{r.kind} {r.value!r} ignored: {r.reason}" for r in resolution.rejected),
        )
        plan = _Plan(result, draft=draft, notes=list(result.notes), waiting_since=row.received_at)
        # Replay of a contact that had opened its case before failing: reuse the case.
        if row.case_id is not None:
            case = cases.get_case(conn, row.case_id)
            if case is not None:
                return self._continue_case(uow, row, base, plan, case)
        if draft.channel == "phone" and draft.details.get("event") == "call.started":
            self._update(conn, row.id, base, status="processed", processed_at=now)
            uow.append(self._event(EventType.CONTACT_IDENTIFIED, row, customer_id, None))
            return plan
        answer = surveys.recognise(conn, draft, customer_id)
        if answer is not None:
            return self._survey_answer(uow, row, base, plan, answer)
        references = ([draft.case_reference] if draft.case_reference else []) + references_in(
            f"{draft.subject or ''}\n{draft.text}"
        )
        if references and STATUS_QUESTION.search(draft.text or draft.subject or ""):
            return self._status_answer(uow, row, base, plan, references[0], customer_id)
        case = self._thread_case(conn, draft, customer_id)
        how = "reply" if case else None
        why = "a reply to a message of the case" if case else ""
        quoted = _Quoted()
        if case is None and references:
            quoted = self._referenced_case(uow, references, customer_id, now)
            if quoted.open is not None:
                case, how = quoted.open, "reference"
                why = f"quotes {case.reference}, an open case of this customer"
            elif quoted.closed is not None:
                followed = self._follow_up(uow, row, base, plan, quoted.closed, assigned)
                if followed is not None:
                    return followed
            if quoted.foreign:
                plan.notes.append(
                    f"case reference {quoted.foreign} does not belong to this customer: not used"
                )
                if case is None and assigned is None:
                    return self._foreign_reference(uow, row, base, plan, quoted.foreign)
        known = self._known_reasons(conn)
        if case is None:
            recognition = self._recognise(draft, assigned, known)
            if recognition.reason is not None and recognition.confidence >= self.threshold:
                case = cases.open_case_for(uow, customer_id, recognition.reason, now)
                how = "reason" if case else None
                why = f"the customer's open case for {recognition.reason}" if case else ""
        else:
            recognition = Recognition(case.reason, "case", 1.0)
        base.update(
            reason=recognition.reason,
            reason_source=recognition.source,
            confidence=recognition.confidence,
        )
        plan.result = replace(plan.result, recognition=recognition)
        if case is not None:
            base["case_id"] = case.id
            plan.pending = base
            uow.append(
                self._event(
                    EventType.CASE_CONTACT_ATTACHED,
                    row,
                    customer_id,
                    case.id,
                    how=how,
                    reference=case.reference,
                    why=why,
                )
            )
            plan.attach = case
            plan.result = replace(
                plan.result, case_id=case.id, case_reference=case.reference, action="attached"
            )
            return plan
        if recognition.reason is None or recognition.confidence < self.threshold:
            self._update(conn, row.id, base, status="triage", processed_at=now)
            uow.append(
                self._event(
                    EventType.CONTACT_TRIAGE_REQUIRED,
                    row,
                    customer_id,
                    None,
                    candidates=[list(c) for c in recognition.candidates],
                    threshold=self.threshold,
                    received_at=row.received_at.isoformat(),
                    why=(
                        f"reason {recognition.reason} at {recognition.confidence:.2f}, "
                        f"below the threshold {self.threshold}"
                        if recognition.reason
                        else "no rule or model recognised a reason"
                    ),
                )
            )
            plan.result = replace(plan.result, status="triage", action="triage")
            return plan
        process_key = known[recognition.reason]
        case = cases.open_case(
            uow=uow,
            clock=self.clock,
            ids=self.ids,
            customer_id=customer_id,
            reason=recognition.reason,
            process_key=process_key,
            channel=row.channel,
            contact_id=row.id,
        )
        base["case_id"] = case.id
        plan.pending = base
        uow.append(
            self._event(
                EventType.CONTACT_RECOGNISED, row, customer_id, case.id, **recognition.to_dict()
            )
        )
        plan.start = (process_key, self._variables(conn, row, draft, case, customer_id))
        plan.attach = None
        plan.result = replace(
            plan.result, case_id=case.id, case_reference=case.reference, action="started"
        )
        return plan

    def _continue_case(
        self, uow: UnitOfWork, row: Any, base: dict[str, Any], plan: _Plan, case: cases.Case
    ) -> _Plan:
        assert plan.draft is not None
        plan.pending = base
        plan.result = replace(
            plan.result,
            case_id=case.id,
            case_reference=case.reference,
            recognition=Recognition(row.reason or case.reason, row.reason_source or "case", 1.0),
        )
        if case.instance_id is None and case.process_key is not None:
            plan.start = (
                case.process_key,
                self._variables(uow.connection, row, plan.draft, case, case.customer_id),
            )
            plan.result = replace(plan.result, action="started")
        else:
            plan.attach = case
            plan.result = replace(plan.result, action="attached")
        return plan

    def _carry_out(self, plan: _Plan) -> IntakeResult:
        """Carry out a plan decided in a transaction of its own (a person's triage decision)."""
        with self.store.one_transaction() as uow:
            failure = self._carry_out_in(uow, plan, catch=False)
        assert failure is None
        return self._finish(plan)

    def _carry_out_in(
        self, uow: UnitOfWork, plan: _Plan, *, catch: bool = True
    ) -> Exception | None:
        """Start the flow (or deliver the contact to it) and write the contact's final row, in
        the caller's transaction. When the flow's part fails (it is undone alone, in its
        savepoint) and `catch`, the contact is dead-lettered here, keeping what was decided
        (the case it opened), and the error is returned for the caller to answer with."""
        result = plan.result
        if plan.start is None and plan.attach is None:
            return None
        try:
            if plan.start is not None:
                process_key, variables = plan.start
                state = self.runtime.start(
                    process_key,
                    variables,
                    business_key=result.case_reference,
                    actor="intake",
                    waiting_since=plan.waiting_since,
                )
                plan.instance_id = state.id
            elif plan.attach is not None:
                plan.instance_id = plan.attach.instance_id
                if plan.instance_id is not None and plan.draft is not None:
                    self._correlate(plan.attach, result.contact_id, plan.draft)
        except Exception as exc:
            if not catch:
                raise
            message = self._failure_text(result.contact_id, exc)
            self._fail(result.contact_id, message, uow, **plan.pending)
            return exc
        if plan.start is not None and result.case_id and plan.instance_id:
            cases.set_instance(uow.connection, result.case_id, plan.instance_id)
        values = {**plan.pending, "status": "processed", "processed_at": self.clock.now()}
        _settle(uow.connection, result.contact_id, {**values, "error": None})
        return None

    def _finish(self, plan: _Plan) -> IntakeResult:
        """The answer once the transaction committed; a new case is acknowledged to the sender."""
        result = replace(plan.result, notes=tuple(plan.notes))
        if plan.start is None and plan.attach is None:
            return result
        result = replace(result, instance_id=plan.instance_id)
        if plan.start is not None and plan.draft is not None and result.case_reference:
            text = (
                f"Thank you, we have received your request. Your case reference is "
                f"{result.case_reference}; quote it when you contact us about it."
            )
            self._reply(plan.draft, result, text)
            result = replace(result, reply=text)
        return result

    def _correlate(self, case: cases.Case, contact_id: str, draft: ContactDraft) -> None:
        """Deliver the contact to the flow when it waits for a message keyed by the case."""
        assert case.instance_id is not None
        try:
            state = self.runtime.instance(case.instance_id)
        except NotFoundError:
            return
        if state.status != "active":
            return
        names = sorted(
            {
                s.name
                for s in state.subs.values()
                if s.kind == "message" and s.name and s.key == case.reference
            }
        )
        variables = {
            "lastContactId": contact_id,
            "lastContactChannel": draft.channel,
            "lastContactText": draft.text[:2000],
        }
        for name in names[:1]:
            self.runtime.correlate_message(name, case.reference, variables)

    # -- the parts of a decision --------------------------------------------------------------
    def _resolve(self, uow: UnitOfWork, draft: ContactDraft) -> Resolution:
        resolution = resolve_contact(
            uow=uow,
            clock=self.clock,
            identifiers=list(draft.identifiers),
            person=draft.person or None,
            channel=draft.channel,
            default_region=self.default_region,
            ids=self.ids,
        )
        valid_left = len(draft.identifiers) - len(resolution.rejected)
        if resolution.rejected and valid_left == 0 and not draft.person:
            raise InvalidContactError(
                "no usable sender: "
                + "; ".join(f"{r.kind} {r.value!r} {r.reason}" for r in resolution.rejected)
            )
        if resolution.customer_id is None:  # pragma: no cover - provisional is always created
            raise InvalidContactError("the sender could not be identified")
        return resolution

    def _duplicate_of(
        self, conn: Connection, contact_id: str, key: str, now: Any
    ) -> _Original | None:
        io = driver_io(conn)
        since = io.time(now - self.dedup_window)
        found = io.one(conn, io.sql(_DUPLICATE), (key, contact_id, since))
        return None if found is None else _Original(*found)

    def _merge_duplicate(
        self, uow: UnitOfWork, row: Any, base: dict[str, Any], original: _Original
    ) -> _Plan:
        now = self.clock.now()
        base.update(
            customer_id=original.customer_id, case_id=original.case_id, duplicate_of=original.id
        )
        self._update(uow.connection, row.id, base, status="duplicate", processed_at=now)
        uow.append(
            self._event(
                EventType.CONTACT_MERGED_DUPLICATE,
                row,
                original.customer_id,
                original.case_id,
                original=original.id,
            )
        )
        reference = None
        if original.case_id:
            case = cases.get_case(uow.connection, original.case_id)
            reference = case.reference if case else None
        return _Plan(
            IntakeResult(
                row.id,
                "duplicate",
                "duplicate",
                customer_id=original.customer_id,
                case_id=original.case_id,
                case_reference=reference,
            )
        )

    def _thread_case(
        self, conn: Connection, draft: ContactDraft, customer_id: str
    ) -> cases.Case | None:
        """The open case of a message this one replies to (same customer only)."""
        if not draft.in_reply_to:
            return None
        rows = conn.execute(
            select(contacts.c.case_id).where(
                contacts.c.message_id.in_(list(draft.in_reply_to)),
                contacts.c.case_id.is_not(None),
            )
        ).all()
        for (case_id,) in rows:
            case = cases.get_case(conn, case_id)
            if (
                case is not None
                and case.status == "open"
                and self._same_customer(conn, case, customer_id)
            ):
                return case
        return None

    def _referenced_case(
        self, uow: UnitOfWork, references: Sequence[str], customer_id: str, now: Any
    ) -> _Quoted:
        """The sender's own cases among the references (an open one first; a case whose flow
        has ended is closed on the spot), and the first reference of someone else's case."""
        conn = uow.connection
        quoted = _Quoted()
        for reference in references:
            case = cases.by_reference(conn, reference)
            if case is None:
                quoted.unknown = quoted.unknown or reference
                continue
            if not self._same_customer(conn, case, customer_id):
                quoted.foreign = quoted.foreign or reference
                continue
            case = cases.refresh(uow, case, now)
            if case.status == "open":
                quoted.open = quoted.open or case
            else:
                quoted.closed = quoted.closed or case
        return quoted

    def _follow_up(
        self,
        uow: UnitOfWork,
        row: Any,
        base: dict[str, Any],
        plan: _Plan,
        old: cases.Case,
        assigned: str | None,
    ) -> _Plan | None:
        """A follow-up to the sender's closed case, as the company's follow-up policy says:
        reopen it, link the contact to it, or open a new case linked to it. None when the old
        case has no flow to run again (the contact is then recognised as a new one)."""
        conn = uow.connection
        now = self.clock.now()
        customer_id = plan.result.customer_id
        assert customer_id is not None and plan.draft is not None
        known = self._known_reasons(conn)
        decision = self.follow_ups.decide(closed_at=old.closed_at, now=now)
        if decision.action != "link" and (
            old.process_key is None or known.get(old.reason) != old.process_key
        ):
            if old.reason not in known:
                return None
            old = replace(old, process_key=known[old.reason])
        if assigned is not None and assigned != old.reason:
            return None  # a person decided it is about something else
        why = f"quotes {old.reference}, a closed case of this customer; {decision.reason}"
        recognition = Recognition(old.reason, "case", 1.0)
        base.update(reason=old.reason, reason_source="case", confidence=1.0)
        plan.result = replace(plan.result, recognition=recognition)
        if decision.action == "link":
            base["case_id"] = old.id
            self._update(conn, row.id, base, status="processed", processed_at=now)
            uow.append(
                self._event(
                    EventType.CASE_CONTACT_ATTACHED,
                    row,
                    customer_id,
                    old.id,
                    how="link",
                    reference=old.reference,
                    why=why,
                )
            )
            plan.result = replace(
                plan.result, action="linked", case_id=old.id, case_reference=old.reference
            )
            return plan
        if decision.action == "reopen":
            case = cases.reopen_case(uow, old, at=now, why=why, contact_id=row.id)
            if case is None:  # reopened meanwhile by another contact: attach to it
                return None
            action = "reopened"
        else:
            case = cases.open_case(
                uow=uow,
                clock=self.clock,
                ids=self.ids,
                customer_id=customer_id,
                reason=old.reason,
                process_key=old.process_key,
                channel=row.channel,
                contact_id=row.id,
            )
            cases.link_follow_up(uow, case, old, at=now, why=why, contact_id=row.id)
            action = "started"
        base["case_id"] = case.id
        plan.pending = base
        uow.append(
            self._event(
                EventType.CASE_CONTACT_ATTACHED,
                row,
                customer_id,
                case.id,
                how=decision.action,
                reference=case.reference,
                follows=old.reference,
                why=why,
            )
        )
        variables = self._variables(conn, row, plan.draft, case, customer_id)
        variables["followsCase"] = old.reference
        assert case.process_key is not None
        plan.start = (case.process_key, variables)
        plan.result = replace(
            plan.result, action=action, case_id=case.id, case_reference=case.reference
        )
        plan.notes.append(why)
        return plan

    def _foreign_reference(
        self, uow: UnitOfWork, row: Any, base: dict[str, Any], plan: _Plan, reference: str
    ) -> _Plan:
        """A reference of someone else's case: never attached; a person looks at it in triage,
        flagged, whatever its text says (it may be an attempt to read or steer another
        customer's case)."""
        now = self.clock.now()
        why = f"quotes {reference}, a case of another customer: not attached"
        flags = sorted({*base["details"].get("flags", ()), FLAG_FOREIGN_REFERENCE})
        base["details"] = {**base["details"], "flags": flags, "quoted_reference": reference}
        base.update(reason=None, reason_source="none", confidence=0.0)
        self._update(uow.connection, row.id, base, status="triage", processed_at=now)
        customer_id = plan.result.customer_id
        uow.append(
            self._event(
                EventType.CONTACT_TRIAGE_REQUIRED,
                row,
                customer_id,
                None,
                candidates=[],
                threshold=self.threshold,
                received_at=row.received_at.isoformat(),
                flags=flags,
                why=why,
            )
        )
        plan.result = replace(
            plan.result,
            status="triage",
            action="triage",
            recognition=Recognition(None, "none", 0.0),
        )
        return plan

    @staticmethod
    def _same_customer(conn: Connection, case: cases.Case, customer_id: str) -> bool:
        return cases.belongs_to(conn, case, customer_id)

    def _known_reasons(self, conn: Connection) -> dict[str, str]:
        cursor = driver_io(conn).cursor(conn)
        try:
            return dict(cursor.execute(_KNOWN_REASONS).fetchall())
        finally:
            cursor.close()

    def _recognise(
        self, draft: ContactDraft, assigned: str | None, known: dict[str, str]
    ) -> Recognition:
        if assigned is not None:
            if assigned not in known:
                raise NotFoundError(f"no flow serves the contact reason {assigned!r}")
            return Recognition(assigned, "agent", 1.0)
        text = f"{draft.subject or ''}\n{draft.text}".strip()
        ruled = self.rules.recognise(
            text=text, explicit=draft.reason, ivr_choice=draft.ivr_choice, known=set(known)
        )
        if ruled is not None:
            return ruled
        if not self.use_model or not text:
            return Recognition(None, "none", 0.0)
        loaded = classifier.active_model(self.store)
        if loaded is None:
            return Recognition(None, "none", 0.0)
        everything = classifier.predict(loaded[1], text, top=len(known) + 100)
        ranked = [(r, p) for r, p in everything if r in known][:3]
        if not ranked:
            return Recognition(None, "model", 0.0)
        return Recognition(ranked[0][0], "model", ranked[0][1], tuple(ranked))

    def _survey_answer(
        self,
        uow: UnitOfWork,
        row: Any,
        base: dict[str, Any],
        plan: _Plan,
        answer: surveys.SurveyAnswer,
    ) -> _Plan:
        """A survey answer: recorded on its (closed) case, no flow started. A second answer
        to the same survey is kept as a contact but not counted again."""
        case = answer.case
        base.update(case_id=case.id, reason=surveys.REASON, reason_source="survey", confidence=1.0)
        self._update(
            uow.connection, row.id, base, status="processed", processed_at=self.clock.now()
        )
        if answer.first:
            uow.append(
                self._event(
                    EventType.SURVEY_ANSWERED,
                    row,
                    plan.result.customer_id,
                    case.id,
                    **answer.data(),
                )
            )
        else:
            plan.notes.append(f"the survey of {case.reference} was answered before: not counted")
        plan.result = replace(
            plan.result, action="survey", case_id=case.id, case_reference=case.reference
        )
        return plan

    def _status_answer(
        self,
        uow: UnitOfWork,
        row: Any,
        base: dict[str, Any],
        plan: _Plan,
        reference: str,
        customer_id: str,
    ) -> _Plan:
        """A status question: answered only when the sender is the case's customer."""
        conn = uow.connection
        case = cases.by_reference(conn, reference)
        verified = case is not None and self._same_customer(conn, case, customer_id)
        base["case_id"] = case.id if case is not None and verified else None
        self._update(conn, row.id, base, status="processed", processed_at=self.clock.now())
        uow.append(
            self._event(
                EventType.CASE_STATUS_REQUESTED,
                row,
                customer_id,
                base["case_id"],
                reference=reference,
                verified=verified,
            )
        )
        plan.result = replace(
            plan.result,
            action="answered",
            case_id=base["case_id"],
            case_reference=reference if verified else None,
        )
        plan.notes.append("status asked" + ("" if verified else " (not verified)"))
        uow.after_commit(lambda: self._send_status(plan, reference, customer_id))
        return plan

    def _send_status(self, plan: _Plan, reference: str, customer_id: str) -> None:
        status = cases.status_for_customer(self.store, reference, customer_id)
        text = status.message()
        plan.result = replace(plan.result, reply=text)
        if plan.draft is not None:
            self._reply(plan.draft, plan.result, text)

    def _reply(self, draft: ContactDraft, result: IntakeResult, text: str) -> None:
        """Answer on the channel the customer used, when a sender for it is configured; the
        message is stored as an outbound contact (its Message-ID threads replies)."""
        sender = self.senders.get(draft.channel)
        if sender is None or draft.channel not in REPLYABLE or not draft.sender:
            return
        message_id = make_msgid(domain="flowdesk.invalid") if draft.channel == "email" else None
        subject = draft.subject or "Your request"
        if result.case_reference and result.case_reference not in subject:
            subject = f"[{result.case_reference}] {subject}"
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        message = OutboundMessage(
            channel=draft.channel,
            to=draft.sender,
            text=text,
            subject=subject,
            in_reply_to=draft.message_id,
            references=draft.in_reply_to,
            message_id=message_id,
        )
        raw = sender.send(message)
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            record_outbound(
                uow.connection,
                contact_id=self.ids.new_id(),
                channel=draft.channel,
                to=draft.sender,
                text=text,
                now=now,
                raw=raw,
                customer_id=result.customer_id,
                case_id=result.case_id,
                subject=subject,
                message_id=message_id,
                in_reply_to=draft.message_id,
            )

    @staticmethod
    def _variables(
        conn: Connection, row: Any, draft: ContactDraft, case: cases.Case, customer_id: str
    ) -> dict[str, Any]:
        """The flow's start variables: the contact, the case and who the customer is (rules
        such as refund approval and retention offers decide on segment and value)."""
        io = driver_io(conn)
        found = io.one(conn, io.sql(_WHO), (customer_id,))
        who: dict[str, Any] = {}
        if found is not None:
            display_name, given_name, family_name, segment, value = found
            names = (given_name, family_name)
            who = {
                "customerName": display_name or " ".join(n for n in names if n) or None,
                "customerSegment": segment,
                "customerValue": float(value) if value is not None else None,
            }
        return {
            **who,
            "contactReason": case.reason,
            "caseRef": case.reference,
            "caseId": case.id,
            "customerId": customer_id,
            "contactId": row.id,
            "contactChannel": draft.channel,
            "contactText": draft.text[:2000],
            "contactSubject": draft.subject,
        }

    @staticmethod
    def _update(conn: Connection, contact_id: str, values: dict[str, Any], **more: Any) -> None:
        conn.execute(update(contacts).where(contacts.c.id == contact_id).values(**values, **more))

    def _event(
        self, kind: str, row: Any, customer_id: str | None, case_id: str | None, **data: Any
    ) -> NewEvent:
        return NewEvent(
            kind,
            self.clock.now(),
            data,
            contact_id=row.id,
            customer_id=customer_id,
            case_id=case_id,
            channel=row.channel,
        )

    # -- contacts left unhandled (the process died between storing and handling) -------------
    def rescue(
        self,
        *,
        lease: timedelta = RESCUE_LEASE,
        max_attempts: int = RESCUE_ATTEMPTS,
        limit: int = 50,
    ) -> list[IntakeResult]:
        """Handle contacts stored raw but still `received` a lease after they arrived (or after
        their last try: the lease grows with each); a contact tried `max_attempts` times is
        made a dead letter instead. Each try is counted before it runs, so a contact that kills
        its handler every time still ends as a dead letter. Two workers never take the same
        try: the count is compared and set."""
        now = self.clock.now()
        with self.store.reading() as conn:
            rows = conn.execute(
                select(contacts.c.id, contacts.c.received_at, contacts.c.attempts)
                .where(contacts.c.status == "received", contacts.c.received_at < now - lease)
                .order_by(contacts.c.received_at)
                .limit(limit)
            ).all()
        results = []
        for contact_id, received_at, attempts in rows:
            tries = attempts or 0
            if _aware(received_at) >= now - lease * (tries + 1):
                continue  # its last try may still be running
            with self.store.unit_of_work() as uow:
                taken = uow.connection.execute(
                    update(contacts)
                    .where(
                        contacts.c.id == contact_id,
                        contacts.c.status == "received",
                        contacts.c.attempts == attempts,
                    )
                    .values(attempts=tries + 1)
                ).rowcount
            if not taken:
                continue
            if tries + 1 > max_attempts:
                message = f"not handled after {max_attempts} tries (the handler died each time)"
                self._fail(contact_id, message)
                results.append(IntakeResult(contact_id, "failed", "failed", error=message))
                continue
            try:
                results.append(self.process(contact_id))
            except Exception:  # kept as a dead letter by process(); the round goes on
                _log.exception("contact %s failed again", contact_id)
        return results

    # -- dead letters, triage, reads ----------------------------------------------------------
    def dead_letters(self, *, limit: int = 100) -> list[Contact]:
        return self._query(contacts.c.status == "failed", limit)

    def triage_queue(self, *, limit: int = 100) -> list[Contact]:
        return self._query(contacts.c.status == "triage", limit)

    def _query(self, condition: Any, limit: int) -> list[Contact]:
        with self.store.reading() as conn:
            rows = conn.execute(
                select(*_LIGHT).where(condition).order_by(contacts.c.received_at).limit(limit)
            ).all()
        return [_contact(r) for r in rows]

    def get(self, contact_id: str) -> Contact:
        with self.store.reading() as conn:
            row = conn.execute(select(*_LIGHT).where(contacts.c.id == contact_id)).first()
        if row is None:
            raise NotFoundError(f"no contact {contact_id!r}")
        return _contact(row)

    def replay(self, contact_ids: Sequence[str] | None = None) -> list[IntakeResult]:
        """Process failed contacts again (all of them, or the ones named)."""
        ids = list(contact_ids) if contact_ids else [c.id for c in self.dead_letters(limit=10_000)]
        results = []
        for contact_id in ids:
            contact = self.get(contact_id)
            if contact.status != "failed":
                raise InvalidContactError(
                    f"contact {contact_id} is {contact.status}, not a dead letter"
                )
            results.append(self.process(contact_id))
        return results

    def assign_reason(self, contact_id: str, reason: str, *, actor: str) -> IntakeResult:
        """A person decides the reason of a contact waiting in triage; its flow goes on."""
        contact = self.get(contact_id)
        if contact.status != "triage":
            raise InvalidContactError(f"contact {contact_id} is {contact.status}, not in triage")
        return self.process(contact_id, reason=reason)

    def attach_to_case(self, contact_id: str, reference: str, *, actor: str) -> IntakeResult:
        """A person decides that a contact waiting in triage belongs to an open case of the
        same customer: it joins that case (and its flow, when the flow waits for a message of
        the case) like a follow-up quoting the reference. Another customer's case is refused,
        as intake refuses a foreign reference."""
        contact = self.get(contact_id)
        if contact.status != "triage":
            raise InvalidContactError(f"contact {contact_id} is {contact.status}, not in triage")
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            case = cases.by_reference(conn, reference.strip().upper())
            if (
                case is None
                or contact.customer_id is None
                or not self._same_customer(conn, case, contact.customer_id)
            ):
                raise NotFoundError(
                    f"no case {reference!r} of this customer",
                    hint="attach the contact to one of the customer's open cases",
                )
            if case.status != "open":
                raise InvalidContactError(f"case {case.reference} is {case.status}")
            row = conn.execute(select(contacts).where(contacts.c.id == contact_id)).first()
            values = {
                "case_id": case.id,
                "reason": case.reason,
                "reason_source": "agent",
                "confidence": 1.0,
            }
            self._update(conn, contact_id, values, status="received")
            uow.append(
                self._event(
                    "case.contact_attached",
                    row,
                    contact.customer_id,
                    case.id,
                    how="agent",
                    reference=case.reference,
                    why=f"attached by {actor} in triage",
                )
            )
        result = IntakeResult(
            contact_id,
            "processed",
            "attached",
            customer_id=contact.customer_id,
            case_id=case.id,
            case_reference=case.reference,
        )
        draft = parse_payload(row.channel, bytes(row.raw)) if row is not None else None
        return self._carry_out(_Plan(result, attach=case, draft=draft))

    def raw(self, contact_id: str) -> bytes:
        """The payload as it arrived."""
        with self.store.reading() as conn:
            found = conn.execute(select(contacts.c.raw).where(contacts.c.id == contact_id)).scalar()
        if found is None:
            raise NotFoundError(f"no contact {contact_id!r}")
        return bytes(found)

    def known_message(self, channel: str, message_id: str) -> IntakeResult | None:
        """The contact a provider's message id already made (its retry is not a new contact)."""
        with self.store.reading() as conn:
            row = conn.execute(
                select(contacts)
                .where(
                    contacts.c.channel == channel,
                    contacts.c.direction == "in",
                    contacts.c.message_id == message_id,
                )
                .order_by(contacts.c.received_at, contacts.c.id)
                .limit(1)
            ).first()
        return self._settled(_contact(row)) if row is not None else None

    def case_contacts(self, case_id: str) -> list[Contact]:
        """Every contact of a case, in and out, oldest first."""
        return self._query(contacts.c.case_id == case_id, 1000)
