"""Requests that must take effect exactly once per key (the API's Idempotency-Key): the claim
of the key, the effect and the record of the answer commit in one transaction, so a retry after
a crash at any point either runs the request afresh (nothing was committed) or gets the first
answer back (all of it was); the same key with another request is refused, and a request that
fails leaves no trace, so it can be retried. Keys are purged after a retention period by
`KeyPurger`, which `flowdesk worker` runs on each round."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flowdesk.core.clock import Clock
from flowdesk.store import Store
from flowdesk.store.crashpoints import crash_point as crash_point
from flowdesk.store.service_repo import purge_keys
from flowdesk.store.service_repo import run_once as once

DEFAULT_RETENTION = timedelta(hours=24)


class KeyPurger:
    """Deletes the idempotency keys older than `retention`. Meant to be called on every worker
    round: it runs the DELETE at most once per `every` (by the injected clock), so a busy
    worker does not pay for it on each poll."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        every: timedelta = timedelta(minutes=1),
    ) -> None:
        if retention <= timedelta(0):
            raise ValueError("the idempotency key retention must be positive")
        self.store = store
        self.clock = clock
        self.retention = retention
        self.every = every
        self._last: datetime | None = None

    def tick(self) -> int:
        """Purge if the last purge is `every` ago or more; returns how many keys went."""
        now = self.clock.now()
        if self._last is not None and now - self._last < self.every:
            return 0
        self._last = now
        return purge_keys(self.store, before=now - self.retention)


def run_once(
    store: Store,
    clock: Clock,
    *,
    principal: str,
    route: str,
    key: str,
    request_hash: str,
    produce: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Status and body of the request under `key` (scoped to the principal and route), and
    whether they are a replay of the first answer rather than `produce` run now."""
    return once(
        store,
        principal=principal,
        route=route,
        key=key,
        request_hash=request_hash,
        now=clock.now(),
        produce=produce,
    )
