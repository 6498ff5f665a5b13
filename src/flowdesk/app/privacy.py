"""Data-subject requests: export everything held about a customer, erase a customer (both
for administrators; flowdesk.contacts.privacy does the work)."""

from __future__ import annotations

from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.contacts import privacy
from flowdesk.core.errors import FlowdeskError


class InvalidRequest(FlowdeskError):
    code = "invalid-input"


def export_customer(caller: Caller, ops: Ops, customer_id: str) -> dict[str, Any]:
    require(caller, Permission.PRIVACY_ADMIN)
    return privacy.export_customer(ops.store, customer_id)


def erase_customer(caller: Caller, ops: Ops, customer_id: str, reason: str) -> dict[str, int]:
    require(caller, Permission.PRIVACY_ADMIN)
    if not reason.strip():
        raise InvalidRequest("say why the customer is erased (the audit record keeps it)")
    return privacy.erase_customer(
        ops.store, ops.clock.now(), customer_id, actor=caller.username, reason=reason.strip()
    )


def retention_of(company_file: str | None) -> privacy.Retention:
    """The retention periods of the company file (defaults without one)."""
    return privacy.Retention.from_file(company_file)
