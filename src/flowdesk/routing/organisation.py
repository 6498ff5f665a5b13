"""The organisation from the company file (flowdesk/demo/company/company.yaml), live in routing.

`Organisation.from_company` reads a company document checked by
`flowdesk.experience.company.load_company`: departments (with their OLA and its escalation
ladder, and the BPMN lanes they work), agents (skills with levels, languages, capacity per
channel, shift), the customer SLA policies with their escalation ladders, the business
calendars and how customer value and churn risk weigh in the priority.

`WorkProfiler` gives routing, for each new work item of a flow, what the organisation says of
it: the department (the lane mapped BY ID), the skills the step needs (the bundle's flow.yaml),
the customer's value and churn risk, and the SLA policy of the step for this customer (the
step's `sla` target on the calendar of the customer's company policy, with its ladder).
`OrganisationCatalog` finds those step policies again by name after a restart, so escalations
of queued work keep firing on the worker's rounds.

Lane rule: a lane maps to the department that lists it under `lanes` (lane name or id);
otherwise to the department whose id equals the lane, or the lane's slug ("Field service" ->
"field-service"), or whose name equals the lane (case-insensitive); otherwise the lane stays as
it is (a queue of its own).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from flowdesk.calendars import BusinessCalendar
from flowdesk.cases.models import cases
from flowdesk.customers.models import customers
from flowdesk.feel.durations import parse_duration
from flowdesk.nba.scores import score_of
from flowdesk.routing.domain import DEFAULT_CAPACITY
from flowdesk.sentiment.score import STRONGLY_NEGATIVE
from flowdesk.sentiment.service import SENTIMENT_BOOST, instance_sentiment
from flowdesk.sla import Escalation, Ola, SlaCatalog, SlaPolicy
from flowdesk.store import Store

#: Seconds before a process key without a bundle is looked up again.
REREAD_S = 60.0

#: Prefix of the names of step policies built from the organisation (see OrganisationCatalog).
STEP_POLICY = "org"

_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")


def company_duration(text: str) -> timedelta:
    """The company file's durations (PnDTnHnM; its schema allows nothing else)."""
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT"):
        raise ValueError(f"{text!r} is not a duration like P2D, PT4H or P1DT30M")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def slug(text: str) -> str:
    """ "Field service" -> "field-service": how a lane name becomes a department id."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


@dataclass(frozen=True)
class AgentSpec:
    """One agent of the company file: the login and the routing agent share the username."""

    username: str
    name: str
    department: str
    skills: Mapping[str, int]
    languages: tuple[str, ...]
    capacity: Mapping[str, int]
    shift: str
    supervisor: bool = False


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    channels: tuple[str, ...] = ()
    lanes: tuple[str, ...] = ()
    pickup: timedelta | None = None
    resolve: timedelta | None = None
    escalations: tuple[Escalation, ...] = ()


@dataclass(frozen=True)
class CustomerPolicy:
    """A customer-facing SLA policy of the company file (normal-priority targets)."""

    id: str
    name: str
    calendar: BusinessCalendar
    response: timedelta | None
    resolution: timedelta | None
    segments: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    escalations: tuple[Escalation, ...] = ()


@dataclass(frozen=True)
class StepInfo:
    """What a flow's bundle says of one user task: its SLA target and required skills."""

    sla: timedelta | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Organisation:
    departments: Mapping[str, Department]
    agents: tuple[AgentSpec, ...]
    policies: tuple[CustomerPolicy, ...]
    calendars: Mapping[str, BusinessCalendar]
    lanes: Mapping[str, str]  # explicit: lane name or id -> department id
    shifts: Mapping[str, str] = field(default_factory=dict)  # name -> "07:00-15:30"
    value_per_point: float = 10.0
    max_value_points: float = 100.0
    segment_risk: Mapping[str, float] = field(default_factory=dict)
    flow_risk: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_company(cls, company: Mapping[str, Any]) -> Organisation:
        zone = str((company.get("company") or {}).get("timezone") or "UTC")
        calendars: dict[str, BusinessCalendar] = {}
        for c in company.get("calendars") or ():
            hours = {d: list(s) for d, s in (c.get("opening_hours") or {}).items() if s}
            holidays = [h["date"] for h in c.get("holidays") or ()]
            calendars[str(c["id"])] = BusinessCalendar.weekly(
                zone, hours, holidays, name=str(c["id"])
            )
        departments: dict[str, Department] = {}
        lanes: dict[str, str] = {}
        for d in company.get("departments") or ():
            ola = d.get("ola") or {}
            dep = Department(
                id=str(d["id"]),
                name=str(d.get("name") or d["id"]),
                channels=tuple(d.get("channels") or ()),
                lanes=tuple(d.get("lanes") or ()),
                pickup=company_duration(ola["pickup"]) if "pickup" in ola else None,
                resolve=company_duration(ola["resolve"]) if "resolve" in ola else None,
                escalations=_ladder(ola.get("escalations")),
            )
            departments[dep.id] = dep
            lanes.update(dict.fromkeys(dep.lanes, dep.id))
        routing = company.get("routing") or {}
        default_capacity = dict(routing.get("capacity") or DEFAULT_CAPACITY)
        agents = tuple(
            AgentSpec(
                username=str(a["username"]),
                name=str(a["name"]),
                department=str(a["department"]),
                skills={str(k): int(v) for k, v in (a.get("skills") or {}).items()},
                languages=tuple(a.get("languages") or ()),
                capacity=dict(a.get("capacity") or default_capacity),
                shift=str(a.get("shift") or ""),
                supervisor=bool(a.get("supervisor")),
            )
            for a in company.get("agents") or ()
        )
        policies = []
        for p in company.get("sla_policies") or ():
            targets = list(p.get("targets") or ())
            chosen = next((t for t in targets if t.get("priority") == "normal"), None)
            chosen = chosen or (targets[0] if targets else {})
            policies.append(
                CustomerPolicy(
                    id=str(p["id"]),
                    name=str(p.get("name") or p["id"]),
                    calendar=calendars.get(str(p.get("calendar")), BusinessCalendar.always(zone)),
                    response=company_duration(chosen["response"]) if chosen else None,
                    resolution=company_duration(chosen["resolution"]) if chosen else None,
                    segments=frozenset(p.get("segments") or ()),
                    reasons=frozenset(p.get("reasons") or ()),
                    escalations=_ladder(p.get("escalations")),
                )
            )
        shifts = {
            str(k): f"{v['start']}-{v['end']}" for k, v in (company.get("shifts") or {}).items()
        }
        return cls(
            shifts=shifts,
            departments=departments,
            agents=agents,
            policies=tuple(policies),
            calendars=calendars,
            lanes=lanes,
            value_per_point=float(routing.get("value_per_point", 10.0)),
            max_value_points=float(routing.get("max_value_points", 100.0)),
            segment_risk={str(k): float(v) for k, v in (routing.get("segment_risk") or {}).items()},
            flow_risk={str(k): float(v) for k, v in (routing.get("flow_risk") or {}).items()},
        )

    @classmethod
    def from_file(cls, path: str) -> Organisation:
        from flowdesk.experience.company import load_company

        return cls.from_company(load_company(path))

    # -- lanes --------------------------------------------------------------------------------
    def department_for(self, lane: str | None) -> str | None:
        """The department id a BPMN lane's work goes to (the rule in the module docstring)."""
        if lane is None:
            return None
        if lane in self.lanes:
            return self.lanes[lane]
        if lane in self.departments:
            return lane
        if slug(lane) in self.departments:
            return slug(lane)
        folded = lane.casefold()
        for dep in self.departments.values():
            if dep.name.casefold() == folded:
                return dep.id
        return lane

    def shift_of(self, username: str) -> str | None:
        """ "early 07:00-15:30": the agent's shift in the company file (None: not in it)."""
        spec = next((a for a in self.agents if a.username == username), None)
        if spec is None or not spec.shift:
            return None
        hours = self.shifts.get(spec.shift)
        return f"{spec.shift} {hours}" if hours else spec.shift

    def lane_map(self) -> dict[str, str]:
        """Explicit lanes, and every department's name: what maps where (for admins)."""
        out = {dep.name: dep.id for dep in self.departments.values()}
        out.update(self.lanes)
        return out

    # -- customers and SLAs -------------------------------------------------------------------
    def value_points(self, value: float | None) -> float:
        if value is None or value <= 0:
            return 0.0
        return round(min(self.max_value_points, value / self.value_per_point), 2)

    def risk(self, segment: str | None, process_key: str | None) -> float:
        return max(
            self.segment_risk.get(segment or "", 0.0), self.flow_risk.get(process_key or "", 0.0)
        )

    def customer_policy(self, segment: str | None, reasons: Iterable[str]) -> CustomerPolicy | None:
        """The customer's policy: one for the flow's reason, else the segment's, else the
        general one (no segments, no reasons)."""
        wanted = set(reasons)
        best: tuple[int, CustomerPolicy] | None = None
        for p in self.policies:
            if p.reasons:
                rank = 2 if p.reasons & wanted else -1
            elif p.segments:
                rank = 1 if segment in p.segments else -1
            else:
                rank = 0
            if rank >= 0 and (best is None or rank > best[0]):
                best = (rank, p)
        return None if best is None else best[1]

    def olas(self) -> list[Ola]:
        """Hand-overs into each department: its OLA resolve target on the office calendar."""
        calendar = next(iter(self.calendars.values()), BusinessCalendar.always())
        return [
            Ola(d.id, d.resolve, calendar=calendar, escalations=d.escalations)
            for d in self.departments.values()
            if d.resolve is not None
        ]


