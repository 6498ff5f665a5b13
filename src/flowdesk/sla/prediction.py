"""Breach prediction and the escalations that are due. Pure functions over an SlaClock."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flowdesk.calendars import BusinessCalendar
from flowdesk.sla.clock import SlaClock
from flowdesk.sla.policy import Escalation


@dataclass(frozen=True)
class Forecast:
    status: str  # running, paused, breached, met, missed
    at_risk: bool
    deadline: datetime | None
    remaining: timedelta
    predicted_finish: datetime | None
    why: str


def predict(
    clock: SlaClock,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    expected_work: timedelta = timedelta(0),
    expected_wait: timedelta = timedelta(0),
    warn_at: float = 0.8,
) -> Forecast:
    """Will this clock breach? At risk when the expected wait plus handling time, in business
    time from now, ends after the deadline, or when `warn_at` of the target is already used."""
    status = clock.status(calendar, now)
    remaining = clock.remaining(calendar, now)
    deadline = clock.deadline(calendar)
    if status in ("met", "missed"):
        return Forecast(status, False, deadline, remaining, clock.stopped_at, "stopped")
    if status == "breached":
        return Forecast(status, True, deadline, remaining, None, "breached")
    if status == "paused":
        return Forecast(status, False, None, remaining, None, "waiting on the customer")
    finish = calendar.add(now, expected_wait + expected_work)
    assert deadline is not None
    if finish > deadline:
        return Forecast(status, True, deadline, remaining, finish, "expected to finish late")
    if remaining <= clock.target * (1 - warn_at):
        return Forecast(status, True, deadline, remaining, finish, f"{warn_at:.0%} of target used")
    return Forecast(status, False, deadline, remaining, finish, "on track")


def due_escalations(
    clock: SlaClock,
    calendar: BusinessCalendar,
    escalations: Sequence[Escalation],
    now: datetime,
    fired: Collection[int] = (),
) -> list[tuple[int, Escalation]]:
    """Escalations (by index) whose threshold is reached by `now` and that have not fired."""
    if clock.stopped_at is not None and clock.stopped_at <= now:
        return []
    if len(escalations) == len(fired):
        return []
    used = clock.used(calendar, now)
    return [
        (n, e) for n, e in enumerate(escalations) if n not in fired and used >= clock.target * e.at
    ]


def next_escalation_at(
    clock: SlaClock,
    calendar: BusinessCalendar,
    escalations: Sequence[Escalation],
    fired: Collection[int] = (),
) -> datetime | None:
    """When the next unfired escalation is due (None while paused or when none are left)."""
    instants = [
        clock.instant_at(calendar, e.at) for n, e in enumerate(escalations) if n not in fired
    ]
    known = [i for i in instants if i is not None]
    return min(known) if known else None
