"""What Flowdesk holds about one customer, exported (access request) or erased (erasure
request), and retention periods applied to raw contact payloads.

Erasure redacts in place, in one transaction: the customer's personal fields and identities,
the text and raw payload of their contacts, the variables of their ended flows, and the data of
every event in the append-only log that names them, their contacts, cases or flows (the event
keeps its type, time and ids, so counts and durations still add up; its data becomes
`{"redacted": true}`). Case references, reasons and times stay: they identify no one once the
customer is gone. An audit event `customer.erased` records who erased whom, why, and how much.
A customer with an open case is not erased: the flow still needs the data; close it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from flowdesk.auth.throttle import purge as purge_failed_checks
from flowdesk.cases.models import cases
from flowdesk.contacts.models import contacts
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.jsonutil import json_default
from flowdesk.customers.models import customer_identities, customer_preferences, customers
from flowdesk.store import Store
from flowdesk.store.process_tables import process_instances
from flowdesk.store.tables import events

ERASED = "[erased]"
_PERSONAL = (
    "given_name",
    "family_name",
    "birth_date",
    "street",
    "locality",
    "postcode",
    "region",
    "country",
    "name_key",
)


def _plain(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dict(row._mapping).items():
        if isinstance(value, (bytes, memoryview)):
            out[key] = bytes(value).decode("utf-8", "replace")
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = json_default(value) if not _jsonable(value) else value
    return out


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


def _scope(conn: Connection, customer_id: str) -> tuple[list[str], list[str], list[str]]:
    """The customer's contact ids, case ids and flow (instance) ids."""
    contact_ids = list(
        conn.execute(select(contacts.c.id).where(contacts.c.customer_id == customer_id)).scalars()
    )
    case_rows = conn.execute(
        select(cases.c.id, cases.c.instance_id).where(cases.c.customer_id == customer_id)
    ).all()
    return (
        contact_ids,
        [r.id for r in case_rows],
        [r.instance_id for r in case_rows if r.instance_id],
    )


def _events_of(
    customer_id: str, contact_ids: list[str], case_ids: list[str], flows: list[str]
) -> Any:
    return or_(
        events.c.customer_id == customer_id,
        events.c.contact_id.in_(contact_ids or [""]),
        events.c.case_id.in_(case_ids or [""]),
        events.c.process_instance_id.in_(flows or [""]),
    )


def export_customer(store: Store, customer_id: str) -> dict[str, Any]:
    """Everything held about the customer, as JSON-ready data."""
    with store.reading() as conn:
        row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
        if row is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        contact_ids, case_ids, flows = _scope(conn, customer_id)
        return {
            "customer": _plain(row),
            "identities": [
                _plain(r)
                for r in conn.execute(
                    select(customer_identities).where(
                        customer_identities.c.customer_id == customer_id
                    )
                )
            ],
            "preferences": [
                _plain(r)
                for r in conn.execute(
                    select(customer_preferences).where(
                        customer_preferences.c.customer_id == customer_id
                    )
                )
            ],
            "contacts": [
                _plain(r)
                for r in conn.execute(select(contacts).where(contacts.c.customer_id == customer_id))
            ],
            "cases": [
                _plain(r)
                for r in conn.execute(select(cases).where(cases.c.customer_id == customer_id))
            ],
            "flows": [
                {
                    "id": r.id,
                    "process_key": r.process_key,
                    "status": r.status,
                    "variables": (r.state or {}).get("variables", {}),
                }
                for r in conn.execute(
                    select(process_instances).where(process_instances.c.id.in_(flows or [""]))
                )
            ],
            "events": [
                {"id": r.id, "time": r.time.isoformat(), "type": r.type, "data": r.data}
                for r in conn.execute(
                    select(events.c.id, events.c.time, events.c.type, events.c.data)
                    .where(_events_of(customer_id, contact_ids, case_ids, flows))
                    .order_by(events.c.seq)
                )
            ],
        }


