"""Builders of the services one app keeps for all its requests (the process runtime, the reply
senders, the back-office connectors). The door that owns the app's life cycle calls them once
and hands the result to the use cases through `Ops`."""

from __future__ import annotations

from typing import Any

from flowdesk.cases.notifier import senders_from
from flowdesk.core.clock import Clock
from flowdesk.customers.connectors import Backoffice
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

__all__ = ["ProcessRuntime", "Store"]


def process_runtime(store: Store, clock: Clock) -> ProcessRuntime:
    """The app's runtime: one per app, as it caches parsed definitions."""
    return ProcessRuntime(store, clock=clock)


def reply_senders(
    settings: Any, store: Store | None = None, clock: Clock | None = None
) -> dict[str, Any]:
    """The senders the settings configure (FLOWDESK_SMTP_HOST, FLOWDESK_NOTIFY_WEBHOOKS, the
    messaging providers)."""
    return dict(senders_from(settings, store=store, clock=clock))


def backoffice(settings: Any) -> Backoffice:
    """The back-office connectors the settings name."""
    return Backoffice.from_settings(settings)
