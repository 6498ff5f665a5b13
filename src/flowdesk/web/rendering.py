"""Jinja2 templates (autoescaped), the static files and the htmx library when it is installed.

htmx is progressive enhancement: the pages are plain forms and links that work without it;
when `node_modules/htmx.org` exists (npm install at the repository root) it is served from
/static/vendor and pages re-render fragments in place instead of reloading."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from flowdesk.app.knowledge import to_html as markdown_to_html
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal
from flowdesk.web import csrf

HERE = Path(__file__).resolve().parent
#: src/flowdesk/web -> repository root / node_modules / htmx.org / dist
HTMX_DIST = Path(
    os.environ.get("FLOWDESK_HTMX_DIST", HERE.parents[2] / "node_modules" / "htmx.org" / "dist")
)


def htmx_available() -> bool:
    return (HTMX_DIST / "htmx.min.js").is_file()


def mount_static(app: FastAPI) -> None:
    """Serve the desktop's CSS and, when installed, htmx (no asset comes from the internet)."""
    app.mount("/static/web", StaticFiles(directory=HERE / "static"), name="web-static")
    if htmx_available():
        app.mount("/static/vendor", StaticFiles(directory=HTMX_DIST), name="web-vendor")


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def countdown(due: datetime | None, now: datetime) -> str:
    """'in 3h 20m' or 'overdue 15m': the SLA countdown shown beside a due time."""
    if due is None:
        return "no SLA"
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    seconds = int((due - now).total_seconds())
    text = _span(abs(seconds))
    return f"in {text}" if seconds >= 0 else f"overdue {text}"


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def _label(name: str) -> str:
    """camelCase or snake_case property name -> 'Camel case'."""
    out: list[str] = []
    for ch in name.replace("_", " "):
        if ch.isupper() and out and out[-1] != " ":
            out.append(" ")
        out.append(ch.lower())
    text = "".join(out).strip()
    return text[:1].upper() + text[1:]


_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when
_env.filters["label"] = _label


def _markdown(text: str | None) -> Markup:
    """A knowledge article's Markdown as sanitised HTML (`flowdesk.knowledge.render`)."""
    return Markup(markdown_to_html(text or ""))  # safe: nh3 sanitised it


_env.filters["markdown"] = _markdown


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: Principal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = csrf.token_for(request)
    body = _env.get_template(template).render(
        request=request,
        user=principal,
        is_supervisor=bool(principal and principal.can(Permission.SUPERVISE)),
        can_analyse=bool(principal and principal.can(Permission.ANALYTICS_READ)),
        csrf_token=token,
        csrf_field=csrf.CSRF_FIELD,
        htmx=htmx_available(),
        **context,
    )
    response = HTMLResponse(body, status_code=status_code)
    csrf.remember(request, response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def error_page(
    request: Request, message: str, *, status_code: int, principal: Principal | None = None
) -> HTMLResponse:
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Conflict"}
    return render(
        request,
        "error.html",
        {"title": titles.get(status_code, "Error"), "message": message},
        principal=principal,
        status_code=status_code,
    )
