"""Cases: references, status from any channel only after verification, closing with the flow."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from flowdesk.cases import service as cases
from flowdesk.cases.references import ALPHABET, new_reference, normalize_reference, references_in
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.customers.service import create_customer
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


def test_references_use_an_unambiguous_alphabet() -> None:
    assert not set("01IOLU") & set(ALPHABET)
    for _ in range(200):
        assert re.fullmatch(r"FD-[2-9A-HJKMNP-TV-Z]{5}", new_reference())


@given(st.text(alphabet=ALPHABET, min_size=5, max_size=5), st.sampled_from(["-", " ", ""]))
def test_a_reference_is_found_however_it_is_typed(code: str, dash: str) -> None:
    typed = f"my case fd{dash}{code.lower()} please"
    assert normalize_reference(typed) == f"FD-{code}"
    assert references_in(typed) == [f"FD-{code}"]


def test_look_alike_characters_are_not_a_reference() -> None:
    assert normalize_reference("FD-0OIL1") is None
    assert references_in("FD-7K3Q9 and FD-7K3Q9 and FD-22222") == ["FD-7K3Q9", "FD-22222"]


def _submit(intake: Intake, **fields: object) -> object:
    return intake.submit("web", json.dumps(fields).encode())


def test_status_lookup_needs_an_identifier_of_the_case_customer(
    store: Store, clock: FixedClock, intake: Intake
) -> None:
    with store.unit_of_work() as uow:
        create_customer(uow=uow, clock=clock, identities=[("email", "ann@example.com")])
    started = intake.submit(
        "web",
        json.dumps({"email": "ann@example.com", "reason": "complaint", "message": "x"}).encode(),
    )
    ref = started.case_reference or ""
    ok = cases.lookup_status(store, ref.lower(), identifiers=[("email", "ANN@example.com")])
    assert ok.verified and ok.status == "open"
    assert ok.texts == [f"We have registered your complaint {ref}."]
    wrong = cases.lookup_status(store, ref, identifiers=[("email", "eve@example.com")])
    unknown = cases.lookup_status(store, "FD-22222", identifiers=[("email", "ann@example.com")])
    assert not wrong.verified and wrong.texts == [] and wrong.status is None
    assert wrong.message() == unknown.message() == cases.UNVERIFIED_TEXT  # no probing
    garbage = cases.lookup_status(store, ref, identifiers=[("phone", "not a number")])
    assert not garbage.verified


def test_case_closes_when_its_flow_ends(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    started = intake.submit(
        "web",
        json.dumps({"email": "ann@example.com", "reason": "complaint", "message": "x"}).encode(),
    )
    runtime.cancel(started.instance_id or "", "resolved by phone")
    clock.advance(minutes=5)
    status = cases.lookup_status(
        store, started.case_reference or "", identifiers=[("email", "ann@example.com")]
    )
    assert status.status == "closed" and status.message().endswith("is closed.")
    with store.reading() as conn:
        case = cases.by_reference(conn, started.case_reference or "")
    assert case is not None and case.status == "closed" and case.closed_at is not None
    # a new contact on the same reason now opens a new case
    again = intake.submit(
        "web",
        json.dumps({"email": "ann@example.com", "reason": "complaint", "message": "y"}).encode(),
    )
    assert again.action == "started" and again.case_id != started.case_id


def test_a_drawn_reference_that_is_taken_is_drawn_again(
    store: Store, clock: FixedClock, intake: Intake, monkeypatch: object
) -> None:
    """The case insert skips a taken reference (ON CONFLICT, no savepoint) and draws again."""
    first = intake.submit(
        "web",
        json.dumps({"email": "ann@example.com", "reason": "complaint", "message": "x"}).encode(),
    )
    taken = first.case_reference or ""
    draws = iter([taken, taken, "FD-22222"])
    monkeypatch.setattr(cases, "new_reference", lambda: next(draws))  # type: ignore[attr-defined]
    second = intake.submit(
        "web",
        json.dumps({"email": "bob@example.com", "reason": "complaint", "message": "y"}).encode(),
    )
    assert second.action == "started" and second.case_reference == "FD-22222"
    with store.reading() as conn:
        assert cases.by_reference(conn, taken).customer_id == first.customer_id  # type: ignore[union-attr]
