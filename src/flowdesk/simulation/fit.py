"""Fitting a model from the event log, and measuring the log the way the simulation measures.

What is fitted, from the events of a window:
- arrivals: cases started per flow, reason and channel, spread over the hours of the week by
  the window's day-of-week and hour-of-day shares (a product form: a month holds too few
  cases per flow for 168 separate rates);
- per step (flow, task): the pickup delay (created -> claimed: the history's own waiting at
  the history's load) and the work time (claimed -> completed), each by `dists.fit`, pooled
  with the other steps of its department where they do not differ (`dists.fit_pooled`);
- waits for the customer or a partner (catch events): reached -> completed, with the share
  that is never answered (still open long after the slowest answer: `answered_waits`);
- branch probabilities of exclusive and event-based gateways: which target came next;
- agents' working hours and capacity: the hours they claim work in, and the most items they
  held at once;
- repeat contacts: contacts attached to open cases per case.
`measure` computes daily volumes, turnaround and step SLA attainment from the log with the
same rules `results` applies to a simulation, so a back-test compares like with like.
"""

from __future__ import annotations

import copy
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flowdesk.calendars.calendar import BusinessCalendar
from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent
from flowdesk.simulation.dists import Dist, fit, fit_pooled
from flowdesk.simulation.model import DELAY, TASK, XOR, Agent, Flow, Stream


@dataclass
class Fitted:
    streams: list[Stream]
    flows: dict[str, Flow]
    agents: dict[str, tuple[str | None, int]]  # name -> (hours "HH:MM-HH:MM" or None, capacity)
    repeat_share: float
    cases: int
    notes: list[str] = field(default_factory=list)


def _key(process: str | None) -> str:
    return (process or "").split(":")[0]