def erase_customer(
    store: Store, now: datetime, customer_id: str, *, actor: str, reason: str
) -> dict[str, int]:
    """Redact the customer everywhere (see the module); returns how much was redacted."""
    with store.unit_of_work() as uow:
        conn = uow.connection
        row = conn.execute(select(customers.c.id).where(customers.c.id == customer_id)).first()
        if row is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        open_cases = (
            conn.execute(
                select(cases.c.reference).where(
                    cases.c.customer_id == customer_id, cases.c.status == "open"
                )
            )
            .scalars()
            .all()
        )
        if open_cases:
            raise ConflictError(
                f"the customer has open cases ({', '.join(open_cases)})",
                hint="close or cancel them first: their flows still need the data",
            )
        contact_ids, case_ids, flows = _scope(conn, customer_id)
        conn.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values(display_name=ERASED, **{c: None for c in _PERSONAL})
        )
        identities = conn.execute(
            delete(customer_identities).where(customer_identities.c.customer_id == customer_id)
        ).rowcount
        conn.execute(
            delete(customer_preferences).where(customer_preferences.c.customer_id == customer_id)
        )
        redacted_contacts = conn.execute(
            update(contacts)
            .where(contacts.c.id.in_(contact_ids or [""]))
            .values(
                raw=b"",
                sender=None,
                subject=None,
                text=None,
                attachments=[],
                geo=None,
                details={},
                message_id=None,
                in_reply_to=None,
                error=None,
            )
        ).rowcount
        flows_done = 0
        for flow in conn.execute(
            select(process_instances.c.id, process_instances.c.state).where(
                process_instances.c.id.in_(flows or [""])
            )
        ).all():
            state = dict(flow.state or {})
            state["variables"] = {k: ERASED for k in state.get("variables", {})}
            conn.execute(
                update(process_instances)
                .where(process_instances.c.id == flow.id)
                .values(state=state)
            )
            flows_done += 1
        logged = conn.execute(
            update(events)
            .where(_events_of(customer_id, contact_ids, case_ids, flows))
            .values(data={"redacted": True})
        ).rowcount
        counts = {
            "identities": int(identities),
            "contacts": int(redacted_contacts),
            "flows": flows_done,
            "events": int(logged),
        }
        uow.append(
            NewEvent(
                EventType.CUSTOMER_ERASED,
                now,
                {"reason": reason[:500], **counts},
                actor=actor,
                customer_id=customer_id,
            )
        )
    return counts


def purge_raw_contacts(store: Store, *, before: datetime) -> int:
    """Retention: empty the raw payload of handled contacts received before `before` (what
    was read from it stays on the contact; dead letters keep theirs for a replay)."""
    with store.unit_of_work() as uow:
        result = uow.connection.execute(
            update(contacts)
            .where(
                contacts.c.received_at < before,
                # still needed to handle or replay them: not yet handled, dead letters
                contacts.c.status.notin_(("received", "failed")),
                contacts.c.raw != b"",
            )
            .values(raw=b"")
        )
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of personal data is kept (the company file's `retention`): the raw
    payload of handled contacts (what was read from it stays), and failed login and status
    checks. Applied by the worker rounds at most once per `every`."""

    raw_contacts: timedelta = timedelta(days=90)
    failed_checks: timedelta = timedelta(days=1)
    every: timedelta = timedelta(hours=1)

    @classmethod
    def from_file(cls, path: str | Path | None) -> Retention:
        if not path:
            return cls()
        from flowdesk.contacts.follow_ups import parse_duration
        from flowdesk.experience.company import load_company

        found = load_company(path).get("retention") or {}
        return cls(
            **{
                kind: parse_duration(found[kind])
                for kind in ("raw_contacts", "failed_checks")
                if kind in found
            }
        )

    def apply(self, store: Store, now: datetime) -> dict[str, int]:
        """Forget what is past its period; returns how much went, per kind."""
        return {
            "raw_contacts": purge_raw_contacts(store, before=now - self.raw_contacts),
            "failed_checks": purge_failed_checks(store, before=now - self.failed_checks),
        }
