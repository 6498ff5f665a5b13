"""Cases: one customer concern with its flow, its contacts and its public reference.

A case is opened when a contact starts a reason's flow, and is closed when that flow ends: the
case-closing consumer (`flowdesk.cases.closing`) follows the event log, and a case looked at
before the consumer got there is closed on the spot; both go through `close_case`, so the log
says `case.closed` exactly once, with the time the flow ended. Its status text is the
customer-facing text of the flow's current step (`flowdesk.experience.service.customer_status`).
The status is only told to someone who proves to be the case's customer: `lookup_status` wants
one identifier (email, phone, account) of that customer besides the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from flowdesk.cases.models import cases
from flowdesk.cases.references import new_reference, normalize_reference
from flowdesk.core.clock import Clock
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator
from flowdesk.customers.errors import InvalidIdentifierError
from flowdesk.customers.normalize import normalize_identifier
from flowdesk.customers.registry import identity_owner
from flowdesk.customers.views import resolve_survivor
from flowdesk.experience.service import customer_status
from flowdesk.store import Store, UnitOfWork
from flowdesk.store.hotpath import driver_io
from flowdesk.store.processes import ProcessRepository
from flowdesk.store.tables import events

#: The process events that end a case's flow, and the outcome each one gives the case.
FLOW_ENDINGS = {EventType.PROCESS_COMPLETED: "completed", EventType.PROCESS_CANCELLED: "cancelled"}

#: Shown instead of the status when the asker is not proven to be the case's customer. The
#: same text whether or not the reference exists, so references cannot be probed.
UNVERIFIED_TEXT = (
    "We could not confirm that this case is yours. Please ask from the email address or phone "
    "number you contacted us with, or give one of them on the status page."
)


class VerificationError(FlowdeskError):
    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    reference: str
    customer_id: str
    reason: str
    process_key: str | None
    instance_id: str | None
    status: str
    owner: str | None
    department: str | None
    channel: str | None
    opened_at: datetime
    closed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "customer_id": self.customer_id,
            "reason": self.reason,
            "process_key": self.process_key,
            "instance_id": self.instance_id,
            "status": self.status,
            "owner": self.owner,
            "department": self.department,
            "channel": self.channel,
            "opened_at": self.opened_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }


@dataclass(frozen=True, slots=True)
class CaseStatus:
    reference: str
    verified: bool
    status: str | None  # open | closed, only when verified
    texts: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "verified": self.verified,
            "status": self.status,
            "texts": self.texts,
        }

    def message(self) -> str:
        if not self.verified:
            return UNVERIFIED_TEXT
        if self.status == "closed":
            return f"Your case {self.reference} is closed."
        detail = " ".join(self.texts) or "We are working on it."
        return f"Your case {self.reference}: {detail}"


# Intake opens a case per contact: its statements are built once, the insert and the instance
# straight on the driver (store/hotpath.py). A drawn reference that is taken inserts nothing (ON
# CONFLICT on the unique reference, on both backends) and another is drawn, without a savepoint
# around each try.
_INSERT_CASE = (
    "INSERT INTO cases (id, reference, customer_id, reason, process_key, instance_id, status, "
    "channel, opened_at) VALUES (?, ?, ?, ?, ?, NULL, 'open', ?, ?) "
    "ON CONFLICT (reference) DO NOTHING RETURNING reference"  # a row back means inserted
)
_SET_INSTANCE = "UPDATE cases SET instance_id = ? WHERE id = ?"  # on the driver: hot as intake
_OPEN_FOR = (
    select(cases)
    .where(
        cases.c.customer_id == bindparam("customer_id"),
        cases.c.reason == bindparam("reason"),
        cases.c.status == "open",
    )
    .order_by(cases.c.opened_at.desc(), cases.c.id.desc())
)


def case_from_row(row: Any) -> Case:
    """A Case from a row of the cases table."""
    m = row._mapping
    return Case(
        m["id"],
        m["reference"],
        m["customer_id"],
        m["reason"],
        m["process_key"],
        m["instance_id"],
        m["status"],
        m["owner"],
        m["department"],
        m["channel"],
        m["opened_at"],
        m["closed_at"],
    )


def open_case(
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    customer_id: str,
    reason: str,
    process_key: str | None,
    channel: str | None,
    contact_id: str | None = None,
) -> Case:
    """A new open case with a fresh reference (retried on the rare reference collision)."""
    now = clock.now()
    case_id = ids.new_id()
    conn = uow.connection
    io = driver_io(conn)
    insert = io.sql(_INSERT_CASE)
    for _ in range(8):
        reference = new_reference()
        row = (case_id, reference, customer_id, reason, process_key, channel, io.time(now))
        if io.one(conn, insert, row) is not None:
            break
    else:  # pragma: no cover - 8 collisions in a space of 24 million
        raise RuntimeError("could not draw a free case reference")
    uow.append(
        NewEvent(
            EventType.CASE_OPENED,
            now,
            {"reference": reference, "reason": reason, "process_key": process_key},
            case_id=case_id,
            contact_id=contact_id,
            customer_id=customer_id,
            channel=channel,
        )
    )
    return Case(
        case_id,
        reference,
        customer_id,
        reason,
        process_key,
        None,
        "open",
        None,
        None,
        channel,
        now,
        None,
    )


def set_instance(conn: Connection, case_id: str, instance_id: str) -> None:
    io = driver_io(conn)
    io.run(conn, io.sql(_SET_INSTANCE), (instance_id, case_id))


def get_case(conn: Connection, case_id: str) -> Case | None:
    row = conn.execute(select(cases).where(cases.c.id == case_id)).first()
    return None if row is None else case_from_row(row)


def by_reference(conn: Connection, reference: str) -> Case | None:
    ref = normalize_reference(reference)
    if ref is None:
        return None
    row = conn.execute(select(cases).where(cases.c.reference == ref)).first()
    return None if row is None else case_from_row(row)


def open_case_for(
    uow: UnitOfWork, customer_id: str, reason: str, now: datetime | None = None
) -> Case | None:
    """The customer's newest open case for this reason (whose flow still runs)."""
    rows = uow.connection.execute(_OPEN_FOR, {"customer_id": customer_id, "reason": reason}).all()
    for row in rows:
        case = case_from_row(row)
        if _refresh(uow, case, now).status == "open":
            return case
    return None


