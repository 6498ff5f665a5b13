# ruff: noqa: E501
"""Deploy-time validation: every problem reported together, with line, element and a fix."""

from __future__ import annotations

import pytest

from flowdesk.bpmn.errors import BpmnModelError
from flowdesk.bpmn.parser import parse_bpmn
from flowdesk.core.errors import ModelError
from flowdesk.engine.testing import cond, wrap


def problems(xml: str) -> list[ModelError]:
    with pytest.raises(BpmnModelError) as info:
        parse_bpmn(xml, filename="model.bpmn")
    return list(info.value.errors)


def messages(xml: str) -> list[str]:
    return [e.message for e in problems(xml)]


def test_all_problems_are_collected_with_positions() -> None:
    xml = wrap(f"""
      <bpmn:startEvent id="s"/>
      <bpmn:exclusiveGateway id="g"/>
      <bpmn:complexGateway id="g1"/>
      <bpmn:userTask id="a"/><bpmn:userTask id="b"/>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <bpmn:sequenceFlow id="fa" sourceRef="g" targetRef="a">{cond("x > 1")}</bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="fb" sourceRef="g" targetRef="b"/>
      <bpmn:sequenceFlow id="fz" sourceRef="b" targetRef="ghost"/>
    """)
    found = problems(xml)
    texts = [e.message for e in found]
    assert "complexGateway 'g1' is not supported" in texts
    assert "sequenceFlow 'fb' leaves exclusiveGateway 'g' without a condition" in texts
    assert "sequenceFlow 'fz' targetRef 'ghost' does not exist" in texts
    fz = next(e for e in found if "ghost" in e.message)
    assert fz.position is not None
    assert (fz.position.file, fz.position.element_id, fz.position.line) == ("model.bpmn", "fz", 13)
    assert fz.hint
    assert "model.bpmn, line 13, element 'fz'" in str(fz)


def test_no_start_event() -> None:
    assert "process 'p' has no start event" in messages(wrap('<bpmn:userTask id="u"/>'))


def test_gateway_without_outgoing_flow() -> None:
    xml = wrap("""
      <bpmn:startEvent id="s"/><bpmn:parallelGateway id="g"/>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    """)
    assert "parallelGateway 'g' has no outgoing sequence flow" in messages(xml)


def test_dangling_references() -> None:
    xml = wrap("""
      <bpmn:startEvent id="s"/>
      <bpmn:exclusiveGateway id="g" default="nope"/>
      <bpmn:userTask id="u"/>
      <bpmn:boundaryEvent id="b" attachedToRef="missing"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
      <bpmn:intermediateCatchEvent id="m"><bpmn:messageEventDefinition messageRef="unknown_msg"/></bpmn:intermediateCatchEvent>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="u"/>
      <bpmn:sequenceFlow id="f2" sourceRef="b" targetRef="u"/>
      <bpmn:sequenceFlow id="f3" sourceRef="u" targetRef="m"/>
    """)
    texts = messages(xml)
    assert "default flow 'nope' of 'g' does not exist" in texts
    assert "boundaryEvent 'b' attachedToRef 'missing' does not exist" in texts
    assert "messageRef 'unknown_msg' does not exist" in texts


