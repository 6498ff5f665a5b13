"""Frozen, JSON-able process definitions: what the engine executes, never the XML.

Expressions are stored as FEEL text. Attribute values that may be either a literal or an
expression (assignee, due date, timer value, called element ...) follow the Zeebe convention:
a leading ``=`` marks FEEL, anything else is a literal string. Camunda 7 ``${...}`` JUEL is
translated to that form when the model is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdesk.bpmn.serial import DERIVED, from_dict, to_dict

#: Element kinds that can hold a token while waiting or working (they may have boundaries).
ACTIVITIES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "scriptTask",
        "businessRuleTask",
        "subProcess",
        "callActivity",
    }
)
GATEWAYS = frozenset(
    {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
)
EVENTS = frozenset(
    {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
)


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """One event definition. ``ref`` is the message/signal name, error/escalation code, link name
    or compensated activity id; ``None`` on a catching error/escalation means catch-all."""

    kind: str  # message, timer, signal, error, escalation, terminate, link, conditional, compensate
    ref: str | None = None
    timer: str | None = None  # date | duration | cycle
    value: str | None = None  # timer text (literal or =FEEL) or the FEEL condition
    correlation_key: str | None = None  # =FEEL evaluated when the subscription opens


@dataclass(frozen=True, slots=True)
class IoMapping:
    source: str  # FEEL expression
    target: str  # variable name


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """A Camunda 7 ``camunda:connector``: its id (``http-connector``) and its own mappings, whose
    inputs are evaluated when the task starts and whose outputs read the connector's result
    (``response``, ``statusCode``, ``headers``) when it answers."""

    id: str
    inputs: tuple[IoMapping, ...] = ()
    outputs: tuple[IoMapping, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a task needs beyond its control flow (Camunda 7 / Zeebe extension attributes)."""

    assignee: str | None = None
    candidate_groups: str | None = None  # literal comma list or =FEEL
    candidate_users: str | None = None
    form_key: str | None = None
    due_date: str | None = None
    follow_up_date: str | None = None
    priority: str | None = None
    topic: str | None = None  # external task topic / Zeebe job type / handler name
    retries: int | None = None
    handler: str | None = None  # registered Python handler name (camunda:class, delegateExpression)
    script: str | None = None  # FEEL script body
    result_variable: str | None = None
    decision_ref: str | None = None
    map_decision_result: str | None = None
    called_element: str | None = None
    message: str | None = None  # send/receive task message name
    correlation_key: str | None = None
    connector: ConnectorSpec | None = None  # camunda:connector (run by a connector worker)
    headers: tuple[tuple[str, str], ...] = ()  # zeebe:taskHeaders (key, value), for workers


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """Multi-instance (``multi``) or standard (``standard``) loop characteristics; FEEL text."""

    kind: str
    sequential: bool = False
    collection: str | None = None
    element_variable: str | None = None
    cardinality: str | None = None
    completion_condition: str | None = None
    output_collection: str | None = None
    output_element: str | None = None
    loop_condition: str | None = None
    loop_maximum: int | None = None
    test_before: bool = False


@dataclass(frozen=True, slots=True)
class Node:
    """A flow node: event, activity or gateway. ``scope`` is the enclosing process/subprocess id."""

    id: str
    type: str
    scope: str
    name: str | None = None
    line: int | None = None
    incoming: tuple[str, ...] = ()
    outgoing: tuple[str, ...] = ()
    lane: str | None = None
    default: str | None = None
    events: tuple[EventDefinition, ...] = ()
    attached_to: str | None = None
    cancel_activity: bool = True
    triggered_by_event: bool = False
    task: TaskSpec | None = None
    inputs: tuple[IoMapping, ...] = ()
    outputs: tuple[IoMapping, ...] = ()
    loop: LoopSpec | None = None
    async_before: bool = False
    async_after: bool = False
    for_compensation: bool = False
    compensation_handler: str | None = None
    transaction: bool = False  # a bpmn:transaction (type subProcess): cancel rolls it back
    parallel_multiple: bool = False  # several event definitions, all required

    @property
    def event(self) -> EventDefinition | None:
        return self.events[0] if self.events else None

    @property
    def event_kind(self) -> str:
        return self.events[0].kind if self.events else "none"


@dataclass(frozen=True, slots=True)
class SequenceFlow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None  # FEEL
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Lane:
    id: str
    name: str | None
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DataObject:
    id: str
    name: str | None = None
    is_collection: bool = False


