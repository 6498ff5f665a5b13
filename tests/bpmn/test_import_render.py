# ruff: noqa: E501
"""Import and executability are two steps: any valid BPMN 2.0 file (descriptive pools,
collaborations, several diagrams, vendor extensions) imports and renders; what stops a process
from running is an error only in an executable process, a warning elsewhere, each with line and
element id. The renderer draws every diagram with the shapes of BPMN 2.0 chapter 10 and 12."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from flowdesk.bpmn.errors import BpmnModelError
from flowdesk.bpmn.parser import import_bpmn, parse_bpmn
from flowdesk.bpmn.svg import render_svg

SVG = "{http://www.w3.org/2000/svg}"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:signavio="http://www.signavio.com" id="defs" targetNamespace="http://bpmn.io/schema">\n'
)

# (element xml, x, y, width, height) of the descriptive pool "Claims"; one shape per element
EVENTS = [
    ("startEvent", "s_msg", "<bpmn:messageEventDefinition/>", ""),
    ("startEvent", "s_multi", "<bpmn:messageEventDefinition/><bpmn:signalEventDefinition/>", ""),
    (
        "startEvent",
        "s_pmulti",
        "<bpmn:messageEventDefinition/><bpmn:timerEventDefinition/>",
        ' parallelMultiple="true"',
    ),
    ("intermediateCatchEvent", "c_timer", "<bpmn:timerEventDefinition/>", ""),
    ("intermediateCatchEvent", "c_cond", "<bpmn:conditionalEventDefinition/>", ""),
    ("intermediateCatchEvent", "c_link", '<bpmn:linkEventDefinition name="L"/>', ""),
    ("intermediateThrowEvent", "t_signal", "<bpmn:signalEventDefinition/>", ""),
    ("intermediateThrowEvent", "t_comp", "<bpmn:compensateEventDefinition/>", ""),
    ("intermediateThrowEvent", "t_esc", "<bpmn:escalationEventDefinition/>", ""),
    ("endEvent", "e_error", "<bpmn:errorEventDefinition/>", ""),
    ("endEvent", "e_term", "<bpmn:terminateEventDefinition/>", ""),
]
MARKERS = {
    "s_msg": "message",
    "s_multi": "multiple",
    "s_pmulti": "parallelMultiple",
    "c_timer": "timer",
    "c_cond": "conditional",
    "c_link": "link",
    "t_signal": "signal",
    "t_comp": "compensate",
    "t_esc": "escalation",
    "e_error": "error",
    "tx_cancel": "cancel",
}


def shape(element: str, x: float, y: float, w: float, h: float, extra: str = "") -> str:
    return (
        f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}"{extra}>'
        f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
    )


def edge(element: str, *points: tuple[float, float]) -> str:
    waypoints = "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
    return (
        f'<bpmndi:BPMNEdge id="{element}_di" bpmnElement="{element}">{waypoints}</bpmndi:BPMNEdge>'
    )


def descriptive_model() -> str:
    """A collaboration as other modelling tools draw it: a descriptive pool with lanes, every
    event marker, a group, an annotation, data, an expanded sub-process, a transaction and an
    expanded call activity, a black-box pool, a message flow and a second diagram."""
    events = "".join(
        f'<bpmn:{kind} id="{eid}" name="{eid}"{attrs}>{body}</bpmn:{kind}>'
        for kind, eid, body, attrs in EVENTS
    )
    process = (
        '<bpmn:process id="claims" name="Claims" isExecutable="false">'
        '<bpmn:extensionElements><signavio:signavioMetaData metaKey="x" metaValue="y"/>'
        "</bpmn:extensionElements>"
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane_desk" name="Claims desk">'
        "<bpmn:flowNodeRef>check</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        f"{events}"
        '<bpmn:task id="check" name="Check claim"/>'
        '<bpmn:complexGateway id="cx" name="Complex"/>'
        '<bpmn:subProcess id="sub" name="Assess damage">'
        '<bpmn:task id="inner" name="Inspect car"/></bpmn:subProcess>'
        '<bpmn:transaction id="tx" name="Pay out">'
        '<bpmn:task id="tx_task" name="Transfer money"/>'
        '<bpmn:endEvent id="tx_cancel_end"><bpmn:cancelEventDefinition/></bpmn:endEvent>'
        "</bpmn:transaction>"
        '<bpmn:boundaryEvent id="tx_cancel" attachedToRef="tx">'
        "<bpmn:cancelEventDefinition/></bpmn:boundaryEvent>"
        '<bpmn:callActivity id="call" name="Fraud check" calledElement="fraud"/>'
        '<bpmn:dataObject id="do"/>'
        '<bpmn:dataObjectReference id="claim_doc" name="Claim form" dataObjectRef="do"/>'
        '<bpmn:dataStoreReference id="crm" name="CRM"/>'
        '<bpmn:textAnnotation id="note"><bpmn:text>Within 2 days</bpmn:text></bpmn:textAnnotation>'
        '<bpmn:association id="assoc" sourceRef="check" targetRef="note"/>'
        '<bpmn:group id="grp" categoryValueRef="cv"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s_msg" targetRef="check"/>'
        "</bpmn:process>"
        '<bpmn:category id="cat"><bpmn:categoryValue id="cv" value="Front office"/></bpmn:category>'
    )
    collaboration = (
        '<bpmn:collaboration id="collab">'
        '<bpmn:participant id="pool_claims" name="Insurer" processRef="claims"/>'
        '<bpmn:participant id="pool_customer" name="Customer"/>'
        '<bpmn:messageFlow id="mf" name="claim" sourceRef="pool_customer" targetRef="s_msg"/>'
        "</bpmn:collaboration>"
    )
    shapes = [
        shape("pool_claims", 100, 200, 1500, 500, ' isHorizontal="true"'),
        shape("lane_desk", 130, 200, 1470, 500, ' isHorizontal="true"'),
        shape("pool_customer", 100, 40, 1500, 100, ' isHorizontal="true"'),
        shape("check", 260, 230, 100, 80),
        shape("cx", 400, 245, 50, 50),
        shape("sub", 480, 220, 300, 180, ' isExpanded="true"'),
        shape("inner", 560, 270, 100, 80),
        shape("tx", 820, 220, 260, 180, ' isExpanded="true"'),
        shape("tx_task", 860, 270, 100, 80),
        shape("tx_cancel_end", 1010, 292, 36, 36),
        shape("tx_cancel", 1000, 382, 36, 36),
        shape("call", 1120, 220, 240, 180, ' isExpanded="true"'),
        shape("claim_doc", 260, 420, 36, 50),
        shape("crm", 330, 420, 50, 50),
        shape("note", 420, 430, 120, 40),
        shape("grp", 240.5, 215.25, 860.001, 300.4),
    ]
    for i, (_, eid, _, _) in enumerate(EVENTS):
        shapes.append(shape(eid, 160 + i * 60, 600, 36, 36))
    edges = [
        edge("f1", (196, 618), (260, 270)),
        edge("mf", (178, 140), (178, 600)),
        edge("assoc", (310, 310), (420, 450)),
    ]
    main = (
        '<bpmndi:BPMNDiagram id="d_main" name="Overview">'
        '<bpmndi:BPMNPlane id="plane_main" bpmnElement="collab">'
        + "".join(shapes)
        + "".join(edges)
        + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )
    drill = (
        '<bpmndi:BPMNDiagram id="d_sub" name="Assess damage (detail)">'
        '<bpmndi:BPMNPlane id="plane_sub" bpmnElement="sub">'
        + shape("inner", 100, 100, 100, 80)
        + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )
    return HEAD + process + collaboration + main + drill + "</bpmn:definitions>\n"


def groups(svg: str) -> dict[str, list[etree._Element]]:
    root = etree.fromstring(svg.encode())
    found: dict[str, list[etree._Element]] = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("data-element-id"):
            found.setdefault(g.get("data-element-id") or "", []).append(g)
    return found


def bad_numbers(svg: str) -> list[str]:
    """Every number in a numeric attribute that SVG's grammar refuses (``860.``, ``1e``...)."""
    root = etree.fromstring(svg.encode())
    number = re.compile(r"-?(\d+(\.\d+)?|\.\d+)")
    bad = []
    for el in root.iter():
        for name in ("x", "y", "width", "height", "cx", "cy", "r", "points", "d", "viewBox"):
            value = el.get(name)
            if value is None:
                continue
            for token in re.findall(r"[-\d.][\d.]*", value):
                if not number.fullmatch(token):
                    bad.append(f"{name}={value!r}")
    return bad


