"""Reading the event log, and consumers that read from a stored cursor and acknowledge.

Delivery is at least once: `read` never moves the cursor; only `ack` does, so a consumer that
crashes between reading and acknowledging gets the same events again. Consumers must therefore be
idempotent (webhook deliveries carry the event id for that reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.errors import NotFoundError
from flowdesk.core.events import NewEvent, StoredEvent
from flowdesk.store.tables import event_consumers, events

if TYPE_CHECKING:
    from flowdesk.store.store import Store


def event_row(event: NewEvent, event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "time": event.time,
        "type": event.type,
        "schema_version": event.schema_version,
        "source": event.source,
        "case_id": event.case_id,
        "contact_id": event.contact_id,
        "customer_id": event.customer_id,
        "process_instance_id": event.process_instance_id,
        "element_id": event.element_id,
        "actor": event.actor,
        "department": event.department,
        "channel": event.channel,
        "data": event.data,
    }


def _stored(row: Row[Any]) -> StoredEvent:
    m = row._mapping
    return StoredEvent(
        seq=m["seq"],
        id=m["id"],
        type=m["type"],
        time=m["time"],
        data=m["data"],
        case_id=m["case_id"],
        contact_id=m["contact_id"],
        customer_id=m["customer_id"],
        process_instance_id=m["process_instance_id"],
        element_id=m["element_id"],
        actor=m["actor"],
        department=m["department"],
        channel=m["channel"],
        schema_version=m["schema_version"],
        source=m["source"],
    )


class EventLog:
    def __init__(self, store: Store, clock: Clock | None = None):
        self._store = store
        self._clock = clock or SystemClock()

    def after(self, position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._store.reading() as conn:
            rows = conn.execute(
                select(events).where(events.c.seq > position).order_by(events.c.seq).limit(limit)
            )
            return [_stored(r) for r in rows]

    def iterate(self, position: int = 0, batch: int = 5000) -> Iterator[StoredEvent]:
        """Every event after `position`, in order, fetched in batches (for exports)."""
        while True:
            chunk = self.after(position, batch)
            yield from chunk
            if len(chunk) < batch:
                return
            position = chunk[-1].seq

    def where(self, **subject: str) -> list[StoredEvent]:
        """Events of one subject, e.g. where(case_id=...) or where(process_instance_id=...)."""
        query = select(events).order_by(events.c.seq)
        for column, value in subject.items():
            query = query.where(events.c[column] == value)
        with self._store.reading() as conn:
            return [_stored(r) for r in conn.execute(query)]

    def head(self) -> int:
        with self._store.reading() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())

    # -- consumers ----------------------------------------------------------------------------

    def register(self, consumer: str, *, from_start: bool = True) -> int:
        """Create the consumer's cursor if missing; returns its position."""
        start = 0 if from_start else self.head()
        values = {"name": consumer, "position": start, "updated_at": self._clock.now()}
        with self._store.unit_of_work() as uow:
            insert = (
                postgresql.insert(event_consumers)
                if self._store.dialect == "postgresql"
                else sqlite.insert(event_consumers)
            )
            uow.connection.execute(insert.values(**values).on_conflict_do_nothing())
        return self.position(consumer)

    def position(self, consumer: str) -> int:
        with self._store.reading() as conn:
            pos = conn.execute(
                select(event_consumers.c.position).where(event_consumers.c.name == consumer)
            ).scalar_one_or_none()
        if pos is None:
            raise NotFoundError(
                f"event consumer {consumer!r} is not registered", hint="register it first"
            )
        return int(pos)

    def read(self, consumer: str, limit: int = 100) -> list[StoredEvent]:
        """The next events after the consumer's cursor; does not move the cursor."""
        return self.after(self.position(consumer), limit)

    def ack(self, consumer: str, seq: int) -> None:
        """Mark everything up to `seq` as processed. Never moves a cursor backwards."""
        with self._store.unit_of_work() as uow:
            result = uow.connection.execute(
                update(event_consumers)
                .where(event_consumers.c.name == consumer)
                .where(event_consumers.c.position < seq)
                .values(position=seq, updated_at=self._clock.now())
            )
            if result.rowcount == 0:
                # Either already past seq (fine) or unknown consumer (an error).
                exists = uow.connection.execute(
                    select(event_consumers.c.name).where(event_consumers.c.name == consumer)
                ).first()
                if exists is None:
                    raise NotFoundError(f"event consumer {consumer!r} is not registered")
