"""Shared helpers of the service routes: the runtime of the app, JSON of FEEL values, the
problem schema every route documents, and the permission dependency shorthand."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, Field

from flowdesk.app.context import Ops
from flowdesk.core.errors import FlowdeskError
from flowdesk.core.jsonutil import json_default
from flowdesk.feel.values import to_feel
from flowdesk.runtime.decisions import DeployedDecisions
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

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


class InvalidInput(FlowdeskError):
    code = "invalid-input"


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
        runtime = ProcessRuntime(state.store, clock=state.clock)
        state.decisions = runtime.decisions
        return runtime

    return app_singleton(request, "process_runtime", build)


def ops_of(request: Request) -> Ops:
    """What the app layer's use cases run against, from this app's shared services."""
    state = request.app.state
    return Ops(
        store=state.store,
        clock=state.clock,
        runtime=runtime_of(request),
        settings=getattr(state, "settings", None),
    )


def decisions_of(request: Request) -> DeployedDecisions:
    runtime_of(request)
    decisions: DeployedDecisions = request.app.state.decisions
    return decisions


def plain(value: Any) -> Any:
    """FEEL / engine values as plain JSON (Decimal as number, dates ISO, durations ISO 8601)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    try:
        return json_default(value)
    except TypeError:
        return str(value)  # ranges, functions: their FEEL text rather than a server error


def feel_variables(variables: Mapping[str, Any] | None, where: str = "variables") -> dict[str, Any]:
    """JSON input as FEEL values (numbers become exact Decimals)."""
    out: dict[str, Any] = {}
    for name, value in (variables or {}).items():
        if not name:
            raise InvalidInput(f"{where}: a variable name must not be empty")
        try:
            out[name] = to_feel(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{where}.{name}: {exc}") from exc
    return out
