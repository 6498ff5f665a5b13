"""Contacts a dead process stored raw and never handled: the worker rounds' rescue handles them
after a lease, counts every try before it runs, and dead-letters one whose handler dies each
time (so a poison payload cannot loop forever)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.store import Store

LEASE = timedelta(seconds=60)
BODY = json.dumps({"email": "ann@example.com", "text": "My meter shows nothing"}).encode()


class Died(BaseException):
    """What a killed handler looks like to the code after it: it never returns."""


def test_a_stranded_contact_is_handled_after_its_lease(store: Store, clock: FixedClock) -> None:
    intake = Intake(store, clock=clock, use_model=False)
    contact_id = intake.receive("web", BODY)  # ... and the process died here
    assert intake.rescue(lease=LEASE) == []  # within its lease: its handler may be running
    clock.advance(LEASE + timedelta(seconds=1))
    [result] = intake.rescue(lease=LEASE)
    assert result.contact_id == contact_id and result.status in ("processed", "triage")
    assert intake.rescue(lease=LEASE) == []  # once


def test_a_contact_that_kills_its_handler_ends_as_a_dead_letter(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = Intake(store, clock=clock, use_model=False)
    contact_id = intake.receive("web", BODY)

    def die(contact_id: str, *, reason: str | None = None) -> None:
        raise Died

    monkeypatch.setattr(intake, "process", die)
    for tries in range(1, 4):
        clock.advance(LEASE * (tries + 1))
        with pytest.raises(Died):
            intake.rescue(lease=LEASE, max_attempts=3)
        assert intake.get(contact_id).status == "received"
    clock.advance(LEASE * 5)
    [result] = intake.rescue(lease=LEASE, max_attempts=3)
    assert result.status == "failed" and "after 3 tries" in (result.error or "")
    assert [c.id for c in intake.dead_letters()] == [contact_id]