@dataclass(frozen=True, slots=True)
class Process:
    """An executable process with O(1) lookups of nodes, flows and the indexes the engine uses."""

    id: str
    name: str | None = None
    executable: bool = True
    line: int | None = None
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: dict[str, SequenceFlow] = field(default_factory=dict)
    lanes: tuple[Lane, ...] = ()
    data_objects: tuple[DataObject, ...] = ()
    #: message name -> FEEL over a message's payload giving its correlation key (BPMN
    #: correlationProperty messagePath): a message of that name correlates by it, strictly
    message_paths: dict[str, str] = field(default_factory=dict)
    # derived indexes (rebuilt, never serialised)
    boundaries: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False, metadata=DERIVED
    )
    event_subprocesses: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False, metadata=DERIVED
    )
    start_events: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False, metadata=DERIVED
    )
    link_targets: dict[tuple[str, str], str] = field(
        default_factory=dict, init=False, compare=False, repr=False, metadata=DERIVED
    )

    def __post_init__(self) -> None:
        boundaries: dict[str, list[str]] = {}
        esps: dict[str, list[str]] = {}
        starts: dict[str, list[str]] = {}
        links: dict[tuple[str, str], str] = {}
        for node in self.nodes.values():
            if node.type == "boundaryEvent" and node.attached_to:
                boundaries.setdefault(node.attached_to, []).append(node.id)
            elif node.type == "subProcess" and node.triggered_by_event:
                esps.setdefault(node.scope, []).append(node.id)
            elif node.type == "startEvent":
                starts.setdefault(node.scope, []).append(node.id)
            elif node.type == "intermediateCatchEvent" and node.event_kind == "link":
                ref = node.events[0].ref
                if ref is not None:
                    links[(node.scope, ref)] = node.id
        object.__setattr__(self, "boundaries", {k: tuple(v) for k, v in boundaries.items()})
        object.__setattr__(self, "event_subprocesses", {k: tuple(v) for k, v in esps.items()})
        object.__setattr__(self, "start_events", {k: tuple(v) for k, v in starts.items()})
        object.__setattr__(self, "link_targets", links)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def none_start(self, scope: str) -> str | None:
        """The start event with no event definition in ``scope`` (process or subprocess id)."""
        for sid in self.start_events.get(scope, ()):
            if not self.nodes[sid].events:
                return sid
        return None


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str | None
    process: str | None


@dataclass(frozen=True, slots=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Shape:
    element: str
    bounds: Bounds
    expanded: bool | None = None
    horizontal: bool | None = None
    label: Bounds | None = None
    #: DI isMarkerVisible of an exclusive gateway: False hides its X (None: not said, shown)
    marker_visible: bool | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    element: str
    waypoints: tuple[tuple[float, float], ...]
    label: Bounds | None = None


@dataclass(frozen=True, slots=True)
class Diagram:
    """One BPMNDiagram (a file may hold several: one per pool, per sub-process drill-down...)."""

    shapes: tuple[Shape, ...] = ()
    edges: tuple[Edge, ...] = ()
    id: str | None = None
    name: str | None = None
    plane: str | None = None  # the element the plane shows (a process, collaboration, sub-process)


@dataclass(frozen=True, slots=True)
class Element:
    """What the renderer needs of any BPMN element, executable or not (a group, an annotation,
    a message flow, a transaction, an event in a descriptive pool): its kind, event markers
    (``message``, ``timer``...; several for a multiple event) and flags."""

    kind: str
    markers: tuple[str, ...] = ()
    parallel_multiple: bool = False
    interrupting: bool = True
    throwing: bool = False
    #: a sequence flow with a conditionExpression, whatever its language (drawn with a diamond)
    conditional: bool = False


@dataclass(frozen=True, slots=True)
class Definitions:
    """One BPMN file: its processes by id, the named things they reference, and the diagram."""

    id: str | None = None
    file: str | None = None
    processes: dict[str, Process] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # message id -> name
    signals: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # error id -> code
    escalations: dict[str, str] = field(default_factory=dict)
    participants: tuple[Participant, ...] = ()
    diagram: Diagram | None = None  # the first of `diagrams`
    element_names: dict[str, str] = field(default_factory=dict)  # every named element, for labels
    diagrams: tuple[Diagram, ...] = ()
    elements: dict[str, Element] = field(default_factory=dict)  # every element with an id

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = to_dict(self)
        return result

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Definitions:
        return from_dict(cls, data)

    def process(self, process_id: str | None = None) -> Process:
        """The process with that id, or the only/first executable one."""
        if process_id is not None:
            return self.processes[process_id]
        for proc in self.processes.values():
            if proc.executable:
                return proc
        return next(iter(self.processes.values()))
