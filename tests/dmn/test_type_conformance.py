"""Type conformance in DMN (DMN 1.5 10.3.2.9: conformance, and the conversions of 10.3.2.9.4:
a singleton list becomes its item, an item becomes a singleton list where a list is expected,
anything else that does not conform becomes null), and `instance of` with item definitions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowdesk.dmn import DmnModel, load_model

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
ITEMS = """
<itemDefinition name="tNameAndAge">
  <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
  <itemComponent name="age"><typeRef>number</typeRef></itemComponent></itemDefinition>
<itemDefinition name="tSmall"><typeRef>number</typeRef>
  <allowedValues><text>[1..10]</text></allowedValues></itemDefinition>
<itemDefinition name="tNumbers" isCollection="true"><typeRef>number</typeRef></itemDefinition>
"""
BKM = """
<businessKnowledgeModel name="has person" id="bkm">
  <variable name="has person"/>
  <encapsulatedLogic><formalParameter name="p" typeRef="tNameAndAge"/>
    <literalExpression><text>p != null</text></literalExpression></encapsulatedLogic>
</businessKnowledgeModel>
"""


def model(decisions: dict[str, tuple[str, str]]) -> str:
    body = "".join(
        f'<decision name="{name}" id="{name}"><variable name="{name}"'
        + (f' typeRef="{type_ref}"' if type_ref else "")
        + '/><knowledgeRequirement><requiredKnowledge href="#bkm"/></knowledgeRequirement>'
        + f"<literalExpression><text>{text}</text></literalExpression></decision>"
        for name, (type_ref, text) in decisions.items()
    )
    return (
        f'<definitions xmlns="{NS}" name="t" namespace="http://example.com/t" id="t">'
        f"{ITEMS}{BKM}{body}</definitions>"
    )


CASES = {
    # name: (typeRef, FEEL text with &quot; for quotes, expected value)
    "number_as_string": ("string", "1 + 1", None),
    "singleton_list_to_item": ("string", "[&quot;foo&quot;]", "foo"),
    "singleton_list_wrong_item": ("string", "[1]", None),
    "item_to_singleton_list": ("tNumbers", "10", [Decimal(10)]),
    "list_with_a_wrong_item": ("tNumbers", "[1, 2, &quot;foo&quot;]", None),
    "context_with_more_keys": (
        "tNameAndAge",
        "{name: &quot;a&quot;, surname: &quot;b&quot;, age: 10}",
        {"name": "a", "surname": "b", "age": Decimal(10)},
    ),
    "context_missing_a_component": ("tNameAndAge", "{name: &quot;a&quot;}", None),
    "parameter_not_conforming_is_null": ("", "has person({name: &quot;a&quot;})", False),
    "parameter_conforming": ("", "has person({name: &quot;a&quot;, age: 1})", True),
    "instance_of_item_definition": (
        "",
        "[{name: &quot;a&quot;, age: 3} instance of tNameAndAge, "
        "{name: &quot;a&quot;} instance of tNameAndAge, 5 instance of tSmall, "
        "11 instance of tSmall, [1] instance of tNumbers, null instance of tSmall]",
        # Table 61: instance of is type conformance (10.3.2.9), which has no allowed values, so
        # 11 is an instance of tSmall (number restricted to small values) all the same.
        [True, False, True, True, True, False],
    ),
    # Rule 52: a FEEL type may name item definitions inside it (list<T>, context<k: T>).
    "instance_of_list_of_item_definition": (
        "",
        "[[{name: &quot;a&quot;, age: 3}] instance of list&lt;tNameAndAge&gt;, "
        "[{name: &quot;a&quot;}] instance of list&lt;tNameAndAge&gt;, "
        "{p: {name: &quot;a&quot;, age: 3}} instance of context&lt;p: tNameAndAge&gt;]",
        [True, False, True],
    ),
}


@pytest.fixture(scope="module")
def loaded() -> DmnModel:
    return load_model(model({k: (t, x) for k, (t, x, _) in CASES.items()}))


@pytest.mark.parametrize("name", list(CASES))
def test_conformance_and_conversion(loaded: DmnModel, name: str) -> None:
    result = loaded.evaluate(name)
    assert result.value == CASES[name][2]


def test_input_data_may_leave_out_components() -> None:
    text = (
        f'<definitions xmlns="{NS}" name="t" namespace="http://example.com/t" id="t">{ITEMS}'
        '<inputData name="Person" id="person"><variable name="Person" typeRef="tNameAndAge"/>'
        '</inputData><decision name="Name" id="d"><variable name="Name"/>'
        '<informationRequirement><requiredInput href="#person"/></informationRequirement>'
        "<literalExpression><text>Person.name</text></literalExpression></decision>"
        "</definitions>"
    )
    assert load_model(text).evaluate("Name", {"Person": {"name": "Ada"}}).value == "Ada"


# 10.3.1.6: names are matched longest first against the names in scope. A BKM whose formal
# parameters are named `Person.Gender` (as modellers export "implicit" parameters) reads them
# as names inside its body, while the invoking decision reads the same text as the path
# Person -> Gender.
IMPLICIT = f"""<definitions xmlns="{NS}" name="i" namespace="http://example.com/i" id="i">
  <inputData id="in" name="Person"><variable name="Person"/></inputData>
  <decision id="d" name="Description of person"><variable name="Description of person"/>
    <informationRequirement><requiredInput href="#in"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="#bkm"/></knowledgeRequirement>
    <invocation>
      <literalExpression><text>Describe</text></literalExpression>
      <binding><parameter name="Person.Name"/>
        <literalExpression><text>Person.Name</text></literalExpression></binding>
      <binding><parameter name="Person.Children"/>
        <literalExpression><text>Person.Children</text></literalExpression></binding>
    </invocation></decision>
  <businessKnowledgeModel id="bkm" name="Describe"><variable name="Describe"/>
    <encapsulatedLogic>
      <formalParameter name="Person.Name"/><formalParameter name="Person.Children"/>
      <literalExpression>
        <text>Person.Name + " has " + string(Person.Children) + " children"</text>
      </literalExpression></encapsulatedLogic></businessKnowledgeModel>
