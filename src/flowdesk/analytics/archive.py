"""What the event log archival must leave live, and the archival run itself.

The store moves rows (store/archive.py); this module knows the domains: events of a case that
is still open, or of a process instance still running, are needed to handle it (its timeline,
the closing and survey rounds, replay), so they are never archived nor expired.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.sql.elements import ColumnElement

from flowdesk.cases.models import cases
from flowdesk.store import Store
from flowdesk.store.archive import ArchiveReport, EventRetention, archive
from flowdesk.store.process_tables import process_instances
from flowdesk.store.tables import events


def needed_live() -> ColumnElement[bool]:
    """Events of an open case or of a process instance that has not ended."""
    open_cases = select(cases.c.id).where(cases.c.status != "closed")
    open_case_flows = select(cases.c.instance_id).where(
        cases.c.status != "closed", cases.c.instance_id.is_not(None)
    )
    running = select(process_instances.c.id).where(process_instances.c.ended_at.is_(None))
    case, flow = events.c.case_id, events.c.process_instance_id
    # Never NULL (a NULL would make NOT keep NULL, and the row neither kept nor moved).
    return or_(
        case.is_not(None) & case.in_(open_cases),
        flow.is_not(None) & (flow.in_(running) | flow.in_(open_case_flows)),
    )


def archive_event_log(
    store: Store,
    directory: Path,
    *,
    before: date,
    retention: EventRetention,
    now: datetime,
    progress: Callable[[str, int, int], None] | None = None,
) -> ArchiveReport:
    """Apply the retention and archive every closed month before `before`."""
    return archive(
        store,
        directory,
        before=before,
        keep=needed_live(),
        retention=retention,
        now=now,
        progress=progress,
    )
