"""What-if simulation as use cases: the baseline, a scenario run, the staffing search.

The CLI (`flowdesk simulate`), the REST API (/api/v1/simulations) and the supervisor page
(/simulation) all come through here: permission (supervise), limits on days and replications,
and the baseline fitted once per state of the event log (fitting reads the whole log).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import InvalidInput
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.simulation import scenario as scenarios
from flowdesk.simulation.baseline import BaselineError, baseline
from flowdesk.simulation.model import Model
from flowdesk.simulation.results import replicate, summarise
from flowdesk.simulation.staffing import staffing_search

MAX_DAYS = scenarios.MAX_DAYS
MAX_REPLICATIONS = scenarios.MAX_REPLICATIONS
FIT_DAYS = 30
Progress = Callable[[int, int], None]

#: A fitted baseline serves for this long (fitting reads the whole log; the live demo adds
#: events every few seconds, so "until the log grows" would mean every request).
FRESH = timedelta(minutes=10)
_cache: dict[tuple[str, str, str], tuple[datetime, Model]] = {}
_lock = threading.Lock()


def _company_file(ops: Ops) -> str:
    configured = getattr(ops.settings, "company_file", None) if ops.settings is not None else None
    if configured:
        return str(configured)
    import flowdesk.demo

    return str(Path(flowdesk.demo.__file__).parent / "company" / "company.yaml")


def _baseline(ops: Ops, versions: Mapping[str, int] | None = None) -> Model:
    """The model fitted on the last 30 days of the log, kept for `FRESH`."""
    company = _company_file(ops)
    key = (str(ops.store.engine.url), company, repr(sorted((versions or {}).items())))
    now = ops.clock.now()
    with _lock:
        found = _cache.get(key)
    if found is not None and timedelta(0) <= now - found[0] < FRESH:
        return found[1]
    try:
        model, _ = baseline(ops.store, company, days=FIT_DAYS, until=now, versions=versions)
    except (BaselineError, ValueError) as exc:
        text = str(exc)
        if text.startswith("flows."):  # the request named a flow or version that is not there
            raise InvalidInput(text) from None
        hint = "seed the demo or let traffic run first"
        if isinstance(exc, BaselineError):  # nothing to fit yet: the state, not the request
            raise ConflictError(text, hint=hint) from None
        raise InvalidInput(text, hint=hint) from None
    with _lock:
        if len(_cache) > 8:
            _cache.clear()
        _cache[key] = (now, model)
    return model


def _check_limits(days: int, replications: int) -> None:
    """The scenario model's limits (flowdesk.simulation.scenario), for runs without one."""
    scenarios.run_settings({}, days=days, replications=replications)


def describe(model: Model) -> dict[str, Any]:
    """The baseline as a supervisor edits it: staff per department and shift, flows, volumes."""
    staff: dict[str, dict[str, int]] = {}
    for agent in model.agents:
        shift = agent.shift or "any"
        staff.setdefault(agent.department, {}).setdefault(shift, 0)
        staff[agent.department][shift] += 1
    per_day = sum(sum(s.rates) for s in model.streams) / 7
    reasons: dict[str, float] = {}
    channels: dict[str, float] = {}
    for s in model.streams:
        reasons[s.reason] = reasons.get(s.reason, 0.0) + sum(s.rates) / 7
        channels[s.channel] = channels.get(s.channel, 0.0) + sum(s.rates) / 7
    return {
        "start": model.start.isoformat(),
        "contacts_per_day": round(per_day, 1),
        "staff": {d: dict(sorted(v.items())) for d, v in sorted(staff.items())},
        "shifts": sorted(model.shifts),
        "flows": {
            k: {"version": f.version, "priority": f.priority}
            for k, f in sorted(model.flows.items())
        },
        "reasons": {k: round(v, 2) for k, v in sorted(reasons.items())},
        "channels": {k: round(v, 2) for k, v in sorted(channels.items())},
    }


def baseline_view(caller: Caller, ops: Ops) -> dict[str, Any]:
    require(caller, Permission.SUPERVISE)
    return describe(_baseline(ops))


def starting_points(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    """The company's prepared scenarios (scenarios/*.yaml beside the company file): what a
    supervisor starts from instead of a blank copy; each is checked as a scenario file is."""
    require(caller, Permission.SUPERVISE)
    folder = Path(_company_file(ops)).parent / "scenarios"
    out = []
    for path in sorted(folder.glob("*.yaml")):
        spec = scenarios.load_scenario(path)
        out.append(
            {
                "id": path.stem,
                "name": str(spec.get("name") or path.stem),
                "description": str(spec.get("description") or ""),
                "scenario": spec,
            }
        )
    return out


def starting_point(caller: Caller, ops: Ops, point: str) -> dict[str, Any]:
    """One prepared scenario with the roster it gives (`staff`, per department and shift, the
    baseline's shifts all present), for the page's editable copy."""
    found = next((p for p in starting_points(caller, ops) if p["id"] == point), None)
    if found is None:
        raise NotFoundError(f"no prepared scenario {point!r}")
    base = _baseline(ops)
    changed = describe(scenarios.apply(base, found["scenario"], source=f"scenarios/{point}"))
    staff = {
        dept: {shift: changed["staff"].get(dept, {}).get(shift, 0) for shift in shifts}
        for dept, shifts in describe(base)["staff"].items()
    }
    return {**found, "staff": staff}


def _clean(value: Any) -> Any:
    """NaN (a figure with nothing to measure) as null, so the result is valid JSON."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def run(
    caller: Caller,
    ops: Ops,
    scenario: Mapping[str, Any],
    *,
    days: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    compare: bool = True,
    progress: Progress | None = None,
    source: str = "scenario",
) -> dict[str, Any]:
    """Run the scenario (and the baseline beside it, same seeds) and summarise both."""
    require(caller, Permission.SUPERVISE)
    days, replications, seed = scenarios.run_settings(
        scenario, days=days, replications=replications, seed=seed, source=source
    )
    versions = {}
    for key, spec in dict(scenario.get("flows") or {}).items():
        version = spec.get("version") if isinstance(spec, Mapping) else spec
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidInput(f"scenario: flows.{key}.version: expected a version number")
        versions[str(key)] = version
    base = _baseline(ops)
    changed_base = _baseline(ops, versions) if versions else base
    model = scenarios.apply(changed_base, scenario, source=source)
    total = replications * (2 if compare else 1)
    done = [0]

    def tick(_: int, __: int) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    def measure(measured: Model) -> dict[str, Any]:
        """Both sides on the same seeds, so their difference is the change, not the luck."""
        return summarise(
            replicate(
                measured,
                days=days,
                replications=replications,
                seed=seed,
                warmup_days=3.0,
                progress=tick,
            )
        )

    out: dict[str, Any] = {
        "name": str(scenario.get("name") or "scenario"),
        "days": days,
        "replications": replications,
        "seed": seed,
        "baseline_model": describe(base),
        "scenario_model": describe(model),
        "scenario": measure(model),
        "baseline": measure(base) if compare else None,
    }
    return dict(_clean(out))


def staffing(
    caller: Caller,
    ops: Ops,
    *,
    days: int = 7,
    replications: int = 2,
    target: float | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The fewest agents per department and shift meeting the company's SLA and OLA targets."""
    require(caller, Permission.SUPERVISE)
    _check_limits(days, replications)
    goal = 0.9 if target is None else float(target)
    if not 0 < goal < 1:
        raise InvalidInput(f"target must be a share between 0 and 1, got {goal}")
    found = staffing_search(
        _baseline(ops), days=days, replications=replications, target=goal, progress=progress
    )
    return dict(_clean(found))
