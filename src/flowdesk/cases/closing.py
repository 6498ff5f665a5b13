"""Closing cases as a fact of the event log: a consumer that follows `process.completed` and
`process.cancelled` and closes the case that flow belongs to.

Before this, a case was closed only when someone looked at it, and nothing in the log said so:
turnaround, backlog and the survey that follows a close could not be computed from the log. The
consumer reads from its own stored cursor (at-least-once, like the routing and webhook
consumers), closes with the time the flow ended (not the time the consumer ran), and goes
through `cases.service.close_case`, which closes an open case only once, so a redelivered event
or a status lookup that closed the case first never writes a second `case.closed`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from flowdesk.cases.models import cases as cases_table
from flowdesk.cases.service import FLOW_ENDINGS, Case, case_from_row, close_case
from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent
from flowdesk.store import Store

CONSUMER = "case-closing"


class CaseCloser:
    """Closes the cases whose flows ended; `tick()` once per worker round.

    `on_closed` sees every `case.closed` the consumer reads (its own, one round later, and
    those of lookups): the demo seed sends surveys from it instead of reading the whole log a
    second time with the survey consumer's own cursor."""

    def __init__(
        self,
        store: Store,
        *,
        consumer: str = CONSUMER,
        batch: int = 500,
        on_closed: Callable[[StoredEvent], None] | None = None,
    ) -> None:
        self.store = store
        self.consumer = consumer
        self.batch = batch
        self.on_closed = on_closed
        self._registered = False

    def tick(self) -> list[Case]:
        """Process every event after the cursor; returns the cases this call closed."""
        log = self.store.events
        if not self._registered:
            log.register(self.consumer)
            self._registered = True
        closed: list[Case] = []
        wanted = (
            {*FLOW_ENDINGS, EventType.CASE_CLOSED} if self.on_closed is not None else FLOW_ENDINGS
        )
        while True:
            window = log.read_types(self.consumer, wanted, self.batch)
            if window.position is None:
                return closed
            batch = window.events
            ended = {
                e.process_instance_id: e
                for e in batch
                if e.type in FLOW_ENDINGS and e.process_instance_id is not None
            }
            if self.on_closed is not None:
                for seen in batch:
                    if seen.type == EventType.CASE_CLOSED:
                        self.on_closed(seen)
            if ended:
                with self.store.unit_of_work() as uow:
                    rows = uow.connection.execute(
                        select(cases_table).where(
                            cases_table.c.instance_id.in_(list(ended)),
                            cases_table.c.status == "open",
                        )
                    ).all()
                    for row in rows:
                        case = case_from_row(row)
                        event = ended.get(case.instance_id or "")
                        if event is None:
                            continue
                        outcome = FLOW_ENDINGS[event.type]
                        if close_case(uow, case, at=event.time, outcome=outcome):
                            closed.append(case)
            log.ack(self.consumer, window.position)
            if window.scanned < self.batch:
                return closed
