"""Northwind's network in the demo: where customers are served (area, products) and node
events as the network monitoring would post them (CloudEvents, the same log entries that
`POST /api/v1/events` writes), so the area-outage pattern has something to see."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select

from flowdesk.core.cloudevents import from_cloudevent
from flowdesk.core.events import NewEvent
from flowdesk.customers.models import customers
from flowdesk.situations.customers import set_service_points
from flowdesk.situations.models import service_points
from flowdesk.store import Store

AREAS = [f"NW-{n}" for n in range(1, 9)]
SOURCE = "/northwind/network"


def service_of(customer_id: str) -> tuple[str, list[str]]:
    """A customer's area and products, the same every time for the same customer."""
    digest = hashlib.sha256(customer_id.encode()).digest()
    kinds = [["broadband"], ["electricity"], ["broadband", "electricity"]][digest[1] % 3]
    return AREAS[digest[0] % len(AREAS)], kinds


def assign_service_points(store: Store) -> int:
    """Give every active customer without service points its area and products."""
    with store.unit_of_work() as uow:
        conn = uow.connection
        served = set(conn.execute(select(service_points.c.customer_id)).scalars())
        ids = conn.execute(select(customers.c.id).where(customers.c.status == "active")).scalars()
        todo = [i for i in ids if i not in served]
        for customer_id in todo:
            area, products = service_of(customer_id)
            set_service_points(conn, customer_id, [(area, p) for p in products])
    return len(todo)


def node_event(kind: str, area: str, node: str, at: datetime) -> NewEvent:
    """`network.node_down` or `network.node_up` for a node of an area: the CloudEvent the
    monitoring would post, turned into its log entry the way `POST /api/v1/events` does."""
    cloudevent = {
        "specversion": "1.0",
        "id": f"{kind}-{area}-{node}-{at.timestamp():.0f}",
        "source": SOURCE,
        "type": "network." + kind,  # another system's type: not in Flowdesk's registry
        "subject": node,
        "time": at.isoformat(),
        "data": {"area": area, "node": node},
    }
    return from_cloudevent(cloudevent, at, "demo")


def send(store: Store, *events: NewEvent) -> None:
    with store.unit_of_work() as uow:
        uow.append(*events)
