"""Who may open a page. Pages declare a permission like the API routes do (the route walk in
tests/auth sees the same marker), but answer like a web page: a redirect to the login page
when nobody is logged in, and a 403 page when the user lacks the permission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from flowdesk.api.security import SESSION_COOKIE
from flowdesk.auth import service
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import AuthError, Principal


@dataclass(frozen=True, slots=True)
class PageAccess:
    """Either the principal, or the response to send instead of the page."""

    principal: Principal | None
    denied: Response | None = None

    @property
    def user(self) -> Principal:
        assert self.principal is not None
        return self.principal


def page_access(permission: Permission) -> Callable[..., PageAccess]:
    def dependency(request: Request) -> PageAccess:
        from flowdesk.web.rendering import render

        token = request.cookies.get(SESSION_COOKIE)
        principal = None
        if token:
            try:
                principal = service.authenticate_session(
                    request.app.state.store, request.app.state.clock, token
                )
            except AuthError:
                principal = None
        if principal is None:
            target = request.url.path
            if request.headers.get("HX-Request"):
                return PageAccess(
                    None, Response(status_code=401, headers={"HX-Redirect": "/login"})
                )
            return PageAccess(None, RedirectResponse(f"/login?next={quote(target)}", 303))
        if not principal.can(permission):
            page = render(
                request,
                "error.html",
                {"title": "Not allowed", "message": _denied(principal, permission)},
                principal=principal,
                status_code=403,
            )
            return PageAccess(principal, page)
        return PageAccess(principal)

    dependency.__flowdesk_permission__ = permission  # type: ignore[attr-defined]
    return dependency


def _denied(principal: Principal, permission: Permission) -> str:
    return (
        f"{principal.display_name or principal.username} may not open this page: it needs the "
        f"permission '{permission.value}'."
    )
