"""Webhook subscriptions for both doors: subscribe a URL to event types, list, read, delete
(deliveries stop, the log stays) and the delivery log. The URL checks (http(s), public
addresses unless FLOWDESK_WEBHOOK_ALLOWED_NETWORKS allows others) are the domain's."""

from __future__ import annotations

from collections.abc import Iterable

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.auth.roles import Permission
from flowdesk.webhooks import subscriptions
from flowdesk.webhooks.delivery import SIGNATURE_HEADER
from flowdesk.webhooks.ssrf import UnsafeUrl
from flowdesk.webhooks.subscriptions import Delivery, InvalidSubscription, Subscription

#: re-exported for the doors: the header that carries a delivery's signature, the types
__all__ = ["SIGNATURE_HEADER", "Delivery", "Subscription"]

MANAGE = Permission.WEBHOOKS_MANAGE
STATUSES = ("pending", "delivered", "failed", "cancelled")
URL_MAX = 2000


def list_webhooks(caller: Caller, ops: Ops) -> list[Subscription]:
    require(caller, MANAGE)
    return subscriptions.active(ops.store)


def get_webhook(caller: Caller, ops: Ops, webhook_id: str) -> Subscription:
    require(caller, MANAGE)
    return subscriptions.get(ops.store, webhook_id)


def create_webhook(
    caller: Caller,
    ops: Ops,
    *,
    url: str,
    event_types: Iterable[str],
    secret: str | None = None,
    description: str | None = None,
) -> Subscription:
    """Subscribe `url`; the subscription's `secret` (generated when not given) signs every
    delivery and is shown only in this answer. Refusals name the field they concern."""
    require(caller, MANAGE)
    url = url.strip()
    types = list(dict.fromkeys(t.strip() for t in event_types if t.strip()))
    if not url:
        raise FormInvalid([{"field": "url", "message": "Give the URL to deliver events to."}])
    if len(url) > URL_MAX:
        raise FormInvalid([{"field": "url", "message": f"Use at most {URL_MAX} characters."}])
    if not types:
        raise FormInvalid(
            [{"field": "event_types", "message": "Name at least one event type ('*' for all)."}]
        )
    try:
        return subscriptions.create(
            ops.store,
            ops.clock,
            url=url,
            event_types=types,
            secret=secret or None,
            description=description or None,
            actor=caller.username,
        )
    except UnsafeUrl as exc:  # the API keeps the hint apart (which setting allows the address)
        raise FormInvalid([{"field": "url", "message": _said(exc)}], hint=exc.hint) from exc
    except InvalidSubscription as exc:
        field = "secret" if "secret" in exc.message else "event_types"
        raise FormInvalid([{"field": field, "message": _said(exc)}]) from exc


def _said(exc: UnsafeUrl | InvalidSubscription) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message


def delete_webhook(caller: Caller, ops: Ops, webhook_id: str) -> None:
    require(caller, MANAGE)
    subscriptions.delete(ops.store, ops.clock, webhook_id, actor=caller.username)


def deliveries(
    caller: Caller,
    ops: Ops,
    webhook_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Delivery]:
    """The delivery log of one subscription (deleted ones too), newest event first."""
    require(caller, MANAGE)
    if status is not None and status not in STATUSES:
        raise FormInvalid(
            [{"field": "status", "message": f"status is one of {', '.join(STATUSES)}"}]
        )
    return subscriptions.deliveries(
        ops.store, webhook_id, status=status, limit=limit, offset=offset
    )