def test_a_descriptive_collaboration_imports_with_warnings_not_errors() -> None:
    imported = import_bpmn(descriptive_model(), filename="claims.bpmn")
    assert imported.errors == ()
    messages = [w.message for w in imported.warnings]
    assert "complexGateway 'cx' is not supported" in messages
    assert any(m.startswith("no process in the document is executable") for m in messages)
    complex_warning = next(w for w in imported.warnings if "complexGateway" in w.message)
    assert complex_warning.position is not None
    assert complex_warning.position.element_id == "cx" and complex_warning.position.line == 3
    definitions = imported.definitions
    assert [d.id for d in definitions.diagrams] == ["d_main", "d_sub"]
    assert definitions.elements["s_pmulti"].parallel_multiple
    assert definitions.elements["s_multi"].markers == ("message", "signal")
    assert definitions.element_names["note"] == "Within 2 days"
    with pytest.raises(BpmnModelError, match="no process in the document is executable"):
        parse_bpmn(descriptive_model())  # what must run still refuses it


def test_errors_of_an_executable_pool_and_warnings_of_a_descriptive_one_are_told_apart() -> None:
    xml = HEAD + (
        '<bpmn:process id="run" isExecutable="true">\n'
        '<bpmn:startEvent id="go"/>\n'
        '<bpmn:sequenceFlow id="lost" sourceRef="go" targetRef="ghost"/>\n'
        "</bpmn:process>\n"
        '<bpmn:process id="doc" isExecutable="false">\n'
        '<bpmn:complexGateway id="cg"/>\n'
        "</bpmn:process>\n"
        "</bpmn:definitions>\n"
    )
    imported = import_bpmn(xml, filename="mixed.bpmn")
    errors = [(e.message, e.position.line, e.position.element_id) for e in imported.errors]  # type: ignore[union-attr]
    warnings = [(w.message, w.position.line, w.position.element_id) for w in imported.warnings]  # type: ignore[union-attr]
    assert ("sequenceFlow 'lost' targetRef 'ghost' does not exist", 5, "lost") in errors
    assert warnings == [("complexGateway 'cg' is not supported", 8, "cg")]
    with pytest.raises(BpmnModelError) as info:
        imported.executable()
    assert "ghost" in str(info.value) and "complexGateway" not in str(info.value)


