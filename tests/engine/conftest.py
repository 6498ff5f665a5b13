"""Engine scenario fixtures: inline BPMN models, a FixedClock, and every scenario run twice,
once in memory and once with the state written to JSON and read back after every command."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.engine.engine import DecisionEvaluator, ServiceHandler
from flowdesk.engine.memory import MemoryEngine

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" '
    'targetNamespace="http://flowdesk.example/tests">\n'
)


def wrap(body: str, *, process_id: str = "p", extra: str = "") -> str:
    """A Camunda-Modeler-like document around a process body (plus messages, errors ...)."""
    return (
        f'{HEADER}{extra}\n  <bpmn:process id="{process_id}" isExecutable="true">\n'
        f"{body}\n  </bpmn:process>\n</bpmn:definitions>\n"
    )


def cond(expr: str) -> str:
    escaped = expr.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
        f"{escaped}</bpmn:conditionExpression>"
    )


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