def _ladder(spec: Any) -> tuple[Escalation, ...]:
    return tuple(Escalation.from_dict(rung) for rung in spec or ())


@dataclass
class OrganisationCatalog(SlaCatalog):
    """The SLA catalog of a running routing service with an organisation: its OLAs, and step
    policies built on demand and found again by name (``org/<policy>/<process>/<step>``)."""

    organisation: Organisation | None = None
    steps: Any = None  # a callable (process key, element id) -> StepInfo | None
    _built: dict[str, SlaPolicy] = field(default_factory=dict)

    def named(self, name: str) -> SlaPolicy | None:
        if name.startswith(STEP_POLICY + "/"):
            parts = name.split("/")
            if len(parts) == 4 and self.organisation is not None:
                policy = next((p for p in self.organisation.policies if p.id == parts[1]), None)
                info = self.steps(parts[2], parts[3]) if self.steps is not None else None
                if policy is not None:
                    return self.step_policy(policy, parts[2], parts[3], info)
            return None
        return super().named(name)

    def step_policy(
        self, policy: CustomerPolicy, process_key: str, step: str, info: StepInfo | None
    ) -> SlaPolicy | None:
        """The customer policy applied to one step: the step's own target (flow.yaml `sla`),
        else the policy's resolution target; the policy's response target, calendar and
        escalation ladder."""
        name = f"{STEP_POLICY}/{policy.id}/{process_key}/{step}"
        if name not in self._built:
            resolution = (info.sla if info is not None else None) or policy.resolution
            if resolution is None and policy.response is None:
                return None
            self._built[name] = SlaPolicy(
                name=name,
                reason=process_key,
                step=step,
                first_response=policy.response,
                resolution=resolution,
                calendar=policy.calendar,
                escalations=policy.escalations,
            )
        return self._built[name]