def test_every_diagram_is_drawn_with_valid_numbers_and_the_shapes_of_the_spec() -> None:
    svg = render_svg(import_bpmn(descriptive_model()).definitions)
    assert bad_numbers(svg) == []
    assert "860." not in svg.replace("860.0", "")
    root = etree.fromstring(svg.encode())
    diagrams = [g.get("data-diagram-id") for g in root.iter(f"{SVG}g") if g.get("data-diagram-id")]
    assert diagrams == ["d_main", "d_sub"]
    found = groups(svg)
    assert len(found["inner"]) == 2  # in the overview and in the drill-down diagram
    # a group is a dashed frame that is not filled, drawn after (above) the tasks it groups
    frame = found["grp"][0].find(f"{SVG}rect")
    assert frame is not None and frame.get("class") == "bpmn-group-frame"
    assert "fill:none" in svg.split(".bpmn-group-frame{")[1].split("}")[0]
    assert svg.index('data-element-id="grp"') > svg.index('data-element-id="check"')
    # expanded sub-process, transaction, call activity: unfilled frames below their content
    for container, child in (("sub", "inner"), ("tx", "tx_task"), ("call", None)):
        rect = found[container][0].find(f"{SVG}rect")
        assert rect is not None and rect.get("class") == "bpmn-container", container
        if child:
            assert svg.index(f'data-element-id="{container}"') < svg.index(
                f'data-element-id="{child}"'
            )
    assert len(found["tx"][0].findall(f"{SVG}rect")) == 2  # a transaction's double border
    for eid, marker in MARKERS.items():
        drawn = [p.get("data-marker") for p in found[eid][0].iter() if p.get("data-marker")]
        assert drawn == [marker], eid
    assert "bpmn-throw" in (found["t_signal"][0].find(f"{SVG}path").get("class") or "")  # type: ignore[union-attr]
    flow = found["mf"][0].find(f"{SVG}polyline")
    assert flow is not None
    assert flow.get("marker-start") == "url(#bpmn-message-start)"
    assert flow.get("marker-end") == "url(#bpmn-open-arrow)"
    association = found["assoc"][0].find(f"{SVG}polyline")
    assert association is not None and association.get("marker-end") is None
    assert "Within 2 days" in "".join(found["note"][0].itertext())
    assert found["crm"][0].get("data-element-type") == "dataStoreReference"
    assert found["claim_doc"][0].get("data-element-type") == "dataObjectReference"
    for pool in ("pool_claims", "lane_desk", "pool_customer"):
        name = found[pool][0].find(f"{SVG}text")
        assert name is not None and (name.get("transform") or "").startswith("rotate(-90"), pool


