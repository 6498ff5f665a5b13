"""Customers, identities, preferences and consents: the use cases that create and change them.

Every function is keyword-only and takes `uow` (a `flowdesk.store.UnitOfWork`) and a `clock`;
the state change and its event commit together or not at all. Ids come from `ids` (random UUIDs
unless a test passes a predictable generator). Import these through `customers.service`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from flowdesk.core.clock import Clock
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.customers.errors import IdentityTakenError
from flowdesk.customers.models import (
    customer_consents,
    customer_identities,
    customer_preferences,
    customers,
)
from flowdesk.customers.normalize import normalize_identifier, parse_kind
from flowdesk.customers.profile import (
    clean_channel,
    clean_preferences,
    clean_profile,
)
from flowdesk.customers.resolution.blocking import name_key
from flowdesk.customers.resolution.records import clean_text
from flowdesk.customers.views import (
    Customer,
    Identity,
    customers_by_ids,
    get_customer,
    resolve_survivor,
)
from flowdesk.store import UnitOfWork
from flowdesk.store.hotpath import driver_io

STATUSES = ("active", "provisional", "merged")


@dataclass(frozen=True, slots=True)
class IdentityInput:
    """An identifier as given by a user or a channel, before normalisation."""

    kind: str
    value: str
    verified: bool = False


IdentityLike = IdentityInput | tuple[str, str]


def _as_input(item: IdentityLike) -> IdentityInput:
    return item if isinstance(item, IdentityInput) else IdentityInput(item[0], item[1])


def _ids(ids: IdGenerator | None) -> IdGenerator:
    return ids if ids is not None else UuidIds()


def _event_value(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | bool) else str(value)


# Built once: every contact looks its sender up (building a Core statement costs more than
# running it).
_OWNER = select(customer_identities.c.customer_id).where(
    customer_identities.c.kind == bindparam("kind"),
    customer_identities.c.value == bindparam("value"),
)
# Straight to the driver (store/hotpath.py): every contact runs it, and through Core it cost
# about 90 µs of Python for the driver's 5.
_OWNER_AND_MERGE = (
    "SELECT i.customer_id, c.merged_into FROM customer_identities i "
    "LEFT JOIN customers c ON c.id = i.customer_id WHERE i.kind = ? AND i.value = ?"
)
_INSERT_IDENTITY = customer_identities.insert()
_INSERT_CUSTOMER = customers.insert()


def identity_owner(connection: Connection, kind: str, value: str) -> str | None:
    """The id of the customer holding the normalised identifier (no merge-following)."""
    return connection.execute(_OWNER, {"kind": kind, "value": value}).scalar_one_or_none()


def identity_survivor(connection: Connection, kind: str, value: str) -> str | None:
    """The customer that now stands for the holder of the identifier (merges followed): one
    query with the holder's `merged_into`, a second only when it was merged."""
    io = driver_io(connection)
    found = io.one(connection, io.sql(_OWNER_AND_MERGE), (kind, value))
    if found is None:
        return None
    owner, merged_into = found
    return str(owner) if merged_into is None else resolve_survivor(connection, merged_into)


def insert_identity(
    connection: Connection,
    clock: Clock,
    ids: IdGenerator,
    customer_id: str,
    kind: str,
    value: str,
    raw: str,
    verified: bool,
) -> tuple[Identity, NewEvent]:
    """Insert an identity row; the caller appends the returned event once all inserts succeeded.

    The unique (kind, value) constraint is the last word on ownership: if a concurrent command
    took the identifier first, this raises IntegrityError before any event was appended.
    """
    identity = Identity(
        id=ids.new_id(),
        customer_id=customer_id,
        kind=kind,
        value=value,
        raw=raw,
        verified=verified,
        created_at=clock.now(),
    )
    connection.execute(
        _INSERT_IDENTITY,
        {
            "id": identity.id,
            "customer_id": customer_id,
            "kind": kind,
            "value": value,
            "raw": raw[:400],
            "verified": verified,
            "created_at": identity.created_at,
        },
    )
    event = NewEvent(
        EventType.CUSTOMER_IDENTITY_ADDED,
        identity.created_at,
        {"identity_id": identity.id, "kind": kind, "value": value, "verified": verified},
        customer_id=customer_id,
    )
    return identity, event


