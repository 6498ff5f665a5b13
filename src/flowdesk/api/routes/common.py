"""Shared helpers of the service routes: the runtime of the app, JSON of FEEL values, the
problem schema every route documents, and the permission dependency shorthand."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from flowdesk.app import organisation, services
from flowdesk.app.context import Ops
from flowdesk.app.services import ProcessRuntime, Store
from flowdesk.app.values import InvalidInput as InvalidInput
from flowdesk.app.values import feel_variables as feel_variables
from flowdesk.app.values import plain as plain

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_only(value: Any) -> Any:
    """Pydantic reads a bare number as seconds since 1970: `due_before=0.5` is a mistake."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("expected an ISO 8601 date-time such as 2026-03-02T09:00:00Z")
    return value


#: Process variables: names are never empty. The schema says so; the use case refuses them,
#: after it checked that the target exists (a 404 comes before a 422).
VariableName = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1})]

#: A date-time parameter given as ISO 8601 text only.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]

# Re-entrant: one thing's factory may ask for another (intake uses the runtime).
_lock = threading.RLock()
T = TypeVar("T")


def app_singleton(request: Request, name: str, build: Callable[[Any], T]) -> T:
    """The one `name` the app keeps (runtime, intake, connectors, limiter), built from
    `app.state` by `build` on first use, once even when requests race for it."""
    state = request.app.state
    found: T | None = getattr(state, name, None)
    if found is None:
        with _lock:
            found = getattr(state, name, None)
            if found is None:
                found = build(state)
                setattr(state, name, found)
    return found


class Problem(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    type: str = Field(examples=["urn:flowdesk:problem:not-found"])
    title: str
    status: int
    detail: str
    hint: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    element_id: str | None = None
    errors: list[dict[str, str]] | None = None


_DESCRIPTIONS = {
    400: "The request cannot be carried out",
    401: "No or an invalid API key / session",
    403: "The caller's roles do not grant the permission",
    404: "A referenced object does not exist",
    409: "The request contradicts the current state",
    413: "The request body is too large",
    415: "Unsupported content type",
    422: "Malformed or invalid input",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem documents a route can answer with."""
    wanted = sorted({401, 403, 413, 422, *statuses})
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for status in wanted
    }


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def runtime_of(request: Request) -> ProcessRuntime:
    """The app's ProcessRuntime (one per app: it caches parsed definitions), with the deployed
    DMN decisions as its decision evaluator."""

    def build(state: Any) -> ProcessRuntime:
        runtime = services.process_runtime(state.store, state.clock)
        state.decisions = runtime.decisions
        return runtime

    return app_singleton(request, "process_runtime", build)


def ops_of(request: Request) -> Ops:
    """What the use cases of `flowdesk.app` run against, for this app."""
    state = request.app.state
    return Ops(
        store=state.store,
        clock=state.clock,
        runtime=runtime_of(request),
        settings=getattr(state, "settings", None),
        lazy={
            "routing": lambda: _routing(request),
            "reply_senders": lambda: reply_senders_of(request),
            "intake": lambda: _intake(request),
            "analytics": lambda: request.app.state.analytics,
            "backoffice": lambda: app_singleton(
                request, "backoffice", lambda st: services.backoffice(st.settings)
            ),
        },
    )


def _routing(request: Request) -> Any:
    """The app's routing service: `app.state.routing` when the application configured one
    (priority policy, SLA catalog, process runtime), else one built on first use with the
    organisation of the company file."""
    state = request.app.state
    service = getattr(state, "routing", None)
    if service is None:
        company = getattr(getattr(state, "settings", None), "company_file", None)
        service = organisation.routing_for(state.store, company, clock=state.clock)
        state.routing = service
    return service


def _intake(request: Request) -> Any:
    from flowdesk.api.routes.contacts import intake_of  # contacts' routes import this module

    return intake_of(request)


def reply_senders_of(request: Request) -> dict[str, Any]:
    """The senders the app was given (`app.state.contact_senders`, as intake uses), else those
    the settings configure for notifications (FLOWDESK_SMTP_HOST, FLOWDESK_NOTIFY_WEBHOOKS)."""
    state = request.app.state
    given: dict[str, Any] | None = getattr(state, "contact_senders", None)
    if given is not None:
        return given
    return app_singleton(
        request, "reply_senders", lambda st: services.reply_senders(st.settings, st.store, st.clock)
    )
