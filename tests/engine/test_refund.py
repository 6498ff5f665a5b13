"""The FEEL refund model (same ids/control flow as the peer model) end to end."""

from __future__ import annotations

import json
from pathlib import Path

from flowdesk.engine.memory import MemoryEngine
from flowdesk.engine.state import state_to_dict

MODEL = Path(__file__).parent.parent / "data" / "bpmn" / "refund.bpmn"
FORMS = {"approve": {"approved": True}, "notify": {"notified": True}, "crm": {"crm_updated": True}}


def run_refund(engine: MemoryEngine, amount: int) -> tuple[str, list[str], int]:
    state = engine.start("refund", business_key=f"case-{amount}")
    done: list[str] = []
    biggest = 0
    while state.active:
        biggest = max(biggest, len(json.dumps(state_to_dict(state))))
        item = sorted(engine.work_items(state.id), key=lambda w: w.el)[0]
        done.append(item.el)
        data = {"amount": amount} if item.el == "capture" else FORMS[item.el]
        state = engine.complete_work_item(item.id, data, actor="agent-7")
    return state.id, done, biggest


def test_large_amount_goes_through_approval(make) -> None:
    engine = make(str(MODEL))
    instance, done, _ = run_refund(engine, 500)
    state = engine.get(instance)
    assert done == ["capture", "approve", "crm", "notify"]
    assert state.status == "completed"
    assert state.vars["refunded"] is True
    assert state.vars["approved"] is True


def test_small_amount_skips_approval(make) -> None:
    engine = make(str(MODEL))
    instance, done, _ = run_refund(engine, 50)
    assert "approve" not in done
    assert engine.get(instance).vars["refunded"] is True


def test_waiting_snapshot_is_small(make) -> None:
    engine = make(str(MODEL))
    _, _, biggest = run_refund(engine, 500)
    assert biggest <= 2048


def test_events_tell_the_story(make) -> None:
    engine = make(str(MODEL))
    instance, _, _ = run_refund(engine, 50)
    log = [(e.type, e.element_id) for e in engine.events if e.instance == instance]
    assert log[0] == ("process_started", None)
    assert log[-1] == ("process_completed", None)
    completed = [el for kind, el in log if kind == "element_completed"]
    assert completed[:3] == ["start", "capture", "amount_check"]
    assert completed.count("join") == 1
    assert "approve" not in completed
    capture_done = next(
        e for e in engine.events if e.type == "element_completed" and e.element_id == "capture"
    )
    assert capture_done.actor == "agent-7"
    assert capture_done.element_type == "userTask"


def test_parallel_branches_both_open(make) -> None:
    engine = make(str(MODEL))
    state = engine.start("refund")
    item = engine.work_items(state.id)[0]
    state = engine.complete_work_item(item.id, {"amount": 10})
    assert sorted(w.el for w in engine.work_items(state.id)) == ["crm", "notify"]
    assert sorted(t.el for t in state.tokens.values()) == ["crm", "notify"]
