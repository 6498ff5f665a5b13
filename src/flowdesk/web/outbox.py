"""The outbox page: what customers were sent (agents' replies, notifications, surveys), newest
first. In the demo these are the messages the demo outbox received (flowdesk.demo.outbox);
with real senders it is what went to the mail server and the providers. Who sees which
message is the use case's rule (`flowdesk.app.outbox`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
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


@router.get("/outbox")
def outbox_page(
    request: Request, access: Read, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> Response:
    if access.denied:
        return access.denied
    messages = sent_to_customers(access.user, ops_of(request), limit=limit)
    settings = request.app.state.settings
    return render(
        request,
        "outbox.html",
        {
            "messages": messages,
            "limit": limit,
            "configured": bool(settings.smtp_host or settings.notify_webhooks),
        },
        principal=access.user,
    )
