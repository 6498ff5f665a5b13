"""Routing: one queue for every channel; skills, languages, departments, presence, capacity per
channel; priority by a FEEL expression or DMN decision with aging; push offers and pull.

`engine` and `priority` are pure; `service` runs them against the store (tables in `models`)."""

from flowdesk.routing.domain import (
    DEFAULT_CAPACITY,
    Agent,
    Item,
    Offer,
    Presence,
    RoutingError,
    Transfer,
)
from flowdesk.routing.engine import RoutingEngine
from flowdesk.routing.priority import DEFAULT_EXPRESSION, PriorityPolicy

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_EXPRESSION",
    "Agent",
    "Item",
    "Offer",
    "Presence",
    "PriorityPolicy",
    "RoutingEngine",
    "RoutingError",
    "Transfer",
]