@dataclass(frozen=True)
class WorkProfile:
    department: str | None
    candidate_groups: frozenset[str]
    skills: Mapping[str, int]
    customer_value: float
    churn_risk: float
    policy: SlaPolicy | None
    attributes: Mapping[str, Any]
    boost: float = 0.0  # a strongly negative customer text raises the work (sentiment)


class WorkProfiler:
    """What the organisation says of a new work item of a flow (see the module docstring)."""

    def __init__(self, store: Store, organisation: Organisation) -> None:
        self.store = store
        self.organisation = organisation
        self.catalog = OrganisationCatalog(
            olas=organisation.olas(),
            calendars=dict(organisation.calendars),
            organisation=organisation,
            steps=self.step,
        )
        self._steps: dict[str, dict[str, StepInfo]] = {}
        self._missed: dict[str, float] = {}
        self._lock = threading.Lock()

    def step(self, process_key: str, element_id: str) -> StepInfo | None:
        steps = self._steps.get(process_key)
        if steps is None:
            # a flow deployed since the last read; a process without a bundle is looked for
            # again only a minute later (not on every one of its work items)
            now = time.monotonic()
            if now - self._missed.get(process_key, -REREAD_S) >= REREAD_S:
                self._refresh()
                self._missed[process_key] = now
            steps = self._steps.get(process_key, {})
        return steps.get(element_id)

    def _refresh(self) -> None:
        """Steps of every deployed flow (the bundle deployed last per process key)."""
        from flowdesk.experience.service import bundles_by_process

        found: dict[str, dict[str, StepInfo]] = {}
        for process_key, bundle in bundles_by_process(self.store).items():
            infos = {}
            for task_id, task in bundle.tasks.items():
                sla = parse_duration(task.sla) if task.sla else None
                infos[task_id] = StepInfo(
                    sla if isinstance(sla, timedelta) else None,
                    dict(task.skills),
                    tuple(r.id for r in bundle.reasons),
                )
            found[process_key] = infos
        with self._lock:
            self._steps = found

    def profile(
        self,
        conn: Connection,
        *,
        process_key: str | None,
        element_id: str | None,
        instance_id: str | None,
        lane: str | None,
        candidate_groups: Iterable[str] = (),
    ) -> WorkProfile:
        """`candidate_groups` are mapped like lanes: a task without groups has its lane's
        name as its group (the engine's rule), so "Billing" must mean department "billing"."""
        org = self.organisation
        info = self.step(process_key, element_id) if process_key and element_id else None
        segment, value, reason, customer_id = _customer(conn, instance_id)
        # the next-best-action scores (event log and profile): churn risk, and the value of a
        # customer whose profile has none
        scored = score_of(conn, customer_id) if customer_id else None
        if scored is not None and value is None:
            value = scored[0]
        reasons = (reason,) if reason else (info.reasons if info else ())
        policy = org.customer_policy(segment, reasons)
        step_policy = (
            self.catalog.step_policy(policy, process_key, element_id, info)
            if policy is not None and process_key and element_id
            else None
        )
        attributes: dict[str, Any] = {"process key": process_key}
        if segment:
            attributes["segment"] = segment
        # what the customer wrote: its sentiment is a name for priority expressions, and a
        # strongly negative text raises the work by SENTIMENT_BOOST
        feeling = instance_sentiment(conn, instance_id) if instance_id else None
        if feeling is not None:
            attributes["sentiment"] = feeling
        return WorkProfile(
            department=org.department_for(lane),
            candidate_groups=frozenset(org.department_for(g) or g for g in candidate_groups),
            skills=dict(info.skills) if info else {},
            customer_value=org.value_points(value),
            churn_risk=max(org.risk(segment, process_key), scored[1] if scored else 0.0),
            policy=step_policy,
            attributes=attributes,
            boost=SENTIMENT_BOOST if feeling is not None and feeling <= STRONGLY_NEGATIVE else 0.0,
        )


def _customer(
    conn: Connection, instance_id: str | None
) -> tuple[str | None, float | None, Any, str | None]:
    """(segment, value, contact reason, customer id) of the customer whose case the flow
    serves."""
    if instance_id is None:
        return None, None, None, None
    row = conn.execute(
        select(customers.c.segment, customers.c.value, cases.c.reason, customers.c.id)
        .select_from(cases.join(customers, customers.c.id == cases.c.customer_id))
        .where(cases.c.instance_id == instance_id)
        .limit(1)
    ).first()
    if row is None:
        return None, None, None, None
    value = float(row.value) if row.value is not None else None
    return row.segment, value, row.reason, row.id
