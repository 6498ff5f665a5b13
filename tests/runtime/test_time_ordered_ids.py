"""The runtime's ids are UUIDv7: unique, and later ones sort after earlier ones, which keeps
the store's index inserts on the rightmost pages (docs/performance.md, engine section). The
instance row is inserted through the driver; read back through SQLAlchemy it is the same."""

from __future__ import annotations

import time
import uuid

from tests.runtime.conftest import deploy_file

from flowdesk.core.ids import TimeOrderedIds
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository


def test_generator_makes_unique_version_7_ids_in_time_order() -> None:
    ids = TimeOrderedIds()
    batches = []
    for _ in range(3):
        batches.append([ids.new_id() for _ in range(500)])
        time.sleep(0.002)  # the next batch has a later millisecond
    for batch in batches:
        parsed = [uuid.UUID(i) for i in batch]
        assert {(u.version, u.variant) for u in parsed} == {(7, uuid.RFC_4122)}
    assert max(batches[0]) < min(batches[1]) and max(batches[1]) < min(batches[2])
    assert len({i for batch in batches for i in batch}) == 1500


def test_runtime_rows_and_events_use_time_ordered_ids(
    store: Store, runtime: ProcessRuntime
) -> None:
    deploy_file(runtime, "refund.bpmn")
    first = runtime.start("refund", {"amount": 50}, business_key="R-1")
    time.sleep(0.002)
    second = runtime.start("refund", business_key="R-2")
    assert uuid.UUID(first.id).version == 7 and first.id < second.id
    (item,) = runtime.work_items(instance_id=second.id)
    assert uuid.UUID(item["id"]).version == 7
    event_ids = [e.id for e in runtime.history(first.id)]
    assert event_ids and all(uuid.UUID(i).version == 7 for i in event_ids)
    assert max(event_ids) < min(e.id for e in runtime.history(second.id))

    with store.reading() as conn:
        row = ProcessRepository(conn).instance_row(first.id)
    assert row is not None
    assert (row["business_key"], row["status"], row["version"]) == ("R-1", "active", 1)
    assert row["state"]["id"] == first.id and row["state"]["vars"] == {"amount": 50}
    assert row["started_at"] is not None and row["ended_at"] is None and row["parent_id"] is None