def test_feel_syntax_error_reports_the_column() -> None:
    xml = wrap(f"""
      <bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f2"/><bpmn:endEvent id="e"/>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="e">{cond("amount > ")}</bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e"/>
    """)
    (error,) = problems(xml)
    assert error.position is not None and error.position.element_id == "f1"
    assert "FEEL error in the condition of sequenceFlow 'f1' at column" in error.message
    assert "column 9 of 'amount >'" in error.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '<bpmn:subProcess id="t"><bpmn:endEvent id="x"><bpmn:cancelEventDefinition/></bpmn:endEvent></bpmn:subProcess>',
            "cancel end event 'x' is not inside a transaction",
        ),
        ('<bpmn:adHocSubProcess id="h"/>', "adHocSubProcess 'h' is not supported"),
        (
            '<bpmn:scriptTask id="py" scriptFormat="python"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
            "scriptFormat 'python' on scriptTask 'py' is not supported",
        ),
        (
            '<bpmn:endEvent id="c"><bpmn:cancelEventDefinition/></bpmn:endEvent>',
            "cancel end event 'c' is not inside a transaction",
        ),
        (
            '<bpmn:userTask id="l"><bpmn:extensionElements><camunda:taskListener event="create" class="x"/></bpmn:extensionElements></bpmn:userTask>',
            "camunda:taskListener on userTask 'l' is not supported (listeners run Java/scripts)",
        ),
        ('<bpmn:serviceTask id="svc"/>', "serviceTask 'svc' has no implementation"),
        ('<bpmn:callActivity id="ca"/>', "callActivity 'ca' has no calledElement"),
        (
            '<bpmn:intermediateThrowEvent id="lk"><bpmn:linkEventDefinition name="nowhere"/></bpmn:intermediateThrowEvent>',
            "link 'nowhere' thrown by 'lk' has no catching link event in the same (sub)process",
        ),
        (
            '<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition><bpmn:timeDuration>soon</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
            "timer of 't': 'soon' is not an ISO 8601 duration (e.g. PT15M, P2D, P1Y2M)",
        ),
        (
            '<bpmn:userTask id="mi"><bpmn:multiInstanceLoopCharacteristics/></bpmn:userTask>',
            "multi-instance 'mi' has neither a collection nor a cardinality",
        ),
    ],
)
def test_unsupported_and_incomplete_constructs_are_named(body: str, expected: str) -> None:
    texts = messages(wrap('<bpmn:startEvent id="s0"/>' + body))
    assert expected in texts


def test_untranslatable_juel_is_a_deploy_error() -> None:
    xml = wrap(f"""
      <bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f2"/><bpmn:endEvent id="e"/>
      <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="e">{cond("${order.isLarge()}")}</bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e"/>
    """)
    (error,) = problems(xml)
    assert "cannot be translated to FEEL" in error.message and "column" in error.message


def test_unsafe_xml_is_refused() -> None:
    with pytest.raises(ModelError, match="DOCTYPE"):
        parse_bpmn('<!DOCTYPE x [<!ENTITY a "b">]><x/>')


def test_not_bpmn() -> None:
    assert any("not bpmn:definitions" in m for m in messages("<definitions/>"))


def test_peer_python_model_is_refused_with_every_reason() -> None:
    from pathlib import Path

    peer = Path(__file__).resolve().parents[3] / "shared" / "peers" / "refund.bpmn"
    if not peer.exists():
        pytest.skip("peer models not available")
    texts = [e.message for e in problems(peer.read_text())]
    assert texts.count("condition language 'python' is not supported") == 2
    assert "scriptFormat 'python' on scriptTask 'issue' is not supported" in texts
    assert not any("without a condition" in t for t in texts)


def test_non_executable_pools_are_kept_but_not_checked() -> None:
    xml = wrap('<bpmn:startEvent id="s"/>').replace(
        "</bpmn:definitions>",
        '<bpmn:process id="docs" isExecutable="false"><bpmn:complexGateway id="cg"/>'
        "</bpmn:process></bpmn:definitions>",
    )
    definitions = parse_bpmn(xml)
    assert definitions.processes["docs"].executable is False
    from flowdesk.engine.engine import DefinitionRegistry
    from flowdesk.engine.errors import EngineError

    registry = DefinitionRegistry(definitions)
    assert registry.get("p").id == "p"
    with pytest.raises(EngineError, match="no process 'docs'"):
        registry.get("docs")


def test_a_document_without_executable_process_is_refused() -> None:
    xml = wrap('<bpmn:startEvent id="s"/>').replace('isExecutable="true"', 'isExecutable="false"')
    assert "no process in the document is executable" in messages(xml)


def test_an_element_reusing_the_process_id_is_an_error_not_a_hang() -> None:
    import pytest as _pytest

    from flowdesk.bpmn.errors import BpmnModelError
    from flowdesk.bpmn.parser import parse_bpmn
    from flowdesk.engine.testing import wrap

    model = wrap(
        """
        <bpmn:startEvent id="s"/><bpmn:userTask id="p"/>
        <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="p"/>
        """,
        process_id="p",
    )
    with _pytest.raises(BpmnModelError, match="duplicate element id 'p'"):
        parse_bpmn(model)
