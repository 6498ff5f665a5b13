"""Staffing: the fewest agents per department and shift that meet the targets.

The target of a department is its OLA pickup (company file: work handed to it is taken up
within `ola.pickup`) met for `target` of its work by the wait for a free agent (the queueing
that staffing changes; the pickup delay fitted from the log is the history's own and comes on
top, see docs/simulation.md). Erlang C gives the first guess (the
department's work as one M/M/c queue over its staffed hours); simulations then walk the
headcount down while the target holds and up until it does, with the department's shifts
keeping their share of the roster. Departments are searched one at a time, the others at
their baseline headcount.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flowdesk.simulation.erlang import erlang_c_figures
from flowdesk.simulation.model import Agent, Model
from flowdesk.simulation.results import figures, replicate

Progress = Callable[[int, int], None]


def _roster(model: Model, dept: str, count: int) -> Model:
    """`model` with `count` agents in `dept`, split over its shifts as the baseline splits."""
    out = copy.deepcopy(model)
    mine = [a for a in out.agents if a.department == dept]
    others = [a for a in out.agents if a.department != dept]
    if not mine:
        return out
    shifts: dict[str | None, list[Agent]] = {}
    for a in mine:
        shifts.setdefault(a.shift, []).append(a)
    keys = list(shifts)
    share = {k: len(v) / len(mine) for k, v in shifts.items()}
    places = {k: int(count * share[k]) for k in keys}
    left = count - sum(places.values())
    for k in sorted(keys, key=lambda k: count * share[k] - places[k], reverse=True)[:left]:
        places[k] += 1
    roster: list[Agent] = []
    for k in keys:
        group = shifts[k]
        for n in range(places[k]):
            if n < len(group):
                roster.append(group[n])
            else:
                t = group[-1]
                roster.append(
                    Agent(f"{dept}-extra-{k}-{n}", dept, dict(t.skills), k, t.capacity, t.presence)
                )
    out.agents = others + roster
    return out


def _met(
    model: Model, dept: str, days: int, replications: int, target: float
) -> tuple[bool, float]:
    runs = replicate(model, days=days, replications=replications, warmup_days=2.0)
    values = [figures(r).get(f"dept.{dept}.queue_ola", float("nan")) for r in runs]
    clean = [v for v in values if v == v]
    share = sum(clean) / len(clean) if clean else 1.0
    return share >= target, share


def erlang_guess(model: Model, dept: str, days: int, target: float) -> int:
    """Smallest c for which M/M/c answers `target` of the work within the OLA pickup."""
    run = replicate(model, days=days, replications=1, warmup_days=2.0)[0]
    items = len(run.waits.get(dept, []))
    staffed = run.staffed_hours.get(dept, 0.0) * 60
    heads = max(1, sum(1 for a in model.agents if a.department == dept))
    if items == 0 or staffed == 0:
        return 1
    service = run.busy_minutes.get(dept, 0.0) / items or 1.0
    open_minutes = staffed / heads  # the minutes someone of the department is there
    arrival = items / open_minutes
    threshold = model.ola_pickup.get(dept, 60.0)
    for c in range(1, 200):
        if (
            arrival * service < c
            and erlang_c_figures(c, arrival, service, threshold).service_level >= target
        ):
            return c
    return heads


def staffing_search(
    model: Model,
    *,
    days: int,
    replications: int,
    target: float,
    progress: Progress | None = None,
) -> dict[str, Any]:
    departments = sorted({a.department for a in model.agents if a.department in model.ola_pickup})
    out: dict[str, Any] = {
        "target": target,
        "days": days,
        "replications": replications,
        "departments": {},
    }
    for index, dept in enumerate(departments):
        now = sum(1 for a in model.agents if a.department == dept)
        guess = max(1, erlang_guess(model, dept, days, target))
        cap = max(now * 3, guess + 5)
        tried: dict[int, tuple[bool, float]] = {}

        def test(c: int, dept: str = dept, tried: dict[int, tuple[bool, float]] = tried) -> bool:
            if c not in tried:
                tried[c] = _met(_roster(model, dept, c), dept, days, replications, target)
            return tried[c][0]

        c = guess
        if test(c):
            while c > 1 and test(c - 1):
                c -= 1
        else:
            while c < cap and not test(c + 1):
                c += 1
            c = c + 1 if c < cap else cap
        reachable = test(c)
        roster = _roster(model, dept, c)
        per_shift: dict[str, int] = {}
        for a in roster.agents:
            if a.department == dept:
                per_shift[a.shift or "any"] = per_shift.get(a.shift or "any", 0) + 1
        out["departments"][dept] = {
            "now": now,
            "erlang_c_guess": guess,
            "needed": c if reachable else None,
            "per_shift": per_shift if reachable else None,
            "ola_share": tried[c][1],
            "tried": {str(k): round(v[1], 4) for k, v in sorted(tried.items())},
            "note": None if reachable else f"the OLA is not met even with {cap} agents",
        }
        if progress is not None:
            progress(index + 1, len(departments))
    return out
