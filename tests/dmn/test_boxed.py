"""Boxed expressions (DMN 1.5 chapter 7, 8 and 10.3.2.x): one model per kind."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flowdesk.dmn import load_model

NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"


def decide(body: str, inputs: dict[str, Any] | None = None, extra: str = "") -> Any:
    """Evaluate decision 'D' whose boxed expression is `body`; input data n (number) and
    xs (list) are required by D."""
    xml = f"""<definitions xmlns="{NS}" id="defs" name="boxed" namespace="http://example.com/b">
      <inputData id="i_n" name="n"><variable name="n" typeRef="number"/></inputData>
      <inputData id="i_xs" name="xs"><variable name="xs"/></inputData>
      {extra}
      <decision id="d" name="D">
        <informationRequirement><requiredInput href="#i_n"/></informationRequirement>
        <informationRequirement><requiredInput href="#i_xs"/></informationRequirement>
        {body}
      </decision></definitions>"""
    result = load_model(xml).evaluate("D", inputs or {})
    return result.value


def lit(text: str) -> str:
    return f"<literalExpression><text>{text}</text></literalExpression>"


def test_literal_expression_uses_inputs() -> None:
    assert decide(lit("n * 2"), {"n": 21}) == 42


def test_context_entries_see_earlier_entries_and_result_entry() -> None:
    body = f"""<context>
      <contextEntry><variable name="a"/>{lit("n + 1")}</contextEntry>
      <contextEntry><variable name="b"/>{lit("a * 10")}</contextEntry>
    </context>"""
    assert decide(body, {"n": 1}) == {"a": 2, "b": 20}
    with_result = body.replace(
        "</context>", f"<contextEntry>{lit('a + b')}</contextEntry></context>"
    )
    assert decide(with_result, {"n": 1}) == 22


def test_context_entry_type_mismatch_becomes_null() -> None:
    body = f"""<context><contextEntry><variable name="a" typeRef="number"/>{lit('"text"')}
      </contextEntry></context>"""
    assert decide(body) == {"a": None}


def test_relation_is_a_list_of_contexts() -> None:
    body = f"""<relation><column name="name"/><column name="score"/>
      <row>{lit('"ann"')}{lit("1")}</row><row>{lit('"bob"')}{lit("n")}</row></relation>"""
    assert decide(body, {"n": 7}) == [{"name": "ann", "score": 1}, {"name": "bob", "score": 7}]


def test_list() -> None:
    assert decide(f"<list>{lit('1')}{lit('n')}{lit('null')}</list>", {"n": 3}) == [1, 3, None]


def test_function_definition_and_invocation_in_a_context() -> None:
    body = f"""<context>
      <contextEntry><variable name="twice"/>
        <functionDefinition><formalParameter name="v" typeRef="number"/>{lit("v * 2")}
        </functionDefinition></contextEntry>
      <contextEntry><invocation>{lit("twice")}
        <binding><parameter name="v"/>{lit("n")}</binding></invocation></contextEntry>
    </context>"""
    assert decide(body, {"n": 5}) == 10


def test_recursive_function_in_a_context() -> None:
    body = f"""<context>
      <contextEntry><variable name="fact"/>
        <functionDefinition><formalParameter name="k"/>
          {lit("if k &lt;= 1 then 1 else k * fact(k - 1)")}</functionDefinition></contextEntry>
      <contextEntry>{lit("fact(n)")}</contextEntry></context>"""
    assert decide(body, {"n": 5}) == 120


def test_java_function_kind_gives_null_and_a_clear_diagnostic() -> None:
    body = f"""<context>
      <contextEntry><variable name="f"/>
        <functionDefinition kind="Java">{lit('"java.lang.Math"')}</functionDefinition>
      </contextEntry>
      <contextEntry>{lit("f(1)")}</contextEntry></context>"""
    xml_value = decide(body)
    assert xml_value is None


def test_invocation_of_a_bkm_with_named_bindings() -> None:
    bkm = f"""<businessKnowledgeModel id="b" name="Scale">
      <encapsulatedLogic><formalParameter name="value"/><formalParameter name="factor"/>
      {lit("value * factor")}</encapsulatedLogic></businessKnowledgeModel>"""
    body = f"""<invocation>{lit("Scale")}
      <binding><parameter name="factor"/>{lit("3")}</binding>
      <binding><parameter name="value"/>{lit("n")}</binding></invocation>"""
    body = '<knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>' + body
    assert decide(body, {"n": 4}, extra=bkm) == 12


def test_conditional() -> None:
    body = f"""<conditional><if>{lit("n &gt; 10")}</if><then>{lit('"big"')}</then>
      <else>{lit('"small"')}</else></conditional>"""
    assert decide(body, {"n": 11}) == "big"
    assert decide(body, {"n": 1}) == "small"
    assert decide(body, {}) == "small"  # null condition: else branch


def test_filter_binds_item_and_context_entries() -> None:
    body = f"""<filter><in>{lit("xs")}</in><match>{lit("item.price &gt; n")}</match></filter>"""
    xs = [{"price": 5}, {"price": 15}, {"price": 25}]
    assert decide(body, {"n": 10, "xs": xs}) == [{"price": 15}, {"price": 25}]
    by_entry = body.replace("item.price", "price")
    assert decide(by_entry, {"n": 20, "xs": xs}) == [{"price": 25}]


def test_for_some_every_iterators() -> None:
    for_body = f"""<for iteratorVariable="x"><in>{lit("xs")}</in>
      <return>{lit("x * n")}</return></for>"""
    assert decide(for_body, {"n": 2, "xs": [1, 2, 3]}) == [2, 4, 6]
    some = f"""<some iteratorVariable="x"><in>{lit("xs")}</in>
      <satisfies>{lit("x &gt; n")}</satisfies></some>"""
    assert decide(some, {"n": 2, "xs": [1, 2, 3]}) is True
    assert decide(some, {"n": 5, "xs": [1, 2, 3]}) is False
    every = some.replace("some", "every")
    assert decide(every, {"n": 0, "xs": [1, 2, 3]}) is True
    assert decide(every, {"n": 1, "xs": [1, 2, 3]}) is False


def test_expression_type_ref_coerces_result() -> None:
    body = '<literalExpression typeRef="number"><text>"seven"</text></literalExpression>'
    assert decide(body) is None
    body = '<literalExpression typeRef="number"><text>[n]</text></literalExpression>'
    assert decide(body, {"n": 7}) == Decimal(7)  # singleton list unwrapped


def test_bkm_whose_body_is_a_decision_table() -> None:
    bkm = """<businessKnowledgeModel id="b" name="Band Of">
      <encapsulatedLogic><formalParameter name="score" typeRef="number"/>
        <decisionTable hitPolicy="FIRST">
          <input label="score"><inputExpression><text>score</text></inputExpression></input>
          <output name="band" typeRef="string"/>
          <rule><inputEntry><text>&gt;= 700</text></inputEntry>
            <outputEntry><text>"good"</text></outputEntry></rule>
          <rule><inputEntry><text>-</text></inputEntry>
            <outputEntry><text>"poor"</text></outputEntry></rule>
        </decisionTable></encapsulatedLogic></businessKnowledgeModel>"""
    body = '<knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>' + lit(
        "[Band Of(n), Band Of(score: 10)]"
    )
    assert decide(body, {"n": 720}, extra=bkm) == ["good", "poor"]


def test_bkm_parameter_type_is_checked() -> None:
    bkm = f"""<businessKnowledgeModel id="b" name="Twice">
      <encapsulatedLogic><formalParameter name="v" typeRef="number"/>{lit("v * 2")}
      </encapsulatedLogic></businessKnowledgeModel>"""
    body = '<knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>' + lit(
        'Twice("x")'
    )
    assert decide(body, {}, extra=bkm) is None
