"""An SLA clock: business time used against a target, paused while waiting on the customer.

The clock stores only facts (start, pauses, stop); everything else is computed on its
calendar, so it can be kept as JSON and re-evaluated at any instant (deterministic in tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flowdesk.calendars import BusinessCalendar, Interval
from flowdesk.sla.policy import SlaError


@dataclass
class SlaClock:
    kind: str  # first_response, resolution, ola
    target: timedelta
    started_at: datetime
    pauses: list[Interval] = field(default_factory=list)
    stopped_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None

    def pause(self, at: datetime) -> None:
        if self.stopped_at is None and not self.paused:
            self.pauses.append((max(at, self.started_at), None))

    def resume(self, at: datetime) -> None:
        if self.paused:
            start = self.pauses[-1][0]
            self.pauses[-1] = (start, max(at, start))

    def stop(self, at: datetime) -> None:
        if self.stopped_at is None:
            self.resume(at)
            self.stopped_at = at

    def used(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        """Business time counted so far (up to the stop, if stopped)."""
        end = now if self.stopped_at is None else min(now, self.stopped_at)
        return calendar.between(self.started_at, end, self.pauses)

    def remaining(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        return self.target - self.used(calendar, now)

    def deadline(self, calendar: BusinessCalendar) -> datetime | None:
        """When the target is used up; None while paused (it depends on when work resumes)."""
        return self.instant_at(calendar, 1.0)

    def instant_at(self, calendar: BusinessCalendar, fraction: float) -> datetime | None:
        """When `fraction` of the target will be used, given the pauses known now."""
        if self.paused:
            return None
        return calendar.add(self.started_at, self.target * fraction, self.pauses)

    def status(self, calendar: BusinessCalendar, now: datetime) -> str:
        """running, paused, breached, met (stopped in time) or missed (stopped late)."""
        used = self.used(calendar, now)
        if self.stopped_at is not None and self.stopped_at <= now:
            return "met" if used <= self.target else "missed"
        if used >= self.target:
            return "breached"
        return "paused" if self.paused else "running"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target_seconds": self.target.total_seconds(),
            "started_at": self.started_at.isoformat(),
            "pauses": [[a.isoformat(), b.isoformat() if b else None] for a, b in self.pauses],
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlaClock:
        try:
            return cls(
                kind=str(data["kind"]),
                target=timedelta(seconds=float(data["target_seconds"])),
                started_at=datetime.fromisoformat(data["started_at"]),
                pauses=[
                    (datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None)
                    for a, b in data.get("pauses") or ()
                ],
                stopped_at=(
                    datetime.fromisoformat(data["stopped_at"]) if data.get("stopped_at") else None
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SlaError(f"stored SLA clock is not readable: {exc}") from None
