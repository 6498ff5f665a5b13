"""The Idempotency-Key header on create requests: a retried request gets the first response.

The key is scoped to the caller and the route. The first request reserves it before doing
anything; a retry with the same key and the same body replays the stored response (and starts
nothing); the same key with another body is a 422; a retry while the first is still running is a
409. A request that fails releases its key, so it can be retried.

Keys are kept for a retention period (FLOWDESK_IDEMPOTENCY_RETENTION_HOURS, default 24 h: longer
than any client retries) and then purged by `KeyPurger`, which `flowdesk worker` runs on each
round; a request repeated after that is a new request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from flowdesk.api.routes.common import InvalidInput
from flowdesk.auth.service import Principal
from flowdesk.core.clock import Clock
from flowdesk.store import Store
from flowdesk.store.service_repo import finish_key, purge_keys, release_key, reserve_key

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
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


def body_fingerprint(body: BaseModel) -> str:
    """What a retried create must repeat exactly to get the first answer back."""
    return fingerprint(json.dumps(body.model_dump(), sort_keys=True, default=str))


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


def key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise InvalidInput(
            f"the {HEADER} header must be 1 to 200 printable characters",
            hint="use a UUID per logical request",
        )
    return key


def idempotent(
    request: Request,
    principal: Principal,
    request_hash: str,
    produce: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    """Run `produce` (returning status and JSON body) at most once per Idempotency-Key."""
    key = key_of(request)
    if key is None:
        status, body = produce()
        return JSONResponse(body, status_code=status)
    store = request.app.state.store
    route = f"{request.method} {request.url.path}"
    scope = {"principal": principal.user_id, "route": route, "key": key}
    replay = reserve_key(
        store, request_hash=request_hash, now=request.app.state.clock.now(), **scope
    )
    if replay is not None:
        return JSONResponse(
            replay.response, status_code=replay.status_code, headers={REPLAYED: "true"}
        )
    try:
        status, body = produce()
    except BaseException:
        release_key(store, **scope)
        raise
    finish_key(store, status_code=status, response=body, **scope)
    return JSONResponse(body, status_code=status)


async def idempotent_async(
    request: Request,
    principal: Principal,
    request_hash: str,
    produce: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    return await run_in_threadpool(idempotent, request, principal, request_hash, produce)
