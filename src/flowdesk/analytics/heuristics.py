"""Heuristics miner (Weijters, van der Aalst, Alves de Medeiros 2006): a model that keeps the
strong paths of the log and drops the weak ones, for logs too noisy for a block structure.

The inductive miner always returns a sound, block-structured model, which on a spaghetti log
means a flower of silent steps; the heuristics miner instead keeps a directly-follows edge
a -> b when its *dependency* a => b = (|a>b| - |b>a|) / (|a>b| + |b>a| + 1) (for a self-loop
|a>a| / (|a>a| + 1)) reaches a threshold, adds the two edges of a length-two loop (a b a) that
the dependency measure cannot see, and reads AND from XOR among the outputs of an activity with
the AND-measure a => (b ^ c) = (|b>c| + |c>b|) / (|a>b| + |a>c| + 1) (inputs mirrored).

The measures, thresholds and their defaults follow pm4py's `discover_heuristics_net` (2.7), so
the two agree edge for edge (tests/analytics/test_heuristics.py checks it against pm4py): the
directly-follows graph is first cleaned of edges rarer than `noise` x the strongest edge of
both its activities, and a length-two loop is only added where neither direction already passes
the dependency threshold. Like the inductive miner it works on variants, never on events.

The net becomes BPMN through the same renderer as the inductive miner's tree (layout, branch
conditions, diagram interchange): per activity an exclusive split over its output groups, a
parallel gateway for a group of outputs the AND-measure calls concurrent (joins mirrored). A
heuristics net is not block-structured, so the BPMN may be unsound (a parallel join waiting for
a branch that did not run); token replay then reports those cases as not fitting, which is what
the fitness beside the inductive miner's model is for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowdesk.analytics.discovery import _Bpmn, render_bpmn
from flowdesk.core.errors import ModelError

Log = Mapping[tuple[str, ...], int]
#: Markers of the start and end event in output/input lists (never activity names: \x00).
START, END = "\x00start", "\x00end"


@dataclass(frozen=True, slots=True)
class HeuristicsNet:
    """Dependency measures and the edges kept, with each activity's AND groups.

    `dependency` has a value for every directly-follows edge left after the noise cleaning;
    `edges` maps each kept edge to its directly-follows count (a length-two loop edge may count
    0: pm4py adds both directions); `and_out`/`and_in` hold, per activity, the pairs of outputs
    (inputs) whose AND-measure reaches the threshold, with that measure."""

    occurrences: dict[str, int]
    start: dict[str, int]
    end: dict[str, int]
    dfg: dict[tuple[str, str], int]
    dependency: dict[tuple[str, str], float]
    edges: dict[tuple[str, str], int]
    and_out: dict[str, dict[tuple[str, str], float]]
    and_in: dict[str, dict[tuple[str, str], float]]
    and_threshold: float

    @property
    def activities(self) -> list[str]:
        """The activities the model has: those on a kept edge (all of them when none is)."""
        kept = {a for edge in self.edges for a in edge}
        return sorted(kept or self.occurrences)

    def outputs(self, activity: str) -> list[str]:
        return sorted(b for a, b in self.edges if a == activity)

    def inputs(self, activity: str) -> list[str]:
        return sorted(a for a, b in self.edges if b == activity)

    def to_json(self) -> dict[str, Any]:
        return {
            "activities": self.activities,
            "dependency": [[a, b, v] for (a, b), v in sorted(self.dependency.items())],
            "edges": [[a, b, n] for (a, b), n in sorted(self.edges.items())],
        }


def heuristics_miner(
    log: Log,
    *,
    dependency: float = 0.5,
    and_threshold: float = 0.65,
    loop_two: float = 0.5,
    min_act_count: int = 1,
    min_dfg_occurrences: int = 1,
    noise: float = 0.05,
) -> HeuristicsNet:
    """The heuristics net of `log` (variant -> number of cases); defaults as pm4py's."""
    if not -1.0 <= dependency <= 1.0:
        raise ModelError(f"dependency threshold must be between -1 and 1, not {dependency}")
    if not 0.0 <= noise < 1.0:
        raise ModelError(f"noise threshold must be at least 0 and below 1, not {noise}")
    clean = {tuple(trace): int(n) for trace, n in log.items() if n > 0 and trace}
    if not clean:
        raise ModelError("the log has no cases to discover a model from")
    occurrences: Counter[str] = Counter()
    start: Counter[str] = Counter()
    end: Counter[str] = Counter()
    raw: Counter[tuple[str, str]] = Counter()
    triples: Counter[tuple[str, str]] = Counter()  # (a, b): how often a b a occurs
    for trace, n in clean.items():
        start[trace[0]] += n
        end[trace[-1]] += n
        for a in trace:
            occurrences[a] += n
        for a, b in zip(trace, trace[1:], strict=False):
            raw[(a, b)] += n
        for a, b, c in zip(trace, trace[1:], trace[2:], strict=False):
            if a == c and a != b:
                triples[(a, b)] += n
    dfg = _cleaned(raw, noise)
    measure: dict[tuple[str, str], float] = {}
    for (a, b), n in dfg.items():
        back = 0 if a == b else dfg.get((b, a), 0)
        measure[(a, b)] = (n - back) / (n + back + 1)

    def frequent(a: str) -> bool:
        return occurrences[a] >= min_act_count

    edges: dict[tuple[str, str], int] = {
        (a, b): n
        for (a, b), n in dfg.items()
        if frequent(a)
        and frequent(b)
        and n >= min_dfg_occurrences
        and measure[(a, b)] >= dependency
    }
    nodes = {a for edge in edges for a in edge}
    and_out = {a: _and_pairs(a, _outs(edges, a), dfg, out=True) for a in nodes}
    and_in = {a: _and_pairs(a, _ins(edges, a), dfg, out=False) for a in nodes}
    for a in sorted(nodes):  # length-two loops: a b a is invisible to the dependency measure
        for (x, b), v1 in sorted(triples.items()):
            if x != a:
                continue
            v2 = triples.get((b, a), 0)
            if (v1 + v2) / (v1 + v2 + 1) < loop_two:
                continue
            if dfg.get((a, b), 0) < max(min_dfg_occurrences, 1) or not (
                frequent(a) and frequent(b)
            ):
                continue
            if measure.get((a, b), -2.0) >= dependency or measure.get((b, a), -2.0) >= dependency:
                continue
            edges.setdefault((a, b), dfg.get((a, b), 0))
            edges.setdefault((b, a), dfg.get((b, a), 0))
    return HeuristicsNet(
        dict(occurrences),
        dict(start),
        dict(end),
        dict(dfg),
        measure,
        edges,
        and_out,
        and_in,
        and_threshold,
    )