def fit_history(
    events: Iterable[StoredEvent],
    flows: Mapping[str, Flow],
    *,
    since: datetime,
    until: datetime,
    zone: str = "UTC",
) -> Fitted:
    """Fit arrivals, durations, branches and agents from the events in [since, until)."""
    tz = ZoneInfo(zone)
    given = flows
    own: dict[str, Flow] = copy.deepcopy(dict(flows))
    flows = own
    refs: dict[str, tuple[str, str]] = {}
    instance_flow: dict[str, str] = {}
    arrivals: Counter[tuple[str, str, str]] = Counter()
    dow: Counter[int] = Counter()
    hod: Counter[int] = Counter()
    activated: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    completed: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    act_open: dict[tuple[str, str], datetime] = {}
    token_at: dict[str, datetime] = {}
    delays: dict[tuple[str, str], list[float]] = defaultdict(list)
    # waits reached straight from a step (task -> catch event): (instance, wait) -> reached;
    # those still open at the window's end are the answers that never came (or not yet)
    reached: dict[tuple[str, str], datetime] = {}
    waits_seen: dict[tuple[str, str], list[tuple[datetime, float | None]]] = defaultdict(list)
    ended: set[str] = set()
    items: dict[str, dict[str, Any]] = {}
    attached = 0
    cases = 0
    first_case: datetime | None = None
    for ev in events:
        if ev.time < since or ev.time >= until:
            continue
        kind = ev.type
        if kind == EventType.CASE_OPENED:
            refs[str(ev.data.get("reference"))] = (
                str(ev.data.get("reason") or "unknown"),
                ev.channel or "web",
            )
        elif kind == EventType.PROCESS_STARTED:
            key = _key(ev.data.get("process"))
            if key not in flows or ev.process_instance_id is None:
                continue
            instance_flow[ev.process_instance_id] = key
            if first_case is None:
                first_case = ev.time
            reason, channel = refs.get(str(ev.data.get("business_key")), ("unknown", "web"))
            arrivals[(key, reason, channel)] += 1
            local = ev.time.astimezone(tz)
            dow[local.weekday()] += 1
            hod[local.hour] += 1
            cases += 1
        elif kind in (EventType.PROCESS_COMPLETED, EventType.PROCESS_CANCELLED):
            if ev.process_instance_id is not None:
                ended.add(ev.process_instance_id)
        elif kind == EventType.CASE_CONTACT_ATTACHED:
            attached += 1
        elif kind == EventType.WORK_ITEM_CLAIMED:
            item = items.get(str(ev.data["work_item_id"]))
            if item is not None and "claimed" not in item:
                item["claimed"], item["agent"] = ev.time, ev.data.get("assignee")
        elif kind == EventType.WORK_ITEM_COMPLETED:
            item = items.get(str(ev.data["work_item_id"]))
            if item is not None:
                item["completed"] = ev.time
        elif ev.process_instance_id in instance_flow and ev.element_id:
            iid = ev.process_instance_id
            if kind == EventType.ELEMENT_ACTIVATED:
                activated[iid].append((ev.element_id, ev.time))
                node = flows[instance_flow[iid]].nodes.get(ev.element_id)
                if node is not None and node.kind == DELAY:
                    # the engine activates a catch event when it fires: the wait began when
                    # the token reached it (or the event-based gateway in front of it)
                    act_open[(iid, ev.element_id)] = token_at.get(iid, ev.time)
                else:
                    token_at[iid] = ev.time
            elif kind == EventType.ELEMENT_COMPLETED:
                completed[iid].append((ev.element_id, ev.time))
                began = act_open.pop((iid, ev.element_id), None)
                flow_nodes = flows[instance_flow[iid]].nodes
                node = flow_nodes.get(ev.element_id)
                waited = reached.pop((iid, ev.element_id), None)
                if waited is not None:
                    waits_seen[(instance_flow[iid], ev.element_id)].append(
                        (waited, (ev.time - waited).total_seconds() / 60)
                    )
                if node is not None and node.kind == TASK:
                    for after in node.nexts:
                        target = flow_nodes.get(after)
                        if target is not None and target.kind == DELAY:
                            reached[(iid, after)] = ev.time
                if node is None or (node.kind != DELAY and not node.race):
                    # the token moves on when a step completes (an event-based gateway
                    # completes when its event comes: the wait began at its activation)
                    token_at[iid] = ev.time
                if began is not None and node is not None and node.kind == DELAY:
                    delays[(instance_flow[iid], ev.element_id)].append(
                        (ev.time - began).total_seconds() / 60
                    )
            elif kind == EventType.WORK_ITEM_CREATED:
                items[str(ev.data["work_item_id"])] = {
                    "flow": instance_flow[iid],
                    "node": ev.element_id,
                    "created": ev.time,
                }
    notes: list[str] = []
    if first_case is not None and first_case - since > timedelta(days=1):
        # a log younger than the window: rates over the days it covers, not the empty ones
        notes.append(f"history starts {first_case:%Y-%m-%d}: rates fitted from there")
        since = first_case.replace(hour=0, minute=0, second=0, microsecond=0)
    weeks = max((until - since).total_seconds() / (7 * 86400), 1e-9)
    days_seen = Counter(
        (since + timedelta(days=d)).astimezone(tz).weekday()
        for d in range(max(1, round((until - since).total_seconds() / 86400)))
    )
    # cases per hour of the week = per-week count x day share x hour share
    dow_rate = {d: dow[d] / max(days_seen[d], 1) for d in range(7)}
    if len(days_seen) < 7:  # not every weekday seen: no weekly pattern to fit, a flat one
        dow_rate = dict.fromkeys(range(7), 1.0)
    dow_total = sum(dow_rate.values()) or 1
    hod_total = sum(hod.values()) or 1
    shape = [dow_rate[h // 24] / dow_total * hod[h % 24] / hod_total for h in range(168)]
    streams = [
        Stream(key, reason, channel, [n / weeks * s for s in shape])
        for (key, reason, channel), n in sorted(arrivals.items())
    ]
    # durations per step
    pickups: dict[tuple[str, str], list[float]] = defaultdict(list)
    works: dict[tuple[str, str], list[float]] = defaultdict(list)
    held: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    hours: dict[str, list[float]] = defaultdict(list)
    for item in items.values():
        k = (item["flow"], item["node"])
        if "claimed" in item:
            pickups[k].append((item["claimed"] - item["created"]).total_seconds() / 60)
            agent = str(item.get("agent") or "")
            local = item["claimed"].astimezone(tz)
            hours[agent].append(local.hour + local.minute / 60)
            if "completed" in item:
                works[k].append((item["completed"] - item["claimed"]).total_seconds() / 60)
                held[agent] += [(item["claimed"], 1), (item["completed"], -1)]
    # per department, steps that wait and work alike share one fit (dists.fit_pooled)
    by_dept: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, node_id in works:
        node = flows[key].nodes.get(node_id)
        if node is not None and node.kind == TASK:
            by_dept[node.department].append((key, node_id))
    for steps in by_dept.values():
        work_of = fit_pooled({k: works[k] for k in steps})
        pickup_of = fit_pooled({k: pickups[k] for k in steps if pickups.get(k)})
        for k in steps:
            node = flows[k[0]].nodes[k[1]]
            node.work = work_of[k]
            if k in pickup_of:
                node.pickup = pickup_of[k]
    for (iid, node_id), at in reached.items():
        if iid not in ended:
            waits_seen[(instance_flow[iid], node_id)].append((at, None))
    for (key, node_id), values in delays.items():
        node = flows[key].nodes[node_id]
        if len(values) >= 3:
            node.delay = fit(values)
    for (key, node_id), seen in waits_seen.items():
        node = flows[key].nodes[node_id]
        if node.delay.kind == "const":
            continue  # a timer: it always fires
        never, dist = answered_waits(seen, until)
        node.never = never
        if dist is not None:
            node.delay = dist
    # branch probabilities: which target followed the gateway in the same instance
    taken: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for iid, seq in activated.items():
        flow = flows[instance_flow[iid]]
        for i, (element, at) in enumerate(seq):
            node = flow.nodes.get(element)
            if node is None or node.kind != XOR:
                continue
            targets = set(node.nexts)
            if node.race:  # every event waits at once: the one that completed won
                # only passes old enough for the slowest timer to have fired (else the
                # quick events would look likelier than they are)
                if at > until - timedelta(minutes=_longest_timer(given[flow.key], node.nexts)):
                    continue
                done = completed[iid]
                nxt = next((e for e, t in done if e in targets and t >= at), None)
            else:
                nxt = next((e for e, _ in seq[i + 1 :] if e in targets), None)
            if nxt is not None:
                taken[(flow.key, element)][nxt] += 1
    for (key, element), counts in taken.items():
        node = flows[key].nodes[element]
        n = sum(counts.values())
        if n >= 5:
            node.probs = [counts[t] / n for t in node.nexts]
        else:
            notes.append(f"{key}/{element}: {n} passes, branch probabilities kept")
    agents: dict[str, tuple[str | None, int]] = {}
    for agent, claimed_at in hours.items():
        if not agent or len(claimed_at) < 5:
            continue
        ordered = sorted(claimed_at)
        lo = ordered[int(0.02 * (len(ordered) - 1))]
        hi = ordered[int(math.ceil(0.98 * (len(ordered) - 1)))]
        span = None if hi - lo >= 20 else f"{int(lo):02d}:00-{min(24, int(hi) + 1):02d}:00"
        level, most = 0, 1
        for _, step in sorted(held.get(agent, [])):
            level += step
            most = max(most, level)
        agents[agent] = (span, most)
    return Fitted(streams, own, agents, attached / max(cases, 1), cases, notes)


def answered_waits(
    seen: list[tuple[datetime, float | None]], until: datetime
) -> tuple[float, Dist | None]:
    """(share of waits never answered, the answered waits' distribution) from waits reached
    in the window: (reached, minutes to the answer or None while open at `until`).

    A wait still open at the window's end is either slow or never answered; one reached
    longer ago than twice the 95th percentile of the answers seen counts as never (a customer
    who does not reply, a partner who forgets; twice a high percentile rather than the slowest
    answer, which one straggler would stretch over most of the window). Only waits reached
    that long before the end say which, and only their answers are free of the window's cut
    (late waits show only their quick answers), so both come from them when there are enough;
    else the answers seen and no never share."""
    answers = sorted(m for _, m in seen if m is not None)
    if not answers:
        return 0.0, None
    p95 = answers[min(len(answers) - 1, int(0.95 * len(answers)))]
    first = min(at for at, _ in seen)
    horizon = min(timedelta(minutes=2 * p95), (until - first) / 2)
    old = [(at, m) for at, m in seen if at <= until - horizon]
    if len(old) < 20:
        return 0.0, None
    old_answers = [m for _, m in old if m is not None]
    never = 1 - len(old_answers) / len(old)
    return never, fit(old_answers) if len(old_answers) >= 5 else None


def _longest_timer(flow: Flow, targets: list[str]) -> float:
    fixed = [
        flow.nodes[t].delay.a
        for t in targets
        if t in flow.nodes and flow.nodes[t].kind == DELAY and flow.nodes[t].delay.kind == "const"
    ]
    return max(fixed, default=0.0)


@dataclass
class Observed:
    """The figures a back-test compares, as measured in the log."""

    daily: list[int]
    turnaround: dict[str, list[float]]
    sla_met: dict[str, int]
    sla_total: dict[str, int]


def measure(
    events: Iterable[StoredEvent],
    flows: Mapping[str, Flow],
    *,
    since: datetime,
    until: datetime,
    calendars: Mapping[str, BusinessCalendar] | None = None,
) -> Observed:
    """Daily case starts, turnaround of the cases started and ended in the window, and the
    share of steps created in it done within their SLA (open steps past it count missed)."""
    days = max(1, round((until - since).total_seconds() / 86400))
    out = Observed(
        [0] * days, {k: [] for k in flows}, dict.fromkeys(flows, 0), dict.fromkeys(flows, 0)
    )
    started: dict[str, tuple[str, datetime]] = {}
    items: dict[str, tuple[str, datetime, float]] = {}
    done: dict[str, datetime] = {}
    cals = calendars or {}
    for ev in events:
        if ev.time < since or ev.time >= until:
            continue
        iid = ev.process_instance_id
        if ev.type == EventType.PROCESS_STARTED and iid:
            key = _key(ev.data.get("process"))
            if key in flows:
                started[iid] = (key, ev.time)
                out.daily[min(days - 1, int((ev.time - since).total_seconds() // 86400))] += 1
        elif ev.type == EventType.PROCESS_COMPLETED and iid in started:
            key, t0 = started[iid]
            out.turnaround[key].append((ev.time - t0).total_seconds() / 60)
        elif ev.type == EventType.WORK_ITEM_CREATED and iid in started:
            key = started[iid][0]
            node = flows[key].nodes.get(ev.element_id or "")
            if node is not None and node.sla_minutes is not None:
                items[str(ev.data["work_item_id"])] = (key, ev.time, node.sla_minutes)
        elif ev.type == EventType.WORK_ITEM_COMPLETED:
            done[str(ev.data["work_item_id"])] = ev.time
    for item_id, (key, created, target) in items.items():
        cal = cals.get(flows[key].sla_calendar)
        due = (
            cal.add(created, timedelta(minutes=target))
            if cal is not None
            else created + timedelta(minutes=target)
        )
        finished = done.get(item_id)
        if finished is None and due >= until:
            continue  # still inside its target when the window ends: not judged
        out.sla_total[key] += 1
        if finished is not None and finished <= due:
            out.sla_met[key] += 1
    return out


def agents_from(fitted: Fitted, company_agents: Iterable[Agent]) -> list[Agent]:
    """The company's agents with the working hours and capacity seen in the history."""
    out = []
    for agent in company_agents:
        span, capacity = fitted.agents.get(agent.name, (None, agent.capacity))
        out.append(
            Agent(
                agent.name,
                agent.department,
                dict(agent.skills),
                span,
                max(1, capacity),
                agent.presence,
            )
        )
    return out
