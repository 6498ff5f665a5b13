"""The baseline model of a running Flowdesk: the deployed flows, the company file, the log.

`baseline` reads the latest deployed BPMN of every flow that has an experience bundle (step
SLAs and skills come from the bundle), the organisation (departments, agents with shifts and
skills, calendars, SLA policies, OLAs) from the company file, and fits arrivals, durations,
branches and agents' working hours from the event log of the last `days` days.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flowdesk.bpmn.parser import parse_bpmn
from flowdesk.calendars.calendar import BusinessCalendar
from flowdesk.core.events import StoredEvent
from flowdesk.experience.company import load_company
from flowdesk.experience.service import bundles_by_process
from flowdesk.simulation.dists import Dist
from flowdesk.simulation.fit import Fitted, agents_from, fit_history
from flowdesk.simulation.flows import flow_from_process, minutes_of
from flowdesk.simulation.model import Agent, Flow, Model
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository

#: Agent cost per hour by default (EUR, loaded salary), when the company file sets none.
DEFAULT_COST = 35.0
#: Customers on the phone or in a chat hang up after this many minutes on average.
DEFAULT_PATIENCE = {"phone": 6.0, "chat": 10.0}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BaselineError(ValueError):
    """The store or the company file cannot give a model (no flows, no history)."""


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def calendars_of(company: dict[str, Any]) -> dict[str, BusinessCalendar]:
    zone = str(company.get("company", {}).get("timezone", "UTC"))
    out: dict[str, BusinessCalendar] = {"24x7": BusinessCalendar.always(zone)}
    for spec in company.get("calendars", []) or []:
        hours = {day: spans for day, spans in (spec.get("opening_hours") or {}).items() if spans}
        holidays = [h["date"] if isinstance(h, dict) else h for h in spec.get("holidays", []) or []]
        if hours:
            out[str(spec["id"])] = BusinessCalendar.weekly(
                zone, hours, holidays, name=str(spec["id"])
            )
    return out


def departments_of(company: dict[str, Any]) -> dict[str, str]:
    known: dict[str, str] = {}
    for dept in company.get("departments", []) or []:
        known[str(dept["id"]).lower()] = str(dept["id"])
        known[str(dept.get("name", dept["id"])).lower()] = str(dept["id"])
    return known


def company_agents(company: dict[str, Any]) -> list[Agent]:
    return [
        Agent(
            str(a["username"]),
            str(a["department"]),
            {str(k): int(v) for k, v in (a.get("skills") or {}).items()},
            a.get("shift"),
        )
        for a in company.get("agents", []) or []
    ]


def flows_of(
    store: Store, company: dict[str, Any], versions: Mapping[str, int] | None = None
) -> dict[str, Flow]:
    """The latest deployed version of every flow with an experience bundle (or the version
    `versions` names for it)."""
    known = departments_of(company)
    policies = company.get("sla_policies", []) or []
    standard = next((p for p in policies if not p.get("reasons") and not p.get("segments")), None)
    out: dict[str, Flow] = {}
    for key, bundle in sorted(bundles_by_process(store).items()):
        with store.reading() as conn:
            repo = ProcessRepository(conn)
            wanted = (versions or {}).get(key)
            row = (
                repo.latest_definition(key)
                if wanted is None
                else repo.definition(f"{key}:{wanted}")
            )
            if row is None and wanted is not None:
                raise BaselineError(f"flows.{key}: version {wanted} is not deployed")
            resource = repo.resource(row["resource_id"]) if row else None
        if row is None or resource is None:
            continue
        process = parse_bpmn(str(resource["content"]), filename=str(resource["name"])).process(key)
        flow = flow_from_process(
            process,
            departments=known,
            task_sla={t: e.sla for t, e in bundle.tasks.items()},
            task_skills={t: e.skills for t, e in bundle.tasks.items()},
        )
        flow.version = str(row["version"])
        reasons = {r.id for r in bundle.reasons}
        special = next((p for p in policies if reasons & set(p.get("reasons") or [])), None)
        flow.sla_calendar = str((special or standard or {}).get("calendar", "24x7"))
        flow.priority = 10.0 if special else 0.0
        out[key] = flow
    if not out:
        raise BaselineError("no deployed flows with an experience bundle to simulate")
    return out


def history(store: Store, since: datetime, until: datetime) -> Iterator[StoredEvent]:
    for ev in store.events.iterate(0, batch=5000):
        if since <= ev.time < until:
            yield ev


def model_of(
    company: dict[str, Any],
    flows: dict[str, Flow],
    fitted: Fitted,
    *,
    start: datetime,
    fitted_hours: bool = True,
) -> Model:
    """A model from the organisation and a fit; `fitted_hours`: agents work the hours the log
    shows (the back-test), else the shifts of the company file (what-if on the roster)."""
    zone = str(company.get("company", {}).get("timezone", "UTC"))
    shifts = {
        str(name): (_clock(s["start"]), _clock(s["end"]))
        for name, s in (company.get("shifts") or {}).items()
    }
    agents = company_agents(company)
    if fitted_hours:
        agents = agents_from(fitted, agents)
        for agent in agents:
            if agent.shift is not None and agent.shift not in shifts:
                a, b = agent.shift.split("-")
                shifts[agent.shift] = (_clock(a), _clock(b))
    ola = {}
    for dept in company.get("departments", []) or []:
        pickup = minutes_of((dept.get("ola") or {}).get("pickup"))
        if pickup is not None:
            ola[str(dept["id"])] = pickup
    return Model(
        start=start,
        flows=fitted.flows,
        streams=fitted.streams,
        agents=agents,
        shifts=shifts,
        calendars=calendars_of(company),
        work_calendar=None if fitted_hours else "business",
        patience={k: Dist("exp", v) for k, v in DEFAULT_PATIENCE.items()},
        ola_pickup=ola,
        cost_per_hour=dict.fromkeys(departments_of(company).values(), DEFAULT_COST),
        repeat_share=fitted.repeat_share,
        # the log attaches repeat contacts to their case without a work item
        repeat_work=None if fitted_hours else Dist("exp", 5.0),
        zone=zone,
    )


def baseline(
    store: Store,
    company_file: str | Path,
    *,
    days: int = 30,
    until: datetime | None = None,
    fitted_hours: bool = False,
    versions: Mapping[str, int] | None = None,
) -> tuple[Model, Fitted]:
    """The model of this Flowdesk fitted on the last `days` of its log; starts at `until`."""
    company = load_company(company_file)
    flows = flows_of(store, company, versions)
    for key in versions or {}:
        if key not in flows:
            raise BaselineError(f"flows.{key}: no such flow")
    end = until or datetime.now(UTC)
    since = end - timedelta(days=days)
    zone = str(company.get("company", {}).get("timezone", "UTC"))
    fitted = fit_history(history(store, since, end), flows, since=since, until=end, zone=zone)
    if fitted.cases == 0:
        raise BaselineError(
            f"no cases started in the {days} days before {end:%Y-%m-%d}: nothing to fit"
        )
    return model_of(company, flows, fitted, start=end, fitted_hours=fitted_hours), fitted
