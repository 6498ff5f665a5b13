"""The outbox page: what customers were sent (agents' replies, notifications, surveys), newest
first. In the demo these are the messages the demo outbox received (flowdesk.demo.outbox);
with real senders it is what went to the mail server and the providers. Who sees which
message is the use case's rule (`flowdesk.app.outbox`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from flowdesk.api.routes.common import runtime_of
from flowdesk.app.context import Ops
from flowdesk.app.outbox import sent_to_customers
from flowdesk.auth.roles import Permission
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import render

router = APIRouter(include_in_schema=False)
Read = Annotated[PageAccess, Depends(page_access(Permission.CONTACTS_READ))]


def ops_of(request: Request) -> Ops:
    state = request.app.state
    return Ops(state.store, state.clock, runtime_of(request), settings=state.settings)


MAX_LIMIT = 500


def _limit(given: str | None) -> int:
    """How many messages to list: a typed-in address with a limit that is no whole number or
    out of range shows the default or the nearest bound, not a raw validation error."""
    try:
        wanted = int(given) if given else 100
    except ValueError:
        wanted = 100
    return min(max(wanted, 1), MAX_LIMIT)


@router.get("/outbox")
def outbox_page(request: Request, access: Read, limit: str | None = None) -> Response:
    if access.denied:
        return access.denied
    limit_n = _limit(limit)
    messages = sent_to_customers(access.user, ops_of(request), limit=limit_n)
    settings = request.app.state.settings
    return render(
        request,
        "outbox.html",
        {
            "messages": messages,
            "limit": limit_n,
            "configured": bool(settings.smtp_host or settings.notify_webhooks),
        },
        principal=access.user,
    )
