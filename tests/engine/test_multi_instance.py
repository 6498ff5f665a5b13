# ruff: noqa: E501
"""Multi-instance: parallel/sequential, collection/cardinality, completion condition, output."""

from __future__ import annotations

from flowdesk.engine.testing import wrap


def model(sequential: bool, extra_loop: str = "") -> str:
    return wrap(f"""
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="review">
      <bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">
        <bpmn:extensionElements>
          <zeebe:loopCharacteristics inputCollection="=reviewers" inputElement="reviewer" outputCollection="verdicts" outputElement="=verdict"/>
        </bpmn:extensionElements>
        {extra_loop}
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:userTask id="decide"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="decide"/>
    """)


def test_parallel_collection_with_output_collection(make) -> None:
    engine = make(model(False))
    state = engine.start("p", {"reviewers": ["ann", "bob", "cy"]})
    items = engine.work_items(state.id)
    assert [w.el for w in items] == ["review"] * 3
    by_reviewer = {}
    for item in items:
        token = state.tokens[item.token]
        by_reviewer[state.scopes[token.scope].vars["reviewer"]] = item.id
    assert sorted(by_reviewer) == ["ann", "bob", "cy"]
    for name in ("cy", "ann", "bob"):
        state = engine.complete_work_item(by_reviewer[name], {"verdict": name.upper()})
    assert [w.el for w in engine.work_items(state.id)] == ["decide"]
    assert state.vars["verdicts"] == ["ANN", "BOB", "CY"], "outputs keep the collection order"
    assert state.scopes == {}


def test_sequential_runs_one_at_a_time(make) -> None:
    engine = make(model(True))
    state = engine.start("p", {"reviewers": ["ann", "bob"]})
    items = engine.work_items(state.id)
    assert len(items) == 1
    assert state.scopes[state.tokens[items[0].token].scope].vars["loopCounter"] == 1
    state = engine.complete_work_item(items[0].id, {"verdict": "yes"})
    items = engine.work_items(state.id)
    assert len(items) == 1
    assert state.scopes[state.tokens[items[0].token].scope].vars["reviewer"] == "bob"
    state = engine.complete_work_item(items[0].id, {"verdict": "no"})
    assert state.vars["verdicts"] == ["yes", "no"]


def test_completion_condition_cancels_the_rest(make) -> None:
    engine = make(
        model(
            False,
            "<bpmn:completionCondition>nrOfCompletedInstances >= 2</bpmn:completionCondition>",
        )
    )
    state = engine.start("p", {"reviewers": ["a", "b", "c"]})
    items = engine.work_items(state.id)
    state = engine.complete_work_item(items[0].id, {"verdict": 1})
    state = engine.complete_work_item(items[1].id, {"verdict": 2})
    assert [w.el for w in engine.work_items(state.id)] == ["decide"]
    assert state.vars["verdicts"] == [1, 2, None]
    terminated = [e for e in engine.events if e.type == "element_terminated"]
    assert [e.element_id for e in terminated] == ["review"]


def test_empty_collection_skips_the_activity(make) -> None:
    engine = make(model(False))
    state = engine.start("p", {"reviewers": []})
    assert [w.el for w in engine.work_items(state.id)] == ["decide"]
    assert state.vars["verdicts"] == []


CARDINALITY = wrap("""
    <bpmn:startEvent id="s"/>
    <bpmn:scriptTask id="count" scriptFormat="feel" camunda:resultVariable="total">
      <bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>loopCounter * 10</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="count"/>
    <bpmn:sequenceFlow id="f1" sourceRef="count" targetRef="after"/>
""")


def test_cardinality_with_automatic_iterations(make) -> None:
    engine = make(CARDINALITY)
    state = engine.start("p", {"total": 0})
    assert [w.el for w in engine.work_items(state.id)] == ["after"]
    runs = [e for e in engine.events if e.element_id == "count" and e.type == "element_completed"]
    assert len(runs) == 4  # three iterations and the multi-instance body
    assert state.vars["total"] == 30
