"""CSRF protection for the HTML forms: a double-submit token. The browser holds a random token
in a SameSite=Strict cookie; every page renders it into its forms (and into an htmx header);
a POST is accepted only when the submitted token equals the cookie. A cross-site page can make
the browser send the cookie but cannot read it to put it in the form."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

# one cookie and header for the forms and the API's cookie check (flowdesk.api.security)
from flowdesk.api.security import CSRF_COOKIE as CSRF_COOKIE
from flowdesk.api.security import CSRF_HEADER as CSRF_HEADER

CSRF_FIELD = "csrf"


def token_for(request: Request) -> str:
    """The request's token: the cookie's, or a new one (set on the response by `remember`)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    fresh: str | None = getattr(request.state, "csrf_new", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.csrf_new = fresh
    return fresh


def remember(request: Request, response: Response) -> None:
    """Set the cookie when this request created the token."""
    fresh = getattr(request.state, "csrf_new", None)
    if fresh:
        settings = getattr(request.app.state, "settings", None)
        secure = bool(getattr(settings, "cookie_secure", False))
        response.set_cookie(
            CSRF_COOKIE, fresh, httponly=True, samesite="strict", path="/", secure=secure
        )


def valid(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = submitted or request.headers.get(CSRF_HEADER)
    if not cookie or not sent:
        return False
    return hmac.compare_digest(cookie.encode(), sent.encode())
