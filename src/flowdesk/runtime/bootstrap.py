"""Start-up of a Flowdesk process: open the configured store."""

from __future__ import annotations

from pathlib import Path

from flowdesk.settings import Settings
from flowdesk.store import Store


def open_store(settings: Settings) -> Store:
    store = Store.open(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        group_commit={"auto": None, "on": True, "off": False}[settings.group_commit],
    )
    store.archive_dir = archive_dir_of(settings)
    return store


def archive_dir_of(settings: Settings) -> Path:
    """The event log's archive folder (FLOWDESK_ARCHIVE_DIR, else next to the database)."""
    if settings.archive_dir:
        return Path(settings.archive_dir)
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url and len(url) > len("sqlite:///"):
        return Path(url[len("sqlite:///") :]).parent / "archive"
    return Path("var") / "archive"
