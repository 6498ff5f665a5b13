"""Process discovery: a BPMN model mined from the log (inductive miner, infrequent variant).

Conformance needs a model; a process that runs outside Flowdesk (an imported XES log) has none,
and a hand-drawn one rarely says what really happens. The inductive miner (Leemans et al.)
finds the top-level split of the directly-follows graph (exclusive choice, sequence, parallel,
loop), splits the log along it and recurses, so the result is a block-structured, sound model:
every activity sequence of the log replays on it (with ``noise=0``). The *infrequent* variant
(IMf) drops directly-follows edges rarer than ``noise`` times the most frequent edge out of the
same activity before it looks for a split, which keeps rare detours from turning the model into
spaghetti (at the price of some fitness).

The miner works on variants (distinct sequences with their counts), never on events, so a
million-event log with a few thousand variants is mined in well under a second. The result is
a process tree, turned into BPMN 2.0 XML with diagram interchange (a left-to-right layout), so
it opens in Camunda Modeler or bpmn.io, deploys as a Flowdesk flow and replays in conformance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from flowdesk.analytics.log import EventLog
from flowdesk.analytics.variants import variant_counts
from flowdesk.core.errors import ModelError

Operator = Literal["activity", "tau", "seq", "xor", "and", "loop"]
Log = Mapping[tuple[str, ...], int]


@dataclass(frozen=True, slots=True)
class Tree:
    """A process tree node: an activity, a silent step (tau) or an operator over children.
    ``loop`` has a body (first child) and redo parts (the rest, an exclusive choice)."""

    op: Operator
    label: str | None = None
    children: tuple[Tree, ...] = ()

    def __str__(self) -> str:
        if self.op == "activity":
            return repr(self.label)
        if self.op == "tau":
            return "tau"
        symbol = {"seq": "->", "xor": "X", "and": "+", "loop": "*"}[self.op]
        return f"{symbol}({', '.join(str(c) for c in self.children)})"

    def activities(self) -> set[str]:
        if self.op == "activity":
            return {self.label or ""}
        return set().union(*(c.activities() for c in self.children)) if self.children else set()


TAU = Tree("tau")


def inductive_miner(log: Log, *, noise: float = 0.0) -> Tree:
    """The process tree of `log` (variant -> number of cases); `noise` in [0, 1) (IMf)."""
    if not 0.0 <= noise < 1.0:
        raise ModelError(f"noise threshold must be at least 0 and below 1, not {noise}")
    clean = {tuple(trace): int(n) for trace, n in log.items() if n > 0}
    if not clean:
        raise ModelError("the log has no cases to discover a model from")
    return _mine(clean, noise)


@dataclass(slots=True)
class _Dfg:
    edges: Counter[tuple[str, str]] = field(default_factory=Counter)
    start: Counter[str] = field(default_factory=Counter)
    end: Counter[str] = field(default_factory=Counter)
    activities: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, log: Log) -> _Dfg:
        dfg = cls()
        for trace, n in log.items():
            if not trace:
                continue
            dfg.start[trace[0]] += n
            dfg.end[trace[-1]] += n
            for a in trace:
                dfg.activities[a] += n
            for a, b in zip(trace, trace[1:], strict=False):
                dfg.edges[(a, b)] += n
        return dfg

    def filtered(self, noise: float) -> _Dfg:
        """IMf: edges (and start/end activities) rarer than `noise` x the strongest one of
        the same activity (the most frequent start/end activity) are dropped."""
        strongest: Counter[str] = Counter()
        for (a, _), n in self.edges.items():
            strongest[a] = max(strongest[a], n)
        edges = Counter({e: n for e, n in self.edges.items() if n >= noise * strongest[e[0]]})
        top_start = max(self.start.values(), default=0)
        top_end = max(self.end.values(), default=0)
        start = Counter({a: n for a, n in self.start.items() if n >= noise * top_start})
        end = Counter({a: n for a, n in self.end.items() if n >= noise * top_end})
        return _Dfg(edges, start, end, self.activities)


def _mine(log: dict[tuple[str, ...], int], noise: float) -> Tree:
    if not log:  # a part no trace went to (the noise filter moved its traces elsewhere)
        return TAU
    total = sum(log.values())
    empty = log.get((), 0)
    if empty:
        rest = {t: n for t, n in log.items() if t}
        if not rest:
            return TAU
        if noise == 0.0 or empty / total > noise:
            return Tree("xor", children=(TAU, _mine(rest, noise)))
        log, total = rest, total - empty
    dfg = _Dfg.of(log)
    alphabet = sorted(dfg.activities)
    if len(alphabet) == 1:
        (a,) = alphabet
        single = Tree("activity", a)
        repeated = sum(n for t, n in log.items() if len(t) > 1)
        if repeated == 0 or (noise > 0 and repeated / total <= noise):
            return single
        return Tree("loop", children=(single, TAU))
    tree = _cut(log, dfg, alphabet, noise)
    if tree is None and noise > 0:
        tree = _cut(log, dfg.filtered(noise), alphabet, noise)
    return tree if tree is not None else _fall_through(log, alphabet, noise)


def _cut(
    log: dict[tuple[str, ...], int], dfg: _Dfg, alphabet: list[str], noise: float
) -> Tree | None:
    groups = _xor_cut(dfg, alphabet)
    if groups:
        return Tree("xor", children=tuple(_mine(s, noise) for s in _split_xor(log, groups)))
    groups = _sequence_cut(dfg, alphabet)
    if groups:
        parts = _project(log, groups)
        return Tree("seq", children=tuple(_mine(s, noise) for s in parts))
    groups = _parallel_cut(dfg, alphabet)
    if groups:
        return Tree("and", children=tuple(_mine(s, noise) for s in _project(log, groups)))
    groups = _loop_cut(dfg, alphabet)
    if groups:
        do, *redo = (_mine(s, noise) for s in _split_loop(log, groups))
        body = redo[0] if len(redo) == 1 else Tree("xor", children=tuple(redo))
        return Tree("loop", children=(do, body))
    return None


def _components(nodes: Iterable[str], neighbours: Mapping[str, set[str]]) -> list[list[str]]:
    seen: set[str] = set()
    out: list[list[str]] = []
    for node in nodes:
        if node in seen:
            continue
        group, stack = [], [node]
        seen.add(node)
        while stack:
            current = stack.pop()
            group.append(current)
            for other in sorted(neighbours.get(current, ())):
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        out.append(sorted(group))
    return out


def _xor_cut(dfg: _Dfg, alphabet: list[str]) -> list[list[str]] | None:
    links: dict[str, set[str]] = {a: set() for a in alphabet}
    for a, b in dfg.edges:
        links[a].add(b)
        links[b].add(a)
    groups = _components(alphabet, links)
    return groups if len(groups) > 1 else None


def _reach(dfg: _Dfg, alphabet: list[str]) -> dict[str, set[str]]:
    succ: dict[str, set[str]] = {a: set() for a in alphabet}
    for a, b in dfg.edges:
        succ[a].add(b)
    reach: dict[str, set[str]] = {}
    for a in alphabet:
        seen: set[str] = set()
        stack = list(succ[a])
        while stack:
            b = stack.pop()
            if b not in seen:
                seen.add(b)
                stack.extend(succ[b] - seen)
        reach[a] = seen
    return reach


def _sequence_cut(dfg: _Dfg, alphabet: list[str]) -> list[list[str]] | None:
    """Merge activities that reach each other both ways or neither way; the groups left must be
    totally ordered by reachability."""
    reach = _reach(dfg, alphabet)
    parent = {a: a for a in alphabet}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, a in enumerate(alphabet):
        for b in alphabet[i + 1 :]:
            if (b in reach[a]) == (a in reach[b]):
                parent[find(a)] = find(b)
    merged: dict[str, list[str]] = {}
    for a in alphabet:
        merged.setdefault(find(a), []).append(a)
    groups = list(merged.values())
    if len(groups) < 2:
        return None
    groups.sort(key=lambda g: (-len(reach[g[0]]), g))
    for i, before in enumerate(groups):
        for after in groups[i + 1 :]:
            for a in before:
                for b in after:
                    if b not in reach[a] or a in reach[b]:
                        return None
    return groups


def _parallel_cut(dfg: _Dfg, alphabet: list[str]) -> list[list[str]] | None:
    """Components of the graph linking activities that do not directly follow each other both
    ways; each part needs a start and an end activity."""
    links: dict[str, set[str]] = {a: set() for a in alphabet}
    for i, a in enumerate(alphabet):
        for b in alphabet[i + 1 :]:
            if not ((a, b) in dfg.edges and (b, a) in dfg.edges):
                links[a].add(b)
                links[b].add(a)
    groups = _components(alphabet, links)
    if len(groups) < 2:
        return None
    good = [g for g in groups if any(a in dfg.start for a in g) and any(a in dfg.end for a in g)]
    bad = [a for g in groups if g not in good for a in g]
    if not good:
        return None
    if bad:
        good[0] = sorted(good[0] + bad)
    return good if len(good) > 1 else None


def _loop_cut(dfg: _Dfg, alphabet: list[str]) -> list[list[str]] | None:
    """Body: the start and end activities and what hangs between them; redo parts: the other
    components, entered only from every end activity and left only to every start activity."""
    starts, ends = set(dfg.start), set(dfg.end)
    do = starts | ends
    rest = [a for a in alphabet if a not in do]
    links: dict[str, set[str]] = {a: set() for a in rest}
    for a, b in dfg.edges:
        if a in links and b in links:
            links[a].add(b)
            links[b].add(a)
    candidates = _components(rest, links)
    changed = True
    while changed:
        changed = False
        for group in list(candidates):
            members = set(group)
            ok = True
            for a, b in dfg.edges:
                if b in members and a not in members:
                    ok &= a in ends and a in do
                if a in members and b not in members:
                    ok &= b in starts and b in do
            if ok:
                entries = {b for (a, b) in dfg.edges if b in members and a in ends}
                exits = {a for (a, b) in dfg.edges if a in members and b in starts}
                ok = all(all((e, b) in dfg.edges for e in ends) for b in entries) and all(
                    all((a, s) in dfg.edges for s in starts) for a in exits
                )
            if not ok:
                candidates.remove(group)
                do |= members
                changed = True
    if not candidates:
        return None
    return [sorted(do), *candidates]


def _split_xor(log: Log, groups: list[list[str]]) -> list[dict[tuple[str, ...], int]]:
    """Each trace goes to the part holding most of its activities (projected on that part)."""
    where = {a: i for i, g in enumerate(groups) for a in g}
    parts: list[Counter[tuple[str, ...]]] = [Counter() for _ in groups]
    for trace, n in log.items():
        votes = Counter(where[a] for a in trace)
        best = min(votes, key=lambda i: (-votes[i], i))
        parts[best][tuple(a for a in trace if where[a] == best)] += n
    return [dict(p) for p in parts]


def _project(log: Log, groups: list[list[str]]) -> list[dict[tuple[str, ...], int]]:
    where = {a: i for i, g in enumerate(groups) for a in g}
    parts: list[Counter[tuple[str, ...]]] = [Counter() for _ in groups]
    for trace, n in log.items():
        split: list[list[str]] = [[] for _ in groups]
        for a in trace:
            split[where[a]].append(a)
        for i, sub in enumerate(split):
            parts[i][tuple(sub)] += n
    return [dict(p) for p in parts]


def _split_loop(log: Log, groups: list[list[str]]) -> list[dict[tuple[str, ...], int]]:
    """Cut each trace into body and redo runs; a run of the body is assumed (empty) between two
    redo runs and at either end of the trace."""
    where = {a: i for i, g in enumerate(groups) for a in g}
    parts: list[Counter[tuple[str, ...]]] = [Counter() for _ in groups]
    for trace, n in log.items():
        runs: list[tuple[int, list[str]]] = []
        for a in trace:
            part = where[a]
            if runs and runs[-1][0] == part:
                runs[-1][1].append(a)
            else:
                if part != 0 and (not runs or runs[-1][0] != 0):
                    runs.append((0, []))
                runs.append((part, [a]))
        if not runs or runs[-1][0] != 0:
            runs.append((0, []))
        for part, run in runs:
            parts[part][tuple(run)] += n
    return [dict(p) for p in parts]


def _fall_through(log: dict[tuple[str, ...], int], alphabet: list[str], noise: float) -> Tree:
    """No split fits: an activity that occurs once in every case runs in parallel with the
    rest; else the flower model (any activity, any number of times)."""
    for a in alphabet:
        if all(trace.count(a) == 1 for trace in log):
            rest: Counter[tuple[str, ...]] = Counter()
            for trace, n in log.items():
                rest[tuple(b for b in trace if b != a)] += n
            return Tree("and", children=(Tree("activity", a), _mine(dict(rest), noise)))
    choice = tuple(Tree("activity", a) for a in alphabet)
    return Tree("loop", children=(TAU, Tree("xor", children=choice)))


# -- BPMN ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    id: str
    kind: str
    name: str | None = None


@dataclass(slots=True)
class _Bpmn:
    nodes: list[_Node] = field(default_factory=list)
    flows: list[tuple[str, str, str]] = field(default_factory=list)
    counter: int = 0

    def add(self, kind: str, name: str | None = None) -> str:
        self.counter += 1
        prefix = {"task": "Activity", "exclusiveGateway": "Gateway", "parallelGateway": "Gateway"}
        node = _Node(f"{prefix.get(kind, 'Event')}_{self.counter}", kind, name)
        self.nodes.append(node)
        return node.id

    def flow(self, source: str, target: str) -> None:
        if any(s == source and t == target for _, s, t in self.flows):
            return
        self.flows.append((f"Flow_{len(self.flows) + 1}", source, target))

    def fragment(self, tree: Tree) -> tuple[str, str] | None:
        """Entry and exit node of `tree`'s fragment; None for a silent step."""
        if tree.op == "tau":
            return None
        if tree.op == "activity":
            task = self.add("task", tree.label)
            return task, task
        if tree.op == "seq":
            parts = [f for f in (self.fragment(c) for c in tree.children) if f is not None]
            if not parts:
                return None
            for (_, out), (into, _) in zip(parts, parts[1:], strict=False):
                self.flow(out, into)
            return parts[0][0], parts[-1][1]
        if tree.op in ("xor", "and"):
            kind = "exclusiveGateway" if tree.op == "xor" else "parallelGateway"
            split, join = self.add(kind), self.add(kind)
            for child in tree.children:
                part = self.fragment(child)
                if part is None:
                    self.flow(split, join)
                else:
                    self.flow(split, part[0])
                    self.flow(part[1], join)
            return split, join
        # loop: join -> body -> split -> (exit | redo -> join)
        join, split = self.add("exclusiveGateway"), self.add("exclusiveGateway")
        body = self.fragment(tree.children[0])
        if body is None:
            self.flow(join, split)
        else:
            self.flow(join, body[0])
            self.flow(body[1], split)
        for redo in tree.children[1:]:
            part = self.fragment(redo)
            if part is None:
                self.flow(split, join)
            else:
                self.flow(split, part[0])
                self.flow(part[1], join)
        exit_ = self.add("exclusiveGateway")
        self.flow(split, exit_)
        return join, exit_