</definitions>"""


def test_bkm_parameters_named_like_paths() -> None:
    result = load_model(IMPLICIT).evaluate(
        "Description of person", {"Person": {"Name": "Ada", "Children": 2}}
    )
    assert result.value == "Ada has 2 children"
    assert result.ok


def test_nested_singleton_list_becomes_its_item() -> None:
    text = model({"nested": ("number", "[[10]]"), "nested_wrong": ("number", "[[&quot;a&quot;]]")})
    loaded = load_model(text)
    assert loaded.evaluate("nested").value == 10
    assert loaded.evaluate("nested_wrong").value is None


# DMN 1.5 6.3.x: a decision service's variable is typed by a function item definition; the
# service's result must conform to that function's outputTypeRef.
SERVICE = f"""<definitions xmlns="{NS}" name="s" namespace="http://example.com/s" id="s">
  <itemDefinition name="tText"><functionItem outputTypeRef="string"/></itemDefinition>
  <itemDefinition name="tNumberFn"><functionItem outputTypeRef="number"/></itemDefinition>
  <decisionService name="Wrong" id="wrong"><variable name="Wrong" typeRef="tText"/>
    <outputDecision href="#d"/></decisionService>
  <decisionService name="Right" id="right"><variable name="Right" typeRef="tNumberFn"/>
    <outputDecision href="#d"/></decisionService>
  <decision name="D" id="d"><variable name="D"/>
    <literalExpression><text>1000</text></literalExpression></decision>
</definitions>"""


def test_decision_service_result_conforms_to_the_function_output_type() -> None:
    loaded = load_model(SERVICE)
    assert loaded.evaluate_service("Right").value == 1000
    wrong = loaded.evaluate_service("Wrong")
    assert wrong.value is None
    assert "does not conform" in wrong.messages()[0]