def _cleaned(dfg: Counter[tuple[str, str]], noise: float) -> dict[tuple[str, str], int]:
    """Edges rarer than `noise` x the strongest edge touching each of their two activities
    are dropped (pm4py's DFG pre-cleaning)."""
    if noise <= 0:
        return dict(dfg)
    strongest: Counter[str] = Counter()
    for (a, b), n in dfg.items():
        strongest[a] = max(strongest[a], n)
        strongest[b] = max(strongest[b], n)
    return {
        (a, b): n
        for (a, b), n in dfg.items()
        if not n < min(strongest[a] * noise, strongest[b] * noise)
    }


def _outs(edges: Mapping[tuple[str, str], int], a: str) -> list[str]:
    return sorted(b for x, b in edges if x == a)


def _ins(edges: Mapping[tuple[str, str], int], b: str) -> list[str]:
    return sorted(a for a, y in edges if y == b)


def _and_pairs(
    a: str, others: list[str], dfg: Mapping[tuple[str, str], int], *, out: bool
) -> dict[tuple[str, str], float]:
    pairs: dict[tuple[str, str], float] = {}
    for i, b in enumerate(others):
        for c in others[i + 1 :]:
            between = dfg.get((b, c), 0) + dfg.get((c, b), 0)
            if out:
                to = dfg.get((a, b), 0) + dfg.get((a, c), 0)
            else:
                to = dfg.get((b, a), 0) + dfg.get((c, a), 0)
            value = between / (to + 1)
            pairs[(b, c)] = value
    return pairs


def _parallel(
    measures: Mapping[str, Mapping[tuple[str, str], float]], threshold: float
) -> dict[str, set[tuple[str, str]]]:
    return {
        a: {pair for pair, value in pairs.items() if value >= threshold}
        for a, pairs in measures.items()
    }


