"""Scenarios: small changes to the baseline, from a YAML file or an API body.

```yaml
name: Three billing agents on leave, 30 % more billing questions
staff: {billing: 3}                 # headcount per department ...
staff: {billing: {early: 1, day: 2}}  # ... or per department and shift
staff_change: {billing: -3}         # or remove (add) agents
arrivals: {all: 1.0, reasons: {billing-inquiry: 1.3}, channels: {phone: 1.1}}
flows: {billing_dispute: {version: 1}}  # another deployed version (read by the app layer)
priorities: {complaint: 20}         # routing weight of a flow's work (higher first)
patience: {phone: 4}                # mean minutes before a caller hangs up
capacity: {billing: 2}              # items an agent of the department works at once
```
Every key is optional; unknown keys and unknown departments, shifts, reasons, channels or
flows are refused with the path of the offending entry, so a typo never runs silently. The
limits below are the scenario's own (not a page's or a route's): the API, the CLI and the
/simulation page refuse the same out-of-range value with the same message.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from flowdesk.core.errors import FlowdeskError
from flowdesk.simulation.dists import Dist
from flowdesk.simulation.model import WAITING_CHANNELS, Agent, Model

KEYS = {
    "name",
    "description",
    "staff",
    "staff_change",
    "arrivals",
    "flows",
    "priorities",
    "patience",
    "capacity",
    "days",
    "replications",
    "seed",
}


#: Simulated days and replications of one run: what a request may keep a server busy with.
MAX_DAYS = 90
MAX_REPLICATIONS = 20
#: Agents per department (or department and shift): far above any roster, below a typo's 10**6.
MAX_STAFF = 500
#: Arrival multipliers (all, per reason, per channel): 0 silences a stream, 20 is a storm.
MAX_MULTIPLIER = 20.0
#: Items an agent works at once, and a caller's mean patience (minutes).
MAX_CAPACITY = 50
MAX_PATIENCE = 24 * 60.0
#: Routing weight of a flow's work, either way.
MAX_PRIORITY = 1000.0


class ScenarioError(FlowdeskError):
    """A scenario that names something the baseline does not have (HTTP 422)."""

    code = "invalid-input"


def load_scenario(path: str | Path) -> dict[str, Any]:
    """A scenario file; a YAML error names the file, line and column."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ScenarioError(f"{where}: {exc.problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: a scenario is a mapping of changes, not {type(data).__name__}"
        )
    check(data, source=str(path))
    return data


