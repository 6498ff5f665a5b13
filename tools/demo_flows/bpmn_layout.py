"""Write a demo flow as a BPMN 2.0 file with lanes and a complete diagram (bpmndi).

The demo's BPMN files are generated from the compact descriptions in build_flows.py so that the
eight flows share one layout: a pool with the five departments as lanes, nodes on a column grid,
orthogonal edges with waypoints. The output has the structure Camunda Modeler writes
(collaboration + participant, laneSet, camunda:/zeebe: extension attributes, a shape for every
node, lane and the pool, an edge for every sequence flow), so it opens and renders there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

LANES = [
    ("front_office", "Front office", "front-office"),
    ("billing", "Billing", "billing"),
    ("field_service", "Field service", "field-service"),
    ("network_operations", "Network operations", "network-operations"),
    ("retention", "Retention", "retention"),
]
LANE_GROUP = {key: group for key, _, group in LANES}
LANE_H = 260
POOL_X, POOL_Y, LANE_X = 120, 80, 150
COL_W, COL_0 = 160, 230
SIZES = {
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "intermediateCatchEvent": (36, 36),
    "boundaryEvent": (36, 36),
    "exclusiveGateway": (50, 50),
    "parallelGateway": (50, 50),
    "eventBasedGateway": (50, 50),
}


@dataclass
class N:
    """A node: kind is the BPMN element name; row shifts it up (-1) or down (+1) in its lane."""

    id: str
    kind: str
    name: str | None
    lane: str
    col: float
    row: int = 0
    attrs: dict[str, str] = field(default_factory=dict)
    body: str = ""  # child XML (event definitions, script)
    attached: str | None = None  # boundary events: the activity


@dataclass
class F:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None


@dataclass
class Flow:
    process: str
    name: str
    nodes: list[N]
    flows: list[F]
    messages: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, key FEEL)
    defaults: dict[str, str] = field(default_factory=dict)  # gateway -> default flow


def _box(node: N, nodes: dict[str, N]) -> tuple[float, float, float, float]:
    w, h = SIZES.get(node.kind, (100, 80))
    if node.attached is not None:
        hx, hy, hw, hh = _box(nodes[node.attached], nodes)
        return hx + hw - 30 - 18 + node.row * 40, hy + hh - 18, w, h
    lane_index = [k for k, _, _ in LANES].index(node.lane)
    cx = COL_0 + node.col * COL_W
    cy = POOL_Y + lane_index * LANE_H + LANE_H / 2 + node.row * 70
    return cx - w / 2, cy - h / 2, w, h


def _edge(
    src: tuple[float, float, float, float],
    tgt: tuple[float, float, float, float],
    boundary: bool,
    above: bool = False,
) -> list[tuple[float, float]]:
    sx, sy, sw, sh = src
    tx, ty, tw, th = tgt
    scy, tcy = sy + sh / 2, ty + th / 2
    if boundary:
        bx = sx + sw / 2
        return (
            [(bx, sy + sh), (bx, tcy), (tx, tcy)]
            if tx > bx
            else [
                (bx, sy + sh),
                (bx, ty + th + 20),
                (tx + tw / 2, ty + th + 20),
                (tx + tw / 2, ty + th),
            ]
        )
    if tx >= sx + sw:  # forward
        if abs(scy - tcy) < 1:
            return [(sx + sw, scy), (tx, tcy)]
        if tw == 50:  # flows join a gateway from its top or bottom corner
            y1 = ty if scy < tcy else ty + th
            return [(sx + sw, scy), (tx + tw / 2, scy), (tx + tw / 2, y1)]
        if sw == 50:  # and leave a splitting gateway from its top or bottom corner
            y0 = sy if tcy < scy else sy + sh
            return [(sx + sw / 2, y0), (sx + sw / 2, tcy), (tx, tcy)]
        mid = (sx + sw + tx) / 2
        return [(sx + sw, scy), (mid, scy), (mid, tcy), (tx, tcy)]
    if above:  # a loop back from an upper row: over both
        high = min(sy, ty) - 15
        return [(sx + sw / 2, sy), (sx + sw / 2, high), (tx + tw / 2, high), (tx + tw / 2, ty)]
    low = max(sy + sh, ty + th) + 25  # a loop back: under both
    return [
        (sx + sw / 2, sy + sh),
        (sx + sw / 2, low),
        (tx + tw / 2, low),
        (tx + tw / 2, ty + th),
    ]


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def render(flow: Flow) -> str:
    nodes = {n.id: n for n in flow.nodes}
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for f in flow.flows:
        outgoing.setdefault(f.source, []).append(f.id)
        incoming.setdefault(f.target, []).append(f.id)
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'id="{flow.process}_definitions" targetNamespace="http://flowdesk.example/demo" '
        'exporter="flowdesk tools/demo_flows/build_flows.py" exporterVersion="1">',
        f'  <bpmn:collaboration id="{flow.process}_collaboration">',
        f'    <bpmn:participant id="{flow.process}_pool" '
        f'name={quoteattr("Northwind Energy & Fibre")} processRef="{flow.process}" />',
        "  </bpmn:collaboration>",
    ]
    for mid, (mname, key) in flow.messages.items():
        out.append(f'  <bpmn:message id="{mid}" name="{mname}">')
        out.append("    <bpmn:extensionElements>")
        out.append(f'      <zeebe:subscription correlationKey="{escape(key)}" />')
        out.append("    </bpmn:extensionElements>")
        out.append("  </bpmn:message>")
    out.append(
        f'  <bpmn:process id="{flow.process}" name={quoteattr(flow.name)} isExecutable="true">'
    )
    out.append(f'    <bpmn:laneSet id="{flow.process}_lanes">')
    for key, label, _ in LANES:
        out.append(f'      <bpmn:lane id="lane_{key}" name="{label}">')
        for n in flow.nodes:
            if n.lane == key:
                out.append(f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>")
        out.append("      </bpmn:lane>")
    out.append("    </bpmn:laneSet>")
    for n in flow.nodes:
        attrs = f' id="{n.id}"'
        if n.name:
            attrs += f" name={quoteattr(n.name)}"
        if n.attached:
            attrs += f' attachedToRef="{n.attached}"'
        if n.kind == "userTask" and "camunda:candidateGroups" not in n.attrs:
            attrs += f' camunda:candidateGroups="{LANE_GROUP[n.lane]}"'
        if n.id in flow.defaults:
            attrs += f' default="{flow.defaults[n.id]}"'
        for k, v in n.attrs.items():
            attrs += f" {k}={quoteattr(v)}"
        children = [f"      <bpmn:incoming>{i}</bpmn:incoming>" for i in incoming.get(n.id, [])]
        children += [f"      <bpmn:outgoing>{o}</bpmn:outgoing>" for o in outgoing.get(n.id, [])]
        if n.body:
            children.append("      " + n.body)
        out.append(f"    <bpmn:{n.kind}{attrs}>")
        out.extend(children)
        out.append(f"    </bpmn:{n.kind}>")
    for f in flow.flows:
        attrs = f' id="{f.id}"'
        if f.name:
            attrs += f" name={quoteattr(f.name)}"
        attrs += f' sourceRef="{f.source}" targetRef="{f.target}"'
        if f.condition:
            out.append(f"    <bpmn:sequenceFlow{attrs}>")
            out.append(
                '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                f"{escape(f.condition)}</bpmn:conditionExpression>"
            )
            out.append("    </bpmn:sequenceFlow>")
        else:
            out.append(f"    <bpmn:sequenceFlow{attrs} />")
    out.append("  </bpmn:process>")
    # -- diagram
    last_col = max(n.col for n in flow.nodes)
    pool_w = COL_0 + last_col * COL_W + 120 - POOL_X
    pool_h = LANE_H * len(LANES)
    out.append(f'  <bpmndi:BPMNDiagram id="{flow.process}_diagram">')
    out.append(
        f'    <bpmndi:BPMNPlane id="{flow.process}_plane" '
        f'bpmnElement="{flow.process}_collaboration">'
    )

    def shape(element: str, x: float, y: float, w: float, h: float, extra: str = "") -> None:
        out.append(f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}"{extra}>')
        out.append(
            f'        <dc:Bounds x="{_fmt(x)}" y="{_fmt(y)}" '
            f'width="{_fmt(w)}" height="{_fmt(h)}" />'
        )
        out.append("      </bpmndi:BPMNShape>")

    shape(f"{flow.process}_pool", POOL_X, POOL_Y, pool_w, pool_h, ' isHorizontal="true"')
    for i, (key, _, _) in enumerate(LANES):
        shape(
            f"lane_{key}",
            LANE_X,
            POOL_Y + i * LANE_H,
            pool_w - (LANE_X - POOL_X),
            LANE_H,
            ' isHorizontal="true"',
        )
    for n in flow.nodes:
        extra = ' isMarkerVisible="true"' if n.kind == "exclusiveGateway" else ""
        shape(n.id, *_box(n, nodes), extra)
    for f in flow.flows:
        src, tgt = nodes[f.source], nodes[f.target]
        same_lane = src.lane == tgt.lane
        points = _edge(
            _box(src, nodes), _box(tgt, nodes), src.attached is not None, same_lane and src.row < 0
        )
        out.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
        for x, y in points:
            out.append(f'        <di:waypoint x="{_fmt(x)}" y="{_fmt(y)}" />')
        out.append("      </bpmndi:BPMNEdge>")
    out.append("    </bpmndi:BPMNPlane>")
    out.append("  </bpmndi:BPMNDiagram>")
    out.append("</bpmn:definitions>")
    return "\n".join(out) + "\n"


# -- small constructors used by build_flows.py ---------------------------------------------------
def start(id: str, lane: str, col: float, name: str | None = None) -> N:
    return N(id, "startEvent", name, lane, col)


def end(id: str, lane: str, col: float, name: str | None = None, row: int = 0) -> N:
    return N(id, "endEvent", name, lane, col, row)


def user(id: str, name: str, lane: str, col: float, row: int = 0) -> N:
    return N(id, "userTask", name, lane, col, row, {"camunda:formKey": f"flowdesk:{id}"})


def script(id: str, name: str, lane: str, col: float, result: str, feel: str, row: int = 0) -> N:
    return N(
        id,
        "scriptTask",
        name,
        lane,
        col,
        row,
        {"scriptFormat": "feel", "camunda:resultVariable": result},
        f"<bpmn:script>{escape(feel)}</bpmn:script>",
    )


def rule(id: str, name: str, lane: str, col: float, decision: str, result: str) -> N:
    return N(
        id,
        "businessRuleTask",
        name,
        lane,
        col,
        0,
        {
            "camunda:decisionRef": decision,
            "camunda:resultVariable": result,
            "camunda:mapDecisionResult": "singleResult",
        },
    )


def xor(id: str, name: str | None, lane: str, col: float, row: int = 0) -> N:
    return N(id, "exclusiveGateway", name, lane, col, row)


def par(id: str, lane: str, col: float) -> N:
    return N(id, "parallelGateway", None, lane, col)


def event_gateway(id: str, lane: str, col: float) -> N:
    return N(id, "eventBasedGateway", None, lane, col)


def message_catch(id: str, name: str, lane: str, col: float, message: str, row: int = 0) -> N:
    return N(
        id,
        "intermediateCatchEvent",
        name,
        lane,
        col,
        row,
        body=f'<bpmn:messageEventDefinition id="{id}_def" messageRef="{message}" />',
    )


def timer_catch(id: str, name: str, lane: str, col: float, duration: str, row: int = 0) -> N:
    return N(
        id,
        "intermediateCatchEvent",
        name,
        lane,
        col,
        row,
        body=(
            f'<bpmn:timerEventDefinition id="{id}_def"><bpmn:timeDuration '
            f'xsi:type="bpmn:tFormalExpression">{duration}</bpmn:timeDuration>'
            "</bpmn:timerEventDefinition>"
        ),
    )


def sla_timer(id: str, name: str, task: N, duration: str) -> N:
    """A non-interrupting timer on a task: the SLA escalation path, the task stays open."""
    return N(
        id,
        "boundaryEvent",
        name,
        task.lane,
        task.col,
        0,
        {"cancelActivity": "false"},
        (
            f'<bpmn:timerEventDefinition id="{id}_def"><bpmn:timeDuration '
            f'xsi:type="bpmn:tFormalExpression">{duration}</bpmn:timeDuration>'
            "</bpmn:timerEventDefinition>"
        ),
        attached=task.id,
    )
