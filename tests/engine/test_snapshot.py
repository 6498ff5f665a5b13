"""Snapshots restore exactly: continuing from a restored state gives the same result."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from flowdesk.bpmn.parser import load_bpmn
from flowdesk.core.clock import FixedClock
from flowdesk.core.ids import SequentialIds
from flowdesk.engine import commands as cmd
from flowdesk.engine.engine import DefinitionRegistry, Engine
from flowdesk.engine.errors import InstanceEndedError
from flowdesk.engine.state import state_from_dict, state_from_json, state_to_dict, state_to_json

MODEL = Path(__file__).parent.parent / "data" / "bpmn" / "refund.bpmn"


def engine() -> Engine:
    return Engine(DefinitionRegistry(load_bpmn(MODEL)), clock=FixedClock(), ids=SequentialIds())


def test_restored_state_continues_identically() -> None:
    eng = engine()
    started = eng.start("refund", {"when": date(2026, 1, 2), "amount": Decimal("12.50")})
    restored = state_from_json(state_to_json(started.state))
    assert state_to_dict(restored) == state_to_dict(started.state)
    assert restored.vars["when"] == date(2026, 1, 2)
    assert restored.vars["amount"] == Decimal("12.50")
    item = next(iter(started.state.work))
    a = eng.complete_work_item(started.state, item, {"amount": 50})
    b = eng.complete_work_item(restored, item, {"amount": 50})
    assert state_to_dict(a.state)["tokens"] == state_to_dict(b.state)["tokens"]
    assert [e.element_id for e in a.events] == [e.element_id for e in b.events]


def test_commands_do_not_change_the_given_state() -> None:
    eng = engine()
    started = eng.start("refund")
    before = json.dumps(state_to_dict(started.state), sort_keys=True)
    eng.complete_work_item(started.state, next(iter(started.state.work)), {"amount": 5})
    assert json.dumps(state_to_dict(started.state), sort_keys=True) == before


def test_version_increments_and_ended_instances_refuse_commands() -> None:
    eng = engine()
    result = eng.start("refund")
    assert result.state.version == 1
    result = eng.apply(result.state, cmd.SetVariables({"x": 1}))
    assert result.state.version == 2
    result = eng.apply(result.state, cmd.Cancel("duplicate"))
    assert result.state.status == "cancelled"
    with pytest.raises(InstanceEndedError):
        eng.complete_work_item(result.state, "whatever")


def test_temporal_values_round_trip() -> None:
    eng = engine()
    moment = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    result = eng.start("refund", {"at": moment, "wait": timedelta(hours=3), "items": [Decimal(1)]})
    again = state_from_dict(json.loads(json.dumps(state_to_dict(result.state))))
    assert again.vars == result.state.vars


def test_snapshot_version_is_checked() -> None:
    with pytest.raises(ValueError):
        state_from_dict({"v": 99})


def test_events_are_json_able() -> None:
    eng = engine()
    result = eng.start("refund", {"amount": Decimal("10.5"), "when": date(2026, 1, 1)})
    text = json.dumps([e.to_dict() for e in result.events])
    assert '"$n": "10.5"' in text
    assert '"type": "process_started"' in text