def create_customer(
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator | None = None,
    profile: Mapping[str, Any] | None = None,
    identities: Sequence[IdentityLike] = (),
    status: str = "active",
    review_reason: str | None = None,
    default_region: str | None = None,
    actor: str | None = None,
    channel: str | None = None,
) -> Customer:
    """A new customer with its identities; a taken identifier fails the whole command.

    A provisional customer (an unknown sender) is always flagged for review.
    """
    customer_id = add_customer(
        uow=uow,
        clock=clock,
        ids=ids,
        profile=profile,
        identities=identities,
        status=status,
        review_reason=review_reason,
        default_region=default_region,
        actor=actor,
        channel=channel,
    )
    return get_customer(uow.connection, customer_id, follow_merges=False)


def add_customer(
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator | None = None,
    profile: Mapping[str, Any] | None = None,
    identities: Sequence[IdentityLike] = (),
    status: str = "active",
    review_reason: str | None = None,
    default_region: str | None = None,
    actor: str | None = None,
    channel: str | None = None,
) -> str:
    """`create_customer` without reading the new customer back: its id (intake makes one for
    every unknown sender and needs no more)."""
    if status not in ("active", "provisional"):
        raise ValueError(f"a new customer is active or provisional, not {status!r}")
    generator = _ids(ids)
    fields = clean_profile(profile or {})
    normalised = []
    for item in map(_as_input, identities):
        kind = parse_kind(item.kind).value
        value = normalize_identifier(kind, item.value, default_region=default_region)
        owner = identity_owner(uow.connection, kind, value)
        if owner is not None:
            raise IdentityTakenError(kind, value, owner)
        normalised.append((kind, value, item))
    now = clock.now()
    customer_id = generator.new_id()
    review = status == "provisional" or review_reason is not None
    if status == "provisional" and review_reason is None:
        review_reason = "provisional customer: confirm or merge"
    if review_reason is not None:
        review_reason = review_reason[:200]
    uow.connection.execute(
        _INSERT_CUSTOMER,
        {
            **fields,
            "id": customer_id,
            "status": status,
            "review_required": review,
            "review_reason": review_reason,
            "name_key": name_key(clean_text(fields.get("family_name"))) or None,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        },
    )
    events = [
        NewEvent(
            EventType.CUSTOMER_CREATED,
            now,
            {
                "status": status,
                "profile": {k: _event_value(v) for k, v in fields.items() if v is not None},
                "review_reason": review_reason,
            },
            customer_id=customer_id,
            actor=actor,
            channel=channel,
        )
    ]
    seen: set[tuple[str, str]] = set()
    for kind, value, item in normalised:
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        _, event = insert_identity(
            uow.connection, clock, generator, customer_id, kind, value, item.value, item.verified
        )
        events.append(event)
    if review:
        events.append(
            NewEvent(
                EventType.CUSTOMER_REVIEW_REQUESTED,
                now,
                {"reason": review_reason},
                customer_id=customer_id,
                channel=channel,
            )
        )
    uow.append(*events)
    return customer_id


