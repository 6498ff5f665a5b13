"""What the engine is given: where definitions come from, DMN, and service handlers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flowdesk.bpmn.model import Definitions, Process
from flowdesk.engine.errors import EngineError


class ProcessRegistry(Protocol):
    """Where the engine finds the definition an instance runs (the runtime may version keys)."""

    def get(self, process_key: str) -> Process: ...


class DecisionEvaluator(Protocol):
    """DMN for business rule tasks: the runtime supplies it (flowdesk.dmn behind it)."""

    def evaluate(self, decision: str, variables: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """What a service handler gets; it returns variables to set (or None) or raises BpmnError."""

    instance_id: str
    element_id: str
    topic: str
    variables: Mapping[str, Any]
    business_key: str | None


ServiceHandler = Callable[[ServiceCall], Mapping[str, Any] | None]


class DefinitionRegistry:
    """In-memory registry: the latest deployed version of each process id."""

    def __init__(self, *definitions: Definitions) -> None:
        self._processes: dict[str, Process] = {}
        for definition in definitions:
            self.deploy(definition)

    def deploy(self, definitions: Definitions) -> list[str]:
        deployed = [p for p in definitions.processes.values() if p.executable]
        for process in deployed:
            self._processes[process.id] = process
        return [p.id for p in deployed]

    def get(self, process_key: str) -> Process:
        try:
            return self._processes[process_key]
        except KeyError:
            raise EngineError(f"no process '{process_key}' is deployed") from None

    def timer_starts(self) -> list[tuple[str, str, str, str]]:
        """(process key, start event id, timer kind, value) for the runtime to schedule."""
        found = []
        for key, process in self._processes.items():
            for sid in process.start_events.get(process.id, ()):
                for definition in process.nodes[sid].events:  # a multiple start: any trigger
                    if definition.kind == "timer":
                        found.append((key, sid, definition.timer or "", definition.value or ""))
        return found

    def start_events(self, kind: str, name: str) -> list[tuple[str, str]]:
        """(process key, start event id) of top-level message/signal start events for ``name``."""
        found = []
        for key, process in self._processes.items():
            for sid in process.start_events.get(process.id, ()):
                if any(d.kind == kind and d.ref == name for d in process.nodes[sid].events):
                    found.append((key, sid))
        return found
