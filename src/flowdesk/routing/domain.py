"""What routing decides about: agents (skills, languages, departments, presence, capacity per
channel), queued work and offers. Pure values; the engine and the service share them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from math import lcm
from typing import Any

from flowdesk.core.errors import FlowdeskError


class RoutingError(FlowdeskError):
    code = "routing-error"


class Presence(StrEnum):
    AVAILABLE = "available"  # receives new work
    BUSY = "busy"  # keeps working, receives nothing new
    AWAY = "away"
    OFFLINE = "offline"


#: Typical concurrent work per channel: "3 chats or 1 call or 5 emails" (and 5 back-office tasks).
DEFAULT_CAPACITY: Mapping[str, int] = {"chat": 3, "call": 1, "email": 5, "task": 5}

#: A routing class: work that needs exactly the same agent properties shares one heap.
ClassKey = tuple[
    str,  # channel
    tuple[tuple[str, int], ...],  # required skills and minimum levels
    str | None,  # language
    str | None,  # department (the queue)
    frozenset[str],  # candidate groups (any of them)
    frozenset[str],  # candidate users (any of them)
]


@dataclass(eq=False)
class Agent:
    """An agent. Capacity is shared across channels: each item of a channel uses 1/capacity of
    the agent, so with {"chat": 3, "call": 1} an agent takes 3 chats or 1 call, not both."""

    id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    capacity: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    presence: Presence = Presence.OFFLINE
    load: dict[str, int] = field(default_factory=dict)
    idle_since: datetime | None = None
    pending_offer: str | None = None

    def __post_init__(self) -> None:
        bad = [c for c, n in self.capacity.items() if n < 1]
        if bad:
            raise RoutingError(f"capacity of {self.id} for {bad[0]!r} must be at least 1")
        self._whole = lcm(*self.capacity.values()) if self.capacity else 1
        self._unit = {c: self._whole // n for c, n in self.capacity.items()}

    @property
    def used(self) -> int:
        """Capacity in use, in units of 1/whole."""
        return sum(self._unit.get(c, 0) * n for c, n in self.load.items())

    def fits(self, channel: str) -> bool:
        unit = self._unit.get(channel)
        return unit is not None and self.used + unit <= self._whole

    def utilisation(self) -> float:
        return self.used / self._whole if self._whole else 0.0

    def level(self, skills: tuple[tuple[str, int], ...]) -> int:
        """Sum of the agent's levels in the skills an item needs (higher = better match)."""
        return sum(self.skills.get(s, 0) for s, _ in skills)

    def serves(self, key: ClassKey) -> bool:
        """Whether the agent may take work of this class (ignores presence and load)."""
        channel, skills, language, department, groups, users = key
        if channel not in self.capacity:
            return False
        if any(self.skills.get(s, -1) < lvl for s, lvl in skills):
            return False
        if language is not None and language not in self.languages:
            return False
        if department is not None and department not in self.departments:
            return False
        if users and self.id not in users:
            return False
        return not groups or bool(groups & self.departments) or self.id in users


@dataclass(eq=False)
class Item:
    """A piece of queued work: a user task of any flow, or a contact waiting for an answer."""

    id: str
    channel: str
    created_at: datetime
    department: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    language: str | None = None
    candidate_groups: frozenset[str] = frozenset()
    candidate_users: frozenset[str] = frozenset()
    due_at: datetime | None = None
    customer_value: float = 0.0
    churn_risk: float = 0.0
    reason: str | None = None
    reason_priority: float = 0.0
    boost: float = 0.0  # added by escalations ("raise priority")
    attributes: Mapping[str, Any] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)  # agents who declined or let it expire
    # engine bookkeeping
    state: str = "queued"  # queued, offered, assigned, closed
    agent: str | None = None
    score: float = 0.0  # base priority at the last scoring
    rank: float = 0.0  # heap key derived from it (smaller = more urgent)
    version: int = 0

    @property
    def key(self) -> ClassKey:
        return (
            self.channel,
            tuple(sorted(self.skills.items())),
            self.language,
            self.department,
            self.candidate_groups,
            self.candidate_users,
        )


@dataclass(frozen=True)
class Offer:
    id: str
    item_id: str
    agent_id: str
    offered_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Transfer:
    item_id: str
    from_department: str | None
    to_department: str | None
    reason: str
    from_agent: str | None
    at: datetime
