"""Item definitions: type checking and coercion of values (DMN 1.5 7.3.2, 10.3.2.9.4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flowdesk.dmn import load_model
from flowdesk.dmn.items import ItemType, builtin_type
from flowdesk.feel.runtime import Env

NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"
ITEMS = """
  <itemDefinition name="tStatus"><typeRef>string</typeRef>
    <allowedValues><text>"EMPLOYED","STUDENT"</text></allowedValues></itemDefinition>
  <itemDefinition name="tPerson">
    <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
    <itemComponent name="born"><typeRef>date</typeRef></itemComponent>
  </itemDefinition>
  <itemDefinition name="tScores" isCollection="true"><typeRef>number</typeRef></itemDefinition>
  <itemDefinition name="tSmall"><typeRef>number</typeRef>
    <allowedValues><text>[0..10]</text></allowedValues></itemDefinition>
"""


def echo(type_ref: str, value: Any) -> tuple[Any, list[str]]:
    """Decision 'D' returns input data 'v' typed `type_ref`."""
    xml = f"""<definitions xmlns="{NS}" id="defs" name="items" namespace="http://example.com/i">
      {ITEMS}
      <inputData id="i_v" name="v"><variable name="v" typeRef="{type_ref}"/></inputData>
      <decision id="d" name="D"><informationRequirement><requiredInput href="#i_v"/>
      </informationRequirement><literalExpression><text>v</text></literalExpression></decision>
    </definitions>"""
    result = load_model(xml).evaluate("D", {"v": value})
    return result.value, result.messages()


def test_builtin_numbers_and_python_conversion() -> None:
    assert echo("number", 3) == (Decimal(3), [])
    value, messages = echo("number", "3")
    assert value is None and "does not conform to type 'number'" in messages[0]


def test_bool_is_not_a_number() -> None:
    value, messages = echo("number", True)
    assert value is None and messages


def test_allowed_values() -> None:
    assert echo("tStatus", "STUDENT")[0] == "STUDENT"
    value, messages = echo("tStatus", "RETIRED")
    assert value is None and "tStatus" in messages[0]
    assert echo("tSmall", 10)[0] == 10
    assert echo("tSmall", 11)[0] is None


def test_structured_type_checks_its_components() -> None:
    ok = {"name": "Ada", "born": date(1815, 12, 10)}
    assert echo("tPerson", ok)[0] == ok
    assert echo("tPerson", {"name": 5})[0] is None
    assert echo("tPerson", "Ada")[0] is None


def test_collection_wraps_single_value_and_checks_elements() -> None:
    assert echo("tScores", [1, 2])[0] == [1, 2]
    assert echo("tScores", 5)[0] == [5]
    assert echo("tScores", [1, "x"])[0] is None


def test_singleton_list_unwrapped_for_non_collection() -> None:
    assert echo("number", [4])[0] == 4


def test_iso_text_parsed_for_temporal_input_types() -> None:
    assert echo("date", "2024-01-31")[0] == date(2024, 1, 31)
    value, messages = echo("date", "31/01/2024")
    assert value is None and messages
    assert echo("string", "2024-01-31")[0] == "2024-01-31"


def test_iso_text_parsed_inside_components_and_collections() -> None:
    value, messages = echo("tPerson", {"name": "Ada", "born": "1815-12-10"})
    assert value == {"name": "Ada", "born": date(1815, 12, 10)}, messages
    assert echo("list&lt;date&gt;", ["2024-01-01", "2024-02-01"])[0] == [
        date(2024, 1, 1),
        date(2024, 2, 1),
    ]
    assert echo("tPerson", {"name": "Ada", "born": "yesterday"})[0] is None


def test_null_conforms_to_every_type() -> None:
    assert echo("tPerson", None) == (None, [])


def test_builtin_type_spellings() -> None:
    env = Env()
    assert builtin_type("feel:number") is not None
    dt = builtin_type("dateTime")
    assert dt is not None and dt.base == "date and time"
    nums = builtin_type("list<number>")
    assert nums is not None and nums.conforms([Decimal(1)], env)
    assert not nums.conforms(["a"], env)
    assert builtin_type("tUnknown") is None
    ctx = builtin_type("context<a: number>")
    assert ctx is not None and ctx.conforms({"a": Decimal(1)}, env)
    assert not ctx.conforms([1], env)
    assert ItemType("Any").coerce("x", env, "v") == "x"
