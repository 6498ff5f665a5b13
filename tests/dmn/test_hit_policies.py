"""Hit policies (DMN 1.5 section 8.2.11): pure selection functions and whole tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flowdesk.core.errors import ModelError
from flowdesk.dmn import hit_policies, load_model
from flowdesk.feel.runtime import Env

NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"


def table(
    hit_policy: str,
    rules: list[tuple[str, list[str]]],
    outputs: list[tuple[str, str, str | None]],
    aggregation: str | None = None,
    default: str | None = None,
) -> str:
    """One decision 'D' with input x (number): rules are (input entry, [output entries]),
    outputs are (name, typeRef, outputValues text or None)."""
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    parts = [
        f'<definitions xmlns="{NS}" id="defs" name="hp" namespace="http://example.com/hp">',
        '<inputData id="i_x" name="x"><variable name="x" typeRef="number"/></inputData>',
        '<decision id="d" name="D"><informationRequirement id="ir">'
        '<requiredInput href="#i_x"/></informationRequirement>',
        f'<decisionTable id="t" hitPolicy="{hit_policy}"{agg}>',
        '<input id="in1" label="x"><inputExpression typeRef="number"><text>x</text>'
        "</inputExpression></input>",
    ]
    for name, type_ref, values_text in outputs:
        ov = f"<outputValues><text>{values_text}</text></outputValues>" if values_text else ""
        dflt = f"<defaultOutputEntry><text>{default}</text></defaultOutputEntry>" if default else ""
        parts.append(
            f'<output id="o_{name}" name="{name}" typeRef="{type_ref}">{ov}{dflt}</output>'
        )
    for k, (test, outs) in enumerate(rules):
        test = test.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts.append(f'<rule id="r{k}"><inputEntry><text>{test}</text></inputEntry>')
        parts += [f"<outputEntry><text>{o}</text></outputEntry>" for o in outs]
        parts.append("</rule>")
    parts += ["</decisionTable></decision></definitions>"]
    return "\n".join(parts)


# x = 12 matches all three rules; outputValues make "c" the highest priority, then "b", "a".
OVERLAP = [("> 0", ['"a"', "10"]), ("> 5", ['"b"', "20"]), ("> 10", ['"c"', "5"])]
TWO = [("y", "string", '"c","b","a"'), ("z", "number", None)]


def run(xml: str, x: Any) -> tuple[Any, list[str]]:
    result = load_model(xml).evaluate("D", {"x": x})
    return result.value, result.messages()


def test_parse_hit_policy_names_and_aggregations() -> None:
    assert hit_policies.parse_hit_policy(None, None) == "U"
    assert hit_policies.parse_hit_policy("RULE ORDER", None) == "R"
    assert hit_policies.parse_hit_policy("COLLECT", "SUM") == "C+"
    assert hit_policies.parse_hit_policy("COLLECT", "COUNT") == "C#"
    assert hit_policies.parse_hit_policy("C<", None) == "C<"
    assert hit_policies.parse_hit_policy("FIRST", "SUM") is None
    assert hit_policies.parse_hit_policy("SOMETIMES", None) is None


def test_pick_single_unique_conflict_is_null_with_diagnostic() -> None:
    env = Env()
    assert hit_policies.pick_single("U", [[1], [2]], lambda r: (), env, "t") is None
    assert "UNIQUE" in env.diagnostics.messages()[0]


def test_aggregate_count_is_distinct_and_empty_sum_is_null() -> None:
    env = Env()
    d = Decimal
    assert hit_policies.aggregate("#", [d(1), d(1), d(2)], env, "t") == 2
    assert hit_policies.aggregate("#", [], env, "t") == 0
    assert hit_policies.aggregate("+", [], env, "t") is None
    assert hit_policies.aggregate("+", [d(1), d(1), d(2)], env, "t") == 4
    assert hit_policies.aggregate("+", [d(1), "a"], env, "t") is None
    assert env.diagnostics  # the string made the sum fail


def test_unique_single_match_and_conflict() -> None:
    assert run(table("UNIQUE", OVERLAP, TWO), 3)[0] == {"y": "a", "z": 10}
    value, messages = run(table("UNIQUE", OVERLAP, TWO), 12)
    assert value is None
    assert any("UNIQUE" in m and "3 rules" in m for m in messages)


def test_unique_no_match_is_null_or_default() -> None:
    assert run(table("UNIQUE", OVERLAP, TWO), -1)[0] is None
    single = [("> 0", ["1"])]
    assert run(table("UNIQUE", single, [("z", "number", None)], default="99"), -1)[0] == 99


def test_any_equal_outputs_and_differing_outputs() -> None:
    same = [("> 0", ['"ok"']), ("> 5", ['"ok"'])]
    assert run(table("ANY", same, [("y", "string", None)]), 12)[0] == "ok"
    value, messages = run(table("ANY", OVERLAP, TWO), 12)
    assert value is None
    assert any("ANY" in m for m in messages)


def test_first_takes_first_matching_rule() -> None:
    assert run(table("FIRST", OVERLAP, TWO), 12)[0] == {"y": "a", "z": 10}
    assert run(table("FIRST", OVERLAP, TWO), 7)[0] == {"y": "a", "z": 10}


def test_priority_orders_by_output_values() -> None:
    assert run(table("PRIORITY", OVERLAP, TWO), 12)[0] == {"y": "c", "z": 5}
    assert run(table("PRIORITY", OVERLAP, TWO), 7)[0] == {"y": "b", "z": 20}


def test_rule_order_and_output_order() -> None:
    assert run(table("RULE ORDER", OVERLAP, TWO), 12)[0] == [
        {"y": "a", "z": 10},
        {"y": "b", "z": 20},
        {"y": "c", "z": 5},
    ]
    assert run(table("OUTPUT ORDER", OVERLAP, TWO), 12)[0] == [
        {"y": "c", "z": 5},
        {"y": "b", "z": 20},
        {"y": "a", "z": 10},
    ]


def test_collect_without_and_with_aggregation() -> None:
    z = [("z", "number", None)]
    rules = [(t, [o[1]]) for t, o in OVERLAP]
    assert run(table("COLLECT", rules, z), 12)[0] == [10, 20, 5]
    assert run(table("COLLECT", rules, z, "SUM"), 12)[0] == 35
    assert run(table("COLLECT", rules, z, "MIN"), 12)[0] == 5
    assert run(table("COLLECT", rules, z, "MAX"), 12)[0] == 20
    assert run(table("COLLECT", rules, z, "COUNT"), 12)[0] == 3
    assert run(table("COLLECT", rules, z), -1)[0] == []


def test_collect_aggregations_over_no_match() -> None:
    z = [("z", "number", None)]
    rules = [(t, [o[1]]) for t, o in OVERLAP]
    assert run(table("COLLECT", rules, z, "SUM"), -1)[0] is None
    assert run(table("COLLECT", rules, z, "MIN"), -1)[0] is None
    assert run(table("COLLECT", rules, z, "COUNT"), -1)[0] == 0


def test_collect_count_counts_distinct_outputs() -> None:
    z = [("z", "number", None)]
    rules = [("> 0", ["1"]), ("> 5", ["1"]), ("> 10", ["2"])]
    assert run(table("COLLECT", rules, z, "COUNT"), 12)[0] == 2
    assert run(table("COLLECT", rules, z, "SUM"), 12)[0] == 4


def test_output_value_outside_output_values_is_null() -> None:
    rules = [("> 0", ['"zzz"'])]
    value, messages = run(table("UNIQUE", rules, [("y", "string", '"a","b"')]), 1)
    assert value is None
    assert messages


def test_unknown_hit_policy_and_aggregation_on_multi_output_are_model_errors() -> None:
    with pytest.raises(ModelError, match="unknown hit policy 'SOMETIMES'"):
        load_model(table("SOMETIMES", OVERLAP, TWO))
    with pytest.raises(ModelError, match="single output"):
        load_model(table("COLLECT", OVERLAP, TWO, "SUM"))
