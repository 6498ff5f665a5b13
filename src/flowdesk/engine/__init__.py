"""The pure process engine: token-based, no I/O, state as a small JSON-able snapshot.

    engine = Engine(registry, clock=..., ids=..., handlers={...}, decisions=...)
    result = engine.start("refund", {"amount": 50}, business_key="case-1")
    result = engine.complete_work_item(result.state, item_id, {"approved": True}, actor="ann")
    store(result.snapshot(), version=result.state.version)   # the runtime's job
    state = state_from_dict(snapshot)                          # ... in any later process

Each command returns a CommandResult: the new state, events for the log, work items
created/closed, jobs created/removed (timers with due time, async continuations, external tasks),
messages and signals thrown, child instances to start (call activities) and, for a child, the
outcome to hand to its parent. MemoryEngine does all of that in memory for tests and embedding.
"""

from flowdesk.engine.engine import (
    DecisionEvaluator,
    DefinitionRegistry,
    Engine,
    ProcessRegistry,
    ServiceCall,
    ServiceHandler,
)
from flowdesk.engine.errors import BpmnError, EngineError, InstanceEndedError, UnknownItemError
from flowdesk.engine.events import CallOutcome, CallRequest, CommandResult, Event
from flowdesk.engine.memory import MemoryEngine
from flowdesk.engine.state import (
    InstanceState,
    Job,
    WorkItem,
    state_from_dict,
    state_from_json,
    state_to_dict,
    state_to_json,
)

__all__ = [
    "BpmnError",
    "CallOutcome",
    "CallRequest",
    "CommandResult",
    "DecisionEvaluator",
    "DefinitionRegistry",
    "Engine",
    "EngineError",
    "Event",
    "InstanceEndedError",
    "InstanceState",
    "Job",
    "MemoryEngine",
    "ProcessRegistry",
    "ServiceCall",
    "ServiceHandler",
    "UnknownItemError",
    "WorkItem",
    "state_from_dict",
    "state_from_json",
    "state_to_dict",
    "state_to_json",
]
