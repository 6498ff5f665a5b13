"""Event log retention and archival (`flowdesk archive`, the worker rounds): administrators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from flowdesk.analytics.archive import archive_event_log
from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import FlowdeskError
from flowdesk.store.archive import EventRetention, month_of


class InvalidArchiveRequest(FlowdeskError):
    code = "invalid-input"


def event_retention_of(company_file: str | None) -> EventRetention:
    """The company file's `retention.events` (forever without one)."""
    if not company_file:
        return EventRetention()
    from flowdesk.experience.company import load_company

    found = (load_company(company_file).get("retention") or {}).get("events")
    return EventRetention.parse(found)


def parse_month(text: str) -> date:
    """YYYY-MM, with a message that says so."""
    try:
        year, month = text.strip().split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise InvalidArchiveRequest(
            f"--before {text!r} is not a month", hint="write it as YYYY-MM, e.g. 2026-01"
        ) from None


def archive_events(
    caller: Caller,
    ops: Ops,
    *,
    before: date | None = None,
    directory: Path | None = None,
    company_file: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Apply the event retention of the company file, then move every closed month before
    `before` (default: the current month) to Parquet. Returns what was done, per month."""
    require(caller, Permission.PRIVACY_ADMIN)
    now = ops.clock.now()
    current = month_of(now)
    if before is not None and before > current:
        raise InvalidArchiveRequest(
            f"{before:%Y-%m} is not closed yet",
            hint=f"archive months before {current:%Y-%m} at the latest",
        )
    folder = directory or ops.store.archive_dir
    if folder is None:
        raise InvalidArchiveRequest(
            "no archive folder", hint="set FLOWDESK_ARCHIVE_DIR or pass --dir"
        )
    report = archive_event_log(
        ops.store,
        folder,
        before=before or current,
        retention=event_retention_of(company_file),
        now=now,
        progress=progress,
    )
    return {
        "directory": str(folder),
        "archived": report.archived,
        "expired_live": report.expired_live,
        "expired_archived": report.expired_archived,
        "months": [asdict(m) for m in report.months],
    }