def _live_row(connection: Connection, customer_id: str) -> Any:
    row = connection.execute(select(customers).where(customers.c.id == customer_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no customer {customer_id!r}")
    if row.status == "merged":
        raise ConflictError(
            f"customer {customer_id} was merged into {row.merged_into}; change that one"
        )
    return row


def update_customer(
    *,
    uow: UnitOfWork,
    clock: Clock,
    customer_id: str,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
    actor: str | None = None,
) -> Customer:
    """Change profile fields; `expected_version` guards against overwriting a newer edit."""
    row = _live_row(uow.connection, customer_id)
    if expected_version is not None and row.version != expected_version:
        raise ConflictError(
            f"customer {customer_id} is at version {row.version}, not {expected_version}; "
            "reload it and apply the change again"
        )
    fields = clean_profile(changes)
    diff = {k: v for k, v in fields.items() if getattr(row, k) != v}
    if not diff:
        return get_customer(uow.connection, customer_id)
    values: dict[str, Any] = dict(diff)
    if "family_name" in diff:
        values["name_key"] = name_key(clean_text(diff["family_name"])) or None
    now = clock.now()
    result = uow.connection.execute(
        customers.update()
        .where(customers.c.id == customer_id, customers.c.version == row.version)
        .values(version=row.version + 1, updated_at=now, **values)
    )
    if result.rowcount != 1:  # pragma: no cover - a concurrent writer won the race
        raise ConflictError(f"customer {customer_id} was changed concurrently; try again")
    uow.append(
        NewEvent(
            EventType.CUSTOMER_UPDATED,
            now,
            {
                "changes": {
                    k: {"from": _event_value(getattr(row, k)), "to": _event_value(v)}
                    for k, v in diff.items()
                },
                "version": row.version + 1,
            },
            customer_id=customer_id,
            actor=actor,
        )
    )
    return get_customer(uow.connection, customer_id)


def add_identity(
    *,
    uow: UnitOfWork,
    clock: Clock,
    customer_id: str,
    kind: str,
    value: str,
    verified: bool = False,
    ids: IdGenerator | None = None,
    default_region: str | None = None,
) -> Identity:
    """Attach an identifier; adding one the customer already has returns it unchanged."""
    _live_row(uow.connection, customer_id)
    kind = parse_kind(kind).value
    normalised = normalize_identifier(kind, value, default_region=default_region)
    owner = identity_owner(uow.connection, kind, normalised)
    if owner is not None:
        if owner != customer_id:
            raise IdentityTakenError(kind, normalised, owner)
        existing = uow.connection.execute(
            select(customer_identities).where(
                customer_identities.c.kind == kind, customer_identities.c.value == normalised
            )
        ).one()
        return Identity(
            existing.id,
            existing.customer_id,
            existing.kind,
            existing.value,
            existing.raw,
            bool(existing.verified),
            existing.created_at,
        )
    identity, event = insert_identity(
        uow.connection, clock, _ids(ids), customer_id, kind, normalised, value, verified
    )
    uow.append(event)
    return identity


def find_by_identity(
    *, connection: Connection, kind: str, value: str, default_region: str | None = None
) -> Customer | None:
    """The customer (after merges) holding this identifier, or None; bad input raises."""
    kind = parse_kind(kind).value
    normalised = normalize_identifier(kind, value, default_region=default_region)
    owner = identity_owner(connection, kind, normalised)
    if owner is None:
        return None
    return customers_by_ids(connection, [resolve_survivor(connection, owner)])[0]


def set_preferences(
    *, uow: UnitOfWork, clock: Clock, customer_id: str, preferences: Mapping[str, Any]
) -> None:
    """Set (and replace the given ones of) channel, language, quiet hours and time zone."""
    _live_row(uow.connection, customer_id)
    cleaned = clean_preferences(preferences)
    now = clock.now()
    exists = uow.connection.execute(
        select(customer_preferences.c.customer_id).where(
            customer_preferences.c.customer_id == customer_id
        )
    ).scalar_one_or_none()
    if exists is None:
        uow.connection.execute(
            customer_preferences.insert().values(customer_id=customer_id, updated_at=now, **cleaned)
        )
    else:
        uow.connection.execute(
            customer_preferences.update()
            .where(customer_preferences.c.customer_id == customer_id)
            .values(updated_at=now, **cleaned)
        )
    uow.append(
        NewEvent(EventType.CUSTOMER_PREFERENCES_SET, now, dict(cleaned), customer_id=customer_id)
    )


def set_consent(
    *,
    uow: UnitOfWork,
    clock: Clock,
    customer_id: str,
    channel: str,
    granted: bool,
    source: str | None = None,
) -> None:
    """Record consent (or its withdrawal) for one channel; the latest statement counts."""
    _live_row(uow.connection, customer_id)
    channel = clean_channel("channel", channel)
    now = clock.now()
    table = customer_consents
    key = (table.c.customer_id == customer_id) & (table.c.channel == channel)
    found = uow.connection.execute(select(table.c.channel).where(key)).scalar_one_or_none()
    values = {"granted": granted, "source": source, "updated_at": now}
    if found is None:
        uow.connection.execute(
            table.insert().values(customer_id=customer_id, channel=channel, **values)
        )
    else:
        uow.connection.execute(table.update().where(key).values(**values))
    uow.append(
        NewEvent(
            EventType.CUSTOMER_CONSENT_SET,
            now,
            {"channel": channel, "granted": granted, "source": source},
            customer_id=customer_id,
            channel=channel,
        )
    )


def mark_reviewed(
    *, uow: UnitOfWork, clock: Clock, customer_id: str, actor: str | None = None
) -> Customer:
    """A person checked a flagged customer: clear the flag, a provisional one becomes active."""
    row = _live_row(uow.connection, customer_id)
    now = clock.now()
    uow.connection.execute(
        customers.update()
        .where(customers.c.id == customer_id)
        .values(
            review_required=False,
            review_reason=None,
            status="active",
            version=row.version + 1,
            updated_at=now,
        )
    )
    uow.append(
        NewEvent(
            EventType.CUSTOMER_REVIEWED,
            now,
            {"previous_status": row.status},
            customer_id=customer_id,
            actor=actor,
        )
    )
    return get_customer(uow.connection, customer_id)
