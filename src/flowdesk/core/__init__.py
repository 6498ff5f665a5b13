"""Shared, dependency-free building blocks: errors with positions, the Clock, id generation."""

from flowdesk.core.clock import Clock, FixedClock, SystemClock
from flowdesk.core.errors import FlowdeskError, ModelError, Position
from flowdesk.core.ids import IdGenerator, SequentialIds, UuidIds

__all__ = [
    "Clock",
    "FixedClock",
    "FlowdeskError",
    "IdGenerator",
    "ModelError",
    "Position",
    "SequentialIds",
    "SystemClock",
    "UuidIds",
]
