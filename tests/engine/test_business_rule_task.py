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
