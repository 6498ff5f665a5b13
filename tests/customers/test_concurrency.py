"""Two contacts from one unknown sender at the same moment make one provisional customer."""

from __future__ import annotations

import threading

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.customers.resolve import Resolution, resolve_contact
from flowdesk.store import Store


@pytest.mark.postgres
def test_concurrent_unknown_sender_resolves_to_one_customer(pg_url: str, clock: FixedClock) -> None:
    store = Store.open(pg_url)
    store.upgrade()
    second: list[Resolution | BaseException] = []

    def contact_again() -> None:
        try:
            with store.unit_of_work() as uow:
                second.append(
                    resolve_contact(
                        uow=uow, clock=clock, identifiers=[("email", "new@example.com")]
                    )
                )
        except BaseException as exc:  # reported by the assertion below
            second.append(exc)

    try:
        with store.unit_of_work() as uow:
            first = resolve_contact(
                uow=uow, clock=clock, identifiers=[("email", "new@example.com")]
            )
            worker = threading.Thread(target=contact_again)
            worker.start()
            worker.join(timeout=1.0)
            assert worker.is_alive()  # waiting on the unique index for the first to finish
        worker.join(timeout=30)
        assert len(second) == 1 and isinstance(second[0], Resolution), second
        assert first.method == "provisional" and first.created
        assert (second[0].method, second[0].customer_id) == ("identity", first.customer_id)
        created = [e for e in store.events.after(0) if e.type == "customer.created"]
        assert [e.customer_id for e in created] == [first.customer_id]
    finally:
        store.close()
