"""Loading: DMN namespaces 1.1-1.5, vendor extensions, safety, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdesk.core.errors import ModelError, NotFoundError
from flowdesk.dmn import load_model

DATA = Path(__file__).resolve().parents[1] / "data" / "dmn"
NAMESPACES = [
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
]


def model(ns: str, decision_body: str, rules: str = "") -> str:
    return f"""<definitions xmlns="{ns}" id="defs" name="m" namespace="http://example.com/m">
  <inputData id="i_age" name="Age"><variable name="Age" typeRef="number"/></inputData>
  <decision id="d" name="Check">
    <informationRequirement><requiredInput href="#i_age"/></informationRequirement>
{decision_body}
  </decision>
</definitions>"""


TABLE = "\n".join(
    [
        '    <decisionTable id="t" hitPolicy="UNIQUE">',
        '      <input id="in1" label="Age"><inputExpression typeRef="number">'
        "<text>Age</text></inputExpression></input>",
        '      <output id="o1" name="ok" typeRef="boolean"/>',
        '      <rule id="r1"><inputEntry><text>&gt;= 18</text></inputEntry>'
        "<outputEntry><text>true</text></outputEntry></rule>",
        '      <rule id="r2"><inputEntry><text>{cell}</text></inputEntry>'
        "<outputEntry><text>false</text></outputEntry></rule>",
        "    </decisionTable>",
    ]
)


@pytest.mark.parametrize("ns", NAMESPACES)
def test_every_dmn_namespace_loads(ns: str) -> None:
    m = load_model(model(ns, TABLE.format(cell="&lt; 18")))
    assert m.evaluate("Check", {"Age": 20}).value is True
    assert m.evaluate("d", {"Age": 3}).value is False  # by id too
    assert list(m.decisions) == ["Check"]


def test_dmn11_file_with_qname_types_and_vendor_extensions() -> None:
    m = load_model(DATA / "dmn11-table.dmn")
    assert m.evaluate("Band", {"Score": 720}).value == "good"
    assert m.evaluate("Band", {"Score": 10}).value == "other"


def test_feel_syntax_error_in_a_cell_names_decision_rule_column_and_line() -> None:
    xml = model(NAMESPACES[-1], TABLE.format(cell="&gt;= 18 +"))
    with pytest.raises(ModelError) as info:
        load_model(xml)
    text = str(info.value)
    assert "decision 'Check'" in text
    assert "rule 2" in text
    assert "input entry 1 ('Age')" in text
    assert "line 9" in text
    assert "FEEL syntax error" in text


def test_wrong_number_of_entries_is_a_model_error() -> None:
    table = TABLE.format(cell="&lt; 18").replace(
        "<outputEntry><text>false</text></outputEntry>",
        "<inputEntry><text>-</text></inputEntry><outputEntry><text>false</text></outputEntry>",
    )
    with pytest.raises(ModelError, match=r"line 9.*rule 2 has 2 input entries"):
        load_model(model(NAMESPACES[-1], table))


def test_unknown_hit_policy_names_the_line() -> None:
    table = TABLE.format(cell="-").replace("UNIQUE", "MOSTLY")
    with pytest.raises(ModelError, match=r"line 5.*decision 'Check': unknown hit policy 'MOSTLY'"):
        load_model(model(NAMESPACES[-1], table))


def test_reference_to_unknown_element() -> None:
    xml = model(NAMESPACES[-1], "<literalExpression><text>1</text></literalExpression>")
    xml = xml.replace('href="#i_age"', 'href="#nope"')
    with pytest.raises(
        ModelError, match=r"line 4.*decision 'Check' references unknown element '#nope'"
    ):
        load_model(xml)


def test_unknown_type_ref() -> None:
    xml = model(NAMESPACES[-1], "<literalExpression><text>1</text></literalExpression>")
    xml = xml.replace('typeRef="number"', 'typeRef="tMissing"')
    with pytest.raises(ModelError, match="unknown type 'tMissing'"):
        load_model(xml)


def test_requirement_cycle() -> None:
    ns = NAMESPACES[-1]
    xml = f"""<definitions xmlns="{ns}" id="x" name="m" namespace="http://example.com/c">
      <decision id="a" name="A"><informationRequirement><requiredDecision href="#b"/>
      </informationRequirement><literalExpression><text>B</text></literalExpression></decision>
      <decision id="b" name="B"><informationRequirement><requiredDecision href="#a"/>
      </informationRequirement><literalExpression><text>A</text></literalExpression></decision>
    </definitions>"""
    with pytest.raises(ModelError, match="requirement cycle: A -> B -> A"):
        load_model(xml)


def test_doctype_is_rejected_and_non_dmn_root() -> None:
    with pytest.raises(ModelError, match="DOCTYPE"):
        load_model('<!DOCTYPE x [<!ENTITY e "boom">]><definitions/>')
    with pytest.raises(ModelError, match="not a DMN model"):
        load_model("<definitions/>")


def test_missing_file_and_unknown_decision() -> None:
    with pytest.raises(ModelError, match="cannot read file"):
        load_model(DATA / "nope.dmn")
    m = load_model(DATA / "dmn11-table.dmn")
    with pytest.raises(NotFoundError):
        m.evaluate("Nope", {})


def test_each_decision_evaluated_once() -> None:
    ns = NAMESPACES[-1]
    xml = f"""<definitions xmlns="{ns}" id="x" name="m" namespace="http://example.com/once">
      <inputData id="i" name="xs"><variable name="xs"/></inputData>
      <decision id="a" name="A"><informationRequirement><requiredInput href="#i"/>
      </informationRequirement><literalExpression><text>xs * 2</text></literalExpression></decision>
      <decision id="b" name="B"><informationRequirement><requiredDecision href="#a"/>
      </informationRequirement><literalExpression><text>A + 1</text></literalExpression></decision>
      <decision id="c" name="C"><informationRequirement><requiredDecision href="#a"/>
      </informationRequirement><informationRequirement><requiredDecision href="#b"/>
      </informationRequirement><literalExpression><text>A + B</text></literalExpression></decision>
    </definitions>"""
    m = load_model(xml)
    calls = []
    decision_a = m.decisions["A"]
    original = decision_a.expression
    assert original is not None

    class Spy:
        def evaluate(self, scope, env):  # type: ignore[no-untyped-def]
            calls.append(1)
            return original.evaluate(scope, env)

    decision_a.expression = Spy()  # type: ignore[assignment]
    assert m.evaluate("C", {"xs": 1}).value == 5
    assert len(calls) == 1
