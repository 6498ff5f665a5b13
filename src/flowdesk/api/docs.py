"""The API's interactive docs, /docs (Swagger UI) and /redoc (ReDoc), served from this server.

FastAPI's defaults load both from a CDN (and ReDoc its fonts from Google), so on a machine
without internet the pages stayed blank. Here the assets come from the npm packages
`swagger-ui-dist` and `redoc` (package.json, `npm ci` at the repository root, as htmx for the
web desktop) and are mounted below /static/swagger-ui and /static/redoc; the pages name only
URLs of this server. Without the packages the pages say how to install them and link the raw
schema (/openapi.json), instead of a blank page.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: src/flowdesk/api -> repository root / node_modules (FLOWDESK_NODE_MODULES overrides).
NODE_MODULES = Path(
    os.environ.get("FLOWDESK_NODE_MODULES", Path(__file__).resolve().parents[3] / "node_modules")
)
SWAGGER_DIST = NODE_MODULES / "swagger-ui-dist"
REDOC_DIST = NODE_MODULES / "redoc" / "bundles"
SWAGGER_URL = "/static/swagger-ui"
REDOC_URL = "/static/redoc"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
INSTALL_HINT = (
    "Run <code>npm ci</code> (or <code>make install</code>) in the Flowdesk source folder, "
    "then restart the server."
)

#: The docs pages may load nothing from elsewhere: ReDoc's footer, for one, shows a logo from
#: cdn.redoc.ly, which the browser now does not fetch (the image hides itself when it fails).
#: Inline script and style: FastAPI's pages start the UI with an inline script.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def _local(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CSP
    return page


def swagger_available() -> bool:
    return (SWAGGER_DIST / "swagger-ui-bundle.js").is_file()


def redoc_available() -> bool:
    return (REDOC_DIST / "redoc.standalone.js").is_file()


def _missing(request: Request, what: str, package: str) -> HTMLResponse:
    """A page that says what to install, with the schema link, instead of a blank page."""
    schema = escape(request.app.openapi_url or "/openapi.json")
    body = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{what} is not installed · Flowdesk API</title></head><body>"
        f"<h1>{what} is not installed</h1>"
        f"<p>The API docs page needs the npm package <code>{package}</code>, which this "
        f"installation does not have. {INSTALL_HINT}</p>"
        f"<p>The API schema itself is at <a href='{schema}'>{schema}</a>.</p></body></html>"
    )
    return HTMLResponse(body, status_code=503)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over this server's OpenAPI schema, with assets from this server only."""
    if not swagger_available():
        return _missing(request, "Swagger UI", "swagger-ui-dist")
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} API",
        swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT,
        # No badge that asks validator.swagger.io about the schema.
        swagger_ui_parameters={"validatorUrl": None},
    )
    return _local(page)


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over this server's OpenAPI schema, without Google Fonts or a CDN."""
    if not redoc_available():
        return _missing(request, "ReDoc", "redoc")
    page = get_redoc_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} API",
        redoc_js_url=f"{REDOC_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
        with_google_fonts=False,
    )
    return _local(page)


def install(app: FastAPI) -> None:
    """Add the docs pages and mount the installed assets (create the app with docs_url=None
    and redoc_url=None, so FastAPI's CDN pages are not there as well)."""
    app.include_router(router)
    if swagger_available():
        app.mount(SWAGGER_URL, StaticFiles(directory=SWAGGER_DIST), name="swagger-ui")
    if redoc_available():
        app.mount(REDOC_URL, StaticFiles(directory=REDOC_DIST), name="redoc")
