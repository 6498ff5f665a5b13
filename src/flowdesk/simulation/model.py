"""What a simulation runs on: flows as step graphs, arrival streams, agents, calendars, SLAs.

Plain data, built from the deployed BPMN and the company file (`baseline`), fitted from the
event log (`fit`) or written by hand (the analytic tests), and changed by scenarios. Times are
minutes from `Model.start` (a UTC instant); hours of the week count from Monday 00:00 in the
company's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flowdesk.calendars.calendar import BusinessCalendar
from flowdesk.simulation.dists import Dist

#: Channels where the customer waits on the line and hangs up when patience runs out.
WAITING_CHANNELS = frozenset({"phone", "chat"})

TASK, DELAY, XOR, AND_SPLIT, AND_JOIN, PASS, END = range(7)


@dataclass
class Node:
    """One step of a flow. `kind` is one of the module's constants; `nexts`/`probs` are the
    outgoing steps and, for XOR, their branch probabilities."""

    id: str
    kind: int
    nexts: list[str] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    department: str = "front-office"
    skills: dict[str, int] = field(default_factory=dict)
    work: Dist = field(default_factory=lambda: Dist("exp", 10.0))
    pickup: Dist | None = None  # history's own delay before an item reaches the queue
    delay: Dist = field(default_factory=lambda: Dist("const", 0.0))
    never: float = 0.0  # DELAY: share of waits never answered (the token stays; no turnaround)
    sla_minutes: float | None = None
    joins: int = 1  # AND_JOIN: tokens it waits for
    boundary: tuple[float, str, bool] | None = None  # (minutes, next step, interrupting)
    name: str | None = None
    race: bool = False  # an event-based gateway: the branch is the event that came first


@dataclass
class Flow:
    key: str
    start: str
    nodes: dict[str, Node]
    priority: float = 0.0
    sla_calendar: str = "24x7"
    version: str = ""


@dataclass
class Stream:
    """Poisson arrivals of one (flow, reason, channel): `rates[h]` contacts per hour in hour
    `h` of the week (0 = Monday 00:00-01:00)."""

    flow: str
    reason: str
    channel: str
    rates: list[float]


@dataclass
class Agent:
    name: str
    department: str
    skills: dict[str, int] = field(default_factory=dict)
    shift: str | None = None  # name in Model.shifts; None: around the clock
    capacity: int = 1
    presence: float = 1.0  # share of working days the agent is there (leave, sickness)


@dataclass
class Model:
    start: datetime
    flows: dict[str, Flow]
    streams: list[Stream]
    agents: list[Agent]
    shifts: dict[str, tuple[int, int]] = field(default_factory=dict)  # minutes of the day
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)
    work_calendar: str | None = None  # days agents work; None: every day
    patience: dict[str, Dist] = field(default_factory=dict)  # per waiting channel
    ola_pickup: dict[str, float] = field(default_factory=dict)  # minutes, per department
    cost_per_hour: dict[str, float] = field(default_factory=dict)  # per department
    repeat_share: float = 0.0
    repeat_after: Dist = field(default_factory=lambda: Dist("exp", 18 * 60.0))
    #: front-office work a repeat contact makes (None: attached to the case, no work item)
    repeat_work: Dist | None = field(default_factory=lambda: Dist("exp", 5.0))
    zone: str = "UTC"

    def departments(self) -> list[str]:
        seen = {a.department for a in self.agents}
        for flow in self.flows.values():
            seen.update(n.department for n in flow.nodes.values() if n.kind == TASK)
        return sorted(seen)


def utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
