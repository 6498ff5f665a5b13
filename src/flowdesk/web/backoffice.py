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

from flowdesk.api.routes.common import app_singleton, runtime_of
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import NotFoundError
from flowdesk.customers.connectors import Backoffice, BackofficeConfigError, backoffice_key
from flowdesk.customers.service import get_customer
from flowdesk.web import data
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import error_page, render

router = APIRouter(include_in_schema=False)
Read = Annotated[PageAccess, Depends(page_access(Permission.WORK_READ))]


def backoffice_of(request: Request) -> Backoffice:
    """The app's connectors, built from its settings on first use."""
    return app_singleton(
        request, "backoffice", lambda state: Backoffice.from_settings(state.settings)
    )


def customer_key(request: Request, instance_id: str) -> str | None:
    """The case's customer as the back-office knows them (account number, else id)."""
    customer_id = data.customer_id_of(runtime_of(request).instance(instance_id).vars)
    if customer_id is None:
        return None
    try:
        with request.app.state.store.reading() as conn:
            customer = get_customer(conn, customer_id)
    except NotFoundError:
        customer = None
    return backoffice_key(customer, customer_id)


@router.get("/work/{item_id}/backoffice")
def backoffice_panel(request: Request, item_id: str, access: Read) -> Response:
    if access.denied:
        return access.denied
    store = request.app.state.store
    try:
        item = data.visible_item(store, access.user, item_id)
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    context: dict[str, Any] = {"item": item, "panels": [], "problem": None, "configured": True}
    try:
        connectors = backoffice_of(request)
    except BackofficeConfigError as exc:
        context["problem"] = exc.message
    else:
        key = customer_key(request, item["instance_id"])
        context["configured"] = connectors.configured
        context["key"] = key
        if key and connectors.configured:
            context["panels"] = connectors.panels(key)
    template = "_backoffice_panel.html" if request.headers.get("HX-Request") else "backoffice.html"
    return render(request, template, context, principal=access.user)
