# ruff: noqa: E501
"""Business rule tasks call the injected DecisionEvaluator; without one, starting is refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from flowdesk.engine.errors import EngineError
from flowdesk.engine.testing import wrap

MODEL = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:businessRuleTask id="discount" camunda:decisionRef="discount" camunda:resultVariable="discount" camunda:mapDecisionResult="singleEntry"/>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="discount"/>
    <bpmn:sequenceFlow id="f1" sourceRef="discount" targetRef="after"/>
""")


class Table:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def evaluate(self, decision: str, variables: Mapping[str, Any]) -> Any:
        self.calls.append((decision, {k: variables[k] for k in variables}))
        return [{"discount": 0.1 if variables["segment"] == "gold" else 0}]


def test_decision_result_mapped_to_variable(make) -> None:
    table = Table()
    engine = make(MODEL, decisions=table)
    state = engine.start("p", {"segment": "gold"})
    assert state.vars["discount"] == 0.1
    assert table.calls == [("discount", {"segment": "gold"})]


def test_missing_dmn_is_a_clear_error(make) -> None:
    engine = make(MODEL)
    with pytest.raises(EngineError, match="DMN is not available"):
        engine.start("p", {"segment": "gold"})


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="discounts" namespace="http://flowdesk.example/dmn">
  <decision id="discount" name="Discount">
    <informationRequirement id="ir"><requiredInput href="#segment"/></informationRequirement>
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="i1" label="segment"><inputExpression id="e1" typeRef="string"><text>segment</text></inputExpression></input>
      <output id="o1" name="discount" typeRef="number"/>
      <rule id="r1"><inputEntry id="a1"><text>"gold"</text></inputEntry><outputEntry id="b1"><text>0.1</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="a2"><text>not("gold")</text></inputEntry><outputEntry id="b2"><text>0</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="segment" name="segment"><variable id="v" name="segment" typeRef="string"/></inputData>
</definitions>
"""


def test_flowdesk_dmn_through_the_adapter(make) -> None:
    from decimal import Decimal

    from flowdesk.dmn import load_model
    from flowdesk.engine.decisions import DmnDecisions

    engine = make(MODEL, decisions=DmnDecisions(load_model(DMN)))
    gold = engine.start("p", {"segment": "gold"})
    assert gold.vars["discount"] == Decimal("0.1")
    other = engine.start("p", {"segment": "silver"})
    assert other.vars["discount"] == 0


@pytest.mark.parametrize(
    ("result", "mapping", "expected"),
    [
        ([{"a": 1}], "singleEntry", 1),
        (5, "singleEntry", 5),
        ([{"a": 1, "b": 2}], "singleResult", {"a": 1, "b": 2}),
        ([{"a": 1}, {"a": 2}], "collectEntries", [1, 2]),
        ([1, 2], "collectEntries", [1, 2]),
        ({"a": 1}, "resultList", [{"a": 1}]),
        (None, "singleResult", None),
    ],
)
def test_map_decision_result(result: Any, mapping: str, expected: Any) -> None:
    from flowdesk.engine.behaviours.business_rule_task import map_result

    assert map_result(result, mapping) == expected


def test_map_decision_result_refuses_ambiguity() -> None:
    from flowdesk.engine.behaviours.business_rule_task import map_result
    from flowdesk.engine.errors import Incident

    with pytest.raises(Incident):
        map_result([{"a": 1}, {"a": 2}], "singleEntry")
