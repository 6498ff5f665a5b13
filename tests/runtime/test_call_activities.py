"""Call activities through the persisted runtime: child instances are rows of their own."""

from __future__ import annotations

from tests.engine.test_call_activity import CHILD, ESC_CHILD, ESC_PARENT, PARENT

from flowdesk.runtime.processes import ProcessRuntime


def _deploy(runtime: ProcessRuntime, *docs: tuple[str, str]) -> None:
    runtime.deploy("calls", [(name, text.encode()) for name, text in docs])


def test_child_result_maps_back_to_the_parent(runtime: ProcessRuntime) -> None:
    _deploy(runtime, ("parent.bpmn", PARENT), ("child.bpmn", CHILD))
    parent = runtime.start("parent", {"customer": "c-1"})
    (child_item,) = runtime.work_items()
    assert child_item["process_key"] == "child"
    child = runtime.instance(child_item["instance_id"])
    assert child.vars["customer"] == "c-1" and child.parent is not None
    runtime.complete_work_item(child_item["id"], {"result": "done", "fail": False})
    assert runtime.instance(child.id).status == "completed"
    assert runtime.instance(parent.id).vars["child_result"] == "done"
    assert [w["element_id"] for w in runtime.work_items(instance_id=parent.id)] == ["after"]


def test_child_error_is_caught_at_the_call_activity(runtime: ProcessRuntime) -> None:
    _deploy(runtime, ("parent.bpmn", PARENT), ("child.bpmn", CHILD))
    parent = runtime.start("parent")
    (child_item,) = runtime.work_items()
    runtime.complete_work_item(child_item["id"], {"fail": True})
    assert [w["element_id"] for w in runtime.work_items(instance_id=parent.id)] == ["recover"]


def test_cancelling_the_parent_cancels_the_child(runtime: ProcessRuntime) -> None:
    _deploy(runtime, ("parent.bpmn", PARENT), ("child.bpmn", CHILD))
    parent = runtime.start("parent")
    (child_item,) = runtime.work_items()
    runtime.cancel(parent.id)
    assert runtime.instance(child_item["instance_id"]).status == "cancelled"
    assert runtime.work_items() == []


def test_uncaught_child_escalation_reaches_the_parent(runtime: ProcessRuntime) -> None:
    _deploy(runtime, ("p.bpmn", ESC_PARENT), ("c.bpmn", ESC_CHILD))
    parent = runtime.start("esc_parent")
    assert sorted(w["element_id"] for w in runtime.work_items()) == [
        "inform_manager",
        "keep_working",
    ]
    assert runtime.instance(parent.id).status == "active"
