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

from flowdesk.bpmn.model import Bounds, Definitions, Edge, Node, Shape

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
_OVERLAY_STYLE = (
    ".bpmn-badge{fill:#22242a}"
    ".bpmn-badge-text{font:bold 11px sans-serif;fill:#fff;text-anchor:middle}"
    ".bpmn-flow-count-box{fill:#fff;stroke:#6b6f7a;stroke-width:.5}"
    ".bpmn-flow-count{font:11px sans-serif;fill:#22242a;text-anchor:middle}"
    ".bpmn-legend{font:12px sans-serif;fill:#22242a}"
    ".bpmn-swatch{stroke:#22242a;stroke-width:.5}"
)
_LEGEND_HEIGHT = 44


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
    def __init__(self, definitions: Definitions, overlay: Overlay | None = None) -> None:
        self.d = definitions
        self.overlay = overlay
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
        self.out.append(
            '<defs><marker id="bpmn-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            '<path d="M0,0L10,5L0,10z" fill="#22242a"/></marker>'
            f"<style>{style}</style></defs>"
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
        if overlay is not None:
            self.flow_labels(edges)
            self.legend(overlay, x0 + pad, legend_top)
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
            stroke = self.fill(shape.element, "stroke-width:4" if kind == "endEvent" else "")
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
                    f'r="{_n(r - 3)}"{self.fill(shape.element)}{dash}/>'
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
            self.out.append(
                f'<polygon class="bpmn-shape" points="{points}"{self.fill(shape.element)}/>'
            )
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
                f'height="{_n(b.height)}" rx="10" ry="10"{self.fill(shape.element)}/>'
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
        self.badge(shape.element, b)
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