def _number(
    value: Any, where: str, *, low: float = 0.0, high: float = math.inf, whole: bool = False
) -> float:
    """`value` as a number in [low, high] (a whole one if `whole`), else a ScenarioError naming
    `where` and the range."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    if whole and value != int(value):
        raise ScenarioError(f"{where}: expected a whole number, got {value!r}")
    if not low <= value <= high:
        span = f"{low:g} to {high:g}" if high != math.inf else f"at least {low:g}"
        raise ScenarioError(f"{where}: must be {span}, got {value!r}")
    return float(value)


def _whole(value: Any, where: str, low: int, high: int) -> int:
    return int(_number(value, where, low=low, high=high, whole=True))


def run_settings(
    scenario: Mapping[str, Any],
    *,
    days: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    source: str = "scenario",
) -> tuple[int, int, int]:
    """(days, replications, seed) of a run: the caller's values, else the scenario's, else 7
    days, 3 replications, seed 1; out of range is refused whichever door it came through."""
    check(scenario, source=source)
    given_days = days if days is not None else scenario.get("days", 7)
    given_reps = replications if replications is not None else scenario.get("replications", 3)
    given_seed = seed if seed is not None else scenario.get("seed", 1)
    return (
        _whole(given_days, "days" if days is not None else f"{source}: days", 1, MAX_DAYS),
        _whole(
            given_reps,
            "replications" if replications is not None else f"{source}: replications",
            1,
            MAX_REPLICATIONS,
        ),
        _whole(given_seed, "seed" if seed is not None else f"{source}: seed", 0, 2**31 - 1),
    )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: expected a mapping, got {value!r}")
    return value


def check(scenario: Mapping[str, Any], *, source: str = "scenario") -> None:
    unknown = sorted(set(scenario) - KEYS)
    if unknown:
        raise ScenarioError(
            f"{source}: unknown key {unknown[0]!r}", hint=f"use {', '.join(sorted(KEYS))}"
        )
    for key in ("name", "description"):
        if scenario.get(key) is not None and not isinstance(scenario[key], str):
            raise ScenarioError(f"{source}: {key}: expected text, got {scenario[key]!r}")
    if "days" in scenario:
        _whole(scenario["days"], f"{source}: days", 1, MAX_DAYS)
    if "replications" in scenario:
        _whole(scenario["replications"], f"{source}: replications", 1, MAX_REPLICATIONS)
    if "seed" in scenario:
        _whole(scenario["seed"], f"{source}: seed", 0, 2**31 - 1)


def apply(model: Model, scenario: Mapping[str, Any], *, source: str = "scenario") -> Model:
    """A copy of `model` with the scenario's changes (flow versions are the caller's: they
    need the store)."""
    check(scenario, source=source)
    out = copy.deepcopy(model)
    departments = set(out.departments())
    shifts_in = {a.shift for a in out.agents if a.shift} | set(out.shifts)

    def dept_of(name: str, where: str) -> str:
        if name not in departments:
            raise ScenarioError(
                f"{where}: unknown department {name!r}",
                hint=f"use {', '.join(sorted(departments))}",
            )
        return name

    staff = _mapping(scenario.get("staff") or {}, f"{source}: staff")
    for dept, value in staff.items():
        where = f"{source}: staff.{dept}"
        dept_of(str(dept), where)
        if isinstance(value, Mapping):
            for shift, count in value.items():
                if shift not in shifts_in:
                    raise ScenarioError(
                        f"{where}.{shift}: unknown shift {shift!r}",
                        hint=f"use {', '.join(sorted(str(s) for s in shifts_in))}",
                    )
                _set_headcount(
                    out, str(dept), _whole(count, f"{where}.{shift}", 0, MAX_STAFF), str(shift)
                )
        else:
            _set_headcount(out, str(dept), _whole(value, where, 0, MAX_STAFF), None)
    for dept, delta in _mapping(
        scenario.get("staff_change") or {}, f"{source}: staff_change"
    ).items():
        where = f"{source}: staff_change.{dept}"
        dept_of(str(dept), where)
        now = sum(1 for a in out.agents if a.department == dept)
        change = _whole(delta, where, -MAX_STAFF, MAX_STAFF)
        if now + change > MAX_STAFF:
            raise ScenarioError(f"{where}: {now} + {change} agents is over {MAX_STAFF}")
        _set_headcount(out, str(dept), max(0, now + change), None)
    arrivals = _mapping(scenario.get("arrivals") or {}, f"{source}: arrivals")
    reasons = {s.reason for s in out.streams}
    channels = {s.channel for s in out.streams}
    everything = _number(arrivals.get("all", 1.0), f"{source}: arrivals.all", high=MAX_MULTIPLIER)
    by_reason = _mapping(arrivals.get("reasons") or {}, f"{source}: arrivals.reasons")
    by_channel = _mapping(arrivals.get("channels") or {}, f"{source}: arrivals.channels")
    extra = sorted(set(arrivals) - {"all", "reasons", "channels"})
    if extra:
        raise ScenarioError(
            f"{source}: arrivals.{extra[0]}: unknown key", hint="use all, reasons, channels"
        )
    for name, factor in by_reason.items():
        if name not in reasons:
            raise ScenarioError(f"{source}: arrivals.reasons.{name}: no arrivals for this reason")
        _number(factor, f"{source}: arrivals.reasons.{name}", high=MAX_MULTIPLIER)
    for name, factor in by_channel.items():
        if name not in channels:
            raise ScenarioError(f"{source}: arrivals.channels.{name}: no arrivals on this channel")
        _number(factor, f"{source}: arrivals.channels.{name}", high=MAX_MULTIPLIER)
    for stream in out.streams:
        factor = everything
        factor *= _number(
            by_reason.get(stream.reason, 1.0), f"{source}: arrivals.reasons.{stream.reason}"
        )
        factor *= _number(
            by_channel.get(stream.channel, 1.0), f"{source}: arrivals.channels.{stream.channel}"
        )
        if factor != 1.0:
            stream.rates = [r * factor for r in stream.rates]
    for key, weight in _mapping(scenario.get("priorities") or {}, f"{source}: priorities").items():
        if key not in out.flows:
            raise ScenarioError(
                f"{source}: priorities.{key}: unknown flow",
                hint=f"use {', '.join(sorted(out.flows))}",
            )
        out.flows[key].priority = _number(
            weight, f"{source}: priorities.{key}", low=-MAX_PRIORITY, high=MAX_PRIORITY
        )
    for channel, minutes in _mapping(scenario.get("patience") or {}, f"{source}: patience").items():
        where = f"{source}: patience.{channel}"
        if channel not in WAITING_CHANNELS:
            raise ScenarioError(
                f"{where}: not a waiting channel", hint=f"use {', '.join(sorted(WAITING_CHANNELS))}"
            )
        out.patience[str(channel)] = Dist(
            "exp", _number(minutes, where, low=0.1, high=MAX_PATIENCE)
        )
    for dept, cap in _mapping(scenario.get("capacity") or {}, f"{source}: capacity").items():
        dept_of(str(dept), f"{source}: capacity.{dept}")
        items = _whole(cap, f"{source}: capacity.{dept}", 1, MAX_CAPACITY)
        for a in out.agents:
            if a.department == dept:
                a.capacity = items
    for key in _mapping(scenario.get("flows") or {}, f"{source}: flows"):
        if key not in out.flows:
            raise ScenarioError(
                f"{source}: flows.{key}: unknown flow", hint=f"use {', '.join(sorted(out.flows))}"
            )
    return out


def _set_headcount(model: Model, dept: str, count: int, shift: str | None) -> None:
    """Keep the first `count` agents of the department (and shift); add copies of its last
    agent (same skills) when there are more places than people: the roster's new hires."""
    group = [
        a for a in model.agents if a.department == dept and (shift is None or a.shift == shift)
    ]
    if count < len(group):
        dropped = {id(a) for a in group[count:]}
        model.agents = [a for a in model.agents if id(a) not in dropped]
        return
    template = group[-1] if group else next(a for a in model.agents if a.department == dept)
    for n in range(len(group), count):
        model.agents.append(
            Agent(
                f"{dept}-new-{n + 1}",
                dept,
                dict(template.skills),
                shift if shift is not None else template.shift,
                template.capacity,
                template.presence,
            )
        )
