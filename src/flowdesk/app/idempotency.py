"""Requests that must take effect at most once per key (the API's Idempotency-Key): the first
reserves the key before doing anything, a retry with the same request gets the first answer
back (and starts nothing), the same key with another request is refused, and a request that
fails releases its key so it can be retried. Keys are purged after a retention period by
`KeyPurger`, which `flowdesk worker` runs on each round."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flowdesk.core.clock import Clock
from flowdesk.store import Store
from flowdesk.store.service_repo import finish_key, purge_keys, release_key, reserve_key

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
    scope = {"principal": principal, "route": route, "key": key}
    replay = reserve_key(store, request_hash=request_hash, now=clock.now(), **scope)
    if replay is not None:
        return replay.status_code, replay.response, True
    try:
        status, body = produce()
    except BaseException:
        release_key(store, **scope)
        raise
    finish_key(store, status_code=status, response=body, **scope)
    return status, body, False
