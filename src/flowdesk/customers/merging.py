"""Merging two customers found to be one person, and undoing it, with an audit trail.

A merge moves the merged customer's identities to the survivor, fills the survivor's empty
profile fields from the merged one, and marks the merged customer "merged" (its row stays, so
old events and references still resolve). The audit row records exactly what moved and what was
filled, so an unmerge restores both sides: the identities go back, the filled fields are
cleared again unless someone has changed them since.

Preferences and consents stay with the customer they were given for: consent to be contacted is
a statement about one record, and is not silently carried over to another.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flowdesk.core.clock import Clock
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.customers.models import customer_identities, customer_merges, customers
from flowdesk.customers.profile import PROFILE_FIELDS
from flowdesk.customers.views import MergeRecord, merge_record
from flowdesk.store import UnitOfWork


def _load(uow: UnitOfWork, customer_id: str, role: str) -> Any:
    row = uow.connection.execute(
        select(customers).where(customers.c.id == customer_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no customer {customer_id!r} to merge ({role})")
    if row.status == "merged":
        raise ConflictError(
            f"customer {customer_id} ({role}) was already merged into {row.merged_into}"
        )
    return row


def merge_customers(
    *,
    uow: UnitOfWork,
    clock: Clock,
    survivor_id: str,
    merged_id: str,
    reason: str | None = None,
    actor: str | None = None,
    ids: IdGenerator | None = None,
) -> MergeRecord:
    """Merge `merged_id` into `survivor_id`; returns the audit record (undo with `unmerge`)."""
    if survivor_id == merged_id:
        raise ConflictError("a customer cannot be merged into itself")
    survivor = _load(uow, survivor_id, "survivor")
    merged = _load(uow, merged_id, "merged")
    now = clock.now()
    moved = list(
        uow.connection.execute(
            select(customer_identities.c.id)
            .where(customer_identities.c.customer_id == merged_id)
            .order_by(customer_identities.c.id)
        ).scalars()
    )
    filled = {
        field: getattr(merged, field)
        for field in PROFILE_FIELDS
        if getattr(survivor, field) is None and getattr(merged, field) is not None
    }
    if moved:
        uow.connection.execute(
            customer_identities.update()
            .where(customer_identities.c.id.in_(moved))
            .values(customer_id=survivor_id)
        )
    survivor_values: dict[str, Any] = dict(filled)
    if "family_name" in filled:
        survivor_values["name_key"] = merged.name_key
    uow.connection.execute(
        customers.update()
        .where(customers.c.id == survivor_id)
        .values(version=survivor.version + 1, updated_at=now, **survivor_values)
    )
    uow.connection.execute(
        customers.update()
        .where(customers.c.id == merged_id)
        .values(
            status="merged",
            merged_into=survivor_id,
            review_required=False,
            version=merged.version + 1,
            updated_at=now,
        )
    )
    merge_id = (ids or UuidIds()).new_id()
    json_filled = {k: (str(v) if k == "value" else v) for k, v in filled.items()}
    uow.connection.execute(
        customer_merges.insert().values(
            id=merge_id,
            survivor_id=survivor_id,
            merged_id=merged_id,
            status="merged",
            merged_status=merged.status,
            reason=reason,
            actor=actor,
            moved_identities=moved,
            filled_fields=json_filled,
            merged_at=now,
        )
    )
    uow.append(
        NewEvent(
            EventType.CUSTOMER_MERGED,
            now,
            {
                "merge_id": merge_id,
                "survivor_id": survivor_id,
                "merged_id": merged_id,
                "moved_identities": moved,
                "filled_fields": sorted(filled),
                "reason": reason,
            },
            customer_id=survivor_id,
            actor=actor,
        )
    )
    return _record(uow, merge_id)


def _record(uow: UnitOfWork, merge_id: str) -> MergeRecord:
    row = uow.connection.execute(
        select(customer_merges).where(customer_merges.c.id == merge_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no merge {merge_id!r}")
    return merge_record(row)


def unmerge(
    *,
    uow: UnitOfWork,
    clock: Clock,
    merge_id: str,
    actor: str | None = None,
    reason: str | None = None,
) -> MergeRecord:
    """Undo a merge: identities move back, filled fields are cleared, the customer returns.

    Identities added to the survivor after the merge stay with it. A field filled by the merge
    and changed since is left as it is (the event lists it as kept).
    """
    record = _record(uow, merge_id)
    if record.status != "merged":
        raise ConflictError(f"merge {merge_id} was already undone at {record.unmerged_at}")
    merged = uow.connection.execute(
        select(customers).where(customers.c.id == record.merged_id)
    ).one()
    if merged.merged_into != record.survivor_id:  # pragma: no cover - only a merge sets it
        raise ConflictError(f"customer {record.merged_id} is no longer merged by {merge_id}")
    audit = uow.connection.execute(
        select(customer_merges.c.merged_status).where(customer_merges.c.id == merge_id)
    ).scalar_one()
    now = clock.now()
    if record.moved_identities:
        uow.connection.execute(
            customer_identities.update()
            .where(customer_identities.c.id.in_(list(record.moved_identities)))
            .values(customer_id=record.merged_id)
        )
    survivor = uow.connection.execute(
        select(customers).where(customers.c.id == record.survivor_id)
    ).one()
    cleared: list[str] = []
    kept: list[str] = []
    for field, value in record.filled_fields.items():
        current = getattr(survivor, field)
        same = str(current) == str(value) if field == "value" else current == value
        (cleared if same else kept).append(field)
    survivor_values: dict[str, Any] = dict.fromkeys(cleared)
    if "family_name" in cleared:
        survivor_values["name_key"] = None
    uow.connection.execute(
        customers.update()
        .where(customers.c.id == record.survivor_id)
        .values(version=survivor.version + 1, updated_at=now, **survivor_values)
    )
    uow.connection.execute(
        customers.update()
        .where(customers.c.id == record.merged_id)
        .values(
            status=audit,
            merged_into=None,
            review_required=audit == "provisional",
            version=merged.version + 1,
            updated_at=now,
        )
    )
    uow.connection.execute(
        customer_merges.update()
        .where(customer_merges.c.id == merge_id)
        .values(status="undone", unmerged_at=now, unmerged_by=actor)
    )
    uow.append(
        NewEvent(
            EventType.CUSTOMER_UNMERGED,
            now,
            {
                "merge_id": merge_id,
                "survivor_id": record.survivor_id,
                "merged_id": record.merged_id,
                "restored_identities": list(record.moved_identities),
                "cleared_fields": sorted(cleared),
                "kept_fields": sorted(kept),
                "reason": reason,
            },
            customer_id=record.survivor_id,
            actor=actor,
        )
    )
    return _record(uow, merge_id)
