"""BPMN DI (diagram interchange): where Camunda Modeler drew each shape and edge."""

from __future__ import annotations

from lxml import etree

from flowdesk.bpmn.model import Bounds, Diagram, Edge, Shape
from flowdesk.core.xmlsafe import local_name


def parse_diagram(el: etree._Element) -> Diagram:
    """Shapes (bounds, label bounds, expanded/horizontal flags) and edges (waypoints)."""
    shapes: list[Shape] = []
    edges: list[Edge] = []
    for plane in el:
        if local_name(plane) != "BPMNPlane":
            continue
        for item in plane:
            kind = local_name(item)
            element = item.get("bpmnElement") or ""
            if kind == "BPMNShape":
                bounds = _bounds(item)
                if bounds is None:
                    continue
                expanded = item.get("isExpanded")
                horizontal = item.get("isHorizontal")
                shapes.append(
                    Shape(
                        element,
                        bounds,
                        expanded=None if expanded is None else expanded == "true",
                        horizontal=None if horizontal is None else horizontal == "true",
                        label=_label(item),
                    )
                )
            elif kind == "BPMNEdge":
                points = tuple(
                    (float(p.get("x") or 0), float(p.get("y") or 0))
                    for p in item
                    if local_name(p) == "waypoint"
                )
                edges.append(Edge(element, points, label=_label(item)))
    return Diagram(tuple(shapes), tuple(edges))


def _bounds(el: etree._Element) -> Bounds | None:
    for child in el:
        if local_name(child) == "Bounds":
            try:
                return Bounds(
                    float(child.get("x") or 0),
                    float(child.get("y") or 0),
                    float(child.get("width") or 0),
                    float(child.get("height") or 0),
                )
            except ValueError:
                return None
    return None


def _label(el: etree._Element) -> Bounds | None:
    for child in el:
        if local_name(child) == "BPMNLabel":
            return _bounds(child)
    return None
