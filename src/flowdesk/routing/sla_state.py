"""The SLA clocks of one queue entry, kept as JSON in `routing_queue.sla`.

Each clock remembers which policy or OLA it belongs to (so escalations and calendars come from
the current catalog), which escalations fired, and whether its breach was reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowdesk.calendars import BusinessCalendar
from flowdesk.sla import Escalation, SlaCatalog, SlaClock, next_escalation_at
from flowdesk.sla.policy import Ola, SlaPolicy


@dataclass
class TrackedClock:
    clock: SlaClock
    policy: str | None  # SLA policy name
    ola: tuple[str | None, str] | None  # (from department, to department)
    fired: set[int]
    breached: bool
    calendar: BusinessCalendar
    escalations: tuple[Escalation, ...]
    warn_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "clock": self.clock.to_dict(),
            "policy": self.policy,
            "ola": list(self.ola) if self.ola else None,
            "fired": sorted(self.fired),
            "breached": self.breached,
        }

    def next_check(self) -> datetime | None:
        """The next instant something happens: an escalation, or the breach itself."""
        if self.clock.stopped_at is not None:
            return None
        candidates = [next_escalation_at(self.clock, self.calendar, self.escalations, self.fired)]
        if not self.breached:
            candidates.append(self.clock.deadline(self.calendar))
        known = [c for c in candidates if c is not None]
        return min(known) if known else None


def from_policy(policy: SlaPolicy, kind: str, started: datetime) -> TrackedClock | None:
    target = policy.target(kind)
    if target is None:
        return None
    return TrackedClock(
        SlaClock(kind, target, started),
        policy.name,
        None,
        set(),
        False,
        policy.calendar,
        policy.escalations if kind == "resolution" else (),
        policy.warn_at,
    )


def from_ola(ola: Ola, started: datetime) -> TrackedClock:
    return TrackedClock(
        SlaClock("ola", ola.target, started),
        None,
        (ola.from_department, ola.to_department),
        set(),
        False,
        ola.calendar,
        ola.escalations,
        0.8,
    )


def load(data: dict[str, Any] | None, catalog: SlaCatalog) -> list[TrackedClock]:
    out: list[TrackedClock] = []
    for entry in (data or {}).get("clocks", []):
        clock = SlaClock.from_dict(entry["clock"])
        calendar, warn = BusinessCalendar.always(), 0.8
        escalations: tuple[Escalation, ...] = ()
        ola = tuple(entry["ola"]) if entry.get("ola") else None
        if entry.get("policy"):
            policy = catalog.named(entry["policy"])
            if policy is not None:
                calendar, warn = policy.calendar, policy.warn_at
                escalations = policy.escalations if clock.kind == "resolution" else ()
        elif ola is not None:
            found = catalog.ola_for(ola[0], ola[1])
            if found is not None:
                calendar, escalations = found.calendar, found.escalations
        out.append(
            TrackedClock(
                clock,
                entry.get("policy"),
                (ola[0], ola[1]) if ola else None,
                set(entry.get("fired") or ()),
                bool(entry.get("breached")),
                calendar,
                escalations,
                warn,
            )
        )
    return out


def dump(clocks: list[TrackedClock]) -> dict[str, Any] | None:
    return {"clocks": [c.to_dict() for c in clocks]} if clocks else None


def deadline(clocks: list[TrackedClock]) -> datetime | None:
    """The earliest deadline of the running clocks (what priority urgency looks at)."""
    known = [
        d
        for c in clocks
        if c.clock.stopped_at is None and (d := c.clock.deadline(c.calendar)) is not None
    ]
    return min(known) if known else None


def next_check(clocks: list[TrackedClock]) -> datetime | None:
    known = [n for c in clocks if (n := c.next_check()) is not None]
    return min(known) if known else None
