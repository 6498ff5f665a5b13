"""Camunda 7 and Zeebe extension attributes, mapped onto Flowdesk's neutral TaskSpec fields.

Models drawn in Camunda Modeler for either engine should run unchanged, so both dialects are read
and folded into the same definition. Values become FEEL (``=`` prefix) or literals here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from flowdesk.bpmn.juel import JuelError, is_juel, juel_to_feel, template_to_feel
from flowdesk.bpmn.model import ConnectorSpec, IoMapping
from flowdesk.core.xmlsafe import local_name, namespace

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"

Report = Callable[[str, str | None], None]  # (message, hint)


def camunda_attr(el: etree._Element, name: str) -> str | None:
    value = el.get(f"{{{CAMUNDA}}}{name}")
    return value if value not in (None, "") else None


def extension_children(el: etree._Element, ns: str) -> list[etree._Element]:
    """Children of ``extensionElements`` in namespace ``ns`` (any depth 1)."""
    out: list[etree._Element] = []
    for child in el:
        if local_name(child) == "extensionElements":
            out.extend(c for c in child if namespace(c) == ns)
    return out


def zeebe_child(el: etree._Element, name: str) -> etree._Element | None:
    for child in extension_children(el, ZEEBE):
        if local_name(child) == name:
            return child
    return None


def value_expr(text: str | None, report: Report) -> str | None:
    """A literal or expression attribute: JUEL -> ``=FEEL``; ``=FEEL`` kept; else literal."""
    if text is None:
        return None
    stripped = text.strip()
    if "${" in stripped or "#{" in stripped:
        try:
            return "=" + template_to_feel(stripped)
        except JuelError as exc:
            report(
                f"JUEL expression '{stripped}' cannot be translated to FEEL: {exc} "
                f"(column {exc.column})",
                "write it as FEEL with a leading '=' (Zeebe style) or simplify the expression",
            )
            return None
    return stripped


def feel_expr(text: str | None, report: Report) -> str | None:
    """A value that must be an expression (condition, collection): returns FEEL text without '='."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    if is_juel(stripped) or "${" in stripped:
        try:
            return juel_to_feel(stripped)
        except JuelError as exc:
            report(
                f"JUEL expression '{stripped}' cannot be translated to FEEL: {exc} "
                f"(column {exc.column})",
                "Flowdesk evaluates FEEL; rewrite the expression in FEEL",
            )
            return None
    return stripped[1:].strip() if stripped.startswith("=") else stripped


def feel_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal_or_feel(text: str | None, report: Report) -> str | None:
    """A mapping source: expression if marked as one, else a FEEL string literal."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.startswith("="):
        return feel_expr(stripped, report)
    if "${" in stripped:  # JUEL, or a template such as ${base}/customers/${id}
        marked = value_expr(stripped, report)
        return marked[1:] if marked is not None else None
    return feel_string(text)


def io_mappings(
    el: etree._Element, report: Report
) -> tuple[tuple[IoMapping, ...], tuple[IoMapping, ...]]:
    """camunda:inputOutput and zeebe:ioMapping -> (inputs, outputs)."""
    inputs: list[IoMapping] = []
    outputs: list[IoMapping] = []
    for child in extension_children(el, CAMUNDA):
        if local_name(child) == "inputOutput":
            camunda_parameters(child, inputs, outputs, report)
    mapping = zeebe_child(el, "ioMapping")
    if mapping is not None:
        for param in mapping:
            kind = local_name(param)
            source = literal_or_feel(param.get("source"), report)
            target = param.get("target") or ""
            if source is None or kind not in ("input", "output"):
                continue
            (inputs if kind == "input" else outputs).append(IoMapping(source, target))
    return tuple(inputs), tuple(outputs)


def camunda_parameters(
    io: etree._Element, inputs: list[IoMapping], outputs: list[IoMapping], report: Report
) -> None:
    """The parameters of one camunda:inputOutput; camunda:map and camunda:list values (as
    Modeler writes connector headers) become FEEL contexts and lists."""
    for param in io:
        kind = local_name(param)
        if kind not in ("inputParameter", "outputParameter"):
            continue
        name = param.get("name") or ""
        source = _parameter_value(param, f"camunda:{kind} '{name}'", report)
        if source is not None:
            (inputs if kind == "inputParameter" else outputs).append(IoMapping(source, name))


def _parameter_value(param: etree._Element, what: str, report: Report) -> str | None:
    """FEEL text for a parameter, map entry or list value (text, camunda:map, camunda:list)."""
    values = [c for c in param if local_name(c)]  # not comments
    if not values:
        return literal_or_feel(param.text or "", report)
    value = values[0]
    kind = local_name(value)
    parts: list[str] = []
    if kind == "map":
        for entry in value:
            if local_name(entry) != "entry":
                continue
            inner = _parameter_value(entry, what, report)
            if inner is None:
                return None
            parts.append(f"{feel_string(entry.get('key') or '')}: {inner}")
        return "{" + ", ".join(parts) + "}"
    if kind == "list":
        for item in value:
            if not local_name(item):  # a comment
                continue
            inner = _parameter_value(item, what, report)
            if inner is None:
                return None
            parts.append(inner)
        return "[" + ", ".join(parts) + "]"
    report(
        f"{what} uses a {kind} value, which is not supported",
        "use a FEEL expression ('=...' or '${...}'), a camunda:map or a camunda:list",
    )
    return None


def connector(el: etree._Element, report: Report) -> ConnectorSpec | None:
    """camunda:connector: its connectorId and its own inputOutput."""
    for child in extension_children(el, CAMUNDA):
        if local_name(child) != "connector":
            continue
        connector_id = ""
        inputs: list[IoMapping] = []
        outputs: list[IoMapping] = []
        for part in child:
            if not local_name(part):
                continue
            if local_name(part) == "connectorId":
                connector_id = (part.text or "").strip()
            elif local_name(part) == "inputOutput":
                camunda_parameters(part, inputs, outputs, report)
        if not connector_id:
            report(
                "camunda:connector has no connectorId",
                "set it to http-connector (Camunda's HTTP connector)",
            )
            return None
        return ConnectorSpec(connector_id, tuple(inputs), tuple(outputs))
    return None


def task_headers(el: etree._Element) -> tuple[tuple[str, str], ...]:
    """zeebe:taskHeaders as (key, value) pairs, in document order."""
    headers = zeebe_child(el, "taskHeaders")
    if headers is None:
        return ()
    return tuple(
        (h.get("key") or "", h.get("value") or "")
        for h in headers
        if local_name(h) == "header" and h.get("key")
    )


def call_mappings(
    el: etree._Element, report: Report
) -> tuple[tuple[IoMapping, ...], tuple[IoMapping, ...]]:
    """camunda:in / camunda:out of a call activity (``variables="all"`` is the default)."""
    inputs: list[IoMapping] = []
    outputs: list[IoMapping] = []
    for child in extension_children(el, CAMUNDA):
        kind = local_name(child)
        if kind not in ("in", "out") or child.get("variables") == "all":
            continue
        target = child.get("target") or child.get("source") or ""
        if child.get("sourceExpression"):
            source = feel_expr(child.get("sourceExpression"), report)
        else:
            source = child.get("source")
        if source is None:
            continue
        (inputs if kind == "in" else outputs).append(IoMapping(source, target))
    return tuple(inputs), tuple(outputs)


def unsupported_extensions(el: etree._Element) -> list[str]:
    """Extension elements that would change behaviour but Flowdesk does not run."""
    names = []
    for child in extension_children(el, CAMUNDA):
        kind = local_name(child)
        if kind in ("executionListener", "taskListener", "failedJobRetryTimeCycle"):
            names.append(f"camunda:{kind}")
    for child in extension_children(el, ZEEBE):
        if local_name(child) in ("executionListeners", "taskListeners"):
            names.append(f"zeebe:{local_name(child)}")
    return names


def task_attributes(el: etree._Element, report: Report) -> dict[str, Any]:
    """Every TaskSpec field this element sets, from both dialects."""
    out: dict[str, Any] = {}

    def put(key: str, value: str | None) -> None:
        if value is not None:
            out[key] = value

    for key, attr in (
        ("assignee", "assignee"),
        ("candidate_groups", "candidateGroups"),
        ("candidate_users", "candidateUsers"),
        ("due_date", "dueDate"),
        ("follow_up_date", "followUpDate"),
        ("priority", "priority"),
    ):
        put(key, value_expr(camunda_attr(el, attr), report))
    put("form_key", camunda_attr(el, "formKey") or camunda_attr(el, "formRef"))
    if camunda_attr(el, "type") == "external":
        put("topic", value_expr(camunda_attr(el, "topic"), report))
    elif camunda_attr(el, "type") is not None:
        report(
            f"camunda:type '{camunda_attr(el, 'type')}' is not supported",
            "use camunda:type='external' with a topic, or a zeebe:taskDefinition type",
        )
    handler = camunda_attr(el, "class") or camunda_attr(el, "delegateExpression")
    if handler is not None:
        out["handler"] = handler.strip().removeprefix("${").removeprefix("#{").removesuffix("}")
    if camunda_attr(el, "expression") is not None:
        report(
            "camunda:expression service implementations are not supported (they call Java)",
            "register a Python handler and reference it with zeebe:taskDefinition type",
        )
    put("result_variable", camunda_attr(el, "resultVariable"))
    put("decision_ref", value_expr(camunda_attr(el, "decisionRef"), report))
    put("map_decision_result", camunda_attr(el, "mapDecisionResult"))

    spec = connector(el, report)
    if spec is not None:
        out["connector"] = spec
    headers = task_headers(el)
    if headers:
        out["headers"] = headers
    task_def = zeebe_child(el, "taskDefinition")
    if task_def is not None:
        put("topic", value_expr(task_def.get("type"), report))
        retries = task_def.get("retries")
        if retries is not None:
            if retries.strip().isdigit():
                out["retries"] = int(retries)
            else:
                report(f"zeebe:taskDefinition retries '{retries}' is not a number", None)
    assignment = zeebe_child(el, "assignmentDefinition")
    if assignment is not None:
        put("assignee", value_expr(assignment.get("assignee"), report))
        put("candidate_groups", value_expr(assignment.get("candidateGroups"), report))
        put("candidate_users", value_expr(assignment.get("candidateUsers"), report))
    form = zeebe_child(el, "formDefinition")
    if form is not None:
        put("form_key", form.get("formKey") or form.get("formId") or form.get("externalReference"))
    schedule = zeebe_child(el, "taskSchedule")
    if schedule is not None:
        put("due_date", value_expr(schedule.get("dueDate"), report))
        put("follow_up_date", value_expr(schedule.get("followUpDate"), report))
    prio = zeebe_child(el, "priorityDefinition")
    if prio is not None:
        put("priority", value_expr(prio.get("priority"), report))
    decision = zeebe_child(el, "calledDecision")
    if decision is not None:
        put("decision_ref", value_expr(decision.get("decisionId"), report))
        put("result_variable", decision.get("resultVariable"))
    called = zeebe_child(el, "calledElement")
    if called is not None:
        put("called_element", value_expr(called.get("processId"), report))
    script = zeebe_child(el, "script")
    if script is not None:
        put("script", feel_expr(script.get("expression"), report))
        put("result_variable", script.get("resultVariable"))
    return out
