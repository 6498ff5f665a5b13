"""Messages and signals from other systems into the running flows: a message goes to the one
instance waiting for its name and correlation key (or starts one, or waits buffered for the
message TTL until one subscribes, or is held as one trigger of a parallel multiple start
event until the others came); a signal goes to every instance waiting for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import feel_variables
from flowdesk.auth.roles import Permission
from flowdesk.runtime.processes import Delivery


def correlate(
    caller: Caller,
    ops: Ops,
    name: str,
    correlation_key: str | int | None,
    variables: Mapping[str, Any],
) -> Delivery:
    """The instances the message reached or started; none means it was buffered or held."""
    require(caller, Permission.MESSAGES_SEND)
    values = feel_variables(variables)
    return ops.runtime.deliver_message(name, correlation_key, values)


def broadcast(caller: Caller, ops: Ops, name: str, variables: Mapping[str, Any]) -> Delivery:
    """The instances the signal reached or started, and whether a start event held it."""
    require(caller, Permission.MESSAGES_SEND)
    return ops.runtime.deliver_signal(name, feel_variables(variables))
