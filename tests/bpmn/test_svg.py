"""SVG diagrams from BPMN DI: deterministic, well-formed, every element addressable by id."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from flowdesk.bpmn.parser import load_bpmn, parse_bpmn
from flowdesk.bpmn.svg import render_svg
from flowdesk.engine.testing import wrap

DATA = Path(__file__).parent.parent / "data" / "bpmn"
SVG = "{http://www.w3.org/2000/svg}"


def groups(svg: str) -> dict[str, etree._Element]:
    root = etree.fromstring(svg.encode())
    return {g.get("data-element-id"): g for g in root.iter(f"{SVG}g") if g.get("data-element-id")}


def test_every_diagram_element_is_rendered_with_its_id_and_type() -> None:
    definitions = load_bpmn(DATA / "support_case.bpmn")
    found = groups(render_svg(definitions))
    process = definitions.process()
    for element in [*process.nodes, *process.flows, "lane_first", "lane_tech", "support_pool"]:
        assert element in found, element
    assert found["route"].get("data-element-type") == "exclusiveGateway"
    assert found["f_tech"].get("data-element-type") == "sequenceFlow"
    assert found["sla"].get("data-element-type") == "boundaryEvent"


def test_shapes_follow_the_di_geometry() -> None:
    found = groups(render_svg(load_bpmn(DATA / "refund.bpmn")))
    rect = found["capture"].find(f"{SVG}rect")
    assert rect is not None
    assert (rect.get("x"), rect.get("y"), rect.get("width"), rect.get("height")) == (
        "240",
        "160",
        "100",
        "80",
    )
    circle = found["start"].find(f"{SVG}circle")
    assert circle is not None and (circle.get("cx"), circle.get("cy"), circle.get("r")) == (
        "170",
        "200",
        "18",
    )
    line = found["f_large"].find(f"{SVG}polyline")
    assert line is not None and line.get("points") == "420,175 420,100 500,100"
    assert line.get("marker-end") == "url(#bpmn-arrow)"
    labels = ["".join(t.itertext()) for t in found["approve"].iter(f"{SVG}text")]
    assert "Supervisor" in " ".join(labels)


def test_rendering_is_deterministic() -> None:
    first = render_svg(load_bpmn(DATA / "support_case.bpmn"))
    second = render_svg(load_bpmn(DATA / "support_case.bpmn"))
    assert first == second


def test_labels_are_escaped() -> None:
    xml = wrap('<bpmn:startEvent id="s" name="A &amp; B &lt;x&gt;"/>').replace(
        "</bpmn:definitions>",
        '<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><bpmndi:BPMNPlane bpmnElement="p">'
        '<bpmndi:BPMNShape bpmnElement="s"><dc:Bounds x="0" y="0" width="36" height="36"/>'
        "</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>",
    )
    svg = render_svg(parse_bpmn(xml))
    assert "A &amp; B &lt;x&gt;" in svg
    etree.fromstring(svg.encode())  # still well-formed


def test_without_di_an_empty_canvas() -> None:
    svg = render_svg(parse_bpmn(wrap('<bpmn:startEvent id="s"/>')))
    assert groups(svg) == {}
