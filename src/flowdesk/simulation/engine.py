"""The discrete-event loop: one replication of a `Model` over a number of days.

Our own heapq loop rather than simpy/salabim/ciw: a month of the demo company at full scale
is about a million events, and a generator-per-process library spends several microseconds of
interpreter time per event on resuming coroutines; here an event is one tuple on a heap and a
branch in one function, which keeps a month under ten seconds on one core. Arrivals are drawn
up front with numpy (Poisson counts per hour of the week, uniform within the hour) and merged
into the loop, so they never sit on the heap.

Routing follows the live rules (flowdesk.routing): work is grouped into classes by department
and required skills, each class a heap ordered by priority then arrival (first come, first
served within a priority); an agent serves the classes its department and skill levels allow,
up to its capacity, only while on shift; new work goes to a free eligible agent at once
(push), and an agent who frees a slot or starts a shift takes the best top of its classes
(pull).
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from flowdesk.simulation.dists import Dist
from flowdesk.simulation.model import (
    AND_JOIN,
    AND_SPLIT,
    DELAY,
    END,
    TASK,
    WAITING_CHANNELS,
    XOR,
    Model,
)

Progress = Callable[[float], None]  # share of the simulated time done, 0..1

_READY, _DONE, _ADVANCE, _ABANDON, _SHIFT_ON, _SHIFT_OFF, _BOUNDARY, _REPEAT, _SAMPLE = range(9)
_PENDING, _QUEUED, _SERVING, _FINISHED, _ABANDONED, _CANCELLED = range(6)


@dataclass
class RunResult:
    """What one replication measured inside its window (after the warm-up)."""

    days: int
    arrivals: int = 0
    daily_arrivals: list[int] = field(default_factory=list)
    turnaround: dict[str, list[float]] = field(default_factory=dict)  # minutes, per flow
    starts: dict[str, list[float]] = field(default_factory=dict)  # of those cases, minutes
    sla_met: dict[str, int] = field(default_factory=dict)  # work items, per flow
    sla_total: dict[str, int] = field(default_factory=dict)
    ola_met: dict[str, int] = field(default_factory=dict)  # pickups, per department
    ola_total: dict[str, int] = field(default_factory=dict)
    queue_met: dict[str, int] = field(default_factory=dict)  # queueing alone within the OLA
    waits: dict[str, list[float]] = field(default_factory=dict)  # minutes, per department
    served_after_wait: int = 0  # waiting-channel contacts that queued before service
    waiting_offered: int = 0  # contacts on waiting channels (their first step)
    waiting_waited: int = 0  # of those, how many found no free agent
    waiting_waits: list[float] = field(default_factory=list)  # every offered one, incl. abandoned
    waiting_served_waits: list[float] = field(default_factory=list)
    abandoned: int = 0
    busy_minutes: dict[str, float] = field(default_factory=dict)
    shift_minutes: dict[str, float] = field(default_factory=dict)  # x capacity
    staffed_hours: dict[str, float] = field(default_factory=dict)
    backlog: dict[str, list[int]] = field(default_factory=dict)  # open work per hour
    handoffs: int = 0
    repeats: int = 0
    cases_done: int = 0
    cost: float = 0.0
    events: int = 0


class _Item:
    __slots__ = ("case", "node", "cls", "created", "ready", "deadline", "state", "first", "started")

    def __init__(self, case: _Case, node: str, cls: int, created: float, deadline: float) -> None:
        self.case = case
        self.node = node
        self.cls = cls
        self.created = created
        self.ready = created
        self.deadline = deadline
        self.state = _PENDING
        self.first = False
        self.started = -1.0


class _Case:
    __slots__ = ("flow", "channel", "start", "tokens", "joins", "last_dept", "done", "items")

    def __init__(self, flow: str, channel: str, start: float) -> None:
        self.flow = flow
        self.channel = channel
        self.start = start
        self.tokens = 0
        self.joins: dict[str, int] = {}
        self.last_dept: str | None = None
        self.done = False
        self.items = 0


def _hour_offset(model: Model) -> float:
    local = model.start.astimezone(ZoneInfo(model.zone))
    return local.weekday() * 1440 + local.hour * 60 + local.minute + local.second / 60


def arrivals(
    model: Model, minutes: float, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(times, stream index), sorted by time: Poisson counts per hour of the week, uniform
    within each hour."""
    offset = _hour_offset(model)
    hours = int(math.ceil(minutes / 60)) + 1
    base = np.arange(hours) * 60.0 - (offset % 60)
    how = ((np.arange(hours) + int(offset // 60)) % 168).astype(np.int64)
    times, which = [], []
    for index, stream in enumerate(model.streams):
        rates = np.asarray(stream.rates, dtype=float)[how]
        counts = gen.poisson(rates)
        total = int(counts.sum())
        if total == 0:
            continue
        t = np.repeat(base, counts) + gen.random(total) * 60.0
        times.append(t)
        which.append(np.full(total, index, dtype=np.int64))
    if not times:
        return np.empty(0), np.empty(0, dtype=np.int64)
    all_t, all_w = np.concatenate(times), np.concatenate(which)
    keep = (all_t >= 0) & (all_t < minutes)
    all_t, all_w = all_t[keep], all_w[keep]
    order = np.argsort(all_t, kind="stable")
    return all_t[order], all_w[order]


def _open_cumulative(model: Model, name: str, minutes: int) -> np.ndarray | None:
    """Open minutes of calendar `name` up to each minute from the start (None: always open)."""
    calendar = model.calendars.get(name)
    if calendar is None or name == "24x7":
        return None
    open_ = np.zeros(minutes + 1, dtype=np.int8)
    day = model.start.astimezone(calendar.tz).date() - timedelta(days=1)
    end = model.start + timedelta(minutes=minutes)
    while True:
        spans = calendar.open_spans(day)
        if spans and spans[0][0] > end:
            break
        for a, b in spans:
            lo = max(0, int((a - model.start).total_seconds() // 60))
            hi = min(minutes, int((b - model.start).total_seconds() // 60))
            if hi > lo:
                open_[lo:hi] = 1
        day += timedelta(days=1)
        if datetime(day.year, day.month, day.day, tzinfo=calendar.tz) > end + timedelta(days=1):
            break
    if not open_.any():
        return None
    return np.concatenate(([0.0], np.cumsum(open_, dtype=np.float64)))


def _shift_times(model: Model, days: int, rng: random.Random) -> list[tuple[float, int, int]]:
    """(minute, agent, on/off) for every agent's shifts over `days` (+1 for the overlap)."""
    out: list[tuple[float, int, int]] = []
    tz = ZoneInfo(model.zone)
    first = model.start.astimezone(tz).date()
    work = model.calendars.get(model.work_calendar or "")

    for d in range(-1, days + 1):
        day = first + timedelta(days=d)
        if work is not None and not work.open_spans(day):
            continue
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        for index, agent in enumerate(model.agents):
            if agent.shift is None:
                continue
            if agent.presence < 1.0 and rng.random() >= agent.presence:
                continue
            start, end = model.shifts[agent.shift]
            a = (midnight + timedelta(minutes=start) - model.start).total_seconds() / 60
            b = (midnight + timedelta(minutes=end) - model.start).total_seconds() / 60
            if b <= 0:
                continue
            out.append((max(a, 0.0), index, _SHIFT_ON))
            out.append((b, index, _SHIFT_OFF))
    return out


def simulate(
    model: Model,
    days: float,
    *,
    seed: int = 1,
    warmup_days: float = 0.0,
    progress: Progress | None = None,
) -> RunResult:
    """One replication: `warmup_days` from empty, then `days` measured."""
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    window = warmup_days * 1440.0
    horizon = window + days * 1440.0
    result = RunResult(days=int(round(days)))
    result.daily_arrivals = [0] * max(1, int(math.ceil(days)))
    departments = model.departments()
    for d in departments:
        result.waits[d] = []
        result.busy_minutes[d] = 0.0
        result.shift_minutes[d] = 0.0
        result.staffed_hours[d] = 0.0
        result.ola_met[d] = 0
        result.ola_total[d] = 0
        result.queue_met[d] = 0
        result.backlog[d] = []
    for key in model.flows:
        result.turnaround[key] = []
        result.starts[key] = []
        result.sla_met[key] = 0
        result.sla_total[key] = 0

    # -- routing classes: (department, skills) of every task ------------------------------
    class_of: dict[tuple[str, str], int] = {}
    class_dept: list[str] = []
    node_class: dict[tuple[str, str], int] = {}
    class_need: list[dict[str, int]] = []
    for flow in model.flows.values():
        for node in flow.nodes.values():
            if node.kind != TASK:
                continue
            ckey = (node.department, repr(sorted(node.skills.items())))
            if ckey not in class_of:
                class_of[ckey] = len(class_dept)
                class_dept.append(node.department)
                class_need.append(dict(node.skills))
            node_class[(flow.key, node.id)] = class_of[ckey]
    repeat_class = class_of.setdefault(("front-office", "[]"), len(class_dept))
    if repeat_class == len(class_dept):
        class_dept.append("front-office")
        class_need.append({})
        result.waits.setdefault("front-office", [])
    heaps: list[list[tuple[float, float, int, _Item]]] = [[] for _ in class_dept]
    n_agents = len(model.agents)
    agent_classes: list[list[int]] = [[] for _ in range(n_agents)]
    class_agents: list[list[int]] = [[] for _ in class_dept]
    for i, agent in enumerate(model.agents):
        for c, dept in enumerate(class_dept):
            if dept != agent.department:
                continue
            if all(agent.skills.get(s, 0) >= level for s, level in class_need[c].items()):
                agent_classes[i].append(c)
                class_agents[c].append(i)
    free = [0] * n_agents
    on_shift = [False] * n_agents
    shift_since = [0.0] * n_agents
    agent_dept = [a.department for a in model.agents]
    capacity = [max(1, a.capacity) for a in model.agents]
    for i, agent in enumerate(model.agents):
        if agent.shift is None:
            on_shift[i] = True
            free[i] = capacity[i]

    # -- samplers, branch tables, SLA calendars -------------------------------------------
    work = {}
    pickup = {}
    delays = {}
    branches: dict[tuple[str, str], tuple[list[float], list[str]]] = {}
    for flow in model.flows.values():
        for node in flow.nodes.values():
            k = (flow.key, node.id)
            work[k] = node.work.sampler(rng)
            if node.pickup is not None and node.pickup.mean > 0:
                pickup[k] = node.pickup.sampler(rng)
            delays[k] = node.delay.sampler(rng)
            if node.kind == XOR and len(node.nexts) > 1:
                total = sum(node.probs) or 1.0
                cum, acc = [], 0.0
                for p in node.probs:
                    acc += p / total
                    cum.append(acc)
                cum[-1] = 1.0
                branches[k] = (cum, node.nexts)
    patience = {ch: d.sampler(rng) for ch, d in model.patience.items() if ch in WAITING_CHANNELS}
    repeat_after = model.repeat_after.sampler(rng)
    repeat_work = (model.repeat_work or Dist("const", 0.0)).sampler(rng)
    span = int(horizon) + 120 * 1440
    cumulative = {
        key: _open_cumulative(model, flow.sla_calendar, span) for key, flow in model.flows.items()
    }
    ola = model.ola_pickup
    # OLAs count on the departments' working calendar (as the live SLA clock does)
    ola_cum = _open_cumulative(model, model.work_calendar or "24x7", span)
    last_minute = span

    def open_between(a: float, b: float) -> float:
        if ola_cum is None:
            return b - a
        return float(ola_cum[min(int(b), last_minute)] - ola_cum[min(int(a), last_minute)])

    def deadline(flow_key: str, at: float, target: float | None) -> float:
        if target is None:
            return math.inf
        cum = cumulative[flow_key]
        if cum is None:
            return at + target
        i = min(int(at), len(cum) - 1)
        goal = float(cum[i]) + target
        j = int(np.searchsorted(cum, goal))
        return float(j) if j < len(cum) else math.inf

    # -- the heap ---------------------------------------------------------------------------
    heap: list[tuple[float, int, int, Any]] = []
    seq = 0
    push = heapq.heappush
    pop = heapq.heappop
    for at, index, kind in _shift_times(model, int(math.ceil(horizon / 1440)) + 1, rng):
        if at < horizon:
            seq += 1
            push(heap, (at, seq, kind, index))
    t_sample = window
    seq += 1
    push(heap, (t_sample, seq, _SAMPLE, None))
    times, which = arrivals(model, horizon, gen)
    arrival_times = times.tolist()
    arrival_streams = which.tolist()
    streams = model.streams
    flows = model.flows
    n_arrivals = len(arrival_times)
    next_arrival = 0
    open_items: dict[str, int] = dict.fromkeys(departments, 0)
    open_items.setdefault("front-office", 0)
    events = 0
    last_progress = -1

    def start_service(agent: int, item: _Item, now: float) -> None:
        nonlocal seq
        item.state = _SERVING
        item.started = now
        free[agent] -= 1
        dur = repeat_work() if item.node == "" else work[(item.case.flow, item.node)]()
        dept = agent_dept[agent]
        if item.created >= window:
            result.waits[dept].append(now - item.created)
            target = ola.get(dept)
            if target is not None:
                result.ola_total[dept] += 1
                if open_between(item.created, now) <= target:
                    result.ola_met[dept] += 1
                if open_between(item.ready, now) <= target:
                    result.queue_met[dept] += 1
            if item.first:
                result.waiting_waits.append(now - item.ready)
                result.waiting_served_waits.append(now - item.ready)
        if now >= window:
            result.busy_minutes[dept] += min(dur, horizon - now)
        seq += 1
        push(heap, (now + dur, seq, _DONE, (agent, item)))

    def offer(item: _Item, now: float) -> None:
        """Push: to a free agent of the class at once, else into the class heap."""
        nonlocal seq
        c = item.cls
        best = -1
        most = 0
        for a in class_agents[c]:
            if on_shift[a] and free[a] > most:
                best, most = a, free[a]
        if item.first and item.created >= window:
            result.waiting_offered += 1
            if best < 0:
                result.waiting_waited += 1
        if best >= 0:
            start_service(best, item, now)
            return
        item.state = _QUEUED
        case = item.case
        prio = flows[case.flow].priority if item.node else 0.0
        seq += 1
        push(heaps[c], (-prio, now, seq, item))
        if item.first:
            wait = patience.get(case.channel)
            if wait is not None:
                seq += 1
                push(heap, (now + wait(), seq, _ABANDON, item))

    def pull(agent: int, now: float) -> None:
        while free[agent] > 0 and on_shift[agent]:
            best_c = -1
            best_key: tuple[float, float, int] | None = None
            for c in agent_classes[agent]:
                h = heaps[c]
                while h and h[0][3].state != _QUEUED:
                    pop(h)
                if h:
                    top = h[0]
                    key = (top[0], top[1], top[2])
                    if best_key is None or key < best_key:
                        best_key, best_c = key, c
            if best_c < 0:
                return
            start_service(agent, pop(heaps[best_c])[3], now)

    def new_item(case: _Case, node_id: str, now: float, first: bool) -> None:
        nonlocal seq
        flow = flows[case.flow]
        node = flow.nodes[node_id]
        dept = node.department
        if case.last_dept is not None and case.last_dept != dept and now >= window:
            result.handoffs += 1
        case.last_dept = dept
        item = _Item(case, node_id, node_class[(case.flow, node_id)], now, 0.0)
        item.deadline = deadline(case.flow, now, node.sla_minutes)
        item.first = first and case.channel in WAITING_CHANNELS
        case.items += 1
        open_items[dept] = open_items.get(dept, 0) + 1
        if node.boundary is not None:
            seq += 1
            push(heap, (now + node.boundary[0], seq, _BOUNDARY, item))
        delay_of = pickup.get((case.flow, node_id))
        if delay_of is not None:
            seq += 1
            push(heap, (now + delay_of(), seq, _READY, item))
        else:
            offer(item, now)

    def move(case: _Case, node_id: str, now: float, first: bool = False) -> None:
        """Carry a token from `node_id` until it waits (task, delay) or ends."""
        nonlocal seq
        nodes = flows[case.flow].nodes
        while True:
            node = nodes[node_id]
            kind = node.kind
            if kind == TASK:
                new_item(case, node_id, now, first)
                return
            if kind == DELAY:
                if node.never > 0 and rng.random() < node.never:
                    return  # no answer ever comes: the case stays open, as in the log
                seq += 1
                push(heap, (now + delays[(case.flow, node_id)](), seq, _ADVANCE, (case, node_id)))
                return
            if kind == END or not node.nexts:
                case.tokens -= 1
                if case.tokens <= 0 and not case.done:
                    finish(case, now)
                return
            if kind == XOR and len(node.nexts) > 1:
                cum, nexts = branches[(case.flow, node_id)]
                node_id = nexts[bisect.bisect_left(cum, rng.random())]
                continue
            if kind == AND_JOIN:
                seen = case.joins.get(node_id, 0) + 1
                if seen < node.joins:
                    case.joins[node_id] = seen
                    case.tokens -= 1
                    return
                case.joins[node_id] = 0
            if kind in (AND_SPLIT, AND_JOIN) and len(node.nexts) > 1:
                case.tokens += len(node.nexts) - 1
                for other in node.nexts[1:]:
                    move(case, other, now)
                node_id = node.nexts[0]
                continue
            node_id = node.nexts[0]  # PASS, one-way gateways, start events

    def leave(case: _Case, node_id: str, now: float) -> None:
        """A token leaves a task or delay: along every outgoing flow (several: a fork)."""
        nexts = flows[case.flow].nodes[node_id].nexts
        if not nexts:
            case.tokens -= 1
            if case.tokens <= 0 and not case.done:
                finish(case, now)
            return
        case.tokens += len(nexts) - 1
        for target in nexts:
            move(case, target, now)

    def finish(case: _Case, now: float) -> None:
        case.done = True
        if case.start >= window:
            result.turnaround[case.flow].append(now - case.start)
            result.starts[case.flow].append(case.start)
            result.cases_done += 1

    def item_closed(item: _Item, now: float) -> None:
        case = item.case
        dept = flows[case.flow].nodes[item.node].department if item.node else "front-office"
        open_items[dept] -= 1
        if item.created >= window and item.node:
            sla = item.deadline
            if sla != math.inf:
                result.sla_total[case.flow] += 1
                if item.state == _FINISHED and now <= sla:
                    result.sla_met[case.flow] += 1

    # -- the loop ---------------------------------------------------------------------------
    while True:
        if next_arrival < n_arrivals and (not heap or arrival_times[next_arrival] <= heap[0][0]):
            now = arrival_times[next_arrival]
            stream = streams[arrival_streams[next_arrival]]
            next_arrival += 1
            events += 1
            if now >= window:
                result.arrivals += 1
                day = int((now - window) // 1440)
                if day < len(result.daily_arrivals):
                    result.daily_arrivals[day] += 1
            case = _Case(stream.flow, stream.channel, now)
            case.tokens = 1
            if model.repeat_share > 0 and rng.random() < model.repeat_share:
                seq += 1
                push(heap, (now + repeat_after(), seq, _REPEAT, case))
            move(case, flows[stream.flow].start, now, first=True)
            continue
        if not heap:
            break
        now, _, kind, what = pop(heap)
        if now >= horizon:
            break
        events += 1
        if kind == _DONE:
            agent, item = what
            if item.state == _SERVING:
                item.state = _FINISHED
                item_closed(item, now)
                if item.node:
                    leave(item.case, item.node, now)
            free[agent] += 1
            pull(agent, now)
        elif kind == _READY:
            item = what
            if item.state == _PENDING:
                item.ready = now
                offer(item, now)
        elif kind == _ADVANCE:
            case, node_id = what
            leave(case, node_id, now)
        elif kind == _ABANDON:
            item = what
            if item.state == _QUEUED:
                item.state = _ABANDONED
                item_closed(item, now)
                if item.created >= window:
                    result.abandoned += 1
                    result.waiting_waits.append(now - item.ready)
                item.case.done = True  # the customer hung up: the case never opens
        elif kind == _SHIFT_ON:
            a = what
            if not on_shift[a]:
                on_shift[a] = True
                free[a] += capacity[a]
                shift_since[a] = now
                pull(a, now)
        elif kind == _SHIFT_OFF:
            a = what
            if on_shift[a]:
                on_shift[a] = False
                free[a] -= capacity[a]
                lo = max(shift_since[a], window)
                if now > lo:
                    dept = agent_dept[a]
                    result.shift_minutes[dept] += (now - lo) * capacity[a]
                    hours = (now - lo) / 60
                    result.staffed_hours[dept] += hours
                    result.cost += hours * model.cost_per_hour.get(dept, 0.0)
        elif kind == _BOUNDARY:
            item = what
            if item.state in (_PENDING, _QUEUED, _SERVING):
                node = flows[item.case.flow].nodes[item.node]
                assert node.boundary is not None
                _, target, interrupting = node.boundary
                if interrupting:
                    if item.state == _SERVING:
                        continue  # taken: the agent finishes (a simplification)
                    item.state = _CANCELLED
                    item_closed(item, now)
                else:
                    item.case.tokens += 1
                move(item.case, target, now)
        elif kind == _REPEAT:
            case = what
            if not case.done:
                if now >= window:
                    result.repeats += 1
                if model.repeat_work is None:
                    continue
                item = _Item(case, "", repeat_class, now, math.inf)
                open_items["front-office"] += 1
                offer(item, now)
        elif kind == _SAMPLE:
            for d in result.backlog:
                result.backlog[d].append(open_items.get(d, 0))
            seq += 1
            push(heap, (now + 60.0, seq, _SAMPLE, None))
            if progress is not None:
                share = int(100 * (now / horizon))
                if share != last_progress:
                    last_progress = share
                    progress(now / horizon)

    # agents still on shift at the end: their time counts up to the horizon
    for a in range(n_agents):
        lo = max(shift_since[a], window)
        if on_shift[a] and horizon > lo:
            dept = agent_dept[a]
            result.shift_minutes[dept] += (horizon - lo) * capacity[a]
            hours = (horizon - lo) / 60
            result.staffed_hours[dept] += hours
            result.cost += hours * model.cost_per_hour.get(dept, 0.0)
    # work still open at the end whose deadline passed: missed
    for h in heaps:
        for entry in h:
            item = entry[3]
            queued = item.state == _QUEUED and item.created >= window and item.node
            if queued and item.deadline < horizon:
                result.sla_total[item.case.flow] += 1
    result.events = events
    if progress is not None:
        progress(1.0)
    return result