def test_chromium_renders_the_diagram(tmp_path: Path) -> None:
    """The SVG as a browser reads it: Chromium parses it as an image (an invalid number makes it
    log an error and draw nothing) and lays out every shape."""
    from tests.web.test_browser import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent")
    from playwright.sync_api import sync_playwright

    target = tmp_path / "claims.svg"
    target.write_text(render_svg(import_bpmn(descriptive_model()).definitions), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(target.as_uri())
            assert errors == []
            assert page.locator("parsererror").count() == 0
            box = page.locator('[data-element-id="grp"] rect').bounding_box()
            assert box is not None and box["width"] > 800
            assert (
                page.locator("[data-marker]").count() == len(MARKERS) + 2
            )  # + terminate, cancel end
        finally:
            browser.close()


LANES_AND_GATEWAYS = (
    HEAD
    + """
  <bpmn:category id="cat"><bpmn:categoryValue id="cat_v" value="Fast track"/></bpmn:category>
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool" name="Desk" processRef="p"/>
    <bpmn:group id="grp" categoryValueRef="cat_v"/>
  </bpmn:collaboration>
  <bpmn:process id="p" isExecutable="false">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane_a" name="First line">
      <bpmn:flowNodeRef>plain</bpmn:flowNodeRef><bpmn:flowNodeRef>marked</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:exclusiveGateway id="plain" name="Is the claim complete"/>
    <bpmn:exclusiveGateway id="marked" default="f_gw"/>
    <bpmn:task id="work" default="f_def"/>
    <bpmn:eventBasedGateway id="race"/>
    <bpmn:sequenceFlow id="f_def" sourceRef="work" targetRef="plain"/>
    <bpmn:sequenceFlow id="f_cond" sourceRef="work" targetRef="marked">
      <bpmn:conditionExpression xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="bpmn:tFormalExpression" language="http://www.w3.org/1999/XPath">true()</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_gw" sourceRef="marked" targetRef="plain"/>
    <bpmn:sequenceFlow id="f_gw_cond" sourceRef="marked" targetRef="work"><bpmn:conditionExpression>ok</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="collab">
    <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true"><dc:Bounds x="0" y="0" width="600" height="200"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="lane_di" bpmnElement="lane_a" isHorizontal="true"><dc:Bounds x="30" y="0" width="570" height="200"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="plain_di" bpmnElement="plain" isMarkerVisible="false"><dc:Bounds x="100" y="75" width="50" height="50"/>
      <bpmndi:BPMNLabel><dc:Bounds x="70" y="130" width="80" height="14"/></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="marked_di" bpmnElement="marked" isMarkerVisible="true"><dc:Bounds x="300" y="75" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="race_di" bpmnElement="race"><dc:Bounds x="520" y="150" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="work_di" bpmnElement="work"><dc:Bounds x="450" y="60" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f_def_di" bpmnElement="f_def"><di:waypoint x="500" y="140"/><di:waypoint x="500" y="180"/><di:waypoint x="125" y="180"/><di:waypoint x="125" y="125"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f_cond_di" bpmnElement="f_cond"><di:waypoint x="450" y="100"/><di:waypoint x="350" y="100"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f_gw_di" bpmnElement="f_gw"><di:waypoint x="300" y="100"/><di:waypoint x="150" y="100"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f_gw_cond_di" bpmnElement="f_gw_cond"><di:waypoint x="325" y="75"/><di:waypoint x="325" y="20"/><di:waypoint x="500" y="20"/><di:waypoint x="500" y="60"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNShape id="grp_di" bpmnElement="grp"><dc:Bounds x="80" y="40" width="400" height="120"/>
      <bpmndi:BPMNLabel><dc:Bounds x="260" y="45" width="60" height="14"/></bpmndi:BPMNLabel></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
)


def test_lane_names_gateway_markers_and_group_labels_as_the_di_says() -> None:
    """DI isMarkerVisible="false" draws an exclusive gateway without its X (12.2.3.3); a group
    shows its category value (10.7.1); a default flow starts with a slash, a conditional flow
    out of an activity with a diamond, whatever its expression language (10.3.1, Table 10.1);
    no element's group carries a shape's stroke, so a lane's name is plain text."""
    svg = render_svg(import_bpmn(LANES_AND_GATEWAYS).definitions)
    found = groups(svg)
    flow_markers = {
        flow: [
            m.get("data-flow-marker") for m in found[flow][0].iter() if m.get("data-flow-marker")
        ]
        for flow in ("f_def", "f_cond", "f_gw", "f_gw_cond")
    }
    assert flow_markers == {
        "f_def": ["default"],
        "f_cond": ["conditional"],
        "f_gw": ["default"],
        "f_gw_cond": [],  # a gateway's conditions carry no diamond
    }
    glyphs = {
        eid: "".join(
            t.text or "" for t in found[eid][0].iter(f"{SVG}text") if t.get("class") == "bpmn-glyph"
        )
        for eid in ("plain", "marked")
    }
    assert glyphs == {"plain": "", "marked": "\u00d7"}
    # a label the modeler laid out on one line (DI bounds one line high) stays on one line
    label = [t.text for t in found["plain"][0].iter(f"{SVG}text") if t.get("class") == "bpmn-label"]
    assert label == ["Is the claim complete"]
    assert "Fast track" in "".join(found["grp"][0].itertext())
    race = found["race"][0]  # an event-based gateway: a pentagon inside a double circle
    assert len(race.findall(f"{SVG}circle")) == 2 and len(race.findall(f"{SVG}path")) == 1
    style = svg.split("<style>")[1].split("</style>")[0]
    root = etree.fromstring(svg.encode())
    for g in root.iter(f"{SVG}g"):
        for css_class in (g.get("class") or "").split():
            if css_class != "bpmn-element":
                assert f".{css_class}{{" not in style, css_class
    assert "First line" in "".join(found["lane_a"][0].itertext())


OUTSIDE_THE_POOL = (
    HEAD
    + """
  <bpmn:collaboration id="collab"><bpmn:participant id="pool" name="Onboarding" processRef="main"/></bpmn:collaboration>
  <bpmn:process id="main" isExecutable="false">
    <bpmn:startEvent id="s"/>
    <bpmn:endEvent id="declined" name="Application declined&#10;due to fraud"/>
    <bpmn:sequenceFlow id="f" name="Yellow&#10;(Moderate risk)" sourceRef="s" targetRef="declined"/>
  </bpmn:process>
  <bpmn:process id="loose"><bpmn:endEvent id="outside" name="Provisioning Completed"/></bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="collab">
    <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true"><dc:Bounds x="0" y="0" width="400" height="150"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="60" y="50" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="declined_di" bpmnElement="declined"><dc:Bounds x="300" y="50" width="36" height="36"/>
      <bpmndi:BPMNLabel><dc:Bounds x="250" y="90" width="168" height="31"/></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f_di" bpmnElement="f"><di:waypoint x="96" y="68"/><di:waypoint x="300" y="68"/>
      <bpmndi:BPMNLabel><dc:Bounds x="120" y="30" width="126" height="31"/></bpmndi:BPMNLabel></bpmndi:BPMNEdge>
    <bpmndi:BPMNShape id="outside_di" bpmnElement="outside"><dc:Bounds x="450" y="50" width="36" height="36"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
)


def test_a_process_outside_every_pool_is_descriptive_and_typed_line_breaks_are_kept() -> None:
    """As MIWG reference C.9.0 (Trisotech) is written: shapes drawn outside the one pool sit in
    a second process that no participant references and that does not say it is executable
    (isExecutable is optional in BPMN 2.0, 8.3.7). It is documentation, not a process to run:
    the file imports and deploys as descriptive, with no "no start event" error. A name with a
    typed line break (`&#10;`) is drawn on two lines, also on a flow whose label is one line."""
    imported = import_bpmn(OUTSIDE_THE_POOL)
    assert not imported.errors
    assert not imported.definitions.processes["loose"].executable
    found = groups(render_svg(imported.definitions))
    labels = {
        eid: [t.text for t in found[eid][0].iter(f"{SVG}tspan")]
        or [t.text for t in found[eid][0].iter(f"{SVG}text") if t.get("class") == "bpmn-label"]
        for eid in ("declined", "f")
    }
    assert labels == {
        "declined": ["Application declined", "due to fraud"],
        "f": ["Yellow", "(Moderate risk)"],
    }
