"""Who is calling and what they may do. Every route depends on `require(permission)` or is
listed in PUBLIC; a test walks the app and fails on any route that is neither."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from flowdesk.auth import hashing, keycache, service
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import AuthError, Forbidden, Principal

SESSION_COOKIE = "flowdesk_session"
PUBLIC = {
    "/health",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    # the web desktop's login and the customers' status page (flowdesk.web)
    "/login",
    "/logout",
    "/status",
    "/status/message",
    "/status/photo",
    "/status/answers",
    # messaging providers: their signature is the credential (flowdesk.app.providers)
    "/api/v1/providers/twilio/messages",
    "/api/v1/providers/twilio/status",
    "/api/v1/providers/whatsapp",
    "/api/v1/providers/twilio/voice",
    # the chat widget: its session token is the credential (flowdesk.app.chat)
    "/api/v1/chat/sessions",
    "/api/v1/chat/messages",
    "/chat/demo",
    "/status/offer",  # the customer answers the next-best-action card (verified like the rest)
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The double-submit token of flowdesk.web.csrf: a SameSite=Strict, HttpOnly cookie whose
#: value the pages put in this header (htmx sends it with every request). A cross-site page
#: can make the browser send the session cookie, but not read the token to send the header.
CSRF_COOKIE = "flowdesk_csrf"
CSRF_HEADER = "X-CSRF-Token"


def _same_site(request: Request) -> bool:
    """Whether a cookie-authenticated change comes from Flowdesk's own pages: it carries the
    form token, or the browser's own headers say so (Fetch Metadata and Origin, which a page
    cannot forge). A client that is not a browser (a script that logged in through
    /api/v1/auth/login) sends neither header and cannot be the victim of a forged request."""
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if cookie and sent and hmac.compare_digest(cookie.encode(), sent.encode()):
        return True
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        return origin.split("://", 1)[-1] == host
    return True


_bearer = HTTPBearer(auto_error=False, description="An API key (fdk_...) as a bearer token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (fdk_...)")


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The caller. Async so that the common case, a key verified a moment ago and answered from
    the key cache, costs no hop to the thread pool (about a tenth of a millisecond of CPU per
    request); anything that needs the database (a key not in the cache, a wrong key, a login
    session) still runs in the pool, off the event loop."""
    store = request.app.state.store
    token = (bearer.credentials if bearer else None) or api_key
    if token:
        cached = keycache.cache_for(store).get(hashing.hash_token(token))
        if isinstance(cached, Principal):
            return cached
        return await run_in_threadpool(service.authenticate_key, store, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method not in SAFE_METHODS and not _same_site(request):
            raise Forbidden(
                "a request authenticated by the session cookie must carry the form token",
                hint=f"send the {CSRF_HEADER} header the pages carry, or use an API key",
            )
        return await run_in_threadpool(
            service.authenticate_session, store, request.app.state.clock, cookie
        )
    raise AuthError(
        "authentication required",
        hint="send an API key as 'Authorization: Bearer fdk_...' or log in",
    )


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """The dependency a route declares for its permission (async: a check in memory, no reason
    to run it in the thread pool)."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.can(permission):
            raise Forbidden(
                f"{principal.username} may not do this: it needs the permission "
                f"'{permission.value}'",
                hint="ask an administrator for a role that grants it",
            )
        return principal

    dependency.__flowdesk_permission__ = permission  # type: ignore[attr-defined]
    return dependency
