"""SLA policies (per contact reason and per step), OLAs (per department hand-off) and the
escalation ladder each one climbs. Pure settings, readable from JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flowdesk.calendars import BusinessCalendar
from flowdesk.core.errors import FlowdeskError

ACTIONS = ("notify", "raise_priority", "reassign", "message")


class SlaError(FlowdeskError):
    code = "invalid-sla"


@dataclass(frozen=True)
class Escalation:
    """Do `action` once `at` (a fraction of the target: 0.8 = 80 % used, 1.0 = breached) of the
    business time is used. `raise_priority` adds `by`; `reassign` moves the work to
    `department`; `message` correlates BPMN message `message` to the flow (key: business key).
    """

    at: float
    action: str
    by: float = 50.0
    department: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise SlaError(f"unknown escalation action {self.action!r}", hint=f"use {ACTIONS}")
        if not 0 <= self.at <= 10:
            raise SlaError("an escalation's 'at' is a fraction of the target, e.g. 0.8 or 1.0")
        if self.action == "message" and not self.message:
            raise SlaError("a 'message' escalation needs the message name")
        if self.action == "reassign" and not self.department:
            raise SlaError("a 'reassign' escalation needs the department")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Escalation:
        return cls(
            at=float(spec.get("at", 1.0)),
            action=str(spec["action"]),
            by=float(spec.get("by", 50.0)),
            department=spec.get("department"),
            message=spec.get("message"),
        )


@dataclass(frozen=True)
class SlaPolicy:
    """Targets for one contact reason and/or one step (a BPMN element id); None = any."""

    name: str
    reason: str | None = None
    step: str | None = None
    first_response: timedelta | None = None
    resolution: timedelta | None = None
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar.always)
    warn_at: float = 0.8
    escalations: tuple[Escalation, ...] = ()

    def __post_init__(self) -> None:
        if self.first_response is None and self.resolution is None:
            raise SlaError(f"SLA {self.name!r} sets neither first response nor resolution")
        for t in (self.first_response, self.resolution):
            if t is not None and t <= timedelta(0):
                raise SlaError(f"SLA {self.name!r} has a target that is not positive")

    def target(self, kind: str) -> timedelta | None:
        return {"first_response": self.first_response, "resolution": self.resolution}.get(kind)


@dataclass(frozen=True)
class Ola:
    """An operational level agreement: work handed from `from_department` (None = any) to
    `to_department` must be done within `target` on that department's calendar."""

    to_department: str
    target: timedelta
    from_department: str | None = None
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar.always)
    escalations: tuple[Escalation, ...] = ()


@dataclass
class SlaCatalog:
    """Finds the policy for a piece of work: reason+step, then reason, then step, then a
    default policy (reason and step both None)."""

    policies: Sequence[SlaPolicy] = ()
    olas: Sequence[Ola] = ()
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)

    def policy_for(self, reason: str | None, step: str | None) -> SlaPolicy | None:
        best: tuple[int, SlaPolicy] | None = None
        for p in self.policies:
            if p.reason is not None and p.reason != reason:
                continue
            if p.step is not None and p.step != step:
                continue
            rank = (2 if p.reason is not None else 0) + (1 if p.step is not None else 0)
            if best is None or rank > best[0]:
                best = (rank, p)
        return None if best is None else best[1]

    def named(self, name: str) -> SlaPolicy | None:
        """The policy a queue entry's clock was started under (kept by name)."""
        return next((p for p in self.policies if p.name == name), None)

    def ola_for(self, from_department: str | None, to_department: str | None) -> Ola | None:
        if to_department is None or from_department == to_department:
            return None
        generic = None
        for o in self.olas:
            if o.to_department != to_department:
                continue
            if o.from_department == from_department:
                return o
            if o.from_department is None:
                generic = o
        return generic

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> SlaCatalog:
        """{"calendars": {name: calendar}, "policies": [...], "olas": [...]}; durations in
        minutes (`first_response_minutes`, `resolution_minutes`, `target_minutes`)."""
        calendars = {
            name: BusinessCalendar.from_dict({"name": name, **c})
            for name, c in (spec.get("calendars") or {}).items()
        }

        def cal(name: str | None) -> BusinessCalendar:
            if name is None:
                return BusinessCalendar.always()
            if name not in calendars:
                raise SlaError(f"unknown calendar {name!r}", hint="define it under 'calendars'")
            return calendars[name]

        def minutes(value: Any) -> timedelta | None:
            return None if value is None else timedelta(minutes=float(value))

        policies = [
            SlaPolicy(
                name=str(p.get("name") or f"policy-{n}"),
                reason=p.get("reason"),
                step=p.get("step"),
                first_response=minutes(p.get("first_response_minutes")),
                resolution=minutes(p.get("resolution_minutes")),
                calendar=cal(p.get("calendar")),
                warn_at=float(p.get("warn_at", 0.8)),
                escalations=tuple(Escalation.from_dict(e) for e in p.get("escalations") or ()),
            )
            for n, p in enumerate(spec.get("policies") or (), 1)
        ]
        olas = []
        for o in spec.get("olas") or ():
            target = minutes(o.get("target_minutes"))
            if target is None:
                raise SlaError("an OLA needs target_minutes")
            olas.append(
                Ola(
                    to_department=str(o["to"]),
                    from_department=o.get("from"),
                    target=target,
                    calendar=cal(o.get("calendar")),
                    escalations=tuple(Escalation.from_dict(e) for e in o.get("escalations") or ()),
                )
            )
        return cls(policies, olas, calendars)
