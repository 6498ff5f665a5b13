"""Process instances as both doors serve them. An instance holds the customer's data (an IBAN, an
address), so an agent reads it only where they or one of their groups has or had work on it;
those who may read all work (supervisors, administrators, integrations) read every one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.work import sees_all
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.core.events import StoredEvent
from flowdesk.engine.state import InstanceState
from flowdesk.routing import desk

__all__ = ["InstanceState"]


def may_read(caller: Caller, ops: Ops, instance_id: str) -> bool:
    """Whether the caller may read the instance's data (it need not exist)."""
    if sees_all(caller):
        return True
    return bool(
        desk.work_page(
            ops.store,
            visible_to=(caller.username, list(caller.groups)),
            status=None,
            instance_id=instance_id,
            limit=1,
        )
    )


def _readable(caller: Caller, ops: Ops, instance_id: str) -> InstanceState:
    require(caller, Permission.PROCESS_READ)
    state = ops.runtime.instance(instance_id)  # NotFoundError first: an id that exists nowhere
    if not may_read(caller, ops, instance_id):
        raise Forbidden(
            f"process instance {instance_id} has no work for {caller.username} or their groups",
            hint="its data is readable by the departments that work on it and by supervisors",
        )
    return state


def get_instance(caller: Caller, ops: Ops, instance_id: str) -> InstanceState:
    return _readable(caller, ops, instance_id)


def history(caller: Caller, ops: Ops, instance_id: str) -> list[StoredEvent]:
    """What happened to the instance, from the event log, oldest first."""
    _readable(caller, ops, instance_id)
    return list(ops.runtime.history(instance_id))


def list_instances(
    caller: Caller,
    ops: Ops,
    *,
    process_key: str | None = None,
    business_key: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Instances the caller may read, newest first."""
    require(caller, Permission.PROCESS_READ)
    worked_by = None if sees_all(caller) else (caller.username, list(caller.groups))
    return desk.instance_page(
        ops.store,
        worked_by=worked_by,
        process_key=process_key,
        business_key=business_key,
        status=status,
        limit=limit,
        offset=offset,
    )


def start(
    caller: Caller,
    ops: Ops,
    process_key: str,
    variables: Mapping[str, Any],
    *,
    business_key: str | None = None,
) -> InstanceState:
    require(caller, Permission.PROCESS_START)
    return ops.runtime.start(
        process_key, variables, business_key=business_key, actor=caller.username
    )


def cancel(caller: Caller, ops: Ops, instance_id: str, reason: str | None) -> InstanceState:
    require(caller, Permission.PROCESS_ADMIN)
    return ops.runtime.cancel(instance_id, reason or f"cancelled by {caller.username}")


def set_variables(
    caller: Caller, ops: Ops, instance_id: str, variables: Mapping[str, Any]
) -> InstanceState:
    require(caller, Permission.PROCESS_ADMIN)
    return ops.runtime.set_variables(instance_id, variables, actor=caller.username)


def retry_incident(
    caller: Caller, ops: Ops, instance_id: str, incident_id: str, retries: int | None
) -> InstanceState:
    require(caller, Permission.PROCESS_ADMIN)
    return ops.runtime.resolve_incident(instance_id, incident_id, retries=retries)


def open_items(caller: Caller, ops: Ops, state: InstanceState) -> list[dict[str, Any]]:
    """The instance's open work items (the caller already read the instance)."""
    if state.status != "active":
        return []
    return ops.runtime.work_items(instance_id=state.id)
