"""Render a process diagram as SVG from its BPMN DI (shapes, edges, labels).

Deterministic (same model, same bytes) so diagrams can be cached and compared, and every element
carries ``data-element-id`` / ``data-element-type`` so the UI can colour it later (heatmaps,
the token positions of a case, SLA breaches) with CSS or a few attributes, without re-rendering.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from flowdesk.bpmn.model import Bounds, Definitions, Edge, Node, Shape

_EVENT_GLYPHS = {
    "message": "\u2709",
    "timer": "\u25f7",
    "signal": "\u25b3",
    "error": "\u03df",
    "escalation": "\u2191",
    "link": "\u279c",
    "conditional": "\u2261",
    "compensate": "\u00ab",
}
_GATEWAY_GLYPHS = {
    "exclusiveGateway": "\u00d7",
    "parallelGateway": "+",
    "inclusiveGateway": "\u25cb",
    "eventBasedGateway": "\u2b20",
}
_TASK_GLYPHS = {
    "userTask": "user",
    "serviceTask": "service",
    "scriptTask": "script",
    "sendTask": "send",
    "receiveTask": "receive",
    "businessRuleTask": "rule",
    "manualTask": "manual",
    "callActivity": "call",
}
_STYLE = (
    ".bpmn-shape{fill:#fff;stroke:#22242a;stroke-width:2}"
    ".bpmn-lane{fill:none;stroke:#22242a;stroke-width:1.5}"
    ".bpmn-edge{fill:none;stroke:#22242a;stroke-width:1.5}"
    ".bpmn-label{font:12px sans-serif;fill:#22242a}"
    ".bpmn-glyph{font:14px sans-serif;fill:#22242a;text-anchor:middle}"
    ".bpmn-marker{font:9px sans-serif;fill:#6b6f7a}"
)


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _wrap(text: str, width: float) -> list[str]:
    """Word-wrap a label to roughly fit ``width`` pixels (7 px per character)."""
    limit = max(4, int(width / 7))
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) > limit and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines[:5]


class _Renderer:
    def __init__(self, definitions: Definitions) -> None:
        self.d = definitions
        self.nodes: dict[str, Node] = {}
        self.kinds: dict[str, str] = {}
        for process in definitions.processes.values():
            self.kinds[process.id] = "process"
            for node in process.nodes.values():
                self.nodes[node.id] = node
                self.kinds[node.id] = node.type
            for flow_id in process.flows:
                self.kinds[flow_id] = "sequenceFlow"
            for lane in process.lanes:
                self.kinds[lane.id] = "lane"
            for data in process.data_objects:
                self.kinds[data.id] = "dataObject"
        for participant in definitions.participants:
            self.kinds[participant.id] = "participant"
        self.out: list[str] = []

    def name(self, element: str) -> str:
        return self.d.element_names.get(element, "")

    def open_group(self, element: str, kind: str) -> None:
        self.out.append(
            f"<g class={quoteattr(f'bpmn-element bpmn-{kind}')} "
            f"data-element-id={quoteattr(element)} data-element-type={quoteattr(kind)}>"
        )

    def text(self, lines: list[str], cx: float, top: float, anchor: str = "middle") -> None:
        for i, line in enumerate(lines):
            self.out.append(
                f'<text class="bpmn-label" x="{_n(cx)}" y="{_n(top + 12 + i * 14)}" '
                f'text-anchor="{anchor}">{escape(line)}</text>'
            )

    def label(self, element: str, bounds: Bounds | None, fallback: Bounds) -> None:
        name = self.name(element)
        if not name:
            return
        box = bounds or Bounds(
            fallback.x - 20, fallback.y + fallback.height + 4, fallback.width + 40, 14
        )
        self.text(_wrap(name, max(box.width, 60)), box.x + box.width / 2, box.y - 2)

    def render(self) -> str:
        diagram = self.d.diagram
        shapes = diagram.shapes if diagram else ()
        edges = diagram.edges if diagram else ()
        xs: list[float] = []
        ys: list[float] = []
        for shape in shapes:
            b = shape.bounds
            xs += [b.x, b.x + b.width]
            ys += [b.y, b.y + b.height]
            if shape.label is not None:
                xs += [shape.label.x, shape.label.x + shape.label.width]
                ys += [shape.label.y, shape.label.y + shape.label.height]
        for edge in edges:
            xs += [p[0] for p in edge.waypoints]
            ys += [p[1] for p in edge.waypoints]
        if not xs:
            xs, ys = [0, 100], [0, 100]
        pad = 10
        x0, y0 = min(xs) - pad, min(ys) - pad
        width, height = max(xs) - x0 + pad, max(ys) - y0 + pad
        self.out.append(
            '<svg xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="{_n(x0)} {_n(y0)} {_n(width)} {_n(height)}" '
            f'width="{_n(width)}" height="{_n(height)}">'
        )
        self.out.append(
            '<defs><marker id="bpmn-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            '<path d="M0,0L10,5L0,10z" fill="#22242a"/></marker>'
            f"<style>{_STYLE}</style></defs>"
        )
        containers = [s for s in shapes if self.kinds.get(s.element) in ("participant", "lane")]
        expanded = [
            s
            for s in shapes
            if self.kinds.get(s.element) == "subProcess" and s.expanded is not False
        ]
        rest = [s for s in shapes if s not in containers and s not in expanded]
        for shape in containers:
            self.container(shape)
        for shape in expanded:
            self.shape(shape)
        for edge in edges:
            self.edge(edge)
        for shape in rest:
            self.shape(shape)
        self.out.append("</svg>")
        return "\n".join(self.out) + "\n"

    def container(self, shape: Shape) -> None:
        kind = self.kinds[shape.element]
        b = shape.bounds
        self.open_group(shape.element, kind)
        self.out.append(
            f'<rect class="bpmn-lane" x="{_n(b.x)}" y="{_n(b.y)}" '
            f'width="{_n(b.width)}" height="{_n(b.height)}"/>'
        )
        name = self.name(shape.element)
        if name and shape.horizontal is not False:
            cx, cy = b.x + 15, b.y + b.height / 2
            self.out.append(
                f'<text class="bpmn-label" x="{_n(cx)}" y="{_n(cy)}" text-anchor="middle" '
                f'transform="rotate(-90 {_n(cx)} {_n(cy)})">{escape(name)}</text>'
            )
        self.out.append("</g>")

    def shape(self, shape: Shape) -> None:
        kind = self.kinds.get(shape.element, "artifact")
        b = shape.bounds
        node = self.nodes.get(shape.element)
        self.open_group(shape.element, kind)
        cx, cy = b.x + b.width / 2, b.y + b.height / 2
        if kind.endswith("Event"):
            r = b.width / 2
            stroke = ' style="stroke-width:4"' if kind == "endEvent" else ""
            dash = (
                ' stroke-dasharray="4 3"'
                if node is not None and not node.cancel_activity and kind != "endEvent"
                else ""
            )
            self.out.append(
                f'<circle class="bpmn-shape" cx="{_n(cx)}" cy="{_n(cy)}" '
                f'r="{_n(r)}"{stroke}{dash}/>'
            )
            if kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
                self.out.append(
                    f'<circle class="bpmn-shape" cx="{_n(cx)}" cy="{_n(cy)}" '
                    f'r="{_n(r - 3)}"{dash}/>'
                )
            event_kind = node.event_kind if node is not None else "none"
            if event_kind == "terminate":
                self.out.append(
                    f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r - 7)}" fill="#22242a"/>'
                )
            elif event_kind in _EVENT_GLYPHS:
                self.out.append(
                    f'<text class="bpmn-glyph" x="{_n(cx)}" y="{_n(cy + 5)}">'
                    f"{_EVENT_GLYPHS[event_kind]}</text>"
                )
            self.label(shape.element, shape.label, b)
        elif kind.endswith("Gateway"):
            corners = ((cx, b.y), (b.x + b.width, cy), (cx, b.y + b.height), (b.x, cy))
            points = " ".join(f"{_n(x)},{_n(y)}" for x, y in corners)
            self.out.append(f'<polygon class="bpmn-shape" points="{points}"/>')
            glyph = _GATEWAY_GLYPHS.get(kind, "")
            self.out.append(
                f'<text class="bpmn-glyph" x="{_n(cx)}" y="{_n(cy + 6)}" '
                f'style="font-size:20px">{escape(glyph)}</text>'
            )
            self.label(shape.element, shape.label, b)
        elif kind == "dataObject" or kind == "artifact":
            fold = min(10.0, b.width / 3)
            path = (
                f"M{_n(b.x)},{_n(b.y)}H{_n(b.x + b.width - fold)}L{_n(b.x + b.width)},"
                f"{_n(b.y + fold)}V{_n(b.y + b.height)}H{_n(b.x)}Z"
            )
            self.out.append(f'<path class="bpmn-shape" d="{path}"/>')
            self.label(shape.element, shape.label, b)
        else:  # activities
            self.out.append(
                f'<rect class="bpmn-shape" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" '
                f'height="{_n(b.height)}" rx="10" ry="10"/>'
            )
            marker = _TASK_GLYPHS.get(kind)
            if marker:
                self.out.append(
                    f'<text class="bpmn-marker" x="{_n(b.x + 6)}" y="{_n(b.y + 12)}">'
                    f"{marker}</text>"
                )
            name = self.name(shape.element)
            if kind == "subProcess" and shape.expanded is not False:
                if name:
                    self.text([name], b.x + 8, b.y + 2, anchor="start")
            else:
                lines = _wrap(name, b.width - 10)
                top = cy - len(lines) * 7 - 5
                self.text(lines, cx, top)
                if kind == "subProcess":
                    self.out.append(
                        f'<rect class="bpmn-shape" x="{_n(cx - 7)}" y="{_n(b.y + b.height - 16)}" '
                        'width="14" height="14"/>'
                    )
            if node is not None and node.loop is not None:
                glyph = (
                    "\u21bb"
                    if node.loop.kind == "standard"
                    else ("\u2261" if node.loop.sequential else "\u2016")
                )
                self.out.append(
                    f'<text class="bpmn-glyph" x="{_n(cx)}" y="{_n(b.y + b.height - 4)}">'
                    f"{glyph}</text>"
                )
        self.out.append("</g>")

    def edge(self, edge: Edge) -> None:
        kind = self.kinds.get(edge.element, "association")
        self.open_group(edge.element, kind)
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in edge.waypoints)
        arrow = ' marker-end="url(#bpmn-arrow)"' if kind == "sequenceFlow" else ""
        dash = ' stroke-dasharray="3 3"' if kind != "sequenceFlow" else ""
        self.out.append(f'<polyline class="bpmn-edge" points="{points}"{arrow}{dash}/>')
        name = self.name(edge.element)
        if name:
            box = edge.label
            if box is None and edge.waypoints:
                mid = edge.waypoints[len(edge.waypoints) // 2]
                box = Bounds(mid[0] - 30, mid[1] - 16, 60, 14)
            if box is not None:
                self.text([name], box.x + box.width / 2, box.y - 2)
        self.out.append("</g>")


def render_svg(definitions: Definitions) -> str:
    """The diagram of ``definitions`` as a standalone SVG document (empty canvas without DI)."""
    return _Renderer(definitions).render()
