"""The pattern engine on its own: each operator's semantics, time-outs, state round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from flowdesk.cep import Engine, Event, RuleError, compile_rules, parse_rules
from flowdesk.cep.rules import Getter

RULES = """
patterns:
  - id: outage
    key: data.area
    match:
      threshold: {event: network.node_down, at_least: 3, within: PT10M}
    situation:
      title: '"Outage in " + key'
      clear: network.node_up
  - id: revenue
    key: data.shop
    match:
      threshold:
        event: sale
        window: tumbling
        within: PT1H
        function: sum
        of: data.amount
        at_least: 100
  - id: avg
    match:
      threshold: {event: sale, function: avg, of: data.amount, within: PT1H, at_least: 50}
  - id: shops
    match:
      threshold: {event: sale, function: distinct, of: data.shop, within: PT1H, at_least: 2}
  - id: failed-after-order
    key: data.order
    match:
      sequence:
        steps: [order.placed, {event: payment.failed, where: data.amount > 10}]
        within: PT1H
  - id: not-shipped
    key: data.order
    match:
      absence: {first: order.placed, then_not: order.shipped, within: PT2H}
    situation:
      timeout: PT1H
  - id: vip
    match: {event: contact.received, where: 'data.tier = "vip"'}
"""


def ev(n: int, t: float, type_: str, **data: Any) -> Event:
    return Event(f"e{n}", type_, t, {"type": type_, "data": data})


def run(engine: Engine, events: list[Event]) -> list[tuple[str, str, str]]:
    return [(c.kind, c.rule, c.situation["key"]) for e in events for c in engine.process(e)]


def test_sliding_count_raises_updates_and_clears() -> None:
    engine = Engine(compile_rules(yaml.safe_load(RULES)))
    down = [ev(i, t, "network.node_down", area="north") for i, t in enumerate((0, 700, 1000, 1100))]
    # 0 falls out before 700 (ten minutes); 700, 1000, 1100 are three within ten minutes
    assert run(engine, down) == [("raised", "outage", "north")]
    changes = engine.process(ev(9, 1150, "network.node_down", area="north"))
    assert [(c.kind, c.situation["count"]) for c in changes] == [("updated", 2)]
    assert changes[0].situation["title"] == "Outage in north"
    assert run(engine, [ev(10, 1200, "network.node_up", area="south")]) == []
    assert run(engine, [ev(11, 1201, "network.node_up", area="north")]) == [
        ("cleared", "outage", "north")
    ]


def test_tumbling_sum_average_and_distinct() -> None:
    engine = Engine(compile_rules(yaml.safe_load(RULES)))
    sales = [
        ev(1, 3500, "sale", shop="a", amount=60),  # hour 0
        ev(2, 3700, "sale", shop="a", amount=60),  # hour 1: the tumbling sum starts again
        ev(3, 3800, "sale", shop="b", amount=10),
        ev(4, 3900, "sale", shop="a", amount=50),
    ]
    got = run(engine, sales)
    assert ("raised", "revenue", "a") in got and got.count(("raised", "revenue", "a")) == 1
    assert got[0] == ("raised", "avg", "*")  # 60 on its own
    assert ("raised", "shops", "*") in got


def test_sequence_and_absence_with_timeout() -> None:
    engine = Engine(compile_rules(yaml.safe_load(RULES)))
    got = run(
        engine,
        [
            ev(1, 0, "order.placed", order=1),
            ev(2, 10, "payment.failed", order=1, amount=5),  # filtered out
            ev(3, 20, "payment.failed", order=2, amount=50),  # another key
            ev(4, 30, "order.placed", order=2),
            ev(5, 40, "order.shipped", order=2),
            ev(6, 4000, "payment.failed", order=1, amount=50),  # more than an hour after
        ],
    )
    assert got == []
    assert run(engine, [ev(7, 4001, "order.placed", order=3)]) == []
    changes = engine.advance(7201)
    assert [(c.kind, c.rule, c.situation["key"]) for c in changes] == [
        ("raised", "not-shipped", "1")
    ]
    assert engine.process(ev(8, 4100, "payment.failed", order=3, amount=11))[0].rule == (
        "failed-after-order"
    )
    cleared = engine.advance(7200 + 3600 + 1)  # one hour without an update: timed out
    kinds = [(c.kind, c.rule, c.situation["key"]) for c in cleared]
    assert ("cleared", "not-shipped", "1") in kinds
    assert [c.situation["cleared_by"] for c in cleared if c.rule == "not-shipped"][0] == "timeout"


def test_state_survives_a_json_round_trip_mid_window() -> None:
    rules = compile_rules(yaml.safe_load(RULES))
    first = Engine(rules)
    run(first, [ev(i, i * 60, "network.node_down", area="x") for i in range(2)])
    run(first, [ev(5, 100, "order.placed", order=7)])
    second = Engine(rules)
    second.restore(json.loads(json.dumps(first.snapshot())))
    assert run(second, [ev(3, 180, "network.node_down", area="x")]) == [("raised", "outage", "x")]
    assert [c.rule for c in second.advance(100 + 7200)] == ["not-shipped"]


def test_memory_is_bounded_by_the_window() -> None:
    engine = Engine(compile_rules(yaml.safe_load(RULES)))
    for i in range(5000):
        engine.process(ev(i, i * 1.0, "network.node_down", area=f"k{i % 50}"))
    # ten minutes hold 600 events in all; situations (one per key) come on top
    assert engine.size() <= 600 + 50 + 50


def test_fast_filters_answer_as_feel_does() -> None:
    values = [None, 1, 1.5, 0.1, "x", True, [1]]
    for text in ("data.a > 1", "data.a = 1", "data.a != 0.1", 'data.a = "x"', "data.a = true"):
        getter = Getter(text)
        for value in values:
            context = {"data": {"a": value}}
            assert getter.get(context) == getter.expression.evaluate(context), (text, value)


def test_bad_rules_are_reported_with_their_paths() -> None:
    _, issues = parse_rules(
        yaml.safe_load(
            """
