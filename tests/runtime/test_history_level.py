"""FLOWDESK_HISTORY_LEVEL: what a command writes to the event log, and what readers get back."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select
from tests.runtime.conftest import deploy_file

from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.tables import events

FORMS = {
    "capture": {"amount": 500},
    "approve": {"approved": True},
    "notify": {"notified": True},
    "crm": {"crm_updated": True},
}


def _refund(runtime: ProcessRuntime) -> str:
    state = runtime.start("refund", business_key="R-1")
    while state.status == "active":
        item = min(runtime.work_items(instance_id=state.id), key=lambda w: str(w["element_id"]))
        state = runtime.complete_work_item(item["id"], FORMS[item["element_id"]], actor="ana")
    assert state.status == "completed"
    return state.id


def _rows(store: Store, instance_id: str) -> int:
    with store.reading() as conn:
        found = conn.execute(
            select(func.count()).where(events.c.process_instance_id == instance_id)
        )
        return int(found.scalar_one())


def _run(store: Store, clock: FixedClock, level: str) -> tuple[ProcessRuntime, str]:
    runtime = ProcessRuntime(store, clock=clock, history=level)
    deploy_file(runtime, "refund.bpmn")
    return runtime, _refund(runtime)


def _plain(runtime: ProcessRuntime, instance_id: str) -> list[tuple[object, ...]]:
    return [
        (e.type, e.element_id, e.time, e.actor, e.data)
        for e in runtime.history(instance_id)
        if not e.type.startswith("work_item.")  # their data holds random work item ids
    ]


def test_activity_writes_instant_elements_as_one_row_and_reads_back_the_same(
    store: Store, clock: FixedClock
) -> None:
    full, full_id = _run(store, clock, "full")
    activity, activity_id = _run(store, clock, "activity")
    assert _plain(activity, activity_id) == _plain(full, full_id)
    # start, two exclusive gateways, the script task, fork, join and end: 7 rows fewer
    assert _rows(store, activity_id) == _rows(store, full_id) - 7
    # the user tasks wait: a row when they start, one when they end
    approve = [e.type for e in activity.history(activity_id) if e.element_id == "approve"]
    assert approve == [
        "element.activated",
        "work_item.created",
        "variables.changed",
        "element.completed",
    ]
    # a consumer asking for activations alone gets those of compact rows too, once each
    store.events.register("activations")
    window = store.events.read_types("activations", ["element.activated"], limit=10_000)
    mine = [e.element_id for e in window.events if e.process_instance_id == activity_id]
    assert mine == [e.element_id for e in full.history(full_id) if e.type == "element.activated"]
    # counted by type in SQL, as readers see them
    assert store.events.type_counts() == dict(
        sorted(Counter(e.type for e in store.events.after(0, 100_000)).items())
    )
    assert len({e.id for e in activity.history(activity_id)}) == len(activity.history(activity_id))


def test_none_writes_no_element_or_variable_history(store: Store, clock: FixedClock) -> None:
    runtime, instance_id = _run(store, clock, "none")
    types = {e.type for e in runtime.history(instance_id)}
    assert types == {
        "process.started",
        "process.completed",
        "work_item.created",
        "work_item.completed",
    }
    assert runtime.instance(instance_id).vars["refunded"] is True


def test_the_level_comes_from_the_environment(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOWDESK_HISTORY_LEVEL", raising=False)
    assert ProcessRuntime(store).history_level == "activity"
    monkeypatch.setenv("FLOWDESK_HISTORY_LEVEL", "FULL")
    assert ProcessRuntime(store).history_level == "full"
    monkeypatch.setenv("FLOWDESK_HISTORY_LEVEL", "audit")
    with pytest.raises(ValueError, match="FLOWDESK_HISTORY_LEVEL='audit'.*none, activity, full"):
        ProcessRuntime(store)
