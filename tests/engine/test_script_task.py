# ruff: noqa: E501
"""Script tasks: FEEL with a result variable (Camunda and Zeebe styles), io mappings."""

from __future__ import annotations

from decimal import Decimal

from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:scriptTask id="total" scriptFormat="feel" camunda:resultVariable="total">
      <bpmn:script>sum(for line in lines return line.price * line.qty)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="label">
      <bpmn:extensionElements><zeebe:script expression="=if total &gt; 100 then &quot;big&quot; else &quot;small&quot;" resultVariable="size"/></bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="total"/>
    <bpmn:sequenceFlow id="f1" sourceRef="total" targetRef="label"/>
    <bpmn:sequenceFlow id="f2" sourceRef="label" targetRef="after"/>
""")


def test_scripts_compute_result_variables(make) -> None:
    engine = make(MODEL)
    lines = [{"price": 40, "qty": 2}, {"price": 12.5, "qty": 2}]
    state = engine.start("p", {"lines": lines})
    assert state.vars["total"] == Decimal("105")
    assert state.vars["size"] == "big"
    var_events = [
        e for e in engine.events if e.type == "variables_changed" and e.element_id == "total"
    ]
    assert var_events and "total" in (var_events[0].data or {})["variables"]


def test_failing_script_is_an_incident(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {})
    assert [i.el for i in state.incidents.values()] == ["total"]
