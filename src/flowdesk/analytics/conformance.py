"""Conformance checking: every case replayed on the BPMN model it ran on (token replay).

The process map shows what happened; conformance says where that differs from what the model
allows, and how much. Each case's completed activities are replayed as a token game on the model
(one place per sequence flow) and four numbers are counted: tokens produced (p), consumed (c),
missing (m: an activity ran without being enabled, so a token had to be invented) and remaining
(r: tokens left over when the case ended). Fitness is the standard
``0.5 * (1 - m / c) + 0.5 * (1 - r / p)`` per case; the log's fitness uses the sums over all cases
(as pm4py's ``log_fitness``), so a conforming log scores exactly 1.0.

How BPMN is read as a token game (`build_net`):

* A place per top-level sequence flow, plus a start place (one token when the case begins), an
  end place (end events put tokens there; when the case is over every token there is consumed;
  an empty end place counts one missing token) and a place per link-event name.
* Tasks, subprocesses, call activities and events are transitions. An element with several
  incoming flows fires on a token from any one of them (BPMN's uncontrolled merge: one
  transition per incoming flow); it puts a token on every outgoing flow (uncontrolled split).
  Where outgoing flows are conditional or a default exists, the flows that lead to activities
  still to come in the case are taken (the default when none does).
* Gateways are silent (they are routing, not work, and other systems do not log them). Exclusive
  and event-based gateways: one silent transition per incoming/outgoing pair, so the replay takes
  the branch that leads to the next observed activity. Parallel gateways: one transition that
  consumes every incoming flow and produces every outgoing one.
* Inclusive (and complex) gateways are an approximation: as a join they consume the tokens that
  have arrived (at least one) instead of waiting for the branches that are still live; as a split
  they produce on the outgoing flows from which an activity still to come in the case is reachable
  through silent steps (the default flow, else the first, when none is).
* Boundary events: an interrupting one replaces its host (consumes what the host would consume);
  a non-interrupting one reads its host's input token (consumes and puts it back) and produces on
  its own outgoing flows. Terminate end events consume every other token.
* Embedded subprocesses are one activity: events of their inner elements are ignored, as are
  event subprocesses (they start on events, not on tokens). Call activities are one activity too;
  the called process is a case of its own.
* Events the log never records (for this model) are silent: XES logs from other systems usually
  hold only tasks. Tasks are always visible, so a skipped task is always a deviation.
* Where an activity is not enabled, silent transitions are searched (shortest firing sequence,
  breadth first, bounded) for one that enables it; only then are missing tokens added to its
  empty input places. The same search runs at the end of a case to reach an end event.
* An activity the model does not contain is reported (``not-in-model``), makes the case
  non-fitting and is otherwise skipped (as pm4py does by default).

Cases are replayed once per distinct (model, activity sequence): a log of a million events with
a few hundred variants replays in a few hundred token games.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from flowdesk.analytics.log import ACTIVITY, CASE, EventLog
from flowdesk.bpmn.model import ACTIVITIES, GATEWAYS, Node, Process
from flowdesk.core.errors import ModelError

START_PLACE = "@start"
END_PLACE = "@end"
LINK_PREFIX = "@link:"
#: Bound of the silent-step search per activity (markings visited).
SEARCH_LIMIT = 4096

Match = Literal["element", "name"]
DeviationKind = Literal["not-enabled", "left-over", "not-in-model", "no-end"]

_EXCLUSIVE = frozenset({"exclusiveGateway", "eventBasedGateway"})
_INCLUSIVE = frozenset({"inclusiveGateway", "complexGateway"})


def normalise_name(name: str) -> str:
    """Names compare case-insensitively with runs of white space collapsed."""
    return re.sub(r"\s+", " ", name).strip().casefold()


@dataclass(frozen=True, slots=True)
class Transition:
    """One firing rule of an element. ``join="any"`` consumes the marked inputs (at least one);
    ``split="choose"`` produces on the outputs leading to activities still to come."""

    element: str
    visible: bool
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    join: Literal["all", "any"] = "all"
    split: Literal["all", "choose"] = "all"
    default: str | None = None
    terminate: bool = False


@dataclass(frozen=True, slots=True)
class ReplayNet:
    """A process read as a token game: transitions, the visible ones by log label, and for each
    place the visible elements reachable from it through silent steps (for choosing splits)."""

    process: Process
    match: Match
    transitions: tuple[Transition, ...]
    by_label: dict[str, tuple[int, ...]]
    silent: tuple[int, ...]
    label_elements: dict[str, frozenset[str]]
    ahead: dict[str, frozenset[str]]
    ignored: frozenset[str]
    #: Silent firing sequences found so far, by (goal, marking[, upcoming]): the closure over
    #: silent transitions is searched once per reachable marking and model, not once per trace.
    searches: dict[tuple[Any, ...], tuple[int, ...] | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: For each place, the silent transitions that consume from it (what a search may fire).
    silent_from: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)

    #: Whether a silent step chooses its outputs by what is still to come in the case (then a
    #: search depends on the rest of the trace, not only on the marking).
    has_silent_choice: bool = False
    #: Whether no step chooses outputs by what is still to come: then playing an activity in a
    #: marking always has the same effect, memoised in `steps` for every later variant.
    deterministic: bool = False
    steps: dict[tuple[Any, ...], _Step] = field(default_factory=dict, compare=False, repr=False)

    def is_plain(self) -> bool:
        """Whether the net is an ordinary Petri net (no inclusive joins/splits, no terminate)."""
        return all(
            t.join == "all" and t.split == "all" and not t.terminate for t in self.transitions
        )

    def to_petri_json(self) -> dict[str, Any]:
        """The net as JSON (places, transitions with label or null, arcs; initial and final
        marking), so another tool (pm4py, in the tests) can replay the very same net."""
        if not self.is_plain():
            raise ModelError("only models without inclusive gateways or terminate events")
        places: set[str] = {START_PLACE, END_PLACE}
        items = []
        for i, t in enumerate(self.transitions):
            places.update(t.inputs)
            places.update(t.outputs)
            items.append(
                {
                    "id": f"t{i}_{t.element}",
                    "label": self.label_of(t.element) if t.visible else None,
                    "inputs": list(t.inputs),
                    "outputs": list(t.outputs),
                }
            )
        return {
            "places": sorted(places),
            "transitions": items,
            "initial": {START_PLACE: 1},
            "final": {END_PLACE: 1},
        }

    def label_of(self, element: str) -> str:
        if self.match == "element":
            return element
        node = self.process.nodes[element]
        return normalise_name(node.name or node.id)

    def name_of(self, element: str) -> str | None:
        node = self.process.nodes.get(element)
        return node.name if node is not None else None


def _replayable(process: Process) -> dict[str, Node]:
    """Top-level flow nodes that take part in the token game."""
    return {
        node.id: node
        for node in process.nodes.values()
        if node.scope == process.id and not (node.type == "subProcess" and node.triggered_by_event)
    }


def build_net(
    process: Process, observed: Iterable[str] = (), *, match: Match = "element"
) -> ReplayNet:
    """The token game of `process`. `observed` are the labels the log uses for this model
    (element ids, or names with `match="name"`): events never observed are silent."""
    nodes = _replayable(process)
    seen = {normalise_name(o) for o in observed} if match == "name" else set(observed)
    flows = {f.id: f for f in process.flows.values() if f.source in nodes and f.target in nodes}

    def label(node: Node) -> str:
        return normalise_name(node.name or node.id) if match == "name" else node.id

    def incoming(node: Node) -> tuple[str, ...]:
        return tuple(f for f in node.incoming if f in flows)

    def outgoing(node: Node) -> tuple[str, ...]:
        out = tuple(f for f in node.outgoing if f in flows)
        if not out and node.type != "endEvent":
            return (END_PLACE,)  # implicit end (BPMN: an element without outgoing flows)
        return out

    def split_of(node: Node, out: tuple[str, ...]) -> Literal["all", "choose"]:
        if node.default or any(flows[f].condition for f in out if f in flows):
            return "choose"
        return "all"

    transitions: list[Transition] = []
    for node in nodes.values():
        ins, outs = incoming(node), outgoing(node)
        if node.type in GATEWAYS or node.type in _INCLUSIVE:
            if node.type in _EXCLUSIVE:
                for f_in in ins or (START_PLACE,):
                    for f_out in outs:
                        transitions.append(Transition(node.id, False, (f_in,), (f_out,)))
            elif node.type in _INCLUSIVE:
                transitions.append(
                    Transition(
                        node.id, False, ins, outs, join="any", split="choose", default=node.default
                    )
                )
            else:
                transitions.append(Transition(node.id, False, ins, outs))
            continue
        visible = node.type in ACTIVITIES or label(node) in seen
        split = split_of(node, outs)
        if node.type == "endEvent":
            outs = (END_PLACE,)
            split = "all"
        elif node.type == "intermediateThrowEvent" and node.event_kind == "link":
            ref = node.events[0].ref
            outs = (f"{LINK_PREFIX}{ref}",) if ref else outs
        terminate = node.type == "endEvent" and node.event_kind == "terminate"
        if node.type == "startEvent":
            sources: list[tuple[str, ...]] = [(START_PLACE,)]
        elif node.type == "intermediateCatchEvent" and node.event_kind == "link" and not ins:
            ref = node.events[0].ref
            sources = [(f"{LINK_PREFIX}{ref}",)] if ref else [()]
        elif node.type == "boundaryEvent" and node.attached_to in nodes:
            host = nodes[node.attached_to]
            host_inputs = incoming(host) or (START_PLACE,)
            for f_in in host_inputs:
                produced = outs if node.cancel_activity else (f_in, *outs)
                transitions.append(Transition(node.id, visible, (f_in,), produced, split="all"))
            continue
        else:
            sources = [(f,) for f in ins] or [()]
        for inputs in sources:
            transitions.append(
                Transition(
                    node.id,
                    visible,
                    inputs,
                    outs,
                    split=split,
                    default=node.default,
                    terminate=terminate,
                )
            )
    by_label: dict[str, list[int]] = {}
    label_elements: dict[str, set[str]] = {}
    for i, t in enumerate(transitions):
        if t.visible:
            key = label(nodes[t.element])
            by_label.setdefault(key, []).append(i)
            label_elements.setdefault(key, set()).add(t.element)
    silent = tuple(i for i, t in enumerate(transitions) if not t.visible and t.inputs)
    ahead = _visible_ahead(transitions)
    ignored = frozenset(n for n in process.nodes if n not in nodes) | frozenset(
        n.id for n in nodes.values() if n.type in GATEWAYS or n.type in _INCLUSIVE
    )
    silent_from: dict[str, list[int]] = {}
    for i in silent:
        for place in dict.fromkeys(transitions[i].inputs):
            silent_from.setdefault(place, []).append(i)
    return ReplayNet(
        process,
        match,
        tuple(transitions),
        {k: tuple(v) for k, v in by_label.items()},
        silent,
        {k: frozenset(v) for k, v in label_elements.items()},
        ahead,
        ignored,
        silent_from={k: tuple(v) for k, v in silent_from.items()},
        has_silent_choice=any(transitions[i].split == "choose" for i in silent),
        deterministic=all(t.split == "all" for t in transitions),
    )


def _visible_ahead(transitions: Sequence[Transition]) -> dict[str, frozenset[str]]:
    """For every place, the visible elements a token there can reach through silent steps."""
    consumers: dict[str, list[Transition]] = {}
    for t in transitions:
        for place in t.inputs:
            consumers.setdefault(place, []).append(t)
    result: dict[str, frozenset[str]] = {}
    for place in consumers:
        found: set[str] = set()
        stack, visited = [place], {place}
        while stack:
            for t in consumers.get(stack.pop(), ()):
                if t.visible:
                    found.add(t.element)
                    continue
                for out in t.outputs:
                    if out not in visited:
                        visited.add(out)
                        stack.append(out)
        result[place] = frozenset(found)
    return result


@dataclass(frozen=True, slots=True)
class Deviation:
    """One difference between a case and its model.

    ``not-enabled``: the activity ran without being enabled (``tokens`` were missing);
    ``left-over``: tokens stayed on a flow (``flow_id``) before ``element_id`` when the case ended;
    ``not-in-model``: the log names an activity the model does not have;
    ``no-end``: the case never reached an end event.
    """

    kind: DeviationKind
    element_id: str | None
    element_name: str | None
    flow_id: str | None
    tokens: int

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.kind, self.element_id, self.flow_id)

    def describe(self) -> str:
        what = self.element_name or self.element_id or "?"
        if self.element_name and self.element_id and self.element_name != self.element_id:
            what = f"{self.element_name} ({self.element_id})"
        if self.kind == "not-enabled":
            return f"{what} ran without being enabled"
        if self.kind == "left-over":
            if self.flow_id == START_PLACE:
                return "the case never started the process"
            where = f" on flow {self.flow_id}" if self.flow_id else ""
            return f"{self.tokens} token(s) left waiting before {what}{where}"
        if self.kind == "not-in-model":
            return f"{what} is not in the model"
        return "the case never reached an end event"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "element_id": self.element_id,
            "element_name": self.element_name,
            "flow_id": self.flow_id,
            "tokens": self.tokens,
            "description": self.describe(),
        }


@dataclass(frozen=True, slots=True)
class Replay:
    """The token counts of one replayed activity sequence, with where tokens were missing or
    left, and how often each flow carried a token and each element fired."""

    produced: int
    consumed: int
    missing: int
    remaining: int
    deviations: tuple[Deviation, ...]
    flow_counts: Mapping[str, int]
    element_counts: Mapping[str, int]

    @property
    def fitness(self) -> float:
        return fitness(self.missing, self.consumed, self.remaining, self.produced)

    @property
    def fitting(self) -> bool:
        return self.missing == 0 and self.remaining == 0 and not self.deviations


def fitness(missing: int, consumed: int, remaining: int, produced: int) -> float:
    """0.5 * (1 - m/c) + 0.5 * (1 - r/p), each half 1.0 where its denominator is zero."""
    left = 1.0 - missing / consumed if consumed else 1.0
    right = 1.0 - remaining / produced if produced else 1.0
    return 0.5 * left + 0.5 * right


_Marking = Counter[str]


class _Game:
    """The token game of one trace on one net (mutable; one per replay)."""

    def __init__(self, net: ReplayNet) -> None:
        self.net = net
        self.marking: _Marking = Counter({START_PLACE: 1})
        self.produced = 1
        self.consumed = 0
        self.missing = 0
        self.flows: list[str] = []  # every flow fed, in order (counted at the end)
        self.elements: list[str] = []  # every element fired
        self.not_enabled: list[tuple[str, int]] = []  # (element, missing tokens)
        self.choice = net.has_silent_choice

    @staticmethod
    def enabled(t: Transition, marking: Mapping[str, int]) -> bool:
        if t.join == "any":
            return any(marking.get(p, 0) > 0 for p in t.inputs)
        return all(marking.get(p, 0) > 0 for p in t.inputs)

    def outputs(self, t: Transition, upcoming: frozenset[str]) -> tuple[str, ...]:
        if t.split == "all":
            return t.outputs
        ahead = self.net.ahead
        chosen = tuple(o for o in t.outputs if ahead.get(o, frozenset()) & upcoming)
        if chosen:
            return chosen
        if t.default in t.outputs:
            return (t.default,) if t.default else t.outputs[:1]
        return t.outputs[:1]

    def apply(
        self, marking: _Marking, t: Transition, upcoming: frozenset[str]
    ) -> tuple[_Marking, int, tuple[str, ...]]:
        """The marking after firing `t`, the tokens it consumed and the places it fed."""
        after: _Marking = Counter()
        dict.update(after, marking)  # a plain copy: Counter's own copy is several times slower
        consumed = 0
        for p in t.inputs:
            if after.get(p, 0) > 0:
                after[p] -= 1
                consumed += 1
                if after[p] == 0:
                    del after[p]
        outs = self.outputs(t, upcoming)
        for p in outs:
            after[p] += 1
        if t.terminate:
            consumed += sum(n for p, n in after.items() if p != END_PLACE)
            after = Counter({END_PLACE: after[END_PLACE]})
        return after, consumed, outs

    def fire(self, t: Transition, upcoming: frozenset[str]) -> None:
        if t.terminate:
            self.marking, consumed, outs = self.apply(self.marking, t, upcoming)
        else:  # in place: the hot path of a replay, no copy of the marking
            marking = self.marking
            consumed = 0
            for p in t.inputs:
                if marking.get(p, 0) > 0:
                    marking[p] -= 1
                    consumed += 1
                    if marking[p] == 0:
                        del marking[p]
            outs = self.outputs(t, upcoming)
            for p in outs:
                marking[p] += 1
        self.consumed += consumed
        self.produced += len(outs)
        self.flows.extend(p for p in outs if not p.startswith("@"))
        self.elements.append(t.element)

    def cached_search(
        self, name: tuple[Any, ...], goal: Any, upcoming: frozenset[str]
    ) -> tuple[int, ...] | None:
        """`search`, memoised on the net by goal `name` and marking (and `upcoming` where a
        silent split depends on it): every variant that reaches a marking reuses the answer."""
        key: tuple[Any, ...] = (*name, _key(self.marking))
        if self.choice:
            key = (*key, upcoming)
        cache = self.net.searches
        if key in cache:
            return cache[key]
        found = self.search(goal, upcoming)
        path = None if found is None else tuple(found)
        cache[key] = path
        return path

    def search(
        self, goal: Any, upcoming: frozenset[str], limit: int = SEARCH_LIMIT
    ) -> list[int] | None:
        """The shortest sequence of silent firings after which `goal(marking)` holds."""
        start = self.marking
        if goal(start):
            return []
        transitions = self.net.transitions
        queue: deque[tuple[_Marking, list[int]]] = deque([(start, [])])
        visited = {_key(start)}
        silent_from = self.net.silent_from
        while queue and len(visited) < limit:
            marking, path = queue.popleft()
            # only transitions with a marked input can fire; in the net's order, so the
            # shortest sequence found is the same as when every silent one is tried
            fireable = sorted({i for p in marking for i in silent_from.get(p, ())})
            for i in fireable:
                t = transitions[i]
                if not self.enabled(t, marking):
                    continue
                after = self.apply(marking, t, upcoming)[0]
                key = _key(after)
                if key in visited:
                    continue
                if goal(after):
                    return [*path, i]
                visited.add(key)
                queue.append((after, [*path, i]))
        return None

    def run_silent(self, path: Sequence[int], upcoming: frozenset[str]) -> None:
        for i in path:
            self.fire(self.net.transitions[i], upcoming)

    def play(self, label: str, here: frozenset[str], later: frozenset[str]) -> None:
        """Fire the activity `label`; `here` are the elements from it on, `later` after it."""
        transitions = self.net.transitions
        candidates = [transitions[i] for i in self.net.by_label[label]]
        chosen = next((t for t in candidates if self.enabled(t, self.marking)), None)
        if chosen is None:
            path = self.cached_search(
                ("play", label), lambda m: any(self.enabled(t, m) for t in candidates), here
            )
            if path is not None:
                self.run_silent(path, here)
                chosen = next(t for t in candidates if self.enabled(t, self.marking))
        if chosen is None:
            chosen = min(candidates, key=self.lacking)
            lacking = self.lacking(chosen)
            if lacking:
                empty = [p for p in chosen.inputs if self.marking.get(p, 0) == 0]
                for p in empty if chosen.join == "all" else empty[:1]:
                    self.marking[p] += 1
                self.missing += lacking
                self.not_enabled.append((chosen.element, lacking))
        self.fire(chosen, later)

    def lacking(self, t: Transition) -> int:
        empty = sum(1 for p in t.inputs if self.marking.get(p, 0) == 0)
        if t.join == "any":
            return 0 if empty < len(t.inputs) else min(1, len(t.inputs))
        return empty

    def finish(self) -> tuple[int, int, list[Deviation]]:
        """End of the case: reach an end event through silent steps if needed, consume the end
        place; returns (missing at the end, remaining, left-over deviations)."""
        none: frozenset[str] = frozenset()
        if self.marking.get(END_PLACE, 0) == 0 or len(self.marking) > 1:
            path = self.cached_search(("end",), lambda m: set(m) == {END_PLACE}, none)
            if path is None and self.marking.get(END_PLACE, 0) == 0:
                path = self.cached_search(("reach-end",), lambda m: m.get(END_PLACE, 0) > 0, none)
            if path:
                self.run_silent(path, none)
        deviations: list[Deviation] = []
        end_missing = 0
        ended = self.marking.pop(END_PLACE, 0)
        if ended:
            self.consumed += ended
        else:
            end_missing = 1
            self.missing += 1
            self.consumed += 1
            deviations.append(Deviation("no-end", None, None, None, 1))
        remaining = 0
        flows = self.net.process.flows
        for place, count in sorted(self.marking.items()):
            if count <= 0:
                continue
            remaining += count
            flow = flows.get(place)
            target = flow.target if flow is not None else None
            deviations.append(
                Deviation(
                    "left-over", target, self.net.name_of(target) if target else None, place, count
                )
            )
        return end_missing, remaining, deviations


def _key(marking: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((p, n) for p, n in marking.items() if n > 0))


def replay_trace(net: ReplayNet, labels: Sequence[str]) -> Replay:
    """Replay one case (its completed activities, as labels of `net`) on `net`."""
    game = _Game(net)
    not_in_model: Counter[str] = Counter()
    known: list[str] = []
    for label in labels:
        key = _plain(label, net.match)
        if key in net.by_label:
            known.append(key)
        else:
            not_in_model[label] += 1
    upcoming_sets = _suffix_elements(net, known)
    for position, label in enumerate(known):
        here, later = upcoming_sets[position], upcoming_sets[position + 1]
        if net.deterministic:
            _play_memoised(game, label, here, later)
        else:
            game.play(label, here, later)
    _, remaining, left = game.finish()
    deviations: list[Deviation] = []
    not_enabled: Counter[str] = Counter()
    for element, tokens in game.not_enabled:
        not_enabled[element] += tokens
    for element, tokens in not_enabled.items():
        deviations.append(Deviation("not-enabled", element, net.name_of(element), None, tokens))
    for label, count in not_in_model.items():
        if net.match == "element":
            deviations.append(Deviation("not-in-model", label, None, None, count))
        else:
            deviations.append(Deviation("not-in-model", None, label, None, count))
    deviations.extend(left)
    return Replay(
        produced=game.produced,
        consumed=game.consumed,
        missing=game.missing,
        remaining=remaining,
        deviations=tuple(deviations),
        flow_counts=dict(Counter(game.flows)),
        element_counts=dict(Counter(game.elements)),
    )


#: The effect of playing one activity in one marking: the marking after it, tokens consumed,
#: produced and missing, flows fed, elements fired and (element, tokens) not enabled.
_Step = tuple[
    tuple[tuple[str, int], ...],
    int,
    int,
    int,
    tuple[str, ...],
    tuple[str, ...],
    tuple[tuple[str, int], ...],
]


def _play_memoised(game: _Game, label: str, here: frozenset[str], later: frozenset[str]) -> None:
    """`game.play`, looked up by (marking, activity) on a deterministic net: variants share
    their prefixes, so most steps of a large log are one dictionary look-up."""
    key = (_key(game.marking), label)
    step = game.net.steps.get(key)
    if step is None:
        c, p, m = game.consumed, game.produced, game.missing
        f, e, n = len(game.flows), len(game.elements), len(game.not_enabled)
        game.play(label, here, later)
        game.net.steps[key] = (
            tuple(game.marking.items()),
            game.consumed - c,
            game.produced - p,
            game.missing - m,
            tuple(game.flows[f:]),
            tuple(game.elements[e:]),
            tuple(game.not_enabled[n:]),
        )
        return
    marking, consumed, produced, missing, flows, elements, not_enabled = step
    game.marking = Counter()
    dict.update(game.marking, marking)
    game.consumed += consumed
    game.produced += produced
    game.missing += missing
    game.flows.extend(flows)
    game.elements.extend(elements)
    game.not_enabled.extend(not_enabled)


def _suffix_elements(net: ReplayNet, labels: Sequence[str]) -> list[frozenset[str]]:
    """For position i, the elements of the labels from i on (what a split may lead to)."""
    out: list[frozenset[str]] = [frozenset()] * (len(labels) + 1)
    acc: frozenset[str] = frozenset()
    for i in range(len(labels) - 1, -1, -1):
        acc = acc | net.label_elements.get(labels[i], frozenset())
        out[i] = acc
    return out


@dataclass(frozen=True, slots=True)
class CaseConformance:
    """One case replayed on its model version."""

    case: str
    definition_id: str
    activities: int
    replay: Replay

    @property
    def fitness(self) -> float:
        return self.replay.fitness

    def to_json(self) -> dict[str, Any]:
        r = self.replay
        return {
            "case": self.case,
            "definition_id": self.definition_id,
            "activities": self.activities,
            "fitness": self.fitness,
            "fitting": r.fitting,
            "produced": r.produced,
            "consumed": r.consumed,
            "missing": r.missing,
            "remaining": r.remaining,
            "deviations": [d.to_json() for d in r.deviations],
        }


@dataclass(slots=True)
class Totals:
    """Sums over cases: token counts, fitting cases, and the fitness figures derived from them."""

    cases: int = 0
    fitting_cases: int = 0
    produced: int = 0
    consumed: int = 0
    missing: int = 0
    remaining: int = 0
    fitness_sum: float = 0.0
    min_fitness: float | None = None

    def add(self, replay: Replay, times: int = 1) -> None:
        self.cases += times
        self.fitting_cases += times if replay.fitting else 0
        self.produced += replay.produced * times
        self.consumed += replay.consumed * times
        self.missing += replay.missing * times
        self.remaining += replay.remaining * times
        self.fitness_sum += replay.fitness * times
        if self.min_fitness is None or replay.fitness < self.min_fitness:
            self.min_fitness = replay.fitness

    @property
    def fitness(self) -> float | None:
        """The log's fitness from the summed counts (pm4py's `log_fitness`)."""
        if not self.cases:
            return None
        return fitness(self.missing, self.consumed, self.remaining, self.produced)

    @property
    def average_fitness(self) -> float | None:
        return self.fitness_sum / self.cases if self.cases else None

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "fitting_cases": self.fitting_cases,
            "fitness": self.fitness,
            "average_case_fitness": self.average_fitness,
            "min_case_fitness": self.min_fitness,
            "produced": self.produced,
            "consumed": self.consumed,
            "missing": self.missing,
            "remaining": self.remaining,
        }


@dataclass(frozen=True, slots=True)
class VersionConformance:
    """One model version: its totals, and how often each flow and element carried a token
    (what the heatmap labels flows with)."""

    definition_id: str
    totals: Totals
    flow_counts: dict[str, int]
    element_counts: dict[str, int]
    precision: Precision | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "definition_id": self.definition_id,
            **self.totals.to_json(),
            "precision": self.precision.value if self.precision else None,
        }


@dataclass(frozen=True, slots=True)
class DeviationCount:
    """A deviation aggregated over cases: in how many cases, and how many tokens in all."""

    deviation: Deviation
    cases: int
    tokens: int
    definition_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        d = self.deviation
        return {
            "kind": d.kind,
            "element_id": d.element_id,
            "element_name": d.element_name,
            "flow_id": d.flow_id,
            "description": d.describe(),
            "cases": self.cases,
            "tokens": self.tokens,
            "definition_ids": list(self.definition_ids),
        }


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """Every replayed case, per-version and overall totals, the aggregated deviations (most
    cases first), and the cases not replayed with the reason (no deployed model ...)."""

    match: Match
    cases: list[CaseConformance]
    versions: list[VersionConformance]
    deviations: list[DeviationCount]
    totals: Totals
    skipped: dict[str, int] = field(default_factory=dict)

    def worst(self, n: int = 10) -> list[CaseConformance]:
        """The n least fitting cases (ties by case id); fitting cases are never listed."""
        unfit = [c for c in self.cases if not c.replay.fitting]
        return sorted(unfit, key=lambda c: (c.fitness, c.case))[:n]

    def version(self, definition_id: str) -> VersionConformance | None:
        return next((v for v in self.versions if v.definition_id == definition_id), None)

    @property
    def precision(self) -> float | None:
        """Precision over every version (escaping and allowed counts summed)."""
        parts = [v.precision for v in self.versions if v.precision is not None]
        if not parts:
            return None
        return Precision(sum(p.escaping for p in parts), sum(p.allowed for p in parts)).value

    def to_json(self, *, worst: int = 10, deviations: int | None = None) -> dict[str, Any]:
        return {
            "match": self.match,
            **self.totals.to_json(),
            "precision": self.precision,
            "skipped": dict(self.skipped),
            "versions": [v.to_json() for v in self.versions],
            "deviations": [d.to_json() for d in self.deviations[:deviations]],
            "worst_cases": [c.to_json() for c in self.worst(worst)],
        }


def traces(log: EventLog, column: str) -> list[tuple[str, list[str]]]:
    """(case, labels in order) per case of `log`, labels from `column` (nulls dropped)."""
    if log.event_count == 0:
        return []
    if column not in log.events.columns:
        raise ModelError(f"the event log has no '{column}' column to replay")
    frame = (
        log.events.filter(pl.col(column).is_not_null())
        .group_by(CASE, maintain_order=True)
        .agg(pl.col(column).cast(pl.String).alias("trace"))
    )
    return [(str(case), list(trace)) for case, trace in frame.iter_rows()]


def _variant_cases(log: EventLog, column: str) -> list[tuple[tuple[str, ...], list[str]]]:
    """(labels in order, the cases that follow them) per distinct trace, grouped in Polars so
    that Python touches each variant once rather than each case."""
    if log.event_count == 0:
        return []
    if column not in log.events.columns:
        raise ModelError(f"the event log has no '{column}' column to replay")
    per_case = (
        log.events.filter(pl.col(column).is_not_null())
        .group_by(CASE, maintain_order=True)
        .agg(pl.col(column).cast(pl.String).alias("trace"))
    )
    grouped = per_case.group_by("trace", maintain_order=True).agg(pl.col(CASE))
    return [(tuple(trace), list(cases)) for trace, cases in grouped.iter_rows()]


def check_conformance(
    log: EventLog,
    models: Mapping[str, Process],
    *,
    case_models: Mapping[str, str] | None = None,
    match: Match = "element",
    with_precision: bool = True,
) -> ConformanceReport:
    """Replay every case of `log` on its model (and measure precision unless told not to).

    `models` maps definition ids ("key:version") to processes; `case_models` maps each case to
    its definition id (Flowdesk's log: from the events' `definition_id`). Without it there must be
    exactly one model and every case is replayed on it (an XES log against a deployed model).
    `match="element"` replays the log's `element_id` column; `match="name"` its activity names,
    matched to element names (case-insensitively). Only completions are replayed where the log
    also records starts.
    """
    if case_models is None and len(models) != 1:
        raise ModelError("name one model per case, or give exactly one model for every case")
    if log.has_lifecycle_starts():
        log = log.completions()
    column = "element_id" if match == "element" else ACTIVITY
    only = next(iter(models)) if case_models is None else None
    skipped: Counter[str] = Counter()
    by_model: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
    for trace, cases_of in _variant_cases(log, column):
        for case in cases_of:
            definition_id = only if only is not None else (case_models or {}).get(case)
            if definition_id is None:
                skipped["no model for the case"] += 1
                continue
            if definition_id not in models:
                skipped[f"model {definition_id} not deployed"] += 1
                continue
            group = by_model.setdefault(definition_id, [])
            if group and group[-1][0] is trace:
                group[-1][1].append(case)
            else:
                group.append((trace, [case]))
    results: list[CaseConformance] = []
    versions: list[VersionConformance] = []
    overall = Totals()
    aggregated: dict[tuple[str, str | None, str | None], list[Any]] = {}
    plain: dict[str, str] = {}
    for definition_id in sorted(by_model, key=_version_order):
        process = models[definition_id]
        variants = by_model[definition_id]
        observed = {label for trace, _ in variants for label in trace}
        net = build_net(process, observed, match=match)
        skip = ignored_labels(net)
        memo: dict[tuple[str, ...], Replay] = {}
        totals = Totals()
        flows: Counter[str] = Counter()
        elements: Counter[str] = Counter()
        variant_cases: Counter[tuple[str, ...]] = Counter()
        for trace, cases in variants:
            for label in trace:
                if label not in plain:
                    plain[label] = _plain(label, match)
            kept = tuple(label for label in trace if plain[label] not in skip)
            replay = memo.get(kept)
            if replay is None:
                replay = memo[kept] = replay_trace(net, kept)
            times = len(cases)
            variant_cases[kept] += times
            results.extend(
                CaseConformance(case, definition_id, len(kept), replay) for case in cases
            )
            for deviation in replay.deviations:
                entry = aggregated.setdefault(deviation.key, [deviation, 0, 0, set()])
                entry[1] += times
                entry[2] += deviation.tokens * times
                entry[3].add(definition_id)
        for kept, times in variant_cases.items():
            replay = memo[kept]
            totals.add(replay, times)
            overall.add(replay, times)
            for flow, n in replay.flow_counts.items():
                flows[flow] += n * times
            for element, n in replay.element_counts.items():
                elements[element] += n * times
        fitted = precision(net, variant_cases) if with_precision else None
        versions.append(
            VersionConformance(definition_id, totals, dict(flows), dict(elements), fitted)
        )
    deviations = [
        DeviationCount(d, cases, tokens, tuple(sorted(ids, key=_version_order)))
        for d, cases, tokens, ids in aggregated.values()
    ]
    deviations.sort(key=lambda d: (-d.cases, -d.tokens, d.deviation.describe()))
    return ConformanceReport(match, results, versions, deviations, overall, dict(skipped))


def ignored_labels(net: ReplayNet) -> frozenset[str]:
    """Labels of elements outside the token game (gateways, subprocess insides) that no
    replayed element shares: dropped from traces rather than reported as not in the model."""
    labels = {net.label_of(e) for e in net.ignored if e in net.process.nodes}
    return frozenset(labels - set(net.by_label))


def plain_label(label: str, match: Match) -> str:
    """A log label as the net knows it (names are normalised, element ids kept)."""
    return normalise_name(label) if match == "name" else label


_plain = plain_label


def _version_order(definition_id: str) -> tuple[str, int, str]:
    key, _, version = definition_id.rpartition(":")
    return (key, int(version), "") if version.isdigit() else (definition_id, 0, definition_id)


# -- alignments ----------------------------------------------------------------------------

#: Costs of the standard alignment (as pm4py's): a move on the log or on a visible model step
#: costs MOVE, a silent step SILENT (so the cheapest explanation also has the fewest routings).
MOVE = 10_000
SILENT = 1
#: Bound on the states an alignment may visit (one variant, on demand).
ALIGN_LIMIT = 200_000

MoveKind = Literal["sync", "log", "model"]


@dataclass(frozen=True, slots=True)
class Move:
    """One step of an alignment: both log and model (`sync`), the log only (`log`: the case did
    something the model does not allow here) or the model only (`model`: a step the model
    needed that the case skipped)."""

    kind: MoveKind
    activity: str
    element_id: str | None

    def describe(self) -> str:
        if self.kind == "sync":
            return f"{self.activity}: as the model says"
        if self.kind == "log":
            return f"{self.activity}: done, but the model does not allow it here"
        return f"{self.activity}: skipped, but the model requires it here"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "activity": self.activity,
            "element_id": self.element_id,
            "description": self.describe(),
        }


@dataclass(frozen=True, slots=True)
class Alignment:
    """The cheapest way to walk a case and its model together (silent steps left out)."""

    moves: tuple[Move, ...]
    cost: int
    fitness: float

    @property
    def deviations(self) -> list[Move]:
        return [m for m in self.moves if m.kind != "sync"]

    def to_json(self) -> dict[str, Any]:
        return {
            "cost": self.cost,
            "fitness": self.fitness,
            "deviations": len(self.deviations),
            "moves": [m.to_json() for m in self.moves],
        }


def align(net: ReplayNet, labels: Sequence[str]) -> Alignment:
    """An optimal alignment of one activity sequence (labels of `net`) with the net: Dijkstra
    over (position in the case, marking). Token replay says *how much* a case deviates;
    the alignment says exactly *what* it did differently. Fitness is ``1 - cost / worst`` where
    worst is every activity a log move plus the model's cheapest complete run, both counted in
    moves, silent steps not counted (as pm4py).
    Inclusive splits are explored one outgoing flow at a time (an approximation)."""
    trace = [_plain(label, net.match) for label in labels]
    best, moves = _dijkstra(net, trace)
    empty, _ = _dijkstra(net, [])
    worst = len(trace) + empty // MOVE
    fitness = 1.0 - (best // MOVE) / worst if worst else 1.0
    return Alignment(tuple(moves), best, max(0.0, fitness))


def _successors(
    game: _Game, marking: _Marking, t: Transition
) -> list[tuple[_Marking, tuple[str, ...]]]:
    if t.split == "choose" and len(t.outputs) > 1:  # one successor per outgoing flow
        singles = [
            Transition(t.element, t.visible, t.inputs, (place,), join=t.join) for place in t.outputs
        ]
    else:
        singles = [t]
    successors = []
    for single in singles:
        after, _, outs = game.apply(marking, single, frozenset())
        successors.append((after, outs))
    return successors


def _dijkstra(net: ReplayNet, trace: Sequence[str]) -> tuple[int, list[Move]]:
    import heapq

    game = _Game(net)
    start: _Marking = Counter({START_PLACE: 1})
    final = ((END_PLACE, 1),)
    counter = 0
    queue: list[tuple[int, int, int, _Marking]] = [(0, 0, 0, start)]
    seen: dict[tuple[int, tuple[tuple[str, int], ...]], int] = {(0, _key(start)): 0}
    back: dict[tuple[int, tuple[tuple[str, int], ...]], tuple[Any, Move | None]] = {}
    n = len(trace)
    while queue:
        cost, _, i, marking = heapq.heappop(queue)
        state = (i, _key(marking))
        if cost > seen.get(state, cost):
            continue
        if i == n and state[1] == final:
            moves: list[Move] = []
            while state in back:
                state, move = back[state]
                if move is not None:
                    moves.append(move)
            return cost, moves[::-1]
        if len(seen) > ALIGN_LIMIT:
            raise ModelError("the alignment needs too many states; try a simpler model")
        steps: list[tuple[int, int, _Marking, Move | None]] = []
        if i < n:
            label = trace[i]
            steps.append((MOVE, i + 1, marking, Move("log", label, None)))
        for t in net.transitions:
            if not t.inputs or not game.enabled(t, marking):
                continue
            for after, _ in _successors(game, marking, t):
                if not t.visible:
                    steps.append((SILENT, i, after, None))
                    continue
                label = net.label_of(t.element)
                shown = net.name_of(t.element) or label
                if i < n and trace[i] == label:
                    steps.append((0, i + 1, after, Move("sync", shown, t.element)))
                steps.append((MOVE, i, after, Move("model", shown, t.element)))
        for step_cost, j, after, move in steps:
            key = (j, _key(after))
            total = cost + step_cost
            if total < seen.get(key, total + 1):
                seen[key] = total
                back[key] = (state, move)
                counter += 1
                heapq.heappush(queue, (total, counter, j, after))
    raise ModelError("the model cannot reach its end: no alignment exists")


# -- precision -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Precision:
    """ETC precision (escaping edges, as pm4py's token-based precision): after every prefix of
    the log that replays without missing tokens, the activities the model would allow next
    (`allowed`) against those that followed that prefix in the log; `escaping` counts the
    allowed ones nobody did. Precision is ``1 - escaping / allowed``: 1.0 means the model
    allows nothing the log never does; a flower model scores low."""

    escaping: int
    allowed: int

    @property
    def value(self) -> float:
        return 1.0 - self.escaping / self.allowed if self.allowed else 1.0


def precision(net: ReplayNet, variants: Mapping[tuple[str, ...], int]) -> Precision:
    """Precision of `net` for `variants` (labels of `net` -> number of cases). Each distinct
    prefix is replayed once; the labels allowed after it are memoised per marking."""
    following: dict[tuple[str, ...], set[str]] = {}
    count: Counter[tuple[str, ...]] = Counter()
    starts: set[str] = set()
    cases = 0
    for trace, n in variants.items():
        labels = tuple(plain_label(label, net.match) for label in trace)
        cases += n
        if labels:
            starts.add(labels[0])
        for i in range(1, len(labels)):
            following.setdefault(labels[:i], set()).add(labels[i])
            count[labels[:i]] += n
    allowed_memo: dict[tuple[tuple[str, int], ...], frozenset[str]] = {}

    def allowed(marking: _Marking) -> frozenset[str]:
        key = _key(marking)
        if key not in allowed_memo:
            allowed_memo[key] = _eventually_enabled(net, marking)
        return allowed_memo[key]

    initial = allowed(Counter({START_PLACE: 1}))
    escaping = cases * len(initial - starts)
    total = cases * len(initial)
    done: set[tuple[str, ...]] = set()
    for trace in variants:  # one replay per variant gives the marking after each prefix
        labels = tuple(plain_label(label, net.match) for label in trace)
        game = _Game(net)
        suffixes = _suffix_elements(net, labels)
        for position, label in enumerate(labels[:-1]):
            if label not in net.by_label:
                break
            game.play(label, suffixes[position], suffixes[position + 1])
            if game.missing:
                break  # not fitting from here on: pm4py leaves such prefixes out too
            prefix = labels[: position + 1]
            if prefix in done:
                continue
            done.add(prefix)
            enabled = allowed(game.marking)
            total += len(enabled) * count[prefix]
            escaping += len(enabled - following[prefix]) * count[prefix]
    return Precision(escaping, total)


def _eventually_enabled(net: ReplayNet, marking: _Marking) -> frozenset[str]:
    """Labels of visible transitions enabled in `marking` or after silent steps from it."""
    game = _Game(net)
    found: set[str] = set()
    queue: deque[_Marking] = deque([marking])
    seen = {_key(marking)}
    while queue and len(seen) < SEARCH_LIMIT:
        current = queue.popleft()
        for t in net.transitions:
            if not t.inputs or not game.enabled(t, current):
                continue
            if t.visible:
                found.add(net.label_of(t.element))
                continue
            after = game.apply(current, t, frozenset())[0]
            key = _key(after)
            if key not in seen:
                seen.add(key)
                queue.append(after)
    return frozenset(found)
