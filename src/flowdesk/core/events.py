"""The event every feature appends to the one event log, in the same transaction as its change.

Pure data: the engine and domains build `NewEvent`s; the store assigns the global sequence and
persists them. Types are dotted names (`process.started`, `contact.received`); the data schema
of a type is versioned by `schema_version`, so consumers can read old events after a change.
Every type Flowdesk writes is registered, with its payload's fields, in `flowdesk.core.event_types`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowdesk.core import event_types


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    time: datetime
    data: dict[str, Any] = field(default_factory=dict)
    case_id: str | None = None
    contact_id: str | None = None
    customer_id: str | None = None
    process_instance_id: str | None = None
    element_id: str | None = None
    actor: str | None = None
    department: str | None = None
    channel: str | None = None
    schema_version: int = 1
    source: str = "/flowdesk"
    id: str | None = None

    def __post_init__(self) -> None:
        # Tests and development check Flowdesk's own events against the registry as they are
        # made, where the stack names the writer; events other systems post keep their types.
        if event_types.STRICT and self.source == event_types.FLOWDESK_SOURCE:
            event_types.check(self.type, self.data)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event read back from the log; `seq` is its global position, in commit order."""

    seq: int
    id: str
    type: str
    time: datetime
    data: dict[str, Any]
    case_id: str | None
    contact_id: str | None
    customer_id: str | None
    process_instance_id: str | None
    element_id: str | None
    actor: str | None
    department: str | None
    channel: str | None
    schema_version: int
    source: str
