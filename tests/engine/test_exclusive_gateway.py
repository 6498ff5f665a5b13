# ruff: noqa: E501
"""Exclusive gateway: first true condition in document order, else default, else incident."""

from __future__ import annotations

from flowdesk.engine.testing import cond, wrap

MODEL = wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:exclusiveGateway id="g" default="f_default"/>
    <bpmn:userTask id="big"/><bpmn:userTask id="vip"/><bpmn:userTask id="other"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="g" targetRef="big">{cond("amount > 100")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_vip" sourceRef="g" targetRef="vip">{cond("${vip && amount > 10}")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_default" sourceRef="g" targetRef="other"/>
""")

NO_DEFAULT = wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:exclusiveGateway id="g"/>
    <bpmn:userTask id="a"/><bpmn:userTask id="b"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="fa" sourceRef="g" targetRef="a">{cond("x = 1")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="fb" sourceRef="g" targetRef="b">{cond("x = 2")}</bpmn:sequenceFlow>
""")


def open_elements(engine, state) -> list[str]:
    return sorted(w.el for w in engine.work_items(state.id))


def test_first_true_condition_in_document_order_wins(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {"amount": 500, "vip": True})
    assert open_elements(engine, state) == ["big"]


def test_juel_condition_translated(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {"amount": 50, "vip": True})
    assert open_elements(engine, state) == ["vip"]


def test_default_flow_when_nothing_holds(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {"amount": 5, "vip": False})
    assert open_elements(engine, state) == ["other"]


def test_no_match_and_no_default_raises_incident(make) -> None:
    engine = make(NO_DEFAULT)
    state = engine.start("p", {"x": 3})
    assert state.active
    assert [i.el for i in state.incidents.values()] == ["g"]
    assert "no condition" in next(iter(state.incidents.values())).message


def test_missing_variable_is_an_incident_not_a_crash(make) -> None:
    engine = make(NO_DEFAULT)
    state = engine.start("p", {})
    assert [i.el for i in state.incidents.values()] == ["g"]