def to_bpmn(tree: Tree, *, process_id: str = "discovered", name: str = "Discovered") -> str:
    """BPMN 2.0 XML (Camunda Modeler style, with diagram interchange) of a process tree."""
    graph = _Bpmn()
    start = graph.add("startEvent")  # unnamed: a log activity called "Start" stays a task
    body = graph.fragment(tree)
    end = graph.add("endEvent")
    if body is None:
        graph.flow(start, end)
    else:
        graph.flow(start, body[0])
        graph.flow(body[1], end)
    return render_bpmn(graph, start, process_id=process_id, name=name)


def render_bpmn(graph: _Bpmn, start: str, *, process_id: str, name: str) -> str:
    """BPMN XML of a node/flow graph: every miner's model goes through here, so each gets the
    same layout, the same branch conditions (it deploys) and the same diagram interchange."""
    positions = _layout(graph, start)
    ns = (
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<bpmn:definitions {ns} id="Definitions_{process_id}" '
        'targetNamespace="http://bpmn.io/schema/bpmn" exporter="Flowdesk discovery">',
        f'  <bpmn:process id={quoteattr(process_id)} name={quoteattr(name)} isExecutable="true">',
    ]
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow_id, source, target in graph.flows:
        outgoing.setdefault(source, []).append(flow_id)
        incoming.setdefault(target, []).append(flow_id)
    names = {n.id: n.name for n in graph.nodes}
    conditions: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for node in graph.nodes:  # a choice deploys once every branch but the default has a rule
        leaving = outgoing.get(node.id, [])
        if node.kind == "exclusiveGateway" and len(leaving) > 1:
            defaults[node.id] = leaving[0]
            for flow_id in leaving[1:]:
                target = next(t for f, _, t in graph.flows if f == flow_id)
                branch = (names.get(target) or flow_id).replace("\\", "").replace('"', "'")
                conditions[flow_id] = f'route = "{branch}"'
    for node in graph.nodes:
        attrs = f"id={quoteattr(node.id)}"
        if node.name:
            attrs += f" name={quoteattr(node.name)}"
        if node.id in defaults:
            attrs += f' default="{defaults[node.id]}"'
        inner = [f"      <bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.get(node.id, [])]
        inner += [f"      <bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.get(node.id, [])]
        lines.append(f"    <bpmn:{node.kind} {attrs}>")
        lines.extend(inner)
        lines.append(f"    </bpmn:{node.kind}>")
    for flow_id, source, target in graph.flows:
        head = f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"'
        if flow_id in conditions:
            lines.append(head + ">")
            lines.append(
                '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                f"{escape(conditions[flow_id])}</bpmn:conditionExpression>"
            )
            lines.append("    </bpmn:sequenceFlow>")
        else:
            lines.append(head + " />")
    lines.append("  </bpmn:process>")
    lines.append('  <bpmndi:BPMNDiagram id="BPMNDiagram_1">')
    lines.append(f'    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="{escape(process_id)}">')
    for node in graph.nodes:
        x, y, w, h = positions[node.id]
        lines.append(f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}">')
        lines.append(f'        <dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />')
        lines.append("      </bpmndi:BPMNShape>")
    for flow_id, source, target in graph.flows:
        sx, sy, sw, sh = positions[source]
        tx, ty, _, th = positions[target]
        points = [(sx + sw, sy + sh // 2), (tx, ty + th // 2)]
        if tx <= sx:  # a loop back: around underneath
            low = max(sy + sh, ty + th) + 30
            points = [
                (sx + sw // 2, sy + sh),
                (sx + sw // 2, low),
                (tx + 18, low),
                (tx + 18, ty + th),
            ]
        elif sy != ty:
            points = [(sx + sw, sy + sh // 2), (sx + sw + 20, sy + sh // 2)]
            points += [(sx + sw + 20, ty + th // 2), (tx, ty + th // 2)]
        lines.append(f'      <bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">')
        for px, py in points:
            lines.append(f'        <di:waypoint x="{px}" y="{py}" />')
        lines.append("      </bpmndi:BPMNEdge>")
    lines += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</bpmn:definitions>", ""]
    return "\n".join(lines)


def _layout(graph: _Bpmn, start: str) -> dict[str, tuple[int, int, int, int]]:
    """Columns by longest path from the start (back edges of loops ignored), rows in order."""
    succ: dict[str, list[str]] = {}
    for _, s, t in graph.flows:
        succ.setdefault(s, []).append(t)
    order: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    visiting: set[str] = set()

    stack: list[tuple[str, int]] = [(start, 0)]
    order[start] = 0
    visiting.add(start)
    while stack:  # depth first: an edge to a node on the stack closes a loop
        node, i = stack.pop()
        nexts = succ.get(node, [])
        if i < len(nexts):
            stack.append((node, i + 1))
            nxt = nexts[i]
            if nxt in visiting:
                back.add((node, nxt))
            elif nxt not in order:
                order[nxt] = len(order)
                visiting.add(nxt)
                stack.append((nxt, 0))
        else:
            visiting.discard(node)
    column = dict.fromkeys(order, 0)
    changed = True
    rounds = 0
    while changed and rounds <= len(graph.nodes):
        changed, rounds = False, rounds + 1
        for _, s, t in graph.flows:
            if (s, t) in back or s not in column or t not in column:
                continue
            if column[t] < column[s] + 1:
                column[t] = column[s] + 1
                changed = True
    rows: Counter[int] = Counter()
    kinds = {n.id: n.kind for n in graph.nodes}
    positions: dict[str, tuple[int, int, int, int]] = {}
    for node in sorted(column, key=lambda n: (column[n], order[n])):
        col, row = column[node], rows[column[node]]
        rows[col] += 1
        if kinds[node] == "task":
            w, h = 100, 80
        elif kinds[node].endswith("Gateway"):
            w, h = 50, 50
        else:
            w, h = 36, 36
        cx, cy = 180 + col * 150, 120 + row * 130
        positions[node] = (cx - w // 2, cy - h // 2, w, h)
    for other in graph.nodes:  # unreachable (should not happen): park them below
        positions.setdefault(
            other.id, (180, 120 + 130 * (max(rows.values(), default=0) + 1), 36, 36)
        )
    return positions


Miner = Literal["inductive", "heuristic"]
MINERS: tuple[Miner, ...] = ("inductive", "heuristic")


def discover_bpmn(
    log: EventLog,
    *,
    noise: float = 0.2,
    name: str = "Discovered",
    process_id: str = "discovered",
    miner: Miner = "inductive",
    dependency: float = 0.5,
) -> str:
    """BPMN XML of `miner`'s model of `log` (its completions, by activity name).

    `noise` drops rare paths: for the inductive miner the IMf threshold, for the heuristics
    miner the directly-follows cleaning threshold; `dependency` is the heuristics miner's
    dependency threshold."""
    if log.has_lifecycle_starts():
        log = log.completions()
    if miner == "heuristic":
        from flowdesk.analytics.heuristics import heuristics_bpmn, heuristics_miner

        net = heuristics_miner(variant_counts(log), noise=noise, dependency=dependency)
        return heuristics_bpmn(net, process_id=process_id, name=name)
    if miner != "inductive":
        raise ModelError(f"unknown miner {miner!r}: choose one of {', '.join(MINERS)}")
    tree = inductive_miner(variant_counts(log), noise=noise)
    return to_bpmn(tree, process_id=process_id, name=name)
