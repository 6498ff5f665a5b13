from __future__ import annotations

from decimal import Decimal

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.core.ids import SequentialIds
from flowdesk.customers import service
from flowdesk.customers.errors import IdentityTakenError, InvalidIdentifierError
from flowdesk.customers.profile import InvalidFieldError
from flowdesk.customers.views import get_consents, get_customer, get_preferences
from flowdesk.store import Store


def _create(store: Store, clock: FixedClock, **kwargs: object) -> service.Customer:
    with store.unit_of_work() as uow:
        return service.create_customer(uow=uow, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_create_customer_normalises_identities_and_logs_events(
    store: Store, clock: FixedClock
) -> None:
    customer = _create(
        store,
        clock,
        ids=SequentialIds("c"),
        profile={"given_name": " Jane ", "family_name": "Doe", "birth_date": "19850423"},
        identities=[("email", "Jane.Doe@Example.com"), ("phone", "020 7946 0958")],
        default_region="GB",
        actor="agent-7",
    )
    assert customer.id == "c-1"
    assert customer.status == "active" and not customer.review_required
    assert customer.given_name == "Jane" and customer.birth_date == "1985-04-23"
    assert sorted((i.kind, i.value) for i in customer.identities) == [
        ("email", "jane.doe@example.com"),
        ("phone", "+442079460958"),
    ]
    events = store.events.where(customer_id="c-1")
    assert [e.type for e in events] == [
        "customer.created",
        "customer.identity_added",
        "customer.identity_added",
    ]
    assert events[0].actor == "agent-7"
    assert events[0].data["profile"]["family_name"] == "Doe"
    assert events[1].data["value"] == "jane.doe@example.com"


def test_an_identity_belongs_to_one_customer_only(store: Store, clock: FixedClock) -> None:
    first = _create(store, clock, identities=[("email", "jane@example.com")])
    head = store.events.head()
    with pytest.raises(IdentityTakenError, match=first.id):
        _create(store, clock, identities=[("email", " JANE@example.com")])
    other = _create(store, clock, profile={"given_name": "Other"})
    with pytest.raises(IdentityTakenError), store.unit_of_work() as uow:
        service.add_identity(
            uow=uow, clock=clock, customer_id=other.id, kind="email", value="Jane@Example.com"
        )
    # the failed commands wrote nothing; adding a customer's own identity again is a no-op
    assert store.events.head() == head + 1
    with store.unit_of_work() as uow:
        again = service.add_identity(
            uow=uow, clock=clock, customer_id=first.id, kind="email", value="jane@EXAMPLE.com"
        )
    assert again.customer_id == first.id
    assert store.events.head() == head + 1


def test_the_database_enforces_identity_uniqueness(store: Store, clock: FixedClock) -> None:
    from sqlalchemy.exc import IntegrityError

    from flowdesk.customers.models import customer_identities

    customer = _create(store, clock, identities=[("account", "AC-1")])
    with pytest.raises(IntegrityError), store.unit_of_work() as uow:
        uow.connection.execute(
            customer_identities.insert().values(
                id="dup",
                customer_id=customer.id,
                kind="account",
                value="AC-1",
                verified=False,
                created_at=clock.now(),
            )
        )


def test_invalid_input_is_rejected_before_anything_is_written(
    store: Store, clock: FixedClock
) -> None:
    head = store.events.head()
    with pytest.raises(InvalidIdentifierError, match="phone"):
        _create(store, clock, identities=[("email", "a@example.com"), ("phone", "12")])
    with pytest.raises(InvalidFieldError, match="birth_date"):
        _create(store, clock, profile={"birth_date": "23/04/1985"})
    with pytest.raises(InvalidFieldError, match="not a customer field"):
        _create(store, clock, profile={"shoe_size": "42"})
    assert store.events.head() == head
    with store.reading() as conn:
        assert service.find_by_identity(connection=conn, kind="email", value="a@example.com") is (
            None
        )


def test_find_by_identity_uses_the_normalised_form(store: Store, clock: FixedClock) -> None:
    customer = _create(store, clock, identities=[("phone", "+44 20 7946 0958")])
    with store.reading() as conn:
        found = service.find_by_identity(
            connection=conn, kind="phone", value="020 7946 0958", default_region="GB"
        )
        assert found is not None and found.id == customer.id
        assert service.find_by_identity(connection=conn, kind="phone", value="+4930901820") is None


def test_update_customer_versions_and_records_the_change(store: Store, clock: FixedClock) -> None:
    customer = _create(store, clock, profile={"family_name": "Doe", "value": "10"})
    assert customer.value == Decimal("10.00")
    clock.advance(minutes=1)
    with store.unit_of_work() as uow:
        updated = service.update_customer(
            uow=uow,
            clock=clock,
            customer_id=customer.id,
            changes={"family_name": "Smith", "segment": "gold"},
            expected_version=1,
        )
    assert updated.version == 2 and updated.family_name == "Smith"
    assert updated.updated_at > customer.updated_at
    event = store.events.where(customer_id=customer.id)[-1]
    assert event.type == "customer.updated"
    assert event.data["changes"]["family_name"] == {"from": "Doe", "to": "Smith"}
    with pytest.raises(ConflictError, match="version 2, not 1"), store.unit_of_work() as uow:
        service.update_customer(
            uow=uow,
            clock=clock,
            customer_id=customer.id,
            changes={"segment": "x"},
            expected_version=1,
        )
    with pytest.raises(NotFoundError), store.unit_of_work() as uow:
        service.update_customer(uow=uow, clock=clock, customer_id="nobody", changes={})


def test_preferences_and_consent(store: Store, clock: FixedClock) -> None:
    customer = _create(store, clock)
    with store.unit_of_work() as uow:
        service.set_preferences(
            uow=uow,
            clock=clock,
            customer_id=customer.id,
            preferences={
                "channel": "SMS",
                "language": "de-CH",
                "quiet_start": "21:30",
                "quiet_end": "07:00",
                "timezone": "Europe/Zurich",
            },
        )
        service.set_consent(
            uow=uow, clock=clock, customer_id=customer.id, channel="email", granted=True
        )
    with store.unit_of_work() as uow:
        service.set_consent(
            uow=uow,
            clock=clock,
            customer_id=customer.id,
            channel="email",
            granted=False,
            source="unsubscribe link",
        )
    with store.reading() as conn:
        prefs = get_preferences(conn, customer.id)
        consents = get_consents(conn, customer.id)
    assert prefs is not None and prefs.channel == "sms" and prefs.quiet_end == "07:00"
    assert consents["email"].granted is False and consents["email"].source == "unsubscribe link"
    types = [e.type for e in store.events.where(customer_id=customer.id)]
    assert types[-3:] == [
        "customer.preferences_set",
        "customer.consent_set",
        "customer.consent_set",
    ]
    for bad in (
        {"quiet_start": "25:00", "quiet_end": "07:00"},
        {"quiet_start": "21:00"},
        {"timezone": "Mars/Olympus"},
        {"channel": "pigeon"},
        {"language": "english!"},
    ):
        with pytest.raises(InvalidFieldError), store.unit_of_work() as uow:
            service.set_preferences(uow=uow, clock=clock, customer_id=customer.id, preferences=bad)


def test_a_provisional_customer_is_flagged_until_reviewed(store: Store, clock: FixedClock) -> None:
    customer = _create(store, clock, status="provisional", identities=[("email", "x@example.org")])
    assert customer.review_required and customer.review_reason
    with store.unit_of_work() as uow:
        reviewed = service.mark_reviewed(uow=uow, clock=clock, customer_id=customer.id)
    assert reviewed.status == "active" and not reviewed.review_required
    with store.reading() as conn:
        assert get_customer(conn, customer.id).version == 2
