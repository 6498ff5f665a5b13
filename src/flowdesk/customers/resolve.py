"""Who is this? Resolving a contact's identifiers (and what it says about the person).

1. Deterministic: normalised identifiers (email, phone, account ...) looked up exactly.
2. Probabilistic: with no identifier known, the name, birth date and address the contact gave
   are compared with the customers sharing a blocking key (family-name sound, birth date,
   postcode) under the Fellegi-Sunter contact model.
3. Otherwise a provisional customer is created with the identifiers and flagged for review,
   so the contact is never lost and a person can later confirm or merge it.

An identifier that cannot be normalised (an invalid phone number) does not fail the contact: it
is reported in `Resolution.rejected` and resolution goes on with the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, or_, select
from sqlalchemy.exc import IntegrityError

from flowdesk.core.clock import Clock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.customers.errors import InvalidIdentifierError
from flowdesk.customers.models import customers
from flowdesk.customers.normalize import normalize_identifier, parse_kind
from flowdesk.customers.profile import clean_profile
from flowdesk.customers.registry import (
    IdentityInput,
    IdentityLike,
    add_customer,
    identity_survivor,
    insert_identity,
)
from flowdesk.customers.resolution.blocking import name_key
from flowdesk.customers.resolution.compare import compare
from flowdesk.customers.resolution.defaults import (
    CONTACT_MODEL,
    MATCH_PROBABILITY,
    REVIEW_PROBABILITY,
)
from flowdesk.customers.resolution.records import PersonRecord
from flowdesk.customers.views import Customer, customers_by_ids
from flowdesk.store import UnitOfWork

#: Priority when identifiers point at different customers: the most specific one wins.
KIND_PRIORITY = ("account", "email", "phone", "social", "device")

#: Candidates compared per probabilistic search, at most.
MAX_CANDIDATES = 200

Method = Literal["identity", "probabilistic", "provisional", "unresolved"]


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class PersonMatch:
    customer: Customer
    probability: float


@dataclass(frozen=True, slots=True)
class Resolution:
    customer_id: str | None
    method: Method
    probability: float | None = None
    created: bool = False
    review_required: bool = False
    review_reason: str | None = None
    rejected: tuple[Rejected, ...] = ()
    candidates: tuple[tuple[str, float], ...] = ()


def person_record(key: str, person: Mapping[str, Any]) -> PersonRecord:
    """A resolution record from customer-style fields (given_name, family_name, street ...)."""
    return PersonRecord.from_raw(
        key,
        given_name=person.get("given_name"),
        family_name=person.get("family_name"),
        birth_date=person.get("birth_date"),
        street=person.get("street"),
        locality=person.get("locality"),
        postcode=person.get("postcode"),
        region=person.get("region"),
    )


def search_people(
    *, connection: Connection, person: Mapping[str, Any], limit: int = 10
) -> list[PersonMatch]:
    """Customers that may be this person, most probable first (probability > 0.01)."""
    fields = clean_profile({k: v for k, v in person.items() if v not in (None, "")})
    record = person_record("query", fields)
    keys = []
    if sound := name_key(record.family_name):
        keys.append(customers.c.name_key == sound)
    if fields.get("birth_date"):
        keys.append(customers.c.birth_date == fields["birth_date"])
    if fields.get("postcode"):
        keys.append(customers.c.postcode == fields["postcode"])
    if not keys:
        return []
    rows = connection.execute(
        select(customers.c.id)
        .where(or_(*keys), customers.c.status != "merged")
        .limit(MAX_CANDIDATES)
    ).scalars()
    scored = []
    for candidate in customers_by_ids(connection, list(rows)):
        other = person_record(candidate.id, _profile_of(candidate))
        probability = CONTACT_MODEL.probability(compare(record, other))
        if probability > 0.01:
            scored.append(PersonMatch(candidate, probability))
    scored.sort(key=lambda m: (-m.probability, m.customer.id))
    return scored[:limit]


def _profile_of(customer: Customer) -> dict[str, Any]:
    return {
        "given_name": customer.given_name,
        "family_name": customer.family_name,
        "birth_date": customer.birth_date,
        "street": customer.street,
        "locality": customer.locality,
        "postcode": customer.postcode,
        "region": customer.region,
    }


def resolve_contact(
    *,
    uow: UnitOfWork,
    clock: Clock,
    identifiers: Sequence[IdentityLike],
    person: Mapping[str, Any] | None = None,
    channel: str | None = None,
    default_region: str | None = None,
    create_provisional: bool = True,
    ids: IdGenerator | None = None,
) -> Resolution:
    """The customer behind a contact; creates a provisional one for an unknown sender.

    Two contacts from one unknown sender may arrive at once. The unique (kind, value) index
    decides: the second one's insert fails inside a savepoint, and it resolves, by identity,
    to the provisional customer the first one created.
    """
    generator = ids or UuidIds()
    valid: list[tuple[str, str, IdentityInput]] = []
    rejected: list[Rejected] = []
    for item in identifiers:
        given = item if isinstance(item, IdentityInput) else IdentityInput(item[0], item[1])
        try:
            kind = parse_kind(given.kind).value
            value = normalize_identifier(kind, given.value, default_region=default_region)
        except InvalidIdentifierError as exc:
            rejected.append(Rejected(given.kind, given.value, str(exc)))
            continue
        valid.append((kind, value, given))
    known = _by_identity(uow, clock, valid, tuple(rejected), channel)
    if known is not None:
        return known
    conn = uow.connection
    matches = search_people(connection=conn, person=person or {}, limit=5) if person else []
    best = matches[0] if matches else None
    if best is not None and best.probability >= MATCH_PROBABILITY:
        for kind, value, given in valid:  # learnt, unverified: next time it is deterministic
            try:
                with conn.begin_nested():
                    _, event = insert_identity(
                        conn, clock, generator, best.customer.id, kind, value, given.value, False
                    )
            except IntegrityError:
                continue  # a concurrent command attached it first
            uow.append(event)
        return Resolution(
            best.customer.id,
            "probabilistic",
            probability=best.probability,
            rejected=tuple(rejected),
            candidates=tuple((m.customer.id, m.probability) for m in matches),
        )
    if not create_provisional:
        return Resolution(
            None,
            "unresolved",
            rejected=tuple(rejected),
            candidates=tuple((m.customer.id, m.probability) for m in matches),
        )
    possible = [m for m in matches if m.probability >= REVIEW_PROBABILITY]
    if possible:
        reason = "possible duplicate of " + ", ".join(
            f"{m.customer.id} (p={m.probability:.2f})" for m in possible
        )
    else:
        reason = f"unknown sender{' on ' + channel if channel else ''}"
    profile = clean_profile({k: v for k, v in (person or {}).items() if v not in (None, "")})
    try:
        with conn.begin_nested():
            created = add_customer(
                uow=uow,
                clock=clock,
                ids=generator,
                profile=profile,
                identities=[given for _, _, given in valid],
                status="provisional",
                review_reason=reason,
                default_region=default_region,
                channel=channel,
            )
    except IntegrityError:
        raced = _by_identity(uow, clock, valid, tuple(rejected), channel)
        if raced is None:  # pragma: no cover - the conflict was not on an identity
            raise
        return raced
    return Resolution(
        created,
        "provisional",
        created=True,
        review_required=True,
        review_reason=reason,
        rejected=tuple(rejected),
        candidates=tuple((m.customer.id, m.probability) for m in possible),
    )


def _by_identity(
    uow: UnitOfWork,
    clock: Clock,
    valid: list[tuple[str, str, IdentityInput]],
    rejected: tuple[Rejected, ...],
    channel: str | None,
) -> Resolution | None:
    """Deterministic resolution; identifiers of several customers flag them all for review."""
    conn = uow.connection
    owners: dict[str, str] = {}  # kind -> survivor id (first identifier of each kind)
    for kind, value, _ in valid:
        if kind not in owners:
            owner = identity_survivor(conn, kind, value)
            if owner is not None:
                owners[kind] = owner
    if not owners:
        return None
    ranked = sorted(owners.items(), key=lambda kv: KIND_PRIORITY.index(kv[0]))
    chosen = ranked[0][1]
    others = sorted({cid for _, cid in ranked} - {chosen})
    reason = None
    if others:
        reason = f"identifiers of one contact belong to customers {chosen}, {', '.join(others)}"
        _flag(uow, clock, [chosen, *others], reason, channel)
    return Resolution(
        chosen,
        "identity",
        probability=1.0,
        review_required=reason is not None,
        review_reason=reason,
        rejected=rejected,
        candidates=tuple((cid, 1.0) for cid in others),
    )


def _flag(
    uow: UnitOfWork, clock: Clock, customer_ids: list[str], reason: str, channel: str | None
) -> None:
    now = clock.now()
    for customer_id in customer_ids:
        uow.connection.execute(
            customers.update()
            .where(customers.c.id == customer_id)
            .values(review_required=True, review_reason=reason[:200], updated_at=now)
        )
        uow.append(
            NewEvent(
                EventType.CUSTOMER_REVIEW_REQUESTED,
                now,
                {"reason": reason},
                customer_id=customer_id,
                channel=channel,
            )
        )
