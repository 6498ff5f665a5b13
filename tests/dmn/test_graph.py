"""The requirement graph: what a decision sees, free inputs, results and diagnostics."""

from __future__ import annotations

from flowdesk.core.clock import FixedClock
from flowdesk.dmn import load_model

NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"

FREE = f"""<definitions xmlns="{NS}" id="x" name="m" namespace="http://example.com/free">
  <inputData id="i_a" name="a"><variable name="a" typeRef="number"/></inputData>
  <decision id="d_b" name="B"><literalExpression><text>7</text></literalExpression></decision>
  <decision id="d" name="D">
    <informationRequirement><requiredInput href="#i_a"/></informationRequirement>
    <informationRequirement><requiredDecision href="#d_b"/></informationRequirement>
    <literalExpression><text>a + B + amount</text></literalExpression>
  </decision>
  <decision id="d_today" name="Today"><literalExpression><text>today()</text></literalExpression>
  </decision>
</definitions>"""


def test_inputs_naming_no_element_are_visible_as_variables() -> None:
    m = load_model(FREE)
    assert m.evaluate("D", {"a": 1, "amount": 10}).value == 18


def test_requirements_take_precedence_over_free_inputs() -> None:
    m = load_model(FREE)
    # "B" names a decision: the given value is not a free input, the decision's value is used
    assert m.evaluate("D", {"a": 1, "amount": 10, "B": 1000}).value == 18


def test_missing_input_is_null_and_arithmetic_with_null_is_null() -> None:
    result = load_model(FREE).evaluate("D", {"amount": 10})
    assert result.value is None


def test_unconvertible_input_becomes_null_with_diagnostic() -> None:
    result = load_model(FREE).evaluate("D", {"a": 1, "amount": object()})
    assert result.value is None
    assert any("amount" in m for m in result.messages())
    assert not result.ok


def test_clock_is_injected() -> None:
    from datetime import date

    result = load_model(FREE).evaluate("Today", {}, clock=FixedClock())
    assert result.value == date(2026, 1, 5)


def test_bkm_body_sees_its_parameters_not_the_callers_inputs() -> None:
    xml = f"""<definitions xmlns="{NS}" id="x" name="m" namespace="http://example.com/bkm">
      <businessKnowledgeModel id="b" name="Add">
        <encapsulatedLogic><formalParameter name="v"/>
          <literalExpression><text>v + amount</text></literalExpression></encapsulatedLogic>
      </businessKnowledgeModel>
      <decision id="d" name="D">
        <knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>
        <literalExpression><text>[Add(1), Add(v: 2) = null, amount]</text></literalExpression>
      </decision></definitions>"""
    assert load_model(xml).evaluate("D", {"amount": 5}).value == [None, True, 5]