def _groups(items: list[str], pairs: set[tuple[str, str]]) -> list[list[str]]:
    """Items joined where a pair is parallel (transitively)."""
    parent = {x: x for x in items}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for b, c in sorted(pairs):
        if b in parent and c in parent:
            parent[find(b)] = find(c)
    groups: dict[str, list[str]] = {}
    for x in items:
        groups.setdefault(find(x), []).append(x)
    return sorted(groups.values())


def heuristics_bpmn(
    net: HeuristicsNet,
    *,
    process_id: str = "discovered",
    name: str = "Discovered",
) -> str:
    """BPMN XML of a heuristics net (same renderer as the inductive miner's models).

    Start and end activities hang off the start and end event; an activity left without any
    input (output) by the thresholds is joined to the start (end) event, so every task lies on
    a path from start to end and the model deploys."""
    graph = _Bpmn()
    start = graph.add("startEvent")
    tasks = {a: graph.add("task", a) for a in net.activities}
    end = graph.add("endEvent")
    outs: dict[str, list[str]] = {}
    ins: dict[str, list[str]] = {}
    for a in tasks:
        outs[a] = net.outputs(a) + ([END] if a in net.end else [])
        ins[a] = ([START] if a in net.start else []) + net.inputs(a)
    for a in _stranded(ins, START, list(tasks)):
        ins[a].insert(0, START)
    for a in _stranded(outs, END, list(tasks)):
        outs[a].append(END)
    outs[START] = [a for a in tasks if START in ins[a]]
    ins[END] = [a for a in tasks if END in outs[a]]
    nodes = {START: start, END: end, **tasks}
    # a pair is parallel in the BPMN only where the AND-measure says so at a split and at a
    # join: alone it also fires for b -> c behind a (a b c, a c), where a choice is meant
    splits = _parallel(net.and_out, net.and_threshold)
    joins = _parallel(net.and_in, net.and_threshold)
    out_port: dict[tuple[str, str], str] = {}
    in_port: dict[tuple[str, str], str] = {}
    for a, targets in outs.items():
        pairs = splits.get(a, set()) & set().union(*joins.values())
        for target, port in _ports(graph, nodes[a], targets, pairs, True):
            out_port[(a, target)] = port
    for b, sources in ins.items():
        pairs = joins.get(b, set()) & set().union(*splits.values())
        for source, port in _ports(graph, nodes[b], sources, pairs, False):
            in_port[(source, b)] = port
    for (a, b), port in out_port.items():
        graph.flow(port, in_port[(a, b)])
    return render_bpmn(graph, start, process_id=process_id, name=name)


def _stranded(links: Mapping[str, list[str]], root: str, tasks: list[str]) -> list[str]:
    """Tasks no path of `links` (each task's inputs, or its outputs) connects to `root` (the
    start, or the end): the first one left, linked to `root`, then the next one left, and so on."""
    reached: set[str] = set()
    stranded: list[str] = []
    frontier = [a for a in tasks if root in links[a]]
    while True:
        while frontier:
            a = frontier.pop()
            if a in reached:
                continue
            reached.add(a)
            frontier.extend(b for b in tasks if a in links[b] and b not in reached)
        rest = [a for a in tasks if a not in reached]
        if not rest:
            return stranded
        stranded.append(rest[0])
        frontier = [rest[0]]


def _ports(
    graph: _Bpmn,
    node: str,
    others: list[str],
    pairs: set[tuple[str, str]],
    split: bool,
) -> list[tuple[str, str]]:
    """(other, the node a flow to/from `other` attaches to): the task itself for a single
    neighbour, else an exclusive gateway over the AND groups, a parallel one per group."""
    if len(others) == 1:
        return [(others[0], node)]

    def link(a: str, b: str) -> None:
        if split:
            graph.flow(a, b)
        else:
            graph.flow(b, a)

    groups = _groups(others, pairs)
    if len(groups) == 1:
        gateway = graph.add("parallelGateway")
        link(node, gateway)
        return [(other, gateway) for other in groups[0]]
    choice = graph.add("exclusiveGateway")
    link(node, choice)
    ports: list[tuple[str, str]] = []
    for group in groups:
        if len(group) == 1:
            ports.append((group[0], choice))
            continue
        gateway = graph.add("parallelGateway")
        link(choice, gateway)
        ports += [(other, gateway) for other in group]
    return ports
