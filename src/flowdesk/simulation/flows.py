"""A deployed BPMN process as a simulation step graph.

Parsed with flowdesk.bpmn (the same frozen definition the engine runs), then reduced to what
moves time: user tasks (work for a department), catch events and receive tasks (a wait for the
customer, a partner or a timer), gateways (branch probabilities for exclusive and event-based
ones; fork and join for parallel ones) and ends. Script, service and rule tasks take no time
here. Timer boundary events on user tasks keep their BPMN semantics (the timer starts with the
task; interrupting ones cancel it, others add a token). Not modelled: subprocesses (their
inner steps), compensation, error and escalation paths, and conditions (branch probabilities
stand in for them).
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.bpmn.model import Process
from flowdesk.bpmn.timers import parse_duration
from flowdesk.simulation.dists import Dist
from flowdesk.simulation.model import (
    AND_JOIN,
    AND_SPLIT,
    DELAY,
    END,
    PASS,
    TASK,
    XOR,
    Flow,
    Node,
)

_TASKS = {"userTask", "manualTask", "task"}  # an abstract task: work, as peers read it
_WAITS = {"intermediateCatchEvent", "receiveTask"}


def minutes_of(iso: str | None) -> float | None:
    """An ISO 8601 duration in minutes (months as 30 days); None when absent or unreadable."""
    if not iso:
        return None
    try:
        d = parse_duration(iso)
    except ValueError:
        return None
    return d.months * 30 * 1440 + d.delta.total_seconds() / 60


def department_key(text: str | None, known: Mapping[str, str]) -> str | None:
    """A lane or candidate group as a department id (`known`: lower-case names and ids -> id)."""
    if not text:
        return None
    key = text.strip().lower()
    return known.get(key) or known.get(key.replace(" ", "-")) or key.replace(" ", "-")


def flow_from_process(
    process: Process,
    *,
    departments: Mapping[str, str] | None = None,
    task_sla: Mapping[str, str | None] | None = None,
    task_skills: Mapping[str, Mapping[str, int]] | None = None,
    default_work: float = 10.0,
    default_wait: float = 1440.0,
) -> Flow:
    """The step graph of `process`; durations are placeholders until `fit` replaces them."""
    known = dict(departments or {})
    nodes: dict[str, Node] = {}
    start: str | None = None
    lanes = {n: lane.name or lane.id for lane in process.lanes for n in lane.nodes}
    for node_id, bn in process.nodes.items():
        targets = [process.flows[f].target for f in bn.outgoing if f in process.flows]
        kind = PASS
        node = Node(node_id, PASS, targets, name=bn.name)
        if bn.type in _TASKS:
            kind = TASK
            groups = bn.task.candidate_groups if bn.task is not None else None
            literal = groups if groups and not groups.startswith("=") else None
            dept = department_key(
                literal.split(",")[0] if literal else lanes.get(node_id) or bn.lane, known
            )
            node.department = dept or "front-office"
            node.work = Dist("exp", default_work)
            node.sla_minutes = minutes_of((task_sla or {}).get(node_id))
            node.skills = dict((task_skills or {}).get(node_id, {}))
        elif bn.type in _WAITS:
            kind = DELAY
            timer = next((e for e in bn.events if e.kind == "timer"), None)
            fixed = (
                minutes_of(timer.value) if timer is not None and timer.timer == "duration" else None
            )
            node.delay = Dist("const", fixed) if fixed is not None else Dist("exp", default_wait)
        elif bn.type == "endEvent":
            kind = END
        elif bn.type == "parallelGateway":
            kind = AND_JOIN if len(bn.incoming) > 1 else AND_SPLIT
            node.joins = len(bn.incoming)
        elif bn.type in (
            "exclusiveGateway",
            "inclusiveGateway",
            "eventBasedGateway",
            "complexGateway",
        ):
            kind = XOR if len(targets) > 1 else PASS
            node.race = bn.type == "eventBasedGateway"
            if kind == XOR:
                # without history: the default flow (or the first) most of the time
                favoured = (
                    process.flows[bn.default].target if bn.default in process.flows else targets[0]
                )
                rest = (0.3 / (len(targets) - 1)) if len(targets) > 1 else 0.0
                node.probs = [0.7 if t == favoured else rest for t in targets]
        elif (
            bn.type == "startEvent"
            and bn.scope == process.id
            and not bn.triggered_by_event
            and (start is None or not bn.events)
        ):
            start = node_id
        node.kind = kind
        nodes[node_id] = node
    for node_id, bn in process.nodes.items():
        if bn.type != "boundaryEvent" or bn.attached_to not in nodes:
            continue
        timer = next((e for e in bn.events if e.kind == "timer"), None)
        fixed = minutes_of(timer.value) if timer is not None and timer.timer == "duration" else None
        host = nodes[bn.attached_to]
        if fixed is not None and host.kind == TASK:
            host.boundary = (fixed, node_id, bn.cancel_activity)
    if start is None:
        raise ValueError(f"process {process.id!r} has no plain start event to simulate from")
    return Flow(process.id, start, nodes, version="")
