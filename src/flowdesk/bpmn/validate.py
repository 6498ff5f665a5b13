"""Deploy-time checks: everything the engine would otherwise trip over at run time.

Each problem names the element, the line, what is wrong and how to fix it. FEEL text is compiled
here (when the FEEL package is installed) so syntax errors surface at deploy, with the column
inside the expression.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowdesk.bpmn.errors import Issues
from flowdesk.bpmn.model import ACTIVITIES, Definitions, Node, Process
from flowdesk.bpmn.timers import check_timer

ALLOWED_EVENTS: dict[str, frozenset[str]] = {
    "startEvent": frozenset({"none", "message", "timer", "signal", "conditional"}),
    "endEvent": frozenset(
        {"none", "message", "signal", "error", "escalation", "terminate", "compensate", "cancel"}
    ),
    "intermediateCatchEvent": frozenset({"message", "timer", "signal", "link", "conditional"}),
    "intermediateThrowEvent": frozenset(
        {"none", "message", "signal", "escalation", "link", "compensate"}
    ),
    "boundaryEvent": frozenset(
        {"message", "timer", "signal", "error", "escalation", "compensate", "conditional", "cancel"}
    ),
}
ESP_START_EVENTS = frozenset(
    {"message", "timer", "signal", "error", "escalation", "conditional", "compensate"}
)


def _feel_compiler() -> Callable[[str], Any] | None:
    try:
        from flowdesk.feel import compile_expression  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    compiler: Callable[[str], Any] = compile_expression
    return compiler


def validate(definitions: Definitions, issues: Issues) -> None:
    """Append every structural and expression problem of ``definitions`` to ``issues``."""
    if not definitions.processes:  # a collaboration of black-box pools still draws
        issues.warn = True
        issues.add("the document contains no bpmn:process", hint="add a process to the model")
        issues.warn = False
    compiler = _feel_compiler()
    for process in definitions.processes.values():
        if process.executable:
            _Validator(process, issues, compiler).run()


class _Validator:
    def __init__(
        self, process: Process, issues: Issues, compiler: Callable[[str], Any] | None
    ) -> None:
        self.p = process
        self.issues = issues
        self.compiler = compiler

    def err(self, node: Node | None, message: str, hint: str | None = None) -> None:
        self.issues.add(
            message,
            line=node.line if node else self.p.line,
            element_id=node.id if node else self.p.id,
            hint=hint,
        )

    def feel(
        self,
        node: Node | None,
        what: str,
        text: str | None,
        line: int | None = None,
        element_id: str | None = None,
    ) -> None:
        if text is None or self.compiler is None:
            return
        if text.startswith("="):
            text = text[1:]
        try:
            self.compiler(text)
        except Exception as exc:  # FeelSyntaxError / FeelLimitError, whatever FEEL raises
            column = getattr(exc, "column", None)
            message = getattr(exc, "message", str(exc))
            where = f" at column {column} of '{text}'" if column else f" in '{text}'"
            self.issues.add(
                f"FEEL error in {what}{where}: {message}",
                line=line if line is not None else (node.line if node else None),
                element_id=node.id if node else element_id,
                hint=getattr(exc, "hint", None),
            )

    def value(self, node: Node, what: str, text: str | None) -> None:
        if text is not None and text.startswith("="):
            self.feel(node, what, text[1:])

    def run(self) -> None:
        p = self.p
        if not p.start_events.get(p.id):
            self.err(None, f"process '{p.id}' has no start event", "add a bpmn:startEvent")
        for flow in p.flows.values():
            for role, ref in (("sourceRef", flow.source), ("targetRef", flow.target)):
                if ref not in p.nodes:
                    self.issues.add(
                        f"sequenceFlow '{flow.id}' {role} '{ref}' does not exist",
                        line=flow.line,
                        element_id=flow.id,
                        hint="connect the flow to an existing element",
                    )
            if flow.source in p.nodes and flow.target in p.nodes:
                src, dst = p.nodes[flow.source], p.nodes[flow.target]
                if src.scope != dst.scope:
                    self.issues.add(
                        f"sequenceFlow '{flow.id}' crosses a subprocess boundary",
                        line=flow.line,
                        element_id=flow.id,
                        hint="flows must connect elements of the same (sub)process",
                    )
            if flow.condition is not None:
                self.feel(
                    None,
                    f"the condition of sequenceFlow '{flow.id}'",
                    flow.condition,
                    line=flow.line,
                    element_id=flow.id,
                )
                if flow.source in p.nodes and p.nodes[flow.source].type in (
                    "parallelGateway",
                    "eventBasedGateway",
                ):
                    self.issues.add(
                        f"sequenceFlow '{flow.id}' has a condition but leaves a "
                        f"{p.nodes[flow.source].type}, which ignores conditions",
                        line=flow.line,
                        element_id=flow.id,
                        hint="remove the condition or use an inclusive gateway",
                    )
        for node in p.nodes.values():
            self.node(node)

    def node(self, n: Node) -> None:
        p = self.p
        kind = n.event_kind
        allowed = ALLOWED_EVENTS.get(n.type)
        in_esp = n.scope in p.nodes and p.nodes[n.scope].triggered_by_event
        esp_start = n.type == "startEvent" and in_esp and kind in ESP_START_EVENTS
        if allowed is not None and kind not in allowed and not esp_start:
            self.err(
                n,
                f"a {kind} {n.type} ('{n.id}') is not supported",
                f"supported kinds: {', '.join(sorted(allowed))}",
            )
        if kind == "cancel" and n.type == "endEvent" and not _in_transaction(p, n.scope):
            self.err(n, f"cancel end event '{n.id}' is not inside a transaction")
        if kind == "cancel" and n.type == "boundaryEvent":
            host = p.nodes.get(n.attached_to or "")
            if host is not None and not host.transaction:
                self.err(n, f"cancel boundary event '{n.id}' is not attached to a transaction")
        if n.default is not None:
            flow = p.flows.get(n.default)
            if flow is None:
                self.err(n, f"default flow '{n.default}' of '{n.id}' does not exist")
            elif flow.source != n.id:
                self.err(n, f"default flow '{n.default}' does not leave '{n.id}'")
        if n.type.endswith("Gateway"):
            self.gateway(n)
        if n.type == "boundaryEvent":
            host = p.nodes.get(n.attached_to or "")
            if host is None:
                self.err(
                    n, f"boundaryEvent '{n.id}' attachedToRef '{n.attached_to}' does not exist"
                )
            elif host.type not in ACTIVITIES:
                self.err(
                    n,
                    f"boundaryEvent '{n.id}' is attached to {host.type} '{host.id}'",
                    "attach boundary events to tasks, subprocesses or call activities",
                )
            if kind == "error" and not n.cancel_activity:
                self.err(
                    n,
                    "error boundary events are always interrupting",
                    'remove cancelActivity="false"',
                )
            if kind != "compensate" and not n.outgoing:
                self.err(n, f"boundaryEvent '{n.id}' has no outgoing sequence flow")
        if n.type == "subProcess" and n.triggered_by_event:
            starts = p.start_events.get(n.id, ())
            if len(starts) != 1 or not p.nodes[starts[0]].events:
                self.err(
                    n,
                    f"event subProcess '{n.id}' needs exactly one start event with "
                    "an event definition (message, timer, signal, error, escalation)",
                )
            if n.incoming or n.outgoing:
                self.err(n, f"event subProcess '{n.id}' must not have sequence flows")
        elif n.type == "subProcess" and p.none_start(n.id) is None:
            self.err(
                n,
                f"subProcess '{n.id}' has no start event without event definition",
                "add a plain bpmn:startEvent inside the subprocess",
            )
        if n.type == "startEvent" and n.incoming:
            self.err(n, f"startEvent '{n.id}' must not have incoming sequence flows")
        if n.type == "endEvent" and n.outgoing:
            self.err(n, f"endEvent '{n.id}' must not have outgoing sequence flows")
        for ev in n.events:
            if ev.kind == "timer" and ev.value is not None and ev.timer is not None:
                if ev.value.startswith("="):
                    self.feel(n, "the timer expression", ev.value[1:])
                else:
                    try:
                        check_timer(ev.timer, ev.value)
                    except ValueError as exc:
                        self.err(n, f"timer of '{n.id}': {exc}")
            if ev.kind == "conditional":
                self.feel(n, "the event condition", ev.value)
            if ev.correlation_key is not None:
                self.feel(n, "the correlation key", ev.correlation_key)
            is_link_throw = ev.kind == "link" and n.type == "intermediateThrowEvent"
            if is_link_throw and (n.scope, ev.ref or "") not in p.link_targets:
                self.err(
                    n,
                    f"link '{ev.ref}' thrown by '{n.id}' has no catching link event "
                    "in the same (sub)process",
                )
            if ev.kind == "compensate":
                self.compensation(n, ev.ref)
        if n.for_compensation and (n.incoming or n.outgoing):
            self.err(
                n,
                f"compensation handler '{n.id}' has sequence flows",
                "a handler is reached only through the association from its compensation "
                "boundary event; remove its incoming and outgoing sequence flows",
            )
        self.activity(n)

    def compensation(self, n: Node, ref: str | None) -> None:
        """The compensation forms the engine runs; any other is refused with the fix."""
        p = self.p
        if n.type == "boundaryEvent":
            handler = p.nodes.get(n.compensation_handler or "")
            host = p.nodes.get(n.attached_to or "")
            if handler is None:
                self.err(
                    n,
                    f"compensation boundary '{n.id}' has no associated handler",
                    'connect it to an activity with isForCompensation="true"',
                )
            elif not handler.for_compensation or handler.type not in ACTIVITIES:
                self.err(
                    n,
                    f"compensation boundary '{n.id}' is associated with {handler.type} "
                    f"'{handler.id}', which is not a compensation handler",
                    'associate it with an activity marked isForCompensation="true"',
                )
            elif host is not None and handler.scope != host.scope:
                self.err(
                    n,
                    f"compensation handler '{handler.id}' is not in the same (sub)process as "
                    f"'{host.id}'",
                    "place the handler next to the activity it compensates",
                )
            if n.outgoing:
                self.err(
                    n,
                    f"compensation boundary '{n.id}' has outgoing sequence flows",
                    "a compensation boundary only has an association to its handler",
                )
            if host is not None and host.id in self._compensation_esp_hosts():
                self.err(
                    n,
                    f"subProcess '{host.id}' has both a compensation boundary event and a "
                    "compensation event subprocess",
                    "keep one of the two handlers",
                )
            return
        if n.type == "startEvent":
            esp = p.nodes.get(n.scope)
            container = p.nodes.get(esp.scope) if esp is not None else None
            if container is None or container.type != "subProcess":
                self.err(
                    n,
                    f"compensation event subprocess '{n.scope}' is not inside an embedded "
                    "subProcess",
                    "Flowdesk compensates a completed embedded subProcess through it; "
                    "move it into that subProcess or use compensation boundary events",
                )
            return
        if ref is None:
            return
        target = p.nodes.get(ref)
        if target is None:
            self.err(n, f"compensate activityRef '{ref}' does not exist")
            return
        if target.type not in ACTIVITIES or target.for_compensation:
            self.err(
                n,
                f"compensate activityRef '{ref}' is a {target.type}, not an activity that "
                "can be compensated",
                "refer to a task, subprocess or call activity",
            )
            return
        scope = n.scope
        holder = p.nodes.get(scope)
        if holder is not None and holder.triggered_by_event:
            scope = holder.scope  # an event subprocess compensates the scope it belongs to
        if target.scope != scope:
            self.err(
                n,
                f"compensate activityRef '{ref}' is not in the same (sub)process as '{n.id}'",
                "compensation reaches activities of its own scope; to undo an activity inside "
                "a subprocess, refer to the subprocess (its inner handlers run) or throw "
                "inside it",
            )

    def _compensation_esp_hosts(self) -> set[str]:
        p = self.p
        return {
            container
            for container, esps in p.event_subprocesses.items()
            for esp in esps
            for start in p.start_events.get(esp, ())
            if p.nodes[start].event_kind == "compensate"
        }

    def gateway(self, n: Node) -> None:
        p = self.p
        if not n.outgoing:
            self.err(
                n,
                f"{n.type} '{n.id}' has no outgoing sequence flow",
                "connect the gateway to the next step",
            )
            return
        if n.type in ("exclusiveGateway", "inclusiveGateway") and len(n.outgoing) > 1:
            for fid in n.outgoing:
                flow = p.flows[fid]
                if fid != n.default and flow.condition is None and fid not in self.issues.reported:
                    self.issues.add(
                        f"sequenceFlow '{fid}' leaves {n.type} '{n.id}' without a condition",
                        line=flow.line,
                        element_id=fid,
                        hint="add a conditionExpression or make it the gateway's default flow",
                    )
        if n.type == "eventBasedGateway":
            for fid in n.outgoing:
                target = p.nodes.get(p.flows[fid].target)
                if target is None:
                    continue
                ok = target.type == "receiveTask" or (
                    target.type == "intermediateCatchEvent"
                    and target.event_kind in ("message", "timer", "signal", "conditional")
                )
                if not ok:
                    self.err(
                        n,
                        f"event-based gateway '{n.id}' leads to {target.type} '{target.id}'",
                        "it may only lead to catch events or receive tasks",
                    )

    def activity(self, n: Node) -> None:
        t = n.task
        for m in n.inputs:
            self.feel(n, f"input mapping '{m.target}'", m.source)
        for m in n.outputs:
            self.feel(n, f"output mapping '{m.target}'", m.source)
        if n.loop is not None:
            lp = n.loop
            if lp.kind == "multi" and lp.collection is None and lp.cardinality is None:
                self.err(n, f"multi-instance '{n.id}' has neither a collection nor a cardinality")
            for what, text in (
                ("the collection", lp.collection),
                ("the cardinality", lp.cardinality),
                ("the completion condition", lp.completion_condition),
                ("the output element", lp.output_element),
                ("the loop condition", lp.loop_condition),
            ):
                self.feel(n, what, text)
            if lp.kind == "standard" and lp.loop_condition is None and lp.loop_maximum is None:
                self.err(
                    n,
                    f"standard loop on '{n.id}' has no loopCondition or loopMaximum",
                    "it would loop forever",
                )
        if t is not None:
            for what, text in (
                ("assignee", t.assignee),
                ("candidate groups", t.candidate_groups),
                ("candidate users", t.candidate_users),
                ("due date", t.due_date),
                ("follow-up date", t.follow_up_date),
                ("priority", t.priority),
                ("topic", t.topic),
                ("decision", t.decision_ref),
                ("called element", t.called_element),
                ("correlation key", t.correlation_key),
            ):
                self.value(n, what, text)
            self.feel(n, "the script", t.script)
            if t.connector is not None:
                for m in t.connector.inputs:
                    self.feel(n, f"connector input '{m.target}'", m.source)
                for m in t.connector.outputs:
                    self.feel(n, f"connector output '{m.target}'", m.source)
        if n.type == "serviceTask" and (
            t is None or (t.topic is None and t.handler is None and t.connector is None)
        ):
            self.err(
                n,
                f"serviceTask '{n.id}' has no implementation",
                'set camunda:type="external" with camunda:topic, or a '
                "zeebe:taskDefinition type (handled by a registered handler or worker)",
            )
        if (
            n.type == "businessRuleTask"
            and (t is None or t.decision_ref is None)
            and (t is None or t.topic is None)
        ):
            self.err(
                n,
                f"businessRuleTask '{n.id}' names no decision",
                "set camunda:decisionRef or zeebe:calledDecision decisionId",
            )
        if n.type == "callActivity" and (t is None or t.called_element is None):
            self.err(n, f"callActivity '{n.id}' has no calledElement")
        if n.type == "receiveTask" and (t is None or t.message is None):
            self.err(n, f"receiveTask '{n.id}' has no messageRef")


def _in_transaction(process: Process, scope: str) -> bool:
    node = process.nodes.get(scope)
    return node is not None and node.transaction
