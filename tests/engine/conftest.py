"""Engine scenario fixtures: inline BPMN models, a FixedClock, and every scenario run twice,
once in memory and once with the state written to JSON and read back after every command."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.engine.engine import DecisionEvaluator, ServiceHandler
from flowdesk.engine.memory import MemoryEngine
from flowdesk.engine.testing import cond, wrap

Factory = Callable[..., MemoryEngine]


@pytest.fixture(params=[False, True], ids=["memory", "json-roundtrip"])
def roundtrip(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def make(roundtrip: bool, clock: FixedClock) -> Factory:
    def factory(
        *documents: str,
        handlers: Mapping[str, ServiceHandler] | None = None,
        decisions: DecisionEvaluator | None = None,
    ) -> MemoryEngine:
        return MemoryEngine(
            *documents, clock=clock, handlers=handlers, decisions=decisions, roundtrip=roundtrip
        )

    return factory


@pytest.fixture
def helpers() -> Any:
    class Helpers:
        wrap = staticmethod(wrap)
        cond = staticmethod(cond)

    return Helpers
