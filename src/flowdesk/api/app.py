"""The FastAPI application factory: wiring of store, middleware, error mapping and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel

from flowdesk import __version__
from flowdesk.analytics.config import AnalyticsConfig
from flowdesk.analytics.service import Analytics
from flowdesk.api import docs as api_docs
from flowdesk.api import openapi as api_openapi
from flowdesk.api import problems
from flowdesk.api.guard import InputGuard
from flowdesk.api.headers import SecurityHeaders
from flowdesk.api.limits import BodySizeLimit
from flowdesk.api.metrics import HttpMetrics
from flowdesk.api.routes import (
    analytics,
    calls,
    chat,
    contacts,
    decisions,
    deployments,
    events,
    experiences,
    external_tasks,
    messages,
    mining,
    privacy,
    processes,
    providers,
    routing,
    scans,
    simulation,
    situations,
    webhooks,
    work_items,
)
from flowdesk.api.routes import auth as auth_routes
from flowdesk.api.routes import search as search_routes
from flowdesk.auth import keycache
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.webhooks.delivery import DeliveryLoop


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str
    database: str
    event_log_head: int | None = None


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background webhook delivery while the server runs (FLOWDESK_WEBHOOK_INTERVAL=0: off)."""
    loop = DeliveryLoop(app.state.store, clock=app.state.clock)
    loop.start()
    try:
        yield
    finally:
        loop.stop()


def create_app(settings: Settings, store: Store, clock: Clock | None = None) -> FastAPI:
    app = FastAPI(
        title="Flowdesk",
        version=__version__,
        description="Customer process management: experience flows, rules, one queue, one log.",
        lifespan=_lifespan,
        docs_url=None,  # /docs and /redoc come from flowdesk.api.docs, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.clock = clock or SystemClock()
    # A bad company file stops the server at start with its line numbers, not a dashboard later.
    app.state.analytics = Analytics(
        store,
        AnalyticsConfig.from_file(settings.company_file)
        if settings.company_file
        else AnalyticsConfig(),
        app.state.clock,
    )
    keycache.configure(store, ttl_s=settings.api_key_cache_seconds)
    registry = CollectorRegistry()
    head_gauge = Gauge(
        "flowdesk_event_log_head", "Sequence number of the newest event", registry=registry
    )
    problems.install(app)

    @app.get("/health", response_model=Health, tags=["operations"])
    def health(request: Request) -> Response:
        """Liveness and readiness: 200 when the database answers, 503 when it does not."""
        store_: Store = request.app.state.store
        try:
            head = store_.events.head()
        except Exception:
            body = Health(status="unavailable", version=__version__, database=store_.dialect)
            return JSONResponse(body.model_dump(), status_code=503)
        body = Health(
            status="ok", version=__version__, database=store_.dialect, event_log_head=head
        )
        return JSONResponse(body.model_dump())

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus text exposition."""
        try:
            head_gauge.set(request.app.state.store.events.head())
        except Exception:
            head_gauge.set(-1)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    api_docs.install(app)
    api_openapi.install(app)
    app.include_router(auth_routes.router)
    app.include_router(search_routes.router)
    for module in (
        deployments,
        experiences,
        processes,
        work_items,
        messages,
        decisions,
        external_tasks,
        events,
        webhooks,
        contacts,
        routing,
        analytics,
        mining,
        situations,
        providers,
        chat,
        scans,
        calls,
        simulation,
        privacy,
    ):
        app.include_router(module.router)
    # The agent desktop and the customer status page (HTML); imported here because the web
    # layer sits beside the API and uses its security dependencies.
    from flowdesk import web

    app.include_router(web.router)
    web.mount_static(app)
    app.add_middleware(InputGuard)
    app.add_middleware(HttpMetrics, registry=registry)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, https=settings.cookie_secure)
    if settings.trusted_proxies.strip():  # the client address from these proxies' headers only
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def app_from_environment() -> FastAPI:
    """The app of one `flowdesk serve --workers N` process: uvicorn starts the workers by
    import string, so each opens its own store from the settings in the environment (the
    serving command has migrated the database and put what it decided there)."""
    from flowdesk.runtime.bootstrap import open_store

    settings = Settings()
    return create_app(settings, open_store(settings))
