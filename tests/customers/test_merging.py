from __future__ import annotations

from decimal import Decimal

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import ConflictError
from flowdesk.customers import service
from flowdesk.customers.merging import merge_customers, unmerge
from flowdesk.customers.views import get_customer, merge_history
from flowdesk.store import Store


def _two(store: Store, clock: FixedClock) -> tuple[service.Customer, service.Customer]:
    with store.unit_of_work() as uow:
        a = service.create_customer(
            uow=uow,
            clock=clock,
            profile={"given_name": "Jane", "family_name": "Doe"},
            identities=[("email", "jane@example.com")],
        )
        b = service.create_customer(
            uow=uow,
            clock=clock,
            profile={
                "given_name": "Jane",
                "family_name": "Doe",
                "birth_date": "1985-04-23",
                "value": "10",
            },
            identities=[("phone", "+442079460958"), ("account", "AC-9")],
            status="provisional",
        )
    return a, b


def test_merge_moves_identities_and_fills_empty_fields(store: Store, clock: FixedClock) -> None:
    a, b = _two(store, clock)
    with store.unit_of_work() as uow:
        record = merge_customers(
            uow=uow,
            clock=clock,
            survivor_id=a.id,
            merged_id=b.id,
            reason="same person",
            actor="agent-1",
        )
    assert record.status == "merged"
    assert record.filled_fields == {"birth_date": "1985-04-23", "value": "10.00"}
    assert len(record.moved_identities) == 2
    with store.reading() as conn:
        survivor = get_customer(conn, a.id)
        assert {i.kind for i in survivor.identities} == {"email", "phone", "account"}
        assert survivor.birth_date == "1985-04-23" and survivor.value == Decimal("10.00")
        # the merged id still resolves, to the survivor
        assert get_customer(conn, b.id).id == a.id
        merged = get_customer(conn, b.id, follow_merges=False)
        assert merged.status == "merged" and merged.merged_into == a.id
        found = service.find_by_identity(connection=conn, kind="account", value="AC-9")
        assert found is not None and found.id == a.id
    event = store.events.where(customer_id=a.id)[-1]
    assert event.type == "customer.merged" and event.actor == "agent-1"
    assert event.data["merged_id"] == b.id and event.data["reason"] == "same person"


def test_unmerge_restores_both_customers(store: Store, clock: FixedClock) -> None:
    a, b = _two(store, clock)
    with store.unit_of_work() as uow:
        record = merge_customers(uow=uow, clock=clock, survivor_id=a.id, merged_id=b.id)
    with store.unit_of_work() as uow:  # added after the merge: stays with the survivor
        service.add_identity(
            uow=uow, clock=clock, customer_id=a.id, kind="email", value="jd@example.net"
        )
    clock.advance(hours=1)
    with store.unit_of_work() as uow:
        undone = unmerge(uow=uow, clock=clock, merge_id=record.id, actor="supervisor")
    assert undone.status == "undone" and undone.unmerged_by == "supervisor"
    assert undone.unmerged_at == clock.now()
    with store.reading() as conn:
        survivor = get_customer(conn, a.id)
        restored = get_customer(conn, b.id)
        history = merge_history(conn, a.id)
    assert restored.id == b.id and restored.status == "provisional" and restored.review_required
    assert sorted(i.value for i in restored.identities) == ["+442079460958", "AC-9"]
    assert sorted(i.value for i in survivor.identities) == ["jane@example.com", "jd@example.net"]
    assert survivor.birth_date is None and survivor.value is None
    assert [h.id for h in history] == [record.id]
    event = store.events.where(customer_id=a.id)[-1]
    assert event.type == "customer.unmerged"
    assert (
        event.data["cleared_fields"] == ["birth_date", "value"] and event.data["kept_fields"] == []
    )
    with pytest.raises(ConflictError, match="already undone"), store.unit_of_work() as uow:
        unmerge(uow=uow, clock=clock, merge_id=record.id)


def test_unmerge_keeps_a_filled_field_changed_since(store: Store, clock: FixedClock) -> None:
    a, b = _two(store, clock)
    with store.unit_of_work() as uow:
        record = merge_customers(uow=uow, clock=clock, survivor_id=a.id, merged_id=b.id)
        service.update_customer(
            uow=uow, clock=clock, customer_id=a.id, changes={"birth_date": "1985-04-24"}
        )
    with store.unit_of_work() as uow:
        unmerge(uow=uow, clock=clock, merge_id=record.id)
    with store.reading() as conn:
        assert get_customer(conn, a.id).birth_date == "1985-04-24"
    assert store.events.where(customer_id=a.id)[-1].data["kept_fields"] == ["birth_date"]
    with store.reading() as conn:
        assert get_customer(conn, a.id).value is None  # unchanged since the merge: cleared


def test_merge_refuses_nonsense(store: Store, clock: FixedClock) -> None:
    a, b = _two(store, clock)
    with pytest.raises(ConflictError, match="itself"), store.unit_of_work() as uow:
        merge_customers(uow=uow, clock=clock, survivor_id=a.id, merged_id=a.id)
    with store.unit_of_work() as uow:
        merge_customers(uow=uow, clock=clock, survivor_id=a.id, merged_id=b.id)
    with pytest.raises(ConflictError, match="already merged"), store.unit_of_work() as uow:
        merge_customers(uow=uow, clock=clock, survivor_id=a.id, merged_id=b.id)
    with pytest.raises(ConflictError, match="merged into"), store.unit_of_work() as uow:
        service.update_customer(uow=uow, clock=clock, customer_id=b.id, changes={"segment": "x"})
