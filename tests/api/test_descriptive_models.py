"""Descriptive models deploy for diagrams and conformance checking: a model that pm4py discovered
and exported as BPMN deploys without edits (with warnings, not errors), cannot be started, draws,
and an XES log replays on it; an executable model with a broken flow is still refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.api.test_service_api import Api, _problem, api  # noqa: F401
from typer.testing import CliRunner

from flowdesk.analytics.export import write_xes
from flowdesk.analytics.log import EventLog
from flowdesk.cli.main import app as flowdesk
from flowdesk.engine.testing import wrap

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = "id5b1f0c2e-7d7e-4a55-9a43-0d2f6c1f4a11"


def pm4py_bpmn() -> str:
    """A model in the shape of pm4py's BPMN exporter (pm4py.write_bpmn): default namespace, the
    diagram before the process, isExecutable="false", uuid ids, unnamed gateways, flows without
    conditions, minidom's pretty print and float coordinates."""
    nodes = [
        ("startEvent", "idstart", "start", 'isInterrupting="true" parallelMultiple="false"'),
        ("task", "idt_register", "register request", ""),
        ("exclusiveGateway", "idg_split", "", 'gatewayDirection="unspecified"'),
        ("task", "idt_check", "check ticket", ""),
        ("task", "idt_examine", "examine thoroughly", ""),
        ("exclusiveGateway", "idg_join", "", 'gatewayDirection="unspecified"'),
        ("task", "idt_decide", "decide", ""),
        ("endEvent", "idend", "end", ""),
    ]
    flows = [
        ("f1", "idstart", "idt_register"),
        ("f2", "idt_register", "idg_split"),
        ("f3", "idg_split", "idt_check"),
        ("f4", "idg_split", "idt_examine"),
        ("f5", "idt_check", "idg_join"),
        ("f6", "idt_examine", "idg_join"),
        ("f7", "idg_join", "idt_decide"),
        ("f8", "idt_decide", "idend"),
    ]
    shapes = "".join(
        f'\t\t\t<bpmndi:BPMNShape bpmnElement="{nid}" id="{nid}_gui">\n'
        f'\t\t\t\t<omgdc:Bounds height="{60.0 if kind == "task" else 30.0}" '
        f'width="{100.0 if kind == "task" else 30.0}" x="{i * 150.0 + 0.5}" y="{100.0}"/>\n'
        "\t\t\t</bpmndi:BPMNShape>\n"
        for i, (kind, nid, _, _) in enumerate(nodes)
    )
    edges = "".join(
        f'\t\t\t<bpmndi:BPMNEdge bpmnElement="id{fid}" id="id{fid}_gui">\n'
        f'\t\t\t\t<omgdi:waypoint x="{i * 150.0 + 30.0}" y="115.0"/>\n'
        f'\t\t\t\t<omgdi:waypoint x="{i * 150.0 + 150.5}" y="115.0"/>\n'
        "\t\t\t</bpmndi:BPMNEdge>\n"
        for i, (fid, _, _) in enumerate(flows)
    )
    elements = ""
    for kind, nid, name, attrs in nodes:
        incoming = "".join(f"\t\t\t<incoming>id{f}</incoming>\n" for f, _, t in flows if t == nid)
        outgoing = "".join(f"\t\t\t<outgoing>id{f}</outgoing>\n" for f, s, _ in flows if s == nid)
        elements += (
            f'\t\t<{kind} id="{nid}" {attrs} name="{name}">\n{incoming}{outgoing}\t\t</{kind}>\n'
        )
    elements += "".join(
        f'\t\t<sequenceFlow id="id{fid}" name="" sourceRef="{s}" targetRef="{t}"/>\n'
        for fid, s, t in flows
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:omgdc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:omgdi="http://www.omg.org/spec/DD/20100524/DI" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'targetNamespace="http://www.signavio.com/bpmn20" '
        'typeLanguage="http://www.w3.org/2001/XMLSchema" '
        'expressionLanguage="http://www.w3.org/1999/XPath" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n'
        '\t<bpmndi:BPMNDiagram id="id0c7e" name="diagram">\n'
        f'\t\t<bpmndi:BPMNPlane bpmnElement="{KEY}" id="id9a1d">\n'
        f"{shapes}{edges}"
        "\t\t</bpmndi:BPMNPlane>\n\t</bpmndi:BPMNDiagram>\n"
        f'\t<process id="{KEY}" isClosed="false" isExecutable="false" processType="None">\n'
        f"{elements}\t</process>\n</definitions>\n"
    )


def cli(*args: str) -> Any:
    return CliRunner().invoke(flowdesk, list(args))


def test_a_pm4py_model_deploys_and_checks_the_conformance_of_a_log(tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'flowdesk.db'}"]
    model = tmp_path / "discovered.bpmn"
    model.write_text(pm4py_bpmn(), encoding="utf-8")
    deployed = cli("deploy", str(model), *db)
    assert deployed.exit_code == 0, deployed.output
    assert f"{KEY}:1" in deployed.output
    assert "warning:" in deployed.output and "no process in the document is executable" in (
        deployed.output
    )
    refused = cli("start", KEY, *db)
    assert refused.exit_code != 0 and "is descriptive" in str(refused.exception)
    traces = {
        "quick": ["register request", "check ticket", "decide"],
        "thorough": ["register request", "examine thoroughly", "decide"],
        "skipped": ["register request", "decide"],
    }
    log = EventLog.from_records(
        {"case": case, "activity": name, "timestamp": T0 + timedelta(minutes=i)}
        for case, names in traces.items()
        for i, name in enumerate(names)
    )
    xes = tmp_path / "log.xes"
    write_xes(log, xes)
    result = cli("mine", str(xes), "--conformance", KEY, "--json", *db)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["cases"], report["fitting_cases"]) == (3, 2)
    assert [c["case"] for c in report["worst_cases"]] == ["skipped"]


def test_deploy_tells_warnings_from_errors_with_line_and_element(api: Api) -> None:  # noqa: F811
    descriptive = api.deploy(("discovered.bpmn", pm4py_bpmn()))
    assert descriptive.status_code == 201, descriptive.text
    body = descriptive.json()
    assert [d["key"] for d in body["definitions"]] == [KEY]
    warning = next(w for w in body["warnings"] if "executable" in w["message"])
    assert warning["file"] == "discovered.bpmn"
    svg = api.client.get(
        f"/api/v1/process-definitions/{KEY}:1/diagram.svg", headers=api.as_("agent")
    )
    assert svg.status_code == 200 and 'data-element-id="idt_decide"' in svg.text
    start = api.client.post(
        "/api/v1/process-instances", json={"processKey": KEY}, headers=api.as_("admin")
    )
    assert 400 <= start.status_code < 500 and "descriptive" in start.text
    # an executable pool with a dangling flow is refused; a descriptive pool beside it only warns
    mixed = wrap(
        '<bpmn:startEvent id="s"/>\n<bpmn:sequenceFlow id="lost" sourceRef="s" targetRef="ghost"/>',
        process_id="run",
    ).replace(
        "</bpmn:definitions>",
        '<bpmn:process id="doc" isExecutable="false">\n<bpmn:complexGateway id="cg"/>\n'
        "</bpmn:process></bpmn:definitions>",
    )
    problem = _problem(api.deploy(("mixed.bpmn", mixed)), 422)
    assert [(e["element_id"], e["severity"]) for e in problem["errors"]] == [("lost", "error")]
    assert problem["line"] > 1
