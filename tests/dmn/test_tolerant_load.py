"""A model with one invalid expression: strict load refuses it (deploy, authoring checks);
tolerant load (evaluation) keeps the rest working and makes the broken element null with a
diagnostic that says where (DMN 1.5 section 10.3.2.9: an expression that cannot be
evaluated yields null)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flowdesk.cli.decide import register
from flowdesk.core.errors import ModelError
from flowdesk.dmn import load_model

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
MODEL = f"""<definitions xmlns="{NS}" id="defs" name="m" namespace="http://example.com/m">
  <decision id="good" name="Good"><variable name="Good"/>
    <literalExpression><text>1 + 2</text></literalExpression></decision>
  <decision id="bad" name="Bad"><variable name="Bad"/>
    <literalExpression><text>1 + * 2</text></literalExpression></decision>
  <decision id="uses_bad" name="Uses bad"><variable name="Uses bad"/>
    <informationRequirement><requiredDecision href="#bad"/></informationRequirement>
    <literalExpression><text>if Bad = null then "bad is null" else "?"</text></literalExpression>
  </decision>
  <decision id="bad_table" name="Bad table"><variable name="Bad table"/>
    <decisionTable hitPolicy="UNIQUE">
      <input id="in1"><inputExpression><text>5</text></inputExpression></input>
      <output id="o1" name="x"/>
      <rule id="r1"><inputEntry><text>[1..</text></inputEntry>
        <outputEntry><text>"big"</text></outputEntry></rule>
    </decisionTable></decision>
  <decision id="bad_type" name="Bad type"><variable name="Bad type" typeRef="noSuchType"/>
    <literalExpression><text>1</text></literalExpression></decision>
</definitions>"""


def test_strict_load_refuses_the_model_naming_element_and_line() -> None:
    with pytest.raises(ModelError) as info:
        load_model(MODEL)
    assert info.value.position is not None
    assert info.value.position.line == 5
    assert info.value.position.element_id == "bad"
    assert "column 5" in str(info.value)


def test_tolerant_load_keeps_the_rest_working() -> None:
    model = load_model(MODEL, tolerant=True)
    assert model.evaluate("Good").value == 3
    assert model.evaluate("Uses bad").value == "bad is null"
    assert len(model.problems) == 3
    assert {p.position.element_id for p in model.problems if p.position} == {
        "bad",
        "bad_table",
        "bad_type",
    }


@pytest.mark.parametrize("name", ["Bad", "Bad table", "Bad type"])
def test_broken_element_is_null_with_a_diagnostic_that_says_where(name: str) -> None:
    result = load_model(MODEL, tolerant=True).evaluate(name)
    assert result.value is None
    assert not result.ok
    assert "line" in result.messages()[0]


def test_cli_decide_warns_and_still_evaluates(tmp_path: Path) -> None:
    path = tmp_path / "m.dmn"
    path.write_text(MODEL, encoding="utf-8")
    application = typer.Typer()

    @application.callback()
    def root() -> None:
        """Test root, so `decide` is a sub-command."""

    register(application)
    result = CliRunner().invoke(application, ["decide", str(path), "--decision", "Good"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == 3
    assert "warning:" in result.stderr and "element 'bad'" in result.stderr
