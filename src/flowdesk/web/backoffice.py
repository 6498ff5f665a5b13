"""The back-office panel of the case page: the customer's products, invoices and orders from
the configured back-office systems (customers/connectors.py).

The case page only holds a placeholder that htmx fills from `GET /work/{id}/backoffice`, so a
slow back-office delays this panel, never the page; without htmx the placeholder links to the
same route, which then renders as a page of its own. One `Backoffice` per application keeps the
cache and circuit breakers between requests.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from flowdesk.api.routes.common import ops_of
from flowdesk.app import casework
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.core.errors import FlowdeskError
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import error_page, render

router = APIRouter(include_in_schema=False)
Read = Annotated[PageAccess, Depends(page_access(Permission.WORK_READ))]


@router.get("/work/{item_id}/backoffice")
def backoffice_panel(request: Request, item_id: str, access: Read) -> Response:
    if access.denied:
        return access.denied
    try:
        view = casework.backoffice_view(access.user, ops_of(request), item_id)
    except FlowdeskError as exc:
        status = 403 if isinstance(exc, Forbidden) else 404
        return error_page(request, exc.message, status_code=status, principal=access.user)
    context: dict[str, Any] = {
        "item": view.item,
        "panels": view.panels,
        "problem": view.problem,
        "configured": view.configured,
        "key": view.key,
    }
    template = "_backoffice_panel.html" if request.headers.get("HX-Request") else "backoffice.html"
    return render(request, template, context, principal=access.user)
