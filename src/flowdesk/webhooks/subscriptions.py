"""Webhook subscriptions and their delivery log. The secret signs deliveries (HMAC-SHA256); it
is stored because signing needs it, and never returned after creation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from flowdesk.core.clock import Clock
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.store import Store
from flowdesk.store.service_tables import webhook_deliveries, webhook_subscriptions
from flowdesk.webhooks.ssrf import Guard


class InvalidSubscription(FlowdeskError):
    code = "invalid-input"


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    created_at: datetime
    created_by: str | None
    secret: str

    def wants(self, event_type: str) -> bool:
        return any(matches(pattern, event_type) for pattern in self.event_types)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    subscription_id: str
    event_id: str
    event_seq: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def matches(pattern: str, event_type: str) -> bool:
    """'*' matches every type; 'process.*' every type starting with 'process.'."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def _subscription(row: Any) -> Subscription:
    m = row._mapping
    return Subscription(
        id=m["id"],
        url=m["url"],
        event_types=list(m["event_types"]),
        description=m["description"],
        active=bool(m["active"]),
        created_at=m["created_at"],
        created_by=m["created_by"],
        secret=m["secret"],
    )


def _check(url: str, event_types: list[str], guard: Guard | None) -> None:
    (guard or Guard()).admit(url)
    if not event_types:
        raise InvalidSubscription(
            "a webhook needs at least one event type", hint="use '*' for every event"
        )
    for pattern in event_types:
        body = pattern[:-2] if pattern.endswith(".*") else pattern
        if pattern != "*" and (not body or "*" in body or len(pattern) > 100):
            raise InvalidSubscription(
                f"event type pattern {pattern!r} is not valid",
                hint="use an event type (process.started), a prefix (process.*) or '*'",
            )


def create(
    store: Store,
    clock: Clock,
    *,
    url: str,
    event_types: list[str],
    secret: str | None = None,
    description: str | None = None,
    actor: str | None = None,
    guard: Guard | None = None,
) -> Subscription:
    """Subscribe `url` to event types. The URL must be http(s) and reach a public address
    (flowdesk.webhooks.ssrf; UnsafeUrl, a 422, otherwise)."""
    _check(url, event_types, guard)
    if secret is not None and len(secret) < 16:
        raise InvalidSubscription(
            "the webhook secret is too short", hint="use at least 16 characters, or omit it"
        )
    sub_id = store.ids.new_id()
    with store.unit_of_work() as uow:
        uow.connection.execute(
            webhook_subscriptions.insert().values(
                id=sub_id,
                url=url,
                event_types=list(event_types),
                secret=secret or secrets.token_urlsafe(32),
                description=description,
                active=True,
                created_at=clock.now(),
                created_by=actor,
            )
        )
        uow.append(
            NewEvent(
                EventType.WEBHOOK_CREATED,
                clock.now(),
                {"webhook_id": sub_id, "url": url, "event_types": list(event_types)},
                actor=actor,
            )
        )
    return get(store, sub_id)


def get(store: Store, sub_id: str) -> Subscription:
    with store.reading() as conn:
        row = conn.execute(
            select(webhook_subscriptions).where(
                webhook_subscriptions.c.id == sub_id, webhook_subscriptions.c.active.is_(True)
            )
        ).first()
    if row is None:
        raise NotFoundError(f"no webhook {sub_id!r}")
    return _subscription(row)


def active(store: Store) -> list[Subscription]:
    with store.reading() as conn:
        rows = conn.execute(
            select(webhook_subscriptions)
            .where(webhook_subscriptions.c.active.is_(True))
            .order_by(webhook_subscriptions.c.created_at, webhook_subscriptions.c.id)
        )
        return [_subscription(r) for r in rows]


def delete(store: Store, clock: Clock, sub_id: str, *, actor: str | None = None) -> None:
    """Deactivate: pending deliveries stop, the delivery log stays readable."""
    with store.unit_of_work() as uow:
        result = uow.connection.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == sub_id, webhook_subscriptions.c.active.is_(True))
            .values(active=False)
        )
        if result.rowcount == 0:
            raise NotFoundError(f"no webhook {sub_id!r}")
        uow.connection.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.subscription_id == sub_id,
                webhook_deliveries.c.status == "pending",
            )
            .values(status="cancelled", next_attempt_at=None)
        )
        uow.append(
            NewEvent(EventType.WEBHOOK_DELETED, clock.now(), {"webhook_id": sub_id}, actor=actor)
        )


def deliveries(
    store: Store, sub_id: str, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[Delivery]:
    with store.reading() as conn:
        known = conn.execute(
            select(webhook_subscriptions.c.id).where(webhook_subscriptions.c.id == sub_id)
        ).first()
    if known is None:
        raise NotFoundError(f"no webhook {sub_id!r}")
    query = select(webhook_deliveries).where(webhook_deliveries.c.subscription_id == sub_id)
    if status:
        query = query.where(webhook_deliveries.c.status == status)
    query = query.order_by(webhook_deliveries.c.event_seq.desc()).limit(limit).offset(offset)
    with store.reading() as conn:
        return [
            Delivery(**{k: r._mapping[k] for k in Delivery.__slots__}) for r in conn.execute(query)
        ]
