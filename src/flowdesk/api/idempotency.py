"""The Idempotency-Key header on create requests: a retried request gets the first response.

The key is scoped to the caller and the route. The claim of the key, the request's effect and
its answer commit in one transaction (flowdesk.app.idempotency); a retry with the same key and
the same body replays the stored response (and starts nothing), even after the server died
anywhere on the way; the same key with another body is a 422; a retry while the first is still
running waits for it. A request that fails leaves no trace, so it can be retried.

Keys are kept for a retention period (FLOWDESK_IDEMPOTENCY_RETENTION_HOURS, default 24 h: longer
than any client retries) and then purged by `KeyPurger`, which `flowdesk worker` runs on each
round; a request repeated after that is a new request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from flowdesk.api.routes.common import InvalidInput
from flowdesk.app.idempotency import DEFAULT_RETENTION as DEFAULT_RETENTION
from flowdesk.app.idempotency import KeyPurger as KeyPurger
from flowdesk.app.idempotency import crash_point, run_once
from flowdesk.auth.service import Principal

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


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
    status, body, replayed = run_once(
        request.app.state.store,
        request.app.state.clock,
        principal=principal.user_id,
        route=f"{request.method} {request.url.path}",
        key=key,
        request_hash=request_hash,
        produce=produce,
    )
    headers = {REPLAYED: "true"} if replayed else None
    crash_point("before-answer")
    return JSONResponse(body, status_code=status, headers=headers)


async def idempotent_async(
    request: Request,
    principal: Principal,
    request_hash: str,
    produce: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    return await run_in_threadpool(idempotent, request, principal, request_hash, produce)