def close_case(uow: UnitOfWork, case: Case, *, at: datetime, outcome: str) -> bool:
    """Close an open case and append `case.closed`; False when it was no longer open.

    The update only matches an open row, so a close seen twice (a redelivered event, or the
    consumer and a status lookup racing) closes once and logs once."""
    result = uow.connection.execute(
        update(cases)
        .where(cases.c.id == case.id, cases.c.status == "open")
        .values(status="closed", closed_at=at)
    )
    if result.rowcount != 1:
        return False
    uow.append(
        NewEvent(
            EventType.CASE_CLOSED,
            at,
            {
                "reference": case.reference,
                "reason": case.reason,
                "process_key": case.process_key,
                "instance_id": case.instance_id,
                "outcome": outcome,
            },
            case_id=case.id,
            customer_id=case.customer_id,
            channel=case.channel,
        )
    )
    return True


def reopen_case(
    uow: UnitOfWork, case: Case, *, at: datetime, why: str, contact_id: str | None = None
) -> Case | None:
    """Open a closed case again (its flow is started anew by the caller) and append
    `case.reopened` with why; None when it was not closed any more (a race: nothing done)."""
    result = uow.connection.execute(
        update(cases)
        .where(cases.c.id == case.id, cases.c.status == "closed")
        .values(status="open", closed_at=None, instance_id=None)
    )
    if result.rowcount != 1:
        return None
    uow.append(
        NewEvent(
            EventType.CASE_REOPENED,
            at,
            {
                "reference": case.reference,
                "reason": case.reason,
                "closed_at": case.closed_at.isoformat() if case.closed_at else None,
                "previous_instance_id": case.instance_id,
                "why": why,
            },
            case_id=case.id,
            contact_id=contact_id,
            customer_id=case.customer_id,
            channel=case.channel,
        )
    )
    return replace(case, status="open", closed_at=None, instance_id=None)


def link_follow_up(
    uow: UnitOfWork, new: Case, old: Case, *, at: datetime, why: str, contact_id: str | None
) -> None:
    """Record that `new` was opened for a follow-up to the closed case `old`: one
    `case.follow_up_linked` event on each case, so both timelines show the link."""
    for case, other, role in ((new, old, "follows"), (old, new, "followed_by")):
        uow.append(
            NewEvent(
                EventType.CASE_FOLLOW_UP_LINKED,
                at,
                {role: other.reference, f"{role}_case_id": other.id, "why": why},
                case_id=case.id,
                contact_id=contact_id,
                customer_id=case.customer_id,
                channel=case.channel,
            )
        )


