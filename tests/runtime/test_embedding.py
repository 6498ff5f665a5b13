"""The embedding example of the README, on the in-memory store, as a user would write it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

REFUND = Path(__file__).parent.parent / "data" / "bpmn" / "refund.bpmn"


def test_readme_embedding_example_runs_on_the_in_memory_store() -> None:
    store = Store.open("sqlite://")
    store.upgrade()
    clock = FixedClock()
    runtime = ProcessRuntime(store, clock=clock)
    runtime.deploy("refund", [("refund.bpmn", REFUND.read_bytes())])

    instance = runtime.start("refund", business_key="R-1001")
    task = runtime.work_items(instance_id=instance.id)[0]
    assert task["element_id"] == "capture"
    runtime.complete_work_item(task["id"], {"amount": 50}, actor="ana")
    assert runtime.correlate_message("customer-reply", "R-1001", {"text": "thanks"}) == []
    assert runtime.broadcast_signal("outage-cleared") == []
    clock.advance(timedelta(hours=4))
    assert runtime.run_due_jobs() == 0
    state = runtime.instance(instance.id)
    assert state.vars == {"amount": 50, "refunded": True}
    assert sorted(w["element_id"] for w in runtime.work_items(instance_id=instance.id)) == [
        "crm",
        "notify",
    ]
    assert [e.type for e in runtime.history(instance.id)][:3] == [
        "process.started",
        "element.activated",
        "element.completed",
    ]
    store.close()
