"""BPMN 2.0 XML (as Camunda Modeler / bpmn.io write it) -> frozen Definitions.

Parsing never stops at the first problem: every unsupported construct, dangling reference and
untranslatable expression is collected, then validation adds the structural checks, and the
caller gets one BpmnModelError listing them all with file, line and element id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from flowdesk.bpmn import extensions as ext
from flowdesk.bpmn.di import parse_diagram
from flowdesk.bpmn.errors import BpmnModelError, Issues
from flowdesk.bpmn.model import (
    DataObject,
    Definitions,
    Diagram,
    Element,
    EventDefinition,
    IoMapping,
    Lane,
    LoopSpec,
    Node,
    Participant,
    Process,
    SequenceFlow,
    TaskSpec,
)
from flowdesk.core.errors import ModelError, Position
from flowdesk.core.xmlsafe import local_name, namespace, parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

NODE_KINDS = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "scriptTask",
        "businessRuleTask",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "subProcess",
        "transaction",
        "callActivity",
    }
)
#: Elements that carry no execution semantics in Flowdesk (documentation and data artifacts).
ARTIFACTS = frozenset(
    {
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "textAnnotation",
        "association",
        "group",
        "documentation",
        "extensionElements",
        "laneSet",
        "sequenceFlow",
        "ioSpecification",
        "property",
        "category",
        "correlationSubscription",
    }
)
UNSUPPORTED = {
    "complexGateway": "use an inclusive or exclusive gateway",
    "adHocSubProcess": "use an embedded subProcess with user tasks",
    "callChoreography": "choreographies are not executable",
    "subChoreography": "choreographies are not executable",
    "choreographyTask": "choreographies are not executable",
    "implicitThrowEvent": "use an intermediateThrowEvent",
}
_ITEM_AWARE = frozenset(
    {"dataObject", "property", "dataInput", "dataOutput", "inputDataItem", "outputDataItem"}
)
TIMER_PARTS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}


@dataclass(frozen=True, slots=True)
class Imported:
    """A BPMN file as read: its definitions (every process, diagram and artefact, whether it can
    run or not) and what stops it from running (``errors``: in executable processes) or is
    merely ignored (``warnings``: descriptive pools, vendor extensions, unsupported constructs
    outside executable processes). Each problem carries file, line and element id."""

    definitions: Definitions
    errors: tuple[ModelError, ...] = ()
    warnings: tuple[ModelError, ...] = ()

    def executable(self) -> Definitions:
        """The definitions, or BpmnModelError listing every error (the deploy-time check)."""
        if self.errors:
            raise BpmnModelError(list(self.errors), file=self.definitions.file)
        return self.definitions


def import_bpmn(source: bytes | str | Path, *, filename: str | None = None) -> Imported:
    """Read any valid BPMN 2.0 document (descriptive models, collaborations, several diagrams,
    vendor extensions). Raises only when the text is not readable BPMN at all (XML syntax, the
    wrong root element); everything else becomes an error or a warning of the result."""
    from flowdesk.bpmn.validate import validate

    if isinstance(source, Path):
        filename = filename or str(source)
    root = parse_xml(source, filename=filename)
    issues = Issues(filename)
    if local_name(root) != "definitions" or namespace(root) != BPMN:
        issues.add(
            f"root element is '{local_name(root)}', not bpmn:definitions",
            line=_line(root),
            hint="is this a BPMN 2.0 file? (namespace " + BPMN + ")",
        )
        issues.raise_if_any()
    definitions = _Parser(issues, filename).definitions(root)
    validate(definitions, issues)
    if definitions.processes and not any(p.executable for p in definitions.processes.values()):
        issues.warn = True
        issues.add(
            "no process in the document is executable: it is kept for diagrams and "
            "conformance checking, and cannot be started",
            hint='set isExecutable="true" on the process to run (Camunda Modeler: "Executable")',
        )
    return Imported(definitions, tuple(issues.items), tuple(issues.warnings))


def parse_bpmn(source: bytes | str | Path, *, filename: str | None = None) -> Definitions:
    """Parse a BPMN document that must run: raises BpmnModelError listing every error (a
    document without an executable process is one)."""
    imported = import_bpmn(source, filename=filename)
    definitions = imported.definitions
    if not any(p.executable for p in definitions.processes.values()):
        raise BpmnModelError(
            [
                ModelError(
                    "no process in the document is executable"
                    if definitions.processes
                    else "the document contains no bpmn:process",
                    position=Position(file=imported.definitions.file),
                    hint='set isExecutable="true" on the process to deploy '
                    '(Camunda Modeler: "Executable")',
                ),
                *imported.errors,
            ],
            file=definitions.file,
        )
    return imported.executable()


def load_bpmn(path: str | Path) -> Definitions:
    return parse_bpmn(Path(path))


@dataclass
class _Refs:
    messages: dict[str, str] = field(default_factory=dict)
    message_keys: dict[str, str] = field(default_factory=dict)
    message_paths: dict[str, str] = field(default_factory=dict)  # message id -> FEEL on payload
    signals: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    escalations: dict[str, str] = field(default_factory=dict)


class _Parser:
    def __init__(self, issues: Issues, filename: str | None) -> None:
        self.issues = issues
        self.filename = filename
        self.refs = _Refs()
        self.names: dict[str, str] = {}
        self.data_names: dict[str, str] = {}
        self._process_id = ""

    def add(
        self,
        message: str,
        el: etree._Element | None,
        element_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        line = _line(el) if el is not None else None
        if element_id is None and el is not None:
            element_id = el.get("id")
        self.issues.add(message, line=line, element_id=element_id, hint=hint)

    def reporter(self, el: etree._Element) -> ext.Report:
        def report(message: str, hint: str | None) -> None:
            self.add(message, el, hint=hint)

        return report

    # -- document -------------------------------------------------------------------------
    def definitions(self, root: etree._Element) -> Definitions:
        if local_name(root) != "definitions" or namespace(root) != BPMN:
            self.add(
                f"root element is '{local_name(root)}', not bpmn:definitions",
                root,
                hint="is this a BPMN 2.0 file? (namespace " + BPMN + ")",
            )
            return Definitions(file=self.filename)
        for child in root:
            kind = local_name(child)
            cid = child.get("id") or ""
            if kind == "message":
                self.refs.messages[cid] = child.get("name") or cid
                sub = ext.zeebe_child(child, "subscription")
                if sub is not None and sub.get("correlationKey"):
                    key = ext.feel_expr(sub.get("correlationKey"), self.reporter(child))
                    if key is not None:
                        self.refs.message_keys[cid] = key
            elif kind == "signal":
                self.refs.signals[cid] = child.get("name") or cid
            elif kind == "error":
                self.refs.errors[cid] = child.get("errorCode") or child.get("name") or cid
            elif kind == "escalation":
                self.refs.escalations[cid] = child.get("escalationCode") or child.get("name") or cid
        self.correlation(root)
        for el in root.iter():
            if isinstance(el.tag, str) and local_name(el) in _ITEM_AWARE and el.get("id"):
                eid, name = el.get("id") or "", (el.get("name") or "").strip()
                self.data_names[eid] = name if name.isidentifier() else eid
        processes: dict[str, Process] = {}
        participants: list[Participant] = []
        diagrams: list[Diagram] = []
        in_pools = {
            part.get("processRef")
            for child in root
            if local_name(child) == "collaboration"
            for part in child
            if local_name(part) == "participant" and part.get("processRef")
        }
        for child in root:
            kind = local_name(child)
            if kind == "process":
                flag = child.get("isExecutable")
                executable = (flag or "true").lower() != "false"
                if flag is None and in_pools and child.get("id") not in in_pools:
                    # no pool shows it and it does not say it runs: the container some tools
                    # (Trisotech) write for shapes drawn outside every pool -- documentation
                    executable = False
                # a descriptive pool is kept (diagrams, conformance); its problems only warn
                self.issues.warn = not executable
                try:
                    proc = self.process(child, executable=executable)
                finally:
                    self.issues.warn = False
                processes[proc.id] = proc
            elif kind == "collaboration":
                for part in child:
                    if local_name(part) == "participant":
                        participants.append(
                            Participant(
                                part.get("id") or "", part.get("name"), part.get("processRef")
                            )
                        )
                        if part.get("name"):
                            self.names[part.get("id") or ""] = part.get("name") or ""
            elif kind == "BPMNDiagram":
                diagrams.append(parse_diagram(child))
            elif kind in UNSUPPORTED or kind in ("choreography", "globalTask"):
                self.issues.warn = True  # nothing executable refers to it (a call would error)
                self.add(f"{kind} '{child.get('id')}' is not supported (ignored)", child)
                self.issues.warn = False
        self.issues.warn = True  # a dangling pool is a drawing problem, not an execution one
        for participant in participants:
            if participant.process is not None and participant.process not in processes:
                self.add(
                    f"participant '{participant.id}' references process "
                    f"'{participant.process}' which does not exist",
                    None,
                    participant.id,
                )
        self.issues.warn = False
        elements = _elements(root, self.names)
        return Definitions(
            id=root.get("id"),
            file=self.filename,
            processes=processes,
            messages=dict(self.refs.messages),
            signals=dict(self.refs.signals),
            errors=dict(self.refs.errors),
            escalations=dict(self.refs.escalations),
            participants=tuple(participants),
            diagram=diagrams[0] if diagrams else None,
            element_names=self.names,
            diagrams=tuple(diagrams),
            elements=elements,
        )

    def data_name(self, element_id: str) -> str:
        """The variable of an item-aware element (data object, property, data input/output):
        its name where that is a plain name, else its id."""
        return self.data_names.get(element_id, element_id)

    def correlation(self, root: etree._Element) -> None:
        """BPMN 2.0 key-based correlation (8.3.2): a correlationProperty's messagePath reads the
        key from a message's payload; the instance's side is the correlationPropertyBinding's
        dataPath of a correlationSubscription, else the same path over the instance's
        variables. A key of several properties is their list. Paths are FEEL (an XPath-like
        ``/order/id`` is read as ``order.id``)."""
        paths: dict[str, dict[str, str]] = {}  # property id -> message id -> path
        for prop in root.iter(f"{{{BPMN}}}correlationProperty"):
            for rex in prop:
                if local_name(rex) != "correlationPropertyRetrievalExpression":
                    continue
                text = next((c.text for c in rex if local_name(c) == "messagePath"), None)
                if text and text.strip() and rex.get("messageRef"):
                    of_property = paths.setdefault(prop.get("id") or "", {})
                    of_property[rex.get("messageRef") or ""] = _path(text)
        bindings: dict[str, str] = {}
        for binding in root.iter(f"{{{BPMN}}}correlationPropertyBinding"):
            text = next((c.text for c in binding if local_name(c) == "dataPath"), None)
            if text and text.strip():
                bindings.setdefault(binding.get("correlationPropertyRef") or "", _path(text))
        by_message: dict[str, list[tuple[str, str]]] = {}
        for prop_id, messages in paths.items():
            for message_id, path in messages.items():
                by_message.setdefault(message_id, []).append((path, bindings.get(prop_id, path)))
        for message_id, pairs in by_message.items():
            if len(pairs) == 1:
                payload, instance = pairs[0]
            else:
                payload = "[" + ", ".join(p for p, _ in pairs) + "]"
                instance = "[" + ", ".join(i for _, i in pairs) + "]"
            self.refs.message_paths[message_id] = payload
            self.refs.message_keys.setdefault(message_id, instance)

    # -- process --------------------------------------------------------------------------
    def process(self, el: etree._Element, *, executable: bool = True) -> Process:
        pid = el.get("id") or ""
        self._process_id = pid
        raw_nodes: dict[str, dict[str, Any]] = {}
        flows: list[SequenceFlow] = []
        data_objects: list[DataObject] = []
        associations: list[tuple[str, str]] = []
        lanes: list[Lane] = []
        for child in el:
            if local_name(child) == "laneSet":
                self.lanes(child, lanes)
        self.container(el, pid, raw_nodes, flows, data_objects, associations)
        lane_of: dict[str, str] = {}
        for lane in lanes:  # innermost lanes come last and win
            for nid in lane.nodes:
                lane_of[nid] = lane.name or lane.id
        outgoing: dict[str, list[str]] = {}
        incoming: dict[str, list[str]] = {}
        for flow in flows:
            outgoing.setdefault(flow.source, []).append(flow.id)
            incoming.setdefault(flow.target, []).append(flow.id)
        for source, target in associations:
            node = raw_nodes.get(source)
            if node is not None and node["type"] == "boundaryEvent":
                node["compensation_handler"] = target
        nodes: dict[str, Node] = {}
        for nid, kwargs in raw_nodes.items():
            # Lanes of a subprocess' children default to the lane of the subprocess.
            lane_name = lane_of.get(nid)
            scope = kwargs["scope"]
            seen = {nid}
            while lane_name is None and scope in raw_nodes and scope not in seen:
                seen.add(scope)  # never loop, whatever ids a malformed model reuses
                lane_name = lane_of.get(scope)
                scope = raw_nodes[scope]["scope"]
            nodes[nid] = Node(
                incoming=tuple(incoming.get(nid, ())),
                outgoing=tuple(outgoing.get(nid, ())),
                lane=lane_name,
                **kwargs,
            )
        return Process(
            id=pid,
            name=el.get("name"),
            executable=executable,
            line=_line(el),
            nodes=nodes,
            flows={f.id: f for f in flows},
            lanes=tuple(lanes),
            data_objects=tuple(data_objects),
            message_paths={
                self.refs.messages[mid]: path
                for mid, path in self.refs.message_paths.items()
                if mid in self.refs.messages
            },
        )

    def lanes(self, lane_set: etree._Element, out: list[Lane]) -> None:
        for lane in lane_set:
            if local_name(lane) != "lane":
                continue
            refs = tuple(
                (r.text or "").strip() for r in lane if local_name(r) == "flowNodeRef" and r.text
            )
            out.append(Lane(lane.get("id") or "", lane.get("name"), refs))
            if lane.get("name"):
                self.names[lane.get("id") or ""] = lane.get("name") or ""
            for child in lane:
                if local_name(child) == "childLaneSet":
                    self.lanes(child, out)

    def container(
        self,
        el: etree._Element,
        scope: str,
        nodes: dict[str, dict[str, Any]],
        flows: list[SequenceFlow],
        data_objects: list[DataObject],
        associations: list[tuple[str, str]],
    ) -> None:
        for child in el:
            kind = local_name(child)
            cid = child.get("id") or ""
            if not kind or namespace(child) != BPMN:
                continue
            if kind in NODE_KINDS:
                if not cid:
                    self.add(f"{kind} without an id", child, hint="give every element an id")
                    continue
                if cid in nodes or cid == self._process_id:
                    self.add(f"duplicate element id '{cid}'", child, hint="ids must be unique")
                    continue
                nodes[cid] = self.node(child, kind, scope)
                if child.get("name"):
                    self.names[cid] = child.get("name") or ""
                if kind in ("subProcess", "transaction"):
                    self.container(child, cid, nodes, flows, data_objects, associations)
            elif kind == "sequenceFlow":
                flows.append(self.flow(child))
                if child.get("name"):
                    self.names[cid] = child.get("name") or ""
            elif kind == "dataObject":
                data_objects.append(
                    DataObject(cid, child.get("name"), child.get("isCollection") == "true")
                )
            elif kind == "association":
                associations.append((child.get("sourceRef") or "", child.get("targetRef") or ""))
            elif kind in UNSUPPORTED:
                self.add(f"{kind} '{cid}' is not supported", child, hint=UNSUPPORTED[kind])
            elif kind not in ARTIFACTS and kind not in ("incoming", "outgoing", "laneSet"):
                if kind in (
                    "multiInstanceLoopCharacteristics",
                    "standardLoopCharacteristics",
                    "dataInputAssociation",
                    "dataOutputAssociation",
                    "timerEventDefinition",
                ):
                    continue
                self.add(f"unknown element '{kind}' ('{cid}') is not supported", child)

    def flow(self, el: etree._Element) -> SequenceFlow:
        condition = None
        for child in el:
            if local_name(child) == "conditionExpression":
                condition = self.condition(child, el)
        return SequenceFlow(
            id=el.get("id") or "",
            source=el.get("sourceRef") or "",
            target=el.get("targetRef") or "",
            name=el.get("name"),
            condition=condition,
            line=_line(el),
        )

    def condition(self, expr: etree._Element, owner: etree._Element) -> str | None:
        language = (expr.get("language") or "").lower()
        text = (expr.text or "").strip()
        if language and language not in ("feel", "juel", "http://www.omg.org/spec/feel/20140401"):
            self.issues.reported.add(owner.get("id") or "")
            self.add(
                f"condition language '{language}' is not supported",
                owner,
                hint="write the condition in FEEL (e.g. amount > 100)",
            )
            return None
        if expr.get("{http://camunda.org/schema/1.0/bpmn}resource"):
            self.issues.reported.add(owner.get("id") or "")
            self.add("external condition resources are not supported", owner)
            return None
        if not text:
            return None
        result = ext.feel_expr(text, self.reporter(owner))
        if result is None:
            self.issues.reported.add(owner.get("id") or "")
        return result

    # -- nodes ----------------------------------------------------------------------------
    def node(self, el: etree._Element, kind: str, scope: str) -> dict[str, Any]:
        report = self.reporter(el)
        out: dict[str, Any] = {
            "id": el.get("id"),
            "type": "subProcess" if kind == "transaction" else kind,
            "scope": scope,
            "name": el.get("name"),
            "line": _line(el),
        }
        for name in ext.unsupported_extensions(el):
            self.add(
                f"{name} on {kind} '{el.get('id')}' is not supported (listeners run Java/scripts)",
                el,
                hint="model the behaviour as tasks, or use the runtime's event hooks",
            )
        if el.get("default"):
            out["default"] = el.get("default")
        events = self.event_definitions(el, kind)
        if events:
            out["events"] = events
        if kind == "boundaryEvent":
            out["attached_to"] = el.get("attachedToRef") or ""
            out["cancel_activity"] = el.get("cancelActivity", "true").lower() != "false"
        if kind == "startEvent" and el.get("isInterrupting", "true").lower() == "false":
            out["cancel_activity"] = False
        if kind == "subProcess" and el.get("triggeredByEvent", "false").lower() == "true":
            out["triggered_by_event"] = True
        if kind == "transaction":  # a sub-process whose cancel end event rolls it back
            out["transaction"] = True
        if (el.get("parallelMultiple") or "").lower() == "true" and len(events) > 1:
            out["parallel_multiple"] = True
        if el.get("isForCompensation", "false").lower() == "true":
            out["for_compensation"] = True
        if (ext.camunda_attr(el, "asyncBefore") or ext.camunda_attr(el, "async")) == "true":
            out["async_before"] = True
        if ext.camunda_attr(el, "asyncAfter") == "true":
            out["async_after"] = True
        if kind in ("callActivity",):
            inputs, outputs = ext.call_mappings(el, report)
            io_in, io_out = ext.io_mappings(el, report)
            inputs, outputs = inputs + io_in, outputs + io_out
        else:
            inputs, outputs = ext.io_mappings(el, report)
        if inputs:
            out["inputs"] = inputs
        if outputs:
            out["outputs"] = outputs
        task = self.task(el, kind, report)
        if task is not None:
            out["task"] = task
        loop = self.loop(el, report)
        if loop is not None:
            out["loop"] = loop
        return out

    def task(self, el: etree._Element, kind: str, report: ext.Report) -> TaskSpec | None:
        if kind not in (
            "userTask",
            "serviceTask",
            "sendTask",
            "receiveTask",
            "scriptTask",
            "businessRuleTask",
            "callActivity",
            "task",
            "manualTask",
        ):
            return None
        attrs = ext.task_attributes(el, report)
        if kind == "scriptTask":
            fmt = (el.get("scriptFormat") or "feel").lower()
            body = None
            for child in el:
                if local_name(child) == "script":
                    body = (child.text or "").strip()
            if body is not None or "script" not in attrs:
                if fmt != "feel":
                    self.add(
                        f"scriptFormat '{fmt}' on scriptTask '{el.get('id')}' is not supported",
                        el,
                        hint='write the script as a FEEL expression (scriptFormat="feel") '
                        "and name camunda:resultVariable",
                    )
                elif body:
                    attrs["script"] = ext.feel_expr(body, report)
                elif "script" not in attrs:
                    self.add(f"scriptTask '{el.get('id')}' has no script", el)
        if kind == "callActivity" and el.get("calledElement"):
            attrs["called_element"] = ext.value_expr(el.get("calledElement"), report)
        if kind in ("sendTask", "receiveTask") and el.get("messageRef"):
            ref = el.get("messageRef") or ""
            if ref not in self.refs.messages:
                self.add(f"messageRef '{ref}' does not exist", el, hint="declare a bpmn:message")
            else:
                attrs["message"] = self.refs.messages[ref]
                if ref in self.refs.message_keys:
                    attrs["correlation_key"] = "=" + self.refs.message_keys[ref]
        if not attrs:
            return None
        return TaskSpec(**attrs)

    def loop(self, el: etree._Element, report: ext.Report) -> LoopSpec | None:
        for child in el:
            kind = local_name(child)
            if kind == "multiInstanceLoopCharacteristics":
                out: dict[str, Any] = {
                    "kind": "multi",
                    "sequential": child.get("isSequential", "false").lower() == "true",
                }
                collection = ext.camunda_attr(child, "collection")
                if collection is not None:
                    out["collection"] = ext.feel_expr(collection, report)
                out["element_variable"] = ext.camunda_attr(child, "elementVariable")
                zloop = ext.zeebe_child(child, "loopCharacteristics")
                if zloop is not None:
                    out["collection"] = ext.feel_expr(zloop.get("inputCollection"), report)
                    out["element_variable"] = zloop.get("inputElement")
                    out["output_collection"] = zloop.get("outputCollection")
                    out["output_element"] = ext.feel_expr(zloop.get("outputElement"), report)
                for part in child:
                    pk = local_name(part)
                    if pk == "loopCardinality":
                        out["cardinality"] = ext.feel_expr(part.text, report)
                    elif pk == "completionCondition":
                        out["completion_condition"] = ext.feel_expr(part.text, report)
                    # BPMN 2.0 13.3.7: the collection and the per-instance items are
                    # item-aware elements; their names are the variables
                    elif pk == "loopDataInputRef" and part.text:
                        out["collection"] = self.data_name(part.text.strip())
                    elif pk == "inputDataItem":
                        out["element_variable"] = self.data_name(part.get("id") or "")
                    elif pk == "loopDataOutputRef" and part.text:
                        out["output_collection"] = self.data_name(part.text.strip())
                    elif pk == "outputDataItem":
                        out["output_element"] = self.data_name(part.get("id") or "")
                return LoopSpec(**{k: v for k, v in out.items() if v is not None})
            if kind == "standardLoopCharacteristics":
                maximum = child.get("loopMaximum")
                condition = None
                for part in child:
                    if local_name(part) == "loopCondition":
                        condition = ext.feel_expr(part.text, report)
                return LoopSpec(
                    kind="standard",
                    loop_condition=condition,
                    loop_maximum=int(maximum) if maximum and maximum.isdigit() else None,
                    test_before=child.get("testBefore", "false").lower() == "true",
                )
        return None

    def event_definitions(self, el: etree._Element, kind: str) -> tuple[EventDefinition, ...]:
        found: list[EventDefinition] = []
        for child in el:
            name = local_name(child)
            if not name.endswith("EventDefinition"):
                continue
            definition = self.event_definition(child, name[: -len("EventDefinition")], el)
            if definition is not None:
                found.append(definition)
        if len(found) > 1:
            # A multiple catch event (BPMN 10.5.1: "any one of the triggers") runs; a parallel
            # multiple one needs all its triggers before anything exists, and throws are rare.
            parallel = (el.get("parallelMultiple") or "").lower() == "true"
            catching = kind in ("startEvent", "intermediateCatchEvent", "boundaryEvent")
            # parallel multiple ("all of the triggers are required") where something waits
            # for them: a token at an intermediate catch event, an activity for its boundary,
            # the runtime's held triggers for a process start event (10.5.2)
            parent = el.getparent()
            in_event_subprocess = (
                parent is not None
                and local_name(parent) == "subProcess"
                and (parent.get("triggeredByEvent") or "").lower() == "true"
            )
            waits = not parallel or kind in ("intermediateCatchEvent", "boundaryEvent")
            waits = waits or (kind == "startEvent" and not in_event_subprocess)
            if (
                catching
                and waits
                and all(d.kind in ("message", "signal", "timer", "conditional") for d in found)
            ):
                return tuple(found)
            self.add(
                f"{kind} '{el.get('id')}' has {len(found)} event definitions "
                + (
                    "(a parallel multiple start event of an event sub-process is not "
                    "supported: its triggers would have to be collected inside the instance "
                    "and the set re-armed after each start)"
                    if parallel
                    else "(only catching message, signal, timer and conditional events may "
                    "have several)"
                ),
                el,
                hint="model the triggers as separate events, e.g. joined by a parallel gateway",
            )
            return tuple(found[:1])
        return tuple(found)

    def event_definition(
        self, child: etree._Element, kind: str, owner: etree._Element
    ) -> EventDefinition | None:
        report = self.reporter(owner)
        if kind in ("message", "signal", "error", "escalation"):
            attr = f"{kind}Ref"
            ref = child.get(attr)
            table = {
                "message": self.refs.messages,
                "signal": self.refs.signals,
                "error": self.refs.errors,
                "escalation": self.refs.escalations,
            }[kind]
            if ref is None:
                if kind in ("message", "signal"):
                    self.add(
                        f"{kind}EventDefinition without {attr}",
                        owner,
                        hint=f"reference a bpmn:{kind} so the event has a name",
                    )
                    return None
                return EventDefinition(kind)
            if ref not in table:
                self.add(
                    f"{attr} '{ref}' does not exist",
                    owner,
                    hint=f'declare <bpmn:{kind} id="{ref}">',
                )
                return None
            key = self.refs.message_keys.get(ref) if kind == "message" else None
            return EventDefinition(kind, ref=table[ref], correlation_key=key)
        if kind == "timer":
            for part in child:
                timer_kind = TIMER_PARTS.get(local_name(part))
                if timer_kind is not None:
                    value = ext.value_expr((part.text or "").strip(), report)
                    return EventDefinition("timer", timer=timer_kind, value=value)
            self.add("timerEventDefinition without timeDate, timeDuration or timeCycle", owner)
            return None
        if kind == "terminate":
            return EventDefinition("terminate")
        if kind == "link":
            return EventDefinition("link", ref=child.get("name") or "")
        if kind == "conditional":
            text = None
            for part in child:
                if local_name(part) == "condition":
                    text = ext.feel_expr(part.text, report)
            if text is None:
                self.add("conditionalEventDefinition without a condition", owner)
                return None
            return EventDefinition("conditional", value=text)
        if kind == "compensate":
            if child.get("waitForCompletion", "true").strip().lower() == "false":
                self.add(
                    f"compensateEventDefinition on '{owner.get('id')}' has "
                    'waitForCompletion="false", which Flowdesk does not run',
                    owner,
                    hint="remove the attribute: the throw waits until its handlers are done",
                )
            return EventDefinition("compensate", ref=child.get("activityRef"))
        if kind == "cancel":
            return EventDefinition("cancel")
        self.add(f"{kind}EventDefinition on '{owner.get('id')}' is not supported", owner)
        return None


def _elements(root: etree._Element, names: dict[str, str]) -> dict[str, Element]:
    """Every BPMN element with an id, whatever its process: what a diagram shows of it. Names
    the parser did not record (artefacts, message flows, descriptive pools) are added to
    ``names``; a text annotation's name is its text."""
    found: dict[str, Element] = {}
    category_values = {
        el.get("id"): el.get("value") or ""
        for el in root.iter(f"{{{BPMN}}}categoryValue")
        if el.get("id")
    }
    for el in root.iter():
        if not isinstance(el.tag, str) or namespace(el) != BPMN:
            continue
        eid = el.get("id")
        if not eid or eid in found:
            continue
        kind = local_name(el)
        markers: tuple[str, ...] = ()
        if kind.endswith("Event"):
            markers = tuple(
                local_name(c)[: -len("EventDefinition")]
                for c in el
                if isinstance(c.tag, str) and local_name(c).endswith("EventDefinition")
            )
            markers += tuple("ref" for c in el if local_name(c) == "eventDefinitionRef")
        interrupting = (el.get("cancelActivity") or el.get("isInterrupting") or "true").lower()
        found[eid] = Element(
            kind,
            markers,
            parallel_multiple=(el.get("parallelMultiple") or "").lower() == "true",
            interrupting=interrupting != "false",
            throwing=kind in ("endEvent", "intermediateThrowEvent", "implicitThrowEvent"),
            conditional=kind == "sequenceFlow"
            and any(local_name(c) == "conditionExpression" for c in el),
        )
        if eid not in names:
            if kind == "textAnnotation":
                text = next((c.text for c in el if local_name(c) == "text"), None)
                if text and text.strip():
                    names[eid] = text.strip()
            elif el.get("name"):
                names[eid] = el.get("name") or ""
            elif kind == "group" and category_values.get(el.get("categoryValueRef")):
                # a group shows the value of its category (10.7.1), it has no name of its own
                names[eid] = category_values[el.get("categoryValueRef")]
    return found


def _path(text: str) -> str:
    """A messagePath/dataPath as FEEL: ``/order/id`` or ``order/id`` becomes ``order.id``."""
    text = text.strip()
    if "/" in text and all(part.isidentifier() for part in text.strip("/").split("/")):
        return ".".join(text.strip("/").split("/"))
    return text


def _line(el: etree._Element) -> int | None:
    line: object = el.sourceline
    return line if isinstance(line, int) else None


__all__ = ["Imported", "IoMapping", "import_bpmn", "load_bpmn", "parse_bpmn"]