patterns:
  - id: a
    match: {threshold: {event: x, within: soon, at_least: 3}}
  - id: a
    match: {event: y, where: "data.a >"}
    actions:
      - {start_flow: {per: customer}}
"""
        )
    )
    paths = {".".join(map(str, i.path)) for i in issues}
    assert "patterns.0.match.threshold.within" in paths
    assert "patterns.1.id" in paths
    assert "patterns.1.match.where" in paths
    assert "patterns.1.actions.0.start_flow.process" in paths
    with pytest.raises(RuleError):
        compile_rules({"patterns": []})


def test_window_boundaries_are_half_open_and_time_passes_first() -> None:
    """Every window is (t - T, t], as in Esper and Flink CEP: an entry exactly T old is out, a
    B exactly T after its A is too late; a deadline due at t fires before an event at t."""
    engine = Engine(compile_rules(yaml.safe_load(RULES)))
    down = [ev(i, t, "network.node_down", area="x") for i, t in enumerate((0, 300, 600))]
    assert run(engine, down) == []  # at 600 the event at 0 is exactly ten minutes old: out
    assert run(engine, [ev(3, 601, "network.node_down", area="x")]) == [("raised", "outage", "x")]
    late = [ev(4, 1000, "order.placed", order=7), ev(5, 4600, "payment.failed", order=7, amount=20)]
    assert run(engine, late) == []  # exactly an hour after the order
    just = [ev(6, 2000, "order.placed", order=8), ev(7, 5599, "payment.failed", order=8, amount=20)]
    assert run(engine, just) == [("raised", "failed-after-order", "8")]
    # order 7 (placed at 1000) is due at 8200: a shipment at exactly 8200 comes too late
    assert run(engine, [ev(8, 8200, "order.shipped", order=7)]) == [("raised", "not-shipped", "7")]
