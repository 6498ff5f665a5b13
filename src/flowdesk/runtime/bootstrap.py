"""Start-up of a Flowdesk process: open the configured store."""

from __future__ import annotations

from flowdesk.settings import Settings
from flowdesk.store import Store


def open_store(settings: Settings) -> Store:
    return Store.open(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        group_commit={"auto": None, "on": True, "off": False}[settings.group_commit],
    )
