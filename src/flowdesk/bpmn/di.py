"""BPMN DI (diagram interchange): where Camunda Modeler drew each shape and edge."""

from __future__ import annotations

import math

from lxml import etree

from flowdesk.bpmn.model import Bounds, Diagram, Edge, Shape
from flowdesk.core.xmlsafe import local_name


def parse_diagram(el: etree._Element) -> Diagram:
    """Shapes (bounds, label bounds, expanded/horizontal flags) and edges (waypoints)."""
    shapes: list[Shape] = []
    edges: list[Edge] = []
    plane_of: str | None = None
    for plane in el:
        if local_name(plane) != "BPMNPlane":
            continue
        plane_of = plane_of or plane.get("bpmnElement")
        for item in plane:
            kind = local_name(item)
            element = item.get("bpmnElement") or ""
            if kind == "BPMNShape":
                bounds = _bounds(item)
                if bounds is None:
                    continue
                expanded = item.get("isExpanded")
                horizontal = item.get("isHorizontal")
                marker = item.get("isMarkerVisible")
                shapes.append(
                    Shape(
                        element,
                        bounds,
                        expanded=None if expanded is None else expanded == "true",
                        horizontal=None if horizontal is None else horizontal == "true",
                        label=_label(item),
                        marker_visible=None if marker is None else marker == "true",
                    )
                )
            elif kind == "BPMNEdge":
                points = tuple(
                    (_float(p.get("x")), _float(p.get("y")))
                    for p in item
                    if local_name(p) == "waypoint"
                )
                edges.append(Edge(element, points, label=_label(item)))
    return Diagram(tuple(shapes), tuple(edges), el.get("id"), el.get("name"), plane_of)


def _float(text: str | None) -> float:
    """A coordinate; a malformed or non-finite one (written by some tools) counts as 0."""
    try:
        value = float(text or 0)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) else 0.0


def _bounds(el: etree._Element) -> Bounds | None:
    for child in el:
        if local_name(child) == "Bounds":
            try:
                return Bounds(
                    _float(child.get("x")),
                    _float(child.get("y")),
                    _float(child.get("width")),
                    _float(child.get("height")),
                )
            except ValueError:
                return None
    return None


def _label(el: etree._Element) -> Bounds | None:
    for child in el:
        if local_name(child) == "BPMNLabel":
            return _bounds(child)
    return None
