"""The organisation: departments, agents (skills, languages, capacity) and the BPMN lane map.

The company file (FLOWDESK_COMPANY_FILE, or the demo's flowdesk/demo/company/company.yaml) is the
source:
`load_organisation` puts its agents into routing (and gives each a login of the same name)
when `flowdesk serve` starts and on `flowdesk demo load`. The admin use cases below read and
change the live organisation; routing's REST routes for agents call them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import InvalidInput
from flowdesk.core.clock import Clock
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.experience.company import load_company
from flowdesk.routing import Presence
from flowdesk.routing.domain import DEFAULT_CAPACITY
from flowdesk.routing.organisation import Organisation, WorkProfiler
from flowdesk.routing.service import RoutingService
from flowdesk.store import Store

#: What the admin pages offer: the channels an agent has capacity for, and the presences.
CHANNELS = tuple(DEFAULT_CAPACITY)
PRESENCES = tuple(p.value for p in Presence)


def default_capacity() -> dict[str, int]:
    return dict(DEFAULT_CAPACITY)


#: Who may read and change the organisation (supervisors run their teams; admins hold all).
MANAGE = Permission.SUPERVISE


@lru_cache(maxsize=8)
def _organisation(path: str, mtime: float) -> Organisation:
    return Organisation.from_file(path)


def organisation_from(company_file: str | Path | None) -> Organisation | None:
    """The organisation of a company file (parsed once per file version), or None."""
    if company_file is None:
        return None
    path = Path(company_file)
    return _organisation(str(path.resolve()), path.stat().st_mtime)


def routing_for(
    store: Store,
    company_file: str | Path | None,
    *,
    clock: Clock | None = None,
    runtime: Any = None,
) -> RoutingService:
    """A routing service that knows the organisation of the company file (if any)."""
    org = organisation_from(company_file)
    profiler = WorkProfiler(store, org) if org is not None else None
    return RoutingService(store, clock=clock, runtime=runtime, profiler=profiler)


@dataclass(frozen=True)
class Loaded:
    agents_added: int
    agents_updated: int
    agents_unchanged: int
    accounts_created: int

    def line(self) -> str:
        return (
            f"organisation: {self.agents_added} routing agents added, {self.agents_updated} "
            f"updated, {self.agents_unchanged} unchanged; {self.accounts_created} logins created"
        )


def load_organisation(
    store: Store,
    clock: Clock,
    organisation: Organisation,
    routing: RoutingService | None = None,
    *,
    password: str | None = None,
) -> Loaded:
    """Put the company file's agents into routing, idempotently (an agent whose profile is
    already the file's is not written again). An agent without a login gets one of the same
    name (roles agent, or supervisor and agent; group: the department), with `password`
    (the demo's) or none (an administrator sets it)."""
    routing = routing or RoutingService(store, clock=clock)
    existing = {a["id"]: a for a in routing.agents()}
    users = {u.username for u in auth.list_users(store)}
    added = updated = unchanged = accounts = 0
    for spec in organisation.agents:
        if spec.username not in users:
            roles = ["supervisor", "agent"] if spec.supervisor else ["agent"]
            try:
                auth.create_user(
                    store,
                    clock,
                    username=spec.username,
                    display_name=spec.name,
                    roles=roles,
                    groups=[spec.department],
                    password=password,
                    actor="organisation",
                    shared_password=True,
                )
                accounts += 1
            except ConflictError:
                pass
        wanted = {
            "display_name": spec.name,
            "skills": dict(spec.skills),
            "languages": sorted(set(spec.languages)),
            "departments": [spec.department],
            "capacity": dict(spec.capacity),
        }
        have = existing.get(spec.username)
        if have is not None and all(have[k] == v for k, v in wanted.items()):
            unchanged += 1
            continue
        routing.upsert_agent(
            spec.username,
            skills=spec.skills,
            languages=spec.languages,
            departments=[spec.department],
            capacity=spec.capacity,
            display_name=spec.name,
        )
        if have is None:
            added += 1
        else:
            updated += 1
    return Loaded(added, updated, unchanged, accounts)


# -- admin use cases ------------------------------------------------------------------------
def routing_of(ops: Ops) -> RoutingService:
    """The app's routing service (built with the company file's organisation when it has none)."""
    service = ops.service("routing")
    if service is None:
        service = routing_for(ops.store, _company_file(ops), clock=ops.clock)
    if not isinstance(service, RoutingService):
        raise TypeError("the app's routing service is not a RoutingService")
    return service


def _company_file(ops: Ops) -> str | None:
    return getattr(ops.settings, "company_file", None) if ops.settings is not None else None


def _org(ops: Ops) -> Organisation | None:
    routing = ops.service("routing")
    profiler = getattr(routing, "profiler", None)
    if profiler is not None:
        org: Organisation = profiler.organisation
        return org
    return organisation_from(_company_file(ops))


def list_agents(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    """Every routing agent with skills, languages, departments, capacity, presence and load."""
    require(caller, MANAGE)
    return [_with_shift(ops, a) for a in routing_of(ops).agents()]


def get_agent(caller: Caller, ops: Ops, agent_id: str) -> dict[str, Any]:
    require(caller, MANAGE)
    return _with_shift(ops, routing_of(ops).agent(agent_id))


def _with_shift(ops: Ops, agent: dict[str, Any]) -> dict[str, Any]:
    org = _org(ops)
    return {**agent, "shift": org.shift_of(agent["id"]) if org is not None else None}


def put_agent(
    caller: Caller,
    ops: Ops,
    agent_id: str,
    *,
    skills: Mapping[str, int] | None = None,
    languages: Iterable[str] = (),
    departments: Iterable[str] = (),
    capacity: Mapping[str, int] | None = None,
    display_name: str | None = None,
) -> dict[str, Any]:
    """Add or change an agent: skill levels 1-5, departments known to the organisation (when
    the app has one), capacity per channel at least 1."""
    require(caller, MANAGE)
    skills = dict(skills or {})
    for name, level in skills.items():
        if not 1 <= level <= 5:
            raise InvalidInput(
                f"skill {name!r} has level {level}", hint="skill levels are 1 (learning) to 5"
            )
    departments = list(departments)
    org = _org(ops)
    if org is not None:
        unknown = [d for d in departments if d not in org.departments]
        if unknown:
            raise InvalidInput(
                f"unknown department {unknown[0]!r}",
                hint=f"departments are {', '.join(sorted(org.departments))}",
            )
    return _with_shift(
        ops,
        routing_of(ops).upsert_agent(
            agent_id,
            skills=skills,
            languages=languages,
            departments=departments,
            capacity=capacity,
            display_name=display_name,
        ),
    )


def list_departments(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    """The departments of the company file, with their OLA, channels, lanes and agents."""
    require(caller, MANAGE)
    org = _org(ops)
    if org is None:
        return []
    members: dict[str, list[str]] = {}
    for agent in routing_of(ops).agents():
        for d in agent["departments"]:
            members.setdefault(d, []).append(agent["id"])
    return [
        {
            "id": d.id,
            "name": d.name,
            "channels": list(d.channels),
            "lanes": sorted({*d.lanes, d.name}),
            "ola_pickup_minutes": d.pickup.total_seconds() / 60 if d.pickup else None,
            "ola_resolve_minutes": d.resolve.total_seconds() / 60 if d.resolve else None,
            "escalations": len(d.escalations),
            "agents": sorted(members.get(d.id, [])),
        }
        for d in org.departments.values()
    ]


def lane_map(caller: Caller, ops: Ops, lanes: Iterable[str] = ()) -> dict[str, str]:
    """Lane -> department id: the explicit map and every department's name, plus where each
    of `lanes` goes by the mapping rule."""
    require(caller, MANAGE)
    org = _org(ops)
    if org is None:
        raise NotFoundError(
            "no organisation is loaded", hint="start the server with FLOWDESK_COMPANY_FILE"
        )
    out = org.lane_map()
    for lane in lanes:
        out[lane] = org.department_for(lane) or lane
    return out


def set_presence(caller: Caller, ops: Ops, agent_id: str, presence: str) -> dict[str, Any]:
    """Set an agent's presence for them (sent home: offline; back from a break: available); the
    event names who did it."""
    require(caller, MANAGE)
    try:
        wanted = Presence(presence.strip().lower())
    except ValueError as exc:
        choices = ", ".join(p.value for p in Presence)
        raise FormInvalid(
            [{"field": "presence", "message": f"Presence is one of {choices}."}]
        ) from exc
    return _with_shift(ops, routing_of(ops).set_presence(agent_id, wanted, actor=caller.username))


@dataclass(frozen=True)
class CompanySettings:
    """The file-backed part of the organisation as the company file states it: SLA policies
    with every target, business calendars, shifts. `file` is None when the app has none."""

    file: str | None
    sla_policies: list[dict[str, Any]]
    calendars: list[dict[str, Any]]
    shifts: dict[str, str]
    lanes: dict[str, str]


def company_settings(caller: Caller, ops: Ops) -> CompanySettings:
    """What the company file says about SLAs, calendars and shifts (read-only: the file is
    the source; change it and restart the server)."""
    require(caller, MANAGE)
    path = _company_file(ops)
    org = _org(ops)
    if path is None:
        return CompanySettings(None, [], [], dict(org.shifts) if org else {}, {})
    company = load_company(path)
    return CompanySettings(
        file=str(path),
        sla_policies=list(company.get("sla_policies") or ()),
        calendars=list(company.get("calendars") or ()),
        shifts={
            str(k): f"{v['start']}-{v['end']}" for k, v in (company.get("shifts") or {}).items()
        },
        lanes=org.lane_map() if org is not None else {},
    )
