"""Start-up of a Flowdesk process: open the configured store, load demo content."""

from __future__ import annotations

from collections.abc import Iterator

from flowdesk.settings import Settings
from flowdesk.store import Store


def open_store(settings: Settings) -> Store:
    return Store.open(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )


def load_demo_content(store: Store) -> Iterator[str]:
    """Load the demo company into an empty store; yields progress lines for the console.

    The demo company (flows, customers, history) is built up by later work; until then there is
    nothing to load and this says so.
    """
    if store.events.head() > 0:
        yield "demo content: store not empty, nothing loaded"
        return
    yield "demo content: none available yet"
