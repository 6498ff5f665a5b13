# ruff: noqa: E501
"""Inclusive gateway: split on every true condition; the join waits only for live branches."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.engine.memory import MemoryEngine
from flowdesk.engine.testing import cond, wrap

MODEL = wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:inclusiveGateway id="split" default="f_none"/>
    <bpmn:userTask id="email"/><bpmn:userTask id="sms"/><bpmn:userTask id="letter"/>
    <bpmn:inclusiveGateway id="join"/>
    <bpmn:userTask id="done"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
    <bpmn:sequenceFlow id="f_email" sourceRef="split" targetRef="email">{cond("email")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_sms" sourceRef="split" targetRef="sms">{cond("sms")}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_none" sourceRef="split" targetRef="letter"/>
    <bpmn:sequenceFlow id="f1" sourceRef="email" targetRef="join"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sms" targetRef="join"/>
    <bpmn:sequenceFlow id="f3" sourceRef="letter" targetRef="join"/>
    <bpmn:sequenceFlow id="f4" sourceRef="join" targetRef="done"/>
""")


def els(engine, state) -> list[str]:
    return sorted(w.el for w in engine.work_items(state.id))


def test_all_true_branches_are_taken_and_joined(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {"email": True, "sms": True})
    assert els(engine, state) == ["email", "sms"]
    first = next(w for w in engine.work_items(state.id) if w.el == "email")
    state = engine.complete_work_item(first.id)
    assert els(engine, state) == ["sms"], "the join must wait for the live sms branch"
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert els(engine, state) == ["done"]


def test_join_fires_with_a_single_live_branch(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {"email": False, "sms": True})
    assert els(engine, state) == ["sms"]
    state = engine.complete_work_item(engine.work_items(state.id)[0].id)
    assert els(engine, state) == ["done"]


def test_default_when_no_condition_holds(make) -> None:
    engine = make(MODEL)
    state = engine.start("p", {"email": False, "sms": False})
    assert els(engine, state) == ["letter"]


@settings(max_examples=40, deadline=None)
@given(email=st.booleans(), sms=st.booleans(), order=st.randoms(use_true_random=False))
def test_any_branch_subset_in_any_order_joins_exactly_once(email, sms, order) -> None:
    engine = MemoryEngine(MODEL, roundtrip=True)
    state = engine.start("p", {"email": email, "sms": sms})
    expected = [n for n, on in (("email", email), ("sms", sms)) if on] or ["letter"]
    items = engine.work_items(state.id)
    assert sorted(w.el for w in items) == expected
    order.shuffle(items)
    for item in items:
        state = engine.complete_work_item(item.id)
    assert [w.el for w in engine.work_items(state.id)] == ["done"]
    fired = [e for e in engine.events if e.element_id == "join" and e.type == "element_completed"]
    assert len(fired) == 1
