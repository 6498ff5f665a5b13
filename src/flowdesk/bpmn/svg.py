"""Render a process diagram as SVG from its BPMN DI (shapes, edges, labels).

Deterministic (same model, same bytes) so diagrams can be cached and compared, and every element
carries ``data-element-id`` / ``data-element-type`` so the UI can colour it later (heatmaps,
the token positions of a case, SLA breaches) with CSS or a few attributes, without re-rendering.
An optional `Overlay` draws such numbers into the SVG itself (fills, badges, flow labels and a
legend), for places where no stylesheet or script can run: a file, an <img>, a report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from flowdesk.bpmn.model import Bounds, Definitions, Diagram, Edge, Node, SequenceFlow, Shape

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Overlay:
    """Decorations drawn over the diagram: shape fills (``#rrggbb``) and badge texts by element
    id, tooltips, texts on sequence flows, and a legend of (colour, text) swatches below."""

    fills: Mapping[str, str] = field(default_factory=dict)
    badges: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)
    flow_labels: Mapping[str, str] = field(default_factory=dict)
    legend: tuple[tuple[str, str], ...] = ()
    legend_title: str | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        colours = [*self.fills.values(), *(colour for colour, _ in self.legend)]
        for colour in colours:
            if not _COLOUR.match(colour):
                raise ValueError(f"overlay colour {colour!r} is not #rrggbb")


_GATEWAY_GLYPHS = {
    "exclusiveGateway": "\u00d7",
    "parallelGateway": "+",
    "inclusiveGateway": "\u25cb",
    "eventBasedGateway": "\u2b20",
    "complexGateway": "*",
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
#: Activities that may be drawn expanded, their content inside them.
_CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess", "callActivity"})
_DATA = frozenset({"dataObject", "dataObjectReference", "dataInput", "dataOutput"})
_ASSOCIATIONS = frozenset({"association", "dataInputAssociation", "dataOutputAssociation"})
_STYLE = (
    ".bpmn-shape{fill:#fff;stroke:#22242a;stroke-width:2}"
    ".bpmn-container{fill:none;stroke:#22242a;stroke-width:2}"
    ".bpmn-pool-frame{fill:none;stroke:#22242a;stroke-width:1.5}"
    ".bpmn-edge{fill:none;stroke:#22242a;stroke-width:1.5}"
    ".bpmn-group-frame{fill:none;stroke:#22242a;stroke-width:1.5;stroke-dasharray:8 4 2 4}"
    ".bpmn-annotation{fill:none;stroke:#22242a;stroke-width:1.5}"
    ".bpmn-label{font:12px sans-serif;fill:#22242a}"
    ".bpmn-glyph{font:14px sans-serif;fill:#22242a;text-anchor:middle}"
    ".bpmn-marker{font:9px sans-serif;fill:#6b6f7a}"
    ".bpmn-event-marker{fill:none;stroke:#22242a;stroke-width:1.5;stroke-linejoin:round}"
    ".bpmn-event-marker.bpmn-throw{fill:#22242a}"
)
_OVERLAY_STYLE = (
    ".bpmn-badge{fill:#22242a}"
    ".bpmn-badge-text{font:bold 11px sans-serif;fill:#fff;text-anchor:middle}"
    ".bpmn-flow-count-box{fill:#fff;stroke:#6b6f7a;stroke-width:.5}"
    ".bpmn-flow-count{font:11px sans-serif;fill:#22242a;text-anchor:middle}"
    ".bpmn-legend{font:12px sans-serif;fill:#22242a}"
    ".bpmn-swatch{stroke:#22242a;stroke-width:.5}"
)
_DEFS = (
    '<marker id="bpmn-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
    'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
    '<path d="M0,0L10,5L0,10z" fill="#22242a"/></marker>'
    '<marker id="bpmn-open-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
    'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
    '<path d="M0,0L10,5L0,10z" fill="#fff" stroke="#22242a"/></marker>'
    '<marker id="bpmn-message-start" viewBox="0 0 10 10" refX="5" refY="5" '
    'markerWidth="7" markerHeight="7"><circle cx="5" cy="5" r="4" fill="#fff" stroke="#22242a"/>'
    "</marker>"
    '<marker id="bpmn-line-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
    'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
    '<path d="M0,0L10,5L0,10" fill="none" stroke="#22242a"/></marker>'
)
_LEGEND_HEIGHT = 44
_DIAGRAM_GAP = 40


def _n(value: float) -> str:
    """A number as SVG accepts it: no trailing point (``860.`` is refused), no ``-0``."""
    if not math.isfinite(value):
        return "0"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _wrap(text: str, width: float) -> list[str]:
    """Word-wrap a label to roughly fit ``width`` pixels (7 px per character). A line break
    the author typed in the name (`&#10;`, as modelling tools write them) starts a new line."""
    limit = max(4, int(width / 7))
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if len(candidate) > limit and current:
                lines.append(current)
                current = word
            else:
                current = candidate
        if current:
            lines.append(current)
    return lines[:5]


def _marker_path(kind: str, cx: float, cy: float, r: float) -> str | None:
    """The outline of an event definition's marker inside an event of radius ``r`` (BPMN 2.0
    table 10.93 shapes: envelope, clock, triangle, ...), as one SVG path."""
    u = r * 0.5  # half the marker's size
    if kind == "message":
        x0, y0, x1, y1 = cx - u, cy - u * 0.7, cx + u, cy + u * 0.7
        return (
            f"M{_n(x0)},{_n(y0)}H{_n(x1)}V{_n(y1)}H{_n(x0)}Z"
            f"M{_n(x0)},{_n(y0)}L{_n(cx)},{_n(cy)}L{_n(x1)},{_n(y0)}"
        )
    if kind == "timer":
        k = u * 1.1
        hands = f"M{_n(cx)},{_n(cy - k * 0.8)}V{_n(cy)}L{_n(cx + k * 0.6)},{_n(cy + k * 0.2)}"
        return (
            f"M{_n(cx - k)},{_n(cy)}A{_n(k)},{_n(k)} 0 1 0 {_n(cx + k)},{_n(cy)}"
            f"A{_n(k)},{_n(k)} 0 1 0 {_n(cx - k)},{_n(cy)}Z{hands}"
        )
    if kind == "signal":
        return f"M{_n(cx)},{_n(cy - u)}L{_n(cx + u)},{_n(cy + u * 0.7)}H{_n(cx - u)}Z"
    if kind == "conditional":
        x0, x1 = cx - u * 0.7, cx + u * 0.7
        lines = "".join(f"M{_n(x0 + 2)},{_n(cy + d * u)}H{_n(x1 - 2)}" for d in (-0.5, 0, 0.5))
        return f"M{_n(x0)},{_n(cy - u)}H{_n(x1)}V{_n(cy + u)}H{_n(x0)}Z{lines}"
    if kind == "escalation":
        return (
            f"M{_n(cx)},{_n(cy - u)}L{_n(cx + u * 0.7)},{_n(cy + u)}L{_n(cx)},{_n(cy + u * 0.2)}"
            f"L{_n(cx - u * 0.7)},{_n(cy + u)}Z"
        )
    if kind == "error":
        return (
            f"M{_n(cx - u)},{_n(cy + u)}L{_n(cx - u * 0.4)},{_n(cy - u)}L{_n(cx + u * 0.2)},"
            f"{_n(cy + u * 0.2)}L{_n(cx + u)},{_n(cy - u)}L{_n(cx + u * 0.4)},{_n(cy + u)}"
            f"L{_n(cx - u * 0.2)},{_n(cy - u * 0.2)}Z"
        )
    if kind == "compensate":
        return (
            f"M{_n(cx)},{_n(cy - u * 0.7)}L{_n(cx - u)},{_n(cy)}L{_n(cx)},{_n(cy + u * 0.7)}Z"
            f"M{_n(cx + u)},{_n(cy - u * 0.7)}L{_n(cx)},{_n(cy)}L{_n(cx + u)},{_n(cy + u * 0.7)}Z"
        )
    if kind == "link":
        return (
            f"M{_n(cx - u)},{_n(cy - u * 0.35)}H{_n(cx + u * 0.2)}V{_n(cy - u * 0.8)}"
            f"L{_n(cx + u)},{_n(cy)}L{_n(cx + u * 0.2)},{_n(cy + u * 0.8)}V{_n(cy + u * 0.35)}"
            f"H{_n(cx - u)}Z"
        )
    if kind == "cancel":
        t = u * 0.3
        return (
            f"M{_n(cx - u)},{_n(cy - u + t)}L{_n(cx - u + t)},{_n(cy - u)}L{_n(cx)},{_n(cy - t)}"
            f"L{_n(cx + u - t)},{_n(cy - u)}L{_n(cx + u)},{_n(cy - u + t)}L{_n(cx + t)},{_n(cy)}"
            f"L{_n(cx + u)},{_n(cy + u - t)}L{_n(cx + u - t)},{_n(cy + u)}L{_n(cx)},{_n(cy + t)}"
            f"L{_n(cx - u + t)},{_n(cy + u)}L{_n(cx - u)},{_n(cy + u - t)}L{_n(cx - t)},{_n(cy)}Z"
        )
    if kind == "multiple":
        points = [
            (cx + u * math.sin(a), cy - u * math.cos(a))
            for a in (i * 2 * math.pi / 5 for i in range(5))
        ]
        return "M" + "L".join(f"{_n(x)},{_n(y)}" for x, y in points) + "Z"
    if kind == "parallelMultiple":
        t = u * 0.3
        return (
            f"M{_n(cx - t)},{_n(cy - u)}H{_n(cx + t)}V{_n(cy - t)}H{_n(cx + u)}V{_n(cy + t)}"
            f"H{_n(cx + t)}V{_n(cy + u)}H{_n(cx - t)}V{_n(cy + t)}H{_n(cx - u)}V{_n(cy - t)}"
            f"H{_n(cx - t)}Z"
        )
    return None


class _Renderer:
    def __init__(self, definitions: Definitions, overlay: Overlay | None = None) -> None:
        self.d = definitions
        self.overlay = overlay
        self.nodes: dict[str, Node] = {}
        self.flows: dict[str, SequenceFlow] = {}
        self.kinds: dict[str, str] = {eid: e.kind for eid, e in definitions.elements.items()}
        for process in definitions.processes.values():
            self.kinds[process.id] = "process"
            for node in process.nodes.values():
                self.nodes[node.id] = node
                self.kinds[node.id] = "transaction" if node.transaction else node.type
            for flow_id, flow in process.flows.items():
                self.kinds[flow_id] = "sequenceFlow"
                self.flows[flow_id] = flow
            for lane in process.lanes:
                self.kinds[lane.id] = "lane"
            for data in process.data_objects:
                self.kinds.setdefault(data.id, "dataObject")
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
        if self.overlay is not None and element in self.overlay.titles:
            self.out.append(f"<title>{escape(self.overlay.titles[element])}</title>")

    def fill(self, element: str, style: str = "") -> str:
        """The style attribute of a shape: its own `style` plus the overlay's fill, if any."""
        colour = self.overlay.fills.get(element) if self.overlay is not None else None
        if colour is not None:
            style = f"{style};fill:{colour}" if style else f"fill:{colour}"
        return f' style="{style}"' if style else ""

    def badge(self, element: str, b: Bounds) -> None:
        """The overlay's text for `element` on a dark pill across the shape's top-right corner."""
        text = self.overlay.badges.get(element) if self.overlay is not None else None
        if not text:
            return
        width = 10 + 7 * len(text)
        x = b.x + b.width - width + 8
        self.out.append(
            f'<rect class="bpmn-badge" x="{_n(x)}" y="{_n(b.y - 9)}" width="{_n(width)}" '
            'height="16" rx="8" ry="8"/>'
            f'<text class="bpmn-badge-text" x="{_n(x + width / 2)}" y="{_n(b.y + 3)}">'
            f"{escape(text)}</text>"
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
        if bounds is not None and bounds.height < 20 and "\n" not in name:
            lines = [name]  # the modeler laid it out on one line: wrapping it overlaps the shape
        else:
            lines = _wrap(name, max(box.width, 60))
        self.text(lines, box.x + box.width / 2, box.y - 2)

    def render(self) -> str:
        diagrams = self.d.diagrams or ((self.d.diagram,) if self.d.diagram else ())
        # Several diagrams (one per pool, per drill-down) are drawn one below the other.
        placed: list[tuple[Diagram, float, float]] = []
        extents: list[tuple[float, float, float, float]] = []
        for diagram in diagrams:
            box = _extent(diagram)
            if box is not None:
                placed.append((diagram, 0.0, 0.0))
                extents.append(box)
        if not extents:
            extents = [(0, 0, 100, 100)]
        pad = 10
        titled = len(placed) > 1
        x0 = min(e[0] for e in extents) - pad
        y0 = extents[0][1] - pad
        cursor = extents[0][3]
        for i in range(1, len(placed)):
            left, top, _, bottom = extents[i]
            dy = cursor + _DIAGRAM_GAP + (20 if titled else 0) - top
            placed[i] = (placed[i][0], 0.0, dy)
            cursor = bottom + dy
        if titled:
            y0 -= 20
        width = max(e[2] for e in extents) - x0 + pad
        height = cursor - y0 + pad
        overlay = self.overlay
        legend_top = y0 + height
        if overlay is not None and (overlay.legend or overlay.legend_title):
            height += _LEGEND_HEIGHT
            width = max(width, _legend_width(overlay) + 2 * pad)
        accessible = ""
        if overlay is not None and overlay.title:
            accessible = f' role="img" aria-label={quoteattr(overlay.title)}'
        self.out.append(
            '<svg xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="{_n(x0)} {_n(y0)} {_n(width)} {_n(height)}" '
            f'width="{_n(width)}" height="{_n(height)}"{accessible}>'
        )
        if overlay is not None and overlay.title:
            self.out.append(f"<title>{escape(overlay.title)}</title>")
        style = _STYLE + (_OVERLAY_STYLE if overlay is not None else "")
        self.out.append(f"<defs>{_DEFS}<style>{style}</style></defs>")
        for index, (diagram, dx, dy) in enumerate(placed):
            attrs = f" data-diagram-id={quoteattr(diagram.id or f'diagram-{index + 1}')}"
            if dy:
                attrs += f' transform="translate({_n(dx)} {_n(dy)})"'
            self.out.append(f'<g class="bpmn-diagram"{attrs}>')
            if titled:
                title = diagram.name or self.name(diagram.plane or "") or diagram.plane or ""
                top = extents[index][1]
                self.out.append(
                    f'<text class="bpmn-label bpmn-diagram-title" x="{_n(x0 + pad)}" '
                    f'y="{_n(top - 8)}" style="font-weight:bold">{escape(title)}</text>'
                )
            self.diagram(diagram)
            self.out.append("</g>")
        if overlay is not None:
            self.legend(overlay, x0 + pad, legend_top)
        self.out.append("</svg>")
        return "\n".join(self.out) + "\n"

    def diagram(self, diagram: Diagram) -> None:
        """Pools and lanes, then expanded containers (largest first, so nothing is hidden),
        then flows, then the other shapes, then groups on top (frames, never filled)."""
        shapes, edges = diagram.shapes, diagram.edges
        containers = [s for s in shapes if self.kinds.get(s.element) in ("participant", "lane")]
        expanded = sorted(
            (s for s in shapes if self.is_expanded(s)),
            key=lambda s: -(s.bounds.width * s.bounds.height),
        )
        groups = [s for s in shapes if self.kinds.get(s.element) == "group"]
        taken = {id(s) for s in (*containers, *expanded, *groups)}
        rest = [s for s in shapes if id(s) not in taken]
        for shape in containers:
            self.container(shape)
        for shape in expanded:
            self.shape(shape)
        for edge in edges:
            self.edge(edge)
        for shape in rest:
            self.shape(shape)
        for shape in groups:
            self.group(shape)
        if self.overlay is not None:
            self.flow_labels(edges)

    def is_expanded(self, shape: Shape) -> bool:
        kind = self.kinds.get(shape.element)
        if kind not in _CONTAINERS:
            return False
        if kind == "callActivity":
            return shape.expanded is True
        return shape.expanded is not False

    def container(self, shape: Shape) -> None:
        """A pool or lane: a frame with its name written vertically along its left band (or
        horizontally along the top of a vertical pool)."""
        kind = self.kinds[shape.element]
        b = shape.bounds
        self.open_group(shape.element, kind)
        self.out.append(
            f'<rect class="bpmn-pool-frame" x="{_n(b.x)}" y="{_n(b.y)}" '
            f'width="{_n(b.width)}" height="{_n(b.height)}"/>'
        )
        vertical = shape.horizontal is False
        if kind == "participant":
            band = (
                f"M{_n(b.x)},{_n(b.y + 30)}H{_n(b.x + b.width)}"
                if vertical
                else f"M{_n(b.x + 30)},{_n(b.y)}V{_n(b.y + b.height)}"
            )
            self.out.append(f'<path class="bpmn-pool-frame" d="{band}"/>')
        name = self.name(shape.element)
        if name and not vertical:
            cx, cy = b.x + 15, b.y + b.height / 2
            self.out.append(
                f'<text class="bpmn-label" x="{_n(cx)}" y="{_n(cy + 4)}" text-anchor="middle" '
                f'transform="rotate(-90 {_n(cx)} {_n(cy)})">{escape(name)}</text>'
            )
        elif name:
            self.text([name], b.x + b.width / 2, b.y + 4)
        self.out.append("</g>")

    def group(self, shape: Shape) -> None:
        """A group: a dashed, rounded frame that never hides what it groups."""
        b = shape.bounds
        self.open_group(shape.element, "group")
        self.out.append(
            f'<rect class="bpmn-group-frame" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" '
            f'height="{_n(b.height)}" rx="10" ry="10"/>'
        )
        name = self.name(shape.element)
        if name:
            self.text(_wrap(name, b.width), b.x + b.width / 2, (shape.label or b).y)
        self.out.append("</g>")

    def event(self, shape: Shape, kind: str, node: Node | None) -> None:
        b = shape.bounds
        cx, cy, r = b.x + b.width / 2, b.y + b.height / 2, b.width / 2
        element = self.d.elements.get(shape.element)
        interrupting = node.cancel_activity if node is not None else True
        if element is not None:
            interrupting = element.interrupting
        stroke = self.fill(shape.element, "stroke-width:4" if kind == "endEvent" else "")
        dash = ' stroke-dasharray="4 3"' if not interrupting and kind != "endEvent" else ""
        self.out.append(
            f'<circle class="bpmn-shape" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}"{stroke}{dash}/>'
        )
        if kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
            self.out.append(
                f'<circle class="bpmn-shape" cx="{_n(cx)}" cy="{_n(cy)}" '
                f'r="{_n(r - 3)}"{self.fill(shape.element)}{dash}/>'
            )
        if element is not None:
            markers = element.markers
            throwing = element.throwing
            parallel = element.parallel_multiple
        else:
            markers = tuple(e.kind for e in node.events) if node is not None else ()
            throwing = kind in ("endEvent", "intermediateThrowEvent")
            parallel = False
        if len(markers) > 1:
            marker = "parallelMultiple" if parallel and not throwing else "multiple"
        else:
            marker = markers[0] if markers else "none"
        if marker == "terminate":
            self.out.append(
                f'<circle class="bpmn-event-marker bpmn-throw" data-marker="terminate" '
                f'cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r * 0.6)}"/>'
            )
        else:
            path = _marker_path(marker, cx, cy, r)
            if path is not None:
                throw = " bpmn-throw" if throwing else ""
                self.out.append(
                    f'<path class="bpmn-event-marker{throw}" data-marker="{marker}" d="{path}"/>'
                )
        self.label(shape.element, shape.label, b)

    def shape(self, shape: Shape) -> None:
        kind = self.kinds.get(shape.element, "artifact")
        b = shape.bounds
        node = self.nodes.get(shape.element)
        self.open_group(shape.element, kind)
        cx, cy = b.x + b.width / 2, b.y + b.height / 2
        if kind.endswith("Event"):
            self.event(shape, kind, node)
        elif kind.endswith("Gateway"):
            corners = ((cx, b.y), (b.x + b.width, cy), (cx, b.y + b.height), (b.x, cy))
            points = " ".join(f"{_n(x)},{_n(y)}" for x, y in corners)
            self.out.append(
                f'<polygon class="bpmn-shape" points="{points}"{self.fill(shape.element)}/>'
            )
            glyph = _GATEWAY_GLYPHS.get(kind, "")
            if kind == "exclusiveGateway" and shape.marker_visible is False:
                glyph = ""  # DI isMarkerVisible="false": an exclusive gateway drawn unmarked
            if kind == "eventBasedGateway":  # 10.6.6: a pentagon inside a double circle
                glyph = ""
                r = min(b.width, b.height) / 2
                for ring in (r * 0.55, r * 0.45):
                    self.out.append(
                        f'<circle class="bpmn-event-marker" '
                        f'cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(ring)}"/>'
                    )
                pentagon = [
                    (
                        cx + r * 0.3 * math.sin(k * math.tau / 5),
                        cy - r * 0.3 * math.cos(k * math.tau / 5),
                    )
                    for k in range(5)
                ]
                outline = "M" + "L".join(f"{_n(x)},{_n(y)}" for x, y in pentagon) + "Z"
                self.out.append(f'<path class="bpmn-event-marker" d="{outline}"/>')
            self.out.append(
                f'<text class="bpmn-glyph" x="{_n(cx)}" y="{_n(cy + 6)}" '
                f'style="font-size:20px">{escape(glyph)}</text>'
            )
            self.label(shape.element, shape.label, b)
        elif kind in _DATA or kind == "artifact":
            fold = min(10.0, b.width / 3)
            path = (
                f"M{_n(b.x)},{_n(b.y)}H{_n(b.x + b.width - fold)}L{_n(b.x + b.width)},"
                f"{_n(b.y + fold)}V{_n(b.y + b.height)}H{_n(b.x)}Z"
                f"M{_n(b.x + b.width - fold)},{_n(b.y)}V{_n(b.y + fold)}H{_n(b.x + b.width)}"
            )
            self.out.append(f'<path class="bpmn-shape" d="{path}"/>')
            self.label(shape.element, shape.label, b)
        elif kind in ("dataStoreReference", "dataStore"):
            ry = min(8.0, b.height / 6)
            x0, x1, top, bottom = b.x, b.x + b.width, b.y + ry, b.y + b.height - ry
            rx = b.width / 2
            path = (
                f"M{_n(x0)},{_n(top)}A{_n(rx)},{_n(ry)} 0 0 1 {_n(x1)},{_n(top)}V{_n(bottom)}"
                f"A{_n(rx)},{_n(ry)} 0 0 1 {_n(x0)},{_n(bottom)}Z"
                f"M{_n(x0)},{_n(top)}A{_n(rx)},{_n(ry)} 0 0 0 {_n(x1)},{_n(top)}"
            )
            self.out.append(f'<path class="bpmn-shape" d="{path}"/>')
            self.label(shape.element, shape.label, b)
        elif kind == "textAnnotation":
            bracket = f"M{_n(b.x + 10)},{_n(b.y)}H{_n(b.x)}V{_n(b.y + b.height)}H{_n(b.x + 10)}"
            self.out.append(f'<path class="bpmn-annotation" d="{bracket}"/>')
            self.text(_wrap(self.name(shape.element), b.width - 8), b.x + 5, b.y, anchor="start")
        else:  # activities
            expanded = self.is_expanded(shape)
            css = "bpmn-container" if expanded else "bpmn-shape"
            width = "stroke-width:4" if kind == "callActivity" else ""
            self.out.append(
                f'<rect class="{css}" x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" '
                f'height="{_n(b.height)}" rx="10" ry="10"{self.fill(shape.element, width)}/>'
            )
            if kind == "transaction":
                self.out.append(
                    f'<rect class="bpmn-container" x="{_n(b.x + 3)}" y="{_n(b.y + 3)}" '
                    f'width="{_n(b.width - 6)}" height="{_n(b.height - 6)}" rx="8" ry="8"/>'
                )
            if node is not None and node.triggered_by_event:
                self.out[-1] = self.out[-1].replace("/>", ' stroke-dasharray="2 3"/>', 1)
            marker = _TASK_GLYPHS.get(kind)
            if marker and not expanded:
                self.out.append(
                    f'<text class="bpmn-marker" x="{_n(b.x + 6)}" y="{_n(b.y + 12)}">'
                    f"{marker}</text>"
                )
            name = self.name(shape.element)
            if expanded:
                if name:
                    self.text([name], b.x + 8, b.y + 2, anchor="start")
            else:
                lines = _wrap(name, b.width - 10)
                top = cy - len(lines) * 7 - 5
                self.text(lines, cx, top)
                if (
                    kind in _CONTAINERS
                    and kind != "callActivity"
                    or (kind == "callActivity" and self.calls_process(shape.element))
                ):
                    self.out.append(
                        f'<rect class="bpmn-shape" x="{_n(cx - 7)}" y="{_n(b.y + b.height - 16)}" '
                        'width="14" height="14"/>'
                        f'<path class="bpmn-edge" d="M{_n(cx - 4)},{_n(b.y + b.height - 9)}'
                        f"H{_n(cx + 4)}M{_n(cx)},{_n(b.y + b.height - 13)}V{_n(b.y + b.height - 5)}"
                        '"/>'
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
        self.badge(shape.element, b)
        self.out.append("</g>")

    def calls_process(self, element: str) -> bool:
        """A call activity's collapsed marker (+) shows when it calls a process, not a task."""
        node = self.nodes.get(element)
        return node is None or node.task is None or node.task.called_element is not None

    def edge(self, edge: Edge) -> None:
        kind = self.kinds.get(edge.element, "association")
        self.open_group(edge.element, kind)
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in edge.waypoints)
        if kind == "sequenceFlow":
            extra = ' marker-end="url(#bpmn-arrow)"'
        elif kind == "messageFlow":
            extra = (
                ' marker-start="url(#bpmn-message-start)" marker-end="url(#bpmn-open-arrow)"'
                ' stroke-dasharray="6 4"'
            )
        elif kind in ("dataInputAssociation", "dataOutputAssociation"):
            extra = ' marker-end="url(#bpmn-line-arrow)" stroke-dasharray="2 3"'
        else:  # associations and anything else: dotted, no arrowhead
            extra = ' stroke-dasharray="2 3"'
        self.out.append(f'<polyline class="bpmn-edge" points="{points}"{extra}/>')
        if kind == "sequenceFlow" and len(edge.waypoints) >= 2:
            self.flow_source_marker(edge)
        name = self.name(edge.element)
        if name:
            box = edge.label
            if box is None and edge.waypoints:
                mid = edge.waypoints[len(edge.waypoints) // 2]
                box = Bounds(mid[0] - 30, mid[1] - 16, 60, 14)
            if box is not None:  # one line, unless the author broke it (`&#10;`)
                self.text(name.splitlines() or [name], box.x + box.width / 2, box.y - 2)
        self.out.append("</g>")

    def flow_source_marker(self, edge: Edge) -> None:
        """10.3.1 (Table 10.1): a default flow has a slash near its start; a conditional flow
        leaving an activity a small diamond at its start (a gateway's conditions show none)."""
        flow = self.flows.get(edge.element)
        source = self.nodes.get(flow.source) if flow is not None else None
        if flow is None or source is None:
            return
        (x0, y0), (x1, y1) = edge.waypoints[0], edge.waypoints[1]
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            return
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        nx, ny = -uy, ux
        if source.default == flow.id:
            cx, cy = x0 + ux * 10, y0 + uy * 10
            self.out.append(
                f'<path class="bpmn-edge" data-flow-marker="default" '
                f'd="M{_n(cx - ux * 4 + nx * 6)},{_n(cy - uy * 4 + ny * 6)}'
                f'L{_n(cx + ux * 4 - nx * 6)},{_n(cy + uy * 4 - ny * 6)}"/>'
            )
        element = self.d.elements.get(flow.id)
        conditional = flow.condition is not None or (element is not None and element.conditional)
        if source.default != flow.id and conditional and not source.type.endswith("Gateway"):
            corners = (
                (x0, y0),
                (x0 + ux * 8 + nx * 5, y0 + uy * 8 + ny * 5),
                (x0 + ux * 16, y0 + uy * 16),
                (x0 + ux * 8 - nx * 5, y0 + uy * 8 - ny * 5),
            )
            points = " ".join(f"{_n(x)},{_n(y)}" for x, y in corners)
            self.out.append(
                f'<polygon class="bpmn-shape" data-flow-marker="conditional" '
                f'style="stroke-width:1.5" points="{points}"/>'
            )

    def flow_labels(self, edges: tuple[Edge, ...]) -> None:
        """The overlay's texts at the middle of their sequence flows, drawn above the shapes."""
        assert self.overlay is not None
        for edge in edges:
            text = self.overlay.flow_labels.get(edge.element)
            if not text or not edge.waypoints:
                continue
            x, y = _midpoint(edge.waypoints)
            width = 8 + 7 * len(text)
            self.out.append(
                f'<g class="bpmn-flow-label" data-element-id={quoteattr(edge.element)}>'
                f'<rect class="bpmn-flow-count-box" x="{_n(x - width / 2)}" y="{_n(y - 8)}" '
                f'width="{_n(width)}" height="15" rx="3" ry="3"/>'
                f'<text class="bpmn-flow-count" x="{_n(x)}" y="{_n(y + 4)}">{escape(text)}</text>'
                "</g>"
            )

    def legend(self, overlay: Overlay, left: float, top: float) -> None:
        if not overlay.legend and not overlay.legend_title:
            return
        self.out.append('<g class="bpmn-legend-box">')
        if overlay.legend_title:
            self.out.append(
                f'<text class="bpmn-legend" x="{_n(left)}" y="{_n(top + 14)}">'
                f"{escape(overlay.legend_title)}</text>"
            )
        x = left
        for colour, text in overlay.legend:
            self.out.append(
                f'<rect class="bpmn-swatch" x="{_n(x)}" y="{_n(top + 22)}" width="18" '
                f'height="14" style="fill:{colour}"/>'
                f'<text class="bpmn-legend" x="{_n(x + 22)}" y="{_n(top + 34)}">'
                f"{escape(text)}</text>"
            )
            x += _swatch_width(text)
        self.out.append("</g>")


def _extent(diagram: Diagram) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) of everything a diagram draws; None when it draws nothing."""
    xs: list[float] = []
    ys: list[float] = []
    for shape in diagram.shapes:
        b = shape.bounds
        xs += [b.x, b.x + b.width]
        ys += [b.y, b.y + b.height]
        if shape.label is not None:
            xs += [shape.label.x, shape.label.x + shape.label.width]
            ys += [shape.label.y, shape.label.y + shape.label.height]
    for edge in diagram.edges:
        xs += [p[0] for p in edge.waypoints]
        ys += [p[1] for p in edge.waypoints]
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _swatch_width(text: str) -> float:
    return 22 + 7 * len(text) + 14


def _legend_width(overlay: Overlay) -> float:
    swatches = sum(_swatch_width(text) for _, text in overlay.legend)
    return max(swatches, 7 * len(overlay.legend_title or ""))


def _midpoint(points: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    """The point halfway along a polyline (by length)."""
    lengths = [math.dist(a, b) for a, b in zip(points, points[1:], strict=False)]
    half = sum(lengths) / 2
    for (a, b), length in zip(zip(points, points[1:], strict=False), lengths, strict=True):
        if length and half <= length:
            t = half / length
            return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
        half -= length
    return points[len(points) // 2]


def render_svg(definitions: Definitions, overlay: Overlay | None = None) -> str:
    """The diagram of ``definitions`` as a standalone SVG document (empty canvas without DI),
    with the `overlay`'s fills, badges, flow labels and legend when one is given."""
    return _Renderer(definitions, overlay).render()