def linked_cases(conn: Connection, case_id: str) -> list[dict[str, str]]:
    """The cases linked to this one by follow-ups: [{"follows"|"followed_by": reference}]."""
    rows = conn.execute(
        select(events.c.data)
        .where(events.c.case_id == case_id, events.c.type == EventType.CASE_FOLLOW_UP_LINKED)
        .order_by(events.c.seq)
    ).all()
    out = []
    for (data,) in rows:
        found = dict(data or {})
        out.append({k: str(v) for k, v in found.items() if k in ("follows", "followed_by")})
    return out


def _flow_ended_at(conn: Connection, instance_id: str) -> datetime | None:
    """When the flow ended, from its process.completed / process.cancelled event."""
    return conn.execute(
        select(events.c.time)
        .where(events.c.process_instance_id == instance_id)
        .where(events.c.type.in_(tuple(FLOW_ENDINGS)))
        .order_by(events.c.seq)
        .limit(1)
    ).scalar()


def _refresh(uow: UnitOfWork, case: Case, now: datetime | None = None) -> Case:
    """Close the case when its flow has ended (it is looked at, so it must be current)."""
    if case.status != "open" or case.instance_id is None:
        return case
    conn = uow.connection
    loaded = ProcessRepository(conn).load(case.instance_id)
    status = "active" if loaded is None else loaded.state.get("status", "active")
    if status == "active":
        return case
    closed_at = _flow_ended_at(conn, case.instance_id) or now or case.opened_at
    outcome = "cancelled" if status == "cancelled" else "completed"
    close_case(uow, case, at=closed_at, outcome=outcome)
    return replace(case, status="closed", closed_at=closed_at)


def refresh(uow: UnitOfWork, case: Case, now: datetime) -> Case:
    return _refresh(uow, case, now)


def case_status(store: Store, case: Case, now: datetime | None = None) -> CaseStatus:
    """The status as the case's own customer sees it (call only after verification)."""
    with store.unit_of_work() as uow:
        current = _refresh(uow, case, now)
    texts: list[str] = []
    if current.status == "open" and current.instance_id is not None:
        try:
            texts = customer_status(store, current.instance_id)
        except NotFoundError:
            texts = []
    return CaseStatus(current.reference, True, current.status, texts)


def belongs_to(conn: Connection, case: Case, customer_id: str) -> bool:
    """Is `customer_id` the case's customer (following merges on both sides)?"""
    return resolve_survivor(conn, case.customer_id) == resolve_survivor(conn, customer_id)


def customer_owns(conn: Connection, customer_id: str, claimed: list[tuple[str, str]]) -> bool:
    """Does one of the claimed identifiers (kind, value) belong to this customer?"""
    target = resolve_survivor(conn, customer_id)
    for kind, value in claimed:
        try:
            normal = normalize_identifier(kind, value)
        except InvalidIdentifierError:
            continue
        owner = identity_owner(conn, kind, normal)
        if owner is not None and resolve_survivor(conn, owner) == target:
            return True
    return False


def lookup_status(
    store: Store, reference: str, *, identifiers: list[tuple[str, str]]
) -> CaseStatus:
    """Status by reference for whoever proves with an identifier to be the case's customer.

    An unknown reference and a wrong identifier give the same unverified answer."""
    ref = normalize_reference(reference) or reference.strip().upper()[:12]
    with store.reading() as conn:
        case = by_reference(conn, reference)
        verified = case is not None and customer_owns(conn, case.customer_id, identifiers)
    if case is None or not verified:
        return CaseStatus(ref, False, None, [])
    return case_status(store, case)


def status_for_customer(store: Store, reference: str, customer_id: str | None) -> CaseStatus:
    """Status asked by a contact already resolved to `customer_id` (by its sender identity)."""
    ref = normalize_reference(reference) or reference.strip().upper()[:12]
    with store.reading() as conn:
        case = by_reference(conn, reference)
        owner = resolve_survivor(conn, customer_id) if customer_id else None
        mine = case is not None and owner == resolve_survivor(conn, case.customer_id)
    if case is None or not mine:
        return CaseStatus(ref, False, None, [])
    return case_status(store, case)


def customer_cases(conn: Connection, customer_id: str) -> list[Case]:
    rows = conn.execute(
        select(cases).where(cases.c.customer_id == customer_id).order_by(cases.c.opened_at)
    ).all()
    return [case_from_row(r) for r in rows]
