"""The consumer's own SQL (log read by position, partitions upserted through the driver) on
PostgreSQL: events committed to the log raise a situation, the state survives a new consumer,
and a clearing event read by that one clears it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import select

from flowdesk.cep import compile_rules
from flowdesk.core.events import NewEvent
from flowdesk.situations.consumer import SituationConsumer
from flowdesk.situations.models import cep_partitions, situations
from flowdesk.store import Store

RULES = """
patterns:
  - {id: outage, key: data.area, match: {threshold: {event: node_down, at_least: 2, within: PT10M}},
     situation: {clear: node_up}}
"""

pytestmark = pytest.mark.postgres


def _append(store: Store, kind: str, area: str, n: int) -> None:
    when = datetime.now(UTC)
    with store.unit_of_work() as uow:
        data = {"cloudevent_id": f"{kind}-{n}", "data": {"area": area, "n": n}}
        uow.append(NewEvent(kind, when, data, source="/network"))


def test_consumer_reads_and_writes_its_state_on_postgres(pg_url: str) -> None:
    store = Store.open(pg_url)
    store.upgrade()
    rules = [("net", r) for r in compile_rules(yaml.safe_load(RULES))]
    try:
        first = SituationConsumer(store, rules=rules)
        first.tick()  # registers the cursor
        _append(store, "node_down", "NW-3", 1)
        _append(store, "node_down", "NW-3", 2)
        _append(store, "node_down", "SE-1", 3)
        assert first.tick() == 1
        with store.reading() as conn:
            rows = conn.execute(select(situations.c.key, situations.c.status)).all()
            parts = {r.key: r.state for r in conn.execute(select(cep_partitions)).all()}
        assert [(r.key, r.status) for r in rows] == [("NW-3", "active")]
        assert len(parts["NW-3"]["w"]) == 2 and len(parts["SE-1"]["w"]) == 1

        second = SituationConsumer(store, rules=rules)  # a restarted worker
        _append(store, "node_up", "NW-3", 4)
        assert second.tick() == 1
        with store.reading() as conn:
            status = conn.execute(select(situations.c.status)).scalar_one()
        assert status == "cleared"
    finally:
        store.close()
