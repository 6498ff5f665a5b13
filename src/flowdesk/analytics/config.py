"""What the KPIs measure against: SLA targets, OLAs, complaint reasons and the scorecard.

Read from the company file (the demo company.yaml format, `analytics` section) so the targets
leaders are held to live next to the organisation that must meet them. Without a company file
KPIs still compute; SLA and OLA compliance are then empty (no target, no compliance) and the
scorecard has no criteria.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flowdesk.calendars import BusinessCalendar
from flowdesk.core.errors import ConfigurationError

#: Metrics where a lower value is better; every other scorecard metric is better higher.
LOWER_IS_BETTER = frozenset(
    {
        "turnaround_hours_mean",
        "turnaround_hours_p90",
        "repeat_contacts",
        "complaint_rate",
        "handoffs",
    }
)


@dataclass(frozen=True)
class SlaTarget:
    """A company SLA policy reduced to what compliance needs: who it covers and the target."""

    id: str
    name: str
    resolution: timedelta
    calendar: BusinessCalendar
    segments: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()

    def covers(self, reason: str | None, segment: str | None) -> int:
        """How specifically this policy covers a case: 2 by reason, 1 by segment, 0 default,
        -1 not at all."""
        if self.reasons:
            return 2 if reason in self.reasons else -1
        if self.segments:
            return 1 if segment in self.segments else -1
        return 0


@dataclass(frozen=True)
class Measure:
    metric: str
    target: float

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.target if self.lower_is_better else value >= self.target


@dataclass(frozen=True)
class Criterion:
    """One outside-in criterion: the flows that deliver it and the measures that show it."""

    id: str
    name: str
    measures: tuple[Measure, ...]
    flows: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class AnalyticsConfig:
    sla_targets: tuple[SlaTarget, ...] = ()
    #: department id -> (pickup target, resolve target) for work handed to it.
    olas: Mapping[str, tuple[timedelta, timedelta]] = field(default_factory=dict)
    department_names: Mapping[str, str] = field(default_factory=dict)
    complaint_reasons: frozenset[str] = frozenset({"complaint"})
    reopen_window: timedelta = timedelta(days=14)
    scorecard: tuple[Criterion, ...] = ()
    timezone: str = "UTC"

    def department_id(self, value: str | None) -> str | None:
        """Lanes carry a department's name ("Field service"), candidate groups its id
        ("field-service"): both count as the same department."""
        if value is None or value in self.department_names:
            return value
        folded = value.strip().casefold()
        for department_id, name in self.department_names.items():
            if name.casefold() == folded:
                return department_id
        return value

    def sla_for(self, reason: str | None, segment: str | None) -> SlaTarget | None:
        best: tuple[int, SlaTarget] | None = None
        for target in self.sla_targets:
            rank = target.covers(reason, segment)
            if rank >= 0 and (best is None or rank > best[0]):
                best = (rank, target)
        return None if best is None else best[1]

    @classmethod
    def from_company(cls, company: Mapping[str, Any]) -> AnalyticsConfig:
        """From a company document already checked by `experience.company.load_company`."""
        zone = str((company.get("company") or {}).get("timezone") or "UTC")
        calendars = {
            str(c["id"]): _calendar(c, zone) for c in company.get("calendars") or () if "id" in c
        }
        targets = []
        for policy in company.get("sla_policies") or ():
            resolution = _pick_resolution(policy.get("targets") or ())
            if resolution is None:
                continue
            targets.append(
                SlaTarget(
                    id=str(policy["id"]),
                    name=str(policy.get("name") or policy["id"]),
                    resolution=resolution,
                    calendar=calendars.get(str(policy.get("calendar")), BusinessCalendar.always()),
                    segments=frozenset(policy.get("segments") or ()),
                    reasons=frozenset(policy.get("reasons") or ()),
                )
            )
        olas = {}
        names = {}
        for department in company.get("departments") or ():
            names[str(department["id"])] = str(department.get("name") or department["id"])
            ola = department.get("ola") or {}
            if "pickup" in ola and "resolve" in ola:
                olas[str(department["id"])] = (
                    parse_day_time(ola["pickup"]),
                    parse_day_time(ola["resolve"]),
                )
        section = company.get("analytics") or {}
        scorecard = tuple(
            Criterion(
                id=str(c["id"]),
                name=str(c["name"]),
                description=str(c.get("description") or ""),
                flows=tuple(str(f) for f in c.get("flows") or ()),
                measures=tuple(
                    Measure(str(m["metric"]), float(m["target"])) for m in c["measures"]
                ),
            )
            for c in section.get("scorecard") or ()
        )
        return cls(
            sla_targets=tuple(targets),
            olas=olas,
            department_names=names,
            complaint_reasons=frozenset(section.get("complaint_reasons") or {"complaint"}),
            reopen_window=parse_day_time(section.get("reopen_window") or "P14D"),
            scorecard=scorecard,
            timezone=zone,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> AnalyticsConfig:
        from flowdesk.experience.company import load_company

        return cls.from_company(load_company(path))


def parse_day_time(text: str) -> timedelta:
    """The company file's durations (PnDTnHnM; the schema allows nothing else)."""
    import re

    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", text)
    if match is None or text in ("P", "PT"):
        raise ConfigurationError(f"{text!r} is not a duration like P2D, PT4H or P1DT30M")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _pick_resolution(targets: Sequence[Mapping[str, Any]]) -> timedelta | None:
    """The resolution target of normal-priority work (analytics does not know a case's
    priority; the normal target is the promise made to most customers), else the first."""
    chosen = next((t for t in targets if t.get("priority") == "normal"), None)
    chosen = chosen or (targets[0] if targets else None)
    return None if chosen is None else parse_day_time(str(chosen["resolution"]))


def _calendar(spec: Mapping[str, Any], zone: str) -> BusinessCalendar:
    hours = {day: list(spans) for day, spans in (spec.get("opening_hours") or {}).items() if spans}
    holidays = [h["date"] if isinstance(h, Mapping) else h for h in spec.get("holidays") or ()]
    return BusinessCalendar.weekly(zone, hours, holidays, name=str(spec.get("id", "calendar")))
