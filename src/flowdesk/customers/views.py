"""What the customers domain hands out (frozen views), and the queries that build them.

Callers never see table rows: a `Customer` carries its identities, so a 360 panel or a contact
needs one call. Reads take a plain connection, so they work inside a unit of work
(`uow.connection`) as well as in a read-only snapshot (`store.reading()`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, select

from flowdesk.core.errors import NotFoundError
from flowdesk.customers.models import (
    customer_consents,
    customer_identities,
    customer_merges,
    customer_preferences,
    customers,
)

#: How many merge hops `resolve_survivor` follows before giving up (guards against a cycle).
MAX_MERGE_CHAIN = 32


@dataclass(frozen=True, slots=True)
class Identity:
    id: str
    customer_id: str
    kind: str
    value: str
    raw: str | None
    verified: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    status: str  # active | provisional | merged
    review_required: bool
    review_reason: str | None
    merged_into: str | None
    display_name: str | None
    given_name: str | None
    family_name: str | None
    birth_date: str | None
    street: str | None
    locality: str | None
    postcode: str | None
    region: str | None
    country: str | None
    segment: str | None
    value: Decimal | None
    version: int
    created_at: datetime
    updated_at: datetime
    identities: tuple[Identity, ...] = ()

    def identity_values(self, kind: str) -> list[str]:
        return [i.value for i in self.identities if i.kind == kind]

    @property
    def name(self) -> str:
        """A name to show: display name, else given + family name, else the id."""
        if self.display_name:
            return self.display_name
        parts = [p for p in (self.given_name, self.family_name) if p]
        return " ".join(parts) if parts else self.id


@dataclass(frozen=True, slots=True)
class Preferences:
    customer_id: str
    channel: str | None
    language: str | None
    quiet_start: str | None
    quiet_end: str | None
    timezone: str | None


@dataclass(frozen=True, slots=True)
class Consent:
    channel: str
    granted: bool
    source: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """One merge in the audit trail; `status` becomes "undone" once unmerged."""

    id: str
    survivor_id: str
    merged_id: str
    status: str
    reason: str | None
    actor: str | None
    moved_identities: tuple[str, ...]
    filled_fields: dict[str, Any]
    merged_at: datetime
    unmerged_at: datetime | None
    unmerged_by: str | None


_CUSTOMER_FIELDS = tuple(c.name for c in customers.columns if c.name != "name_key")


def _identity(row: Row[Any]) -> Identity:
    return Identity(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        value=row.value,
        raw=row.raw,
        verified=bool(row.verified),
        created_at=row.created_at,
    )


def identities_of(connection: Connection, customer_ids: Sequence[str]) -> dict[str, list[Identity]]:
    out: dict[str, list[Identity]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    query = (
        select(customer_identities)
        .where(customer_identities.c.customer_id.in_(list(customer_ids)))
        .order_by(customer_identities.c.created_at, customer_identities.c.id)
    )
    for row in connection.execute(query):
        out[row.customer_id].append(_identity(row))
    return out


def customers_by_ids(connection: Connection, customer_ids: Sequence[str]) -> list[Customer]:
    """The customers with these ids, in the given order (unknown ids are left out)."""
    if not customer_ids:
        return []
    rows = {
        r.id: r
        for r in connection.execute(select(customers).where(customers.c.id.in_(customer_ids)))
    }
    found = [cid for cid in dict.fromkeys(customer_ids) if cid in rows]
    idents = identities_of(connection, found)
    result = []
    for cid in found:
        row = rows[cid]
        values = {name: getattr(row, name) for name in _CUSTOMER_FIELDS}
        values["review_required"] = bool(values["review_required"])
        result.append(Customer(**values, identities=tuple(idents[cid])))
    return result


def resolve_survivor(connection: Connection, customer_id: str) -> str:
    """Follow `merged_into` links to the customer that now stands for `customer_id`."""
    current = customer_id
    for _ in range(MAX_MERGE_CHAIN):
        target = connection.execute(
            select(customers.c.merged_into).where(customers.c.id == current)
        ).scalar_one_or_none()
        if target is None:
            return current
        current = target
    raise NotFoundError(f"customer {customer_id} is merged in a chain longer than allowed")


def get_customer(
    connection: Connection, customer_id: str, *, follow_merges: bool = True
) -> Customer:
    """The customer with this id (or, by default, the one it was merged into)."""
    exists = connection.execute(
        select(customers.c.id).where(customers.c.id == customer_id)
    ).scalar_one_or_none()
    if exists is None:
        raise NotFoundError(f"no customer {customer_id!r}")
    target = resolve_survivor(connection, customer_id) if follow_merges else customer_id
    return customers_by_ids(connection, [target])[0]


def get_preferences(connection: Connection, customer_id: str) -> Preferences | None:
    row = connection.execute(
        select(customer_preferences).where(customer_preferences.c.customer_id == customer_id)
    ).one_or_none()
    if row is None:
        return None
    return Preferences(
        customer_id=row.customer_id,
        channel=row.channel,
        language=row.language,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        timezone=row.timezone,
    )


def get_consents(connection: Connection, customer_id: str) -> dict[str, Consent]:
    query = select(customer_consents).where(customer_consents.c.customer_id == customer_id)
    return {
        r.channel: Consent(r.channel, bool(r.granted), r.source, r.updated_at)
        for r in connection.execute(query)
    }


def merge_record(row: Row[Any]) -> MergeRecord:
    return MergeRecord(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        status=row.status,
        reason=row.reason,
        actor=row.actor,
        moved_identities=tuple(row.moved_identities),
        filled_fields=dict(row.filled_fields),
        merged_at=row.merged_at,
        unmerged_at=row.unmerged_at,
        unmerged_by=row.unmerged_by,
    )


def merge_history(connection: Connection, customer_id: str) -> list[MergeRecord]:
    """Every merge this customer took part in, as survivor or as the merged one, oldest first."""
    query = (
        select(customer_merges)
        .where(
            (customer_merges.c.survivor_id == customer_id)
            | (customer_merges.c.merged_id == customer_id)
        )
        .order_by(customer_merges.c.merged_at, customer_merges.c.id)
    )
    return [merge_record(r) for r in connection.execute(query)]
