from __future__ import annotations

from flowdesk.core.clock import FixedClock
from flowdesk.customers import service
from flowdesk.customers.resolve import resolve_contact, search_people
from flowdesk.customers.views import get_customer
from flowdesk.store import Store

JANE = {
    "given_name": "Jane",
    "family_name": "Doe",
    "birth_date": "1985-04-23",
    "street": "12 Pinkerton Circuit",
    "postcode": "4560",
    "locality": "Richlands",
}


def _jane(store: Store, clock: FixedClock) -> service.Customer:
    with store.unit_of_work() as uow:
        return service.create_customer(
            uow=uow,
            clock=clock,
            profile=JANE,
            identities=[("email", "jane@example.com"), ("phone", "+442079460958")],
        )


def test_known_identifier_resolves_deterministically(store: Store, clock: FixedClock) -> None:
    jane = _jane(store, clock)
    head = store.events.head()
    with store.unit_of_work() as uow:
        result = resolve_contact(
            uow=uow,
            clock=clock,
            identifiers=[("phone", "020 7946 0958")],
            default_region="GB",
            channel="phone",
        )
    assert (result.customer_id, result.method, result.created) == (jane.id, "identity", False)
    assert not result.review_required
    assert store.events.head() == head  # reading who it is changes nothing


def test_unknown_sender_becomes_a_provisional_customer_flagged_for_review(
    store: Store, clock: FixedClock
) -> None:
    _jane(store, clock)
    with store.unit_of_work() as uow:
        result = resolve_contact(
            uow=uow,
            clock=clock,
            identifiers=[("email", "Stranger@Example.org"), ("phone", "not a number")],
            channel="email",
        )
    assert result.method == "provisional" and result.created and result.review_required
    assert result.review_reason == "unknown sender on email"
    assert [r.kind for r in result.rejected] == ["phone"]
    assert "not a phone number" in result.rejected[0].reason
    assert result.customer_id is not None
    with store.reading() as conn:
        customer = get_customer(conn, result.customer_id)
        assert customer.status == "provisional" and customer.review_required
        assert customer.identity_values("email") == ["stranger@example.org"]
    types = [e.type for e in store.events.where(customer_id=result.customer_id)]
    assert types == ["customer.created", "customer.identity_added", "customer.review_requested"]
    # the next contact from the same address finds the provisional customer
    with store.unit_of_work() as uow:
        again = resolve_contact(
            uow=uow, clock=clock, identifiers=[("email", "stranger@example.org")]
        )
    assert (again.customer_id, again.method) == (result.customer_id, "identity")


def test_without_identifiers_the_person_is_matched_probabilistically(
    store: Store, clock: FixedClock
) -> None:
    jane = _jane(store, clock)
    # a transposition in the first name, a one-digit slip in the date, an abbreviated street
    typo = dict(JANE, given_name="Jnae", birth_date="1985-04-28", street="12 Pinkerton Cct")
    with store.unit_of_work() as uow:
        result = resolve_contact(
            uow=uow, clock=clock, identifiers=[("email", "jane.doe@work.example")], person=typo
        )
    assert result.method == "probabilistic" and result.customer_id == jane.id
    assert result.probability is not None and result.probability >= 0.95
    with store.reading() as conn:  # the new address was learnt, unverified
        learnt = service.find_by_identity(
            connection=conn, kind="email", value="jane.doe@work.example"
        )
    assert learnt is not None and learnt.id == jane.id
    assert not [i for i in learnt.identities if i.value == "jane.doe@work.example"][0].verified


def test_a_weak_match_creates_a_provisional_customer_for_review(
    store: Store, clock: FixedClock
) -> None:
    jane = _jane(store, clock)
    with store.unit_of_work() as uow:
        result = resolve_contact(
            uow=uow,
            clock=clock,
            identifiers=[("email", "jd@elsewhere.example")],
            person={"given_name": "Jane", "family_name": "Doe"},  # the name alone
        )
    assert result.method == "provisional" and result.review_required
    assert result.review_reason is not None and jane.id in result.review_reason
    assert [c for c, _ in result.candidates] == [jane.id]


def test_identifiers_of_two_customers_flag_both(store: Store, clock: FixedClock) -> None:
    jane = _jane(store, clock)
    with store.unit_of_work() as uow:
        other = service.create_customer(
            uow=uow, clock=clock, identities=[("account", "AC-7")], profile={"family_name": "X"}
        )
    with store.unit_of_work() as uow:
        result = resolve_contact(
            uow=uow,
            clock=clock,
            identifiers=[("email", "jane@example.com"), ("account", "AC-7")],
        )
    assert result.customer_id == other.id  # an account number is the most specific
    assert result.review_required and [c for c, _ in result.candidates] == [jane.id]
    with store.reading() as conn:
        assert get_customer(conn, jane.id).review_required


def test_no_provisional_when_asked_not_to(store: Store, clock: FixedClock) -> None:
    head = store.events.head()
    with store.unit_of_work() as uow:
        result = resolve_contact(
            uow=uow, clock=clock, identifiers=[("email", "a@b.example")], create_provisional=False
        )
    assert result.method == "unresolved" and result.customer_id is None
    assert store.events.head() == head


def test_search_people_ranks_candidates(store: Store, clock: FixedClock) -> None:
    jane = _jane(store, clock)
    with store.unit_of_work() as uow:
        service.create_customer(
            uow=uow, clock=clock, profile=dict(JANE, given_name="John", birth_date="1950-01-01")
        )
    with store.reading() as conn:
        matches = search_people(
            connection=conn,
            person={"given_name": "jane", "family_name": "DOE", "birth_date": "19850423"},
        )
    assert matches[0].customer.id == jane.id and matches[0].probability > 0.95
    assert all(m.probability < 0.5 for m in matches[1:])
