"""Customer value and churn risk, computed from the event log and the profile.

Why from the log: complaints, repeat contacts and SLA breaches are facts the log already holds,
so a score is reproducible and explains itself (its inputs are stored beside it). A consumer
(`ScoreRefresher`, one tick per worker round) follows the events that change them and
recomputes the customers they name; decisions read the stored row, routing priority takes the
churn risk and, for a customer without a profile value, the computed value.

    tenure_years     since the earliest of: customer created, first case, first event
    complaints       complaint cases opened in the last 365 days
    repeat_contacts  contacts received in the last 30 days after the first
    sla_breaches     SLA breaches on the customer's cases in the last 90 days
    products         1 + service installations - cancellations (the demo's product count)
    value            the profile's value, else 120 x products x (1 + tenure / 10, at most 2)
    churn_risk       logistic(-2.2 + 0.9 complaints + 0.35 repeat contacts + 0.6 breaches
                     + 1.5 open cancellation - 0.15 tenure), tenure capped at 10 years
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from flowdesk.cases.models import cases
from flowdesk.core.clock import Clock
from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.customers.views import get_customer
from flowdesk.nba.adaptive import sigmoid
from flowdesk.nba.models import nba_customer_scores
from flowdesk.store import Store
from flowdesk.store.tables import events

CONSUMER = "nba-scores"
#: The events after which a customer's scores are computed again.
WATCHED = (
    EventType.CUSTOMER_CREATED,
    EventType.CUSTOMER_UPDATED,
    EventType.CASE_OPENED,
    EventType.CASE_CLOSED,
    EventType.CONTACT_RECEIVED,
    EventType.CONTACT_IDENTIFIED,
    EventType.SLA_BREACHED,
)
INSTALL_REASONS = ("new-service-installation",)
CANCEL_REASONS = ("cancellation",)


def compute(conn: Connection, customer_id: str, now: datetime) -> dict[str, Any]:
    """The scores of one customer (NotFoundError for an unknown id)."""
    customer = get_customer(conn, customer_id)
    cid = customer.id
    own = conn.execute(
        select(cases.c.id, cases.c.reason, cases.c.status, cases.c.opened_at).where(
            cases.c.customer_id == cid
        )
    ).all()
    first_event = conn.execute(
        select(func.min(events.c.time)).where(events.c.customer_id == cid)
    ).scalar()
    starts = [customer.created_at, *(c.opened_at for c in own)]
    if first_event is not None:
        starts.append(first_event)
    tenure = max(0.0, (now - min(starts)).total_seconds() / (365.25 * 86400))
    complaints = sum(
        1 for c in own if c.reason == "complaint" and c.opened_at >= now - timedelta(days=365)
    )
    contacts = conn.execute(
        select(func.count()).where(
            events.c.customer_id == cid,
            events.c.type == EventType.CONTACT_RECEIVED,
            events.c.time >= now - timedelta(days=30),
        )
    ).scalar_one()
    case_ids = [c.id for c in own]
    breaches = 0
    if case_ids:
        breaches = conn.execute(
            select(func.count()).where(
                events.c.case_id.in_(case_ids),
                events.c.type == EventType.SLA_BREACHED,
                events.c.time >= now - timedelta(days=90),
            )
        ).scalar_one()
    products = max(
        1,
        1
        + sum(1 for c in own if c.reason in INSTALL_REASONS)
        - sum(1 for c in own if c.reason in CANCEL_REASONS and c.status == "closed"),
    )
    cancelling = any(c.reason in CANCEL_REASONS and c.status == "open" for c in own)
    years = min(tenure, 10.0)
    repeat = max(0, int(contacts) - 1)
    value = (
        float(customer.value)
        if customer.value is not None
        else 120.0 * products * min(2.0, 1 + years / 10)
    )
    risk = sigmoid(
        -2.2
        + 0.9 * complaints
        + 0.35 * repeat
        + 0.6 * int(breaches)
        + 1.5 * cancelling
        - 0.15 * years
    )
    return {
        "customer_id": cid,
        "value": round(value, 2),
        "churn_risk": round(risk, 4),
        "tenure_years": round(tenure, 3),
        "complaints": complaints,
        "repeat_contacts": repeat,
        "sla_breaches": int(breaches),
        "products": products,
        "updated_at": now,
    }


def refresh(conn: Connection, customer_id: str, now: datetime) -> dict[str, Any] | None:
    """Compute and store one customer's scores (None for an unknown customer)."""
    try:
        row = compute(conn, customer_id, now)
    except NotFoundError:
        return None
    t = nba_customer_scores
    exists = conn.execute(
        select(t.c.customer_id).where(t.c.customer_id == row["customer_id"])
    ).first()
    if exists is None:
        conn.execute(t.insert().values(row))
    else:
        values = {k: v for k, v in row.items() if k != "customer_id"}
        conn.execute(t.update().where(t.c.customer_id == row["customer_id"]).values(values))
    return row


def score_of(conn: Connection, customer_id: str) -> tuple[float, float] | None:
    """(value, churn risk) as last computed, or None."""
    t = nba_customer_scores.c
    row = conn.execute(select(t.value, t.churn_risk).where(t.customer_id == customer_id)).first()
    return None if row is None else (float(row.value), float(row.churn_risk))


def scores_of(store: Store, customer_id: str) -> dict[str, Any] | None:
    """The stored scores of a customer, for the 360 view."""
    t = nba_customer_scores
    with store.reading() as conn:
        row = conn.execute(select(t).where(t.c.customer_id == customer_id)).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["updated_at"] = row.updated_at.isoformat()
    return out


class ScoreRefresher:
    """Follows the log and recomputes the scores of the customers its events name; `tick()`
    once per worker round (at-least-once: recomputing is idempotent)."""

    def __init__(self, store: Store, clock: Clock, *, batch: int = 500) -> None:
        self.store = store
        self.clock = clock
        self.batch = batch
        self._registered = False

    def tick(self) -> int:
        """Process every watched event after the cursor; returns the customers refreshed."""
        log = self.store.events
        if not self._registered:
            log.register(CONSUMER)
            self._registered = True
        done = 0
        while True:
            window = log.read_types(CONSUMER, WATCHED, self.batch)
            if window.position is None:
                return done
            named = {e.customer_id for e in window.events if e.customer_id}
            on_cases = {e.case_id for e in window.events if e.case_id and not e.customer_id}
            now = self.clock.now()
            with self.store.unit_of_work() as uow:
                conn = uow.connection
                if on_cases:
                    named |= set(
                        conn.execute(
                            select(cases.c.customer_id).where(cases.c.id.in_(on_cases))
                        ).scalars()
                    )
                for customer_id in sorted(named):
                    if refresh(conn, customer_id, now) is not None:
                        done += 1
            log.ack(CONSUMER, window.position)
            if window.scanned < self.batch:
                return done
