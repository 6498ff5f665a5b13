"""Messages and signals from other systems into the running flows: a message goes to the one
instance waiting for its name and correlation key (or starts one, or waits buffered for the
message TTL until one subscribes); a signal goes to every instance waiting for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import feel_variables
from flowdesk.auth.roles import Permission


def correlate(
    caller: Caller,
    ops: Ops,
    name: str,
    correlation_key: str | int | None,
    variables: Mapping[str, Any],
) -> list[str]:
    """The instances the message reached or started; none means it was buffered."""
    require(caller, Permission.MESSAGES_SEND)
    values = feel_variables(variables)
    return list(ops.runtime.correlate_message(name, correlation_key, values))


def broadcast(caller: Caller, ops: Ops, name: str, variables: Mapping[str, Any]) -> list[str]:
    """The instances the signal reached or started."""
    require(caller, Permission.MESSAGES_SEND)
    return list(ops.runtime.broadcast_signal(name, feel_variables(variables)))
