"""The web agent desktop and the customer status page: server-rendered HTML (Jinja2) with
htmx as progressive enhancement. `router` holds every page; `mount_static(app)` serves the CSS
and, when installed, htmx."""

from fastapi import APIRouter

from flowdesk.web import (
    admin,
    analysis,
    backoffice,
    dashboards,
    outbox,
    pages,
    simulation,
    status,
    supervisor,
    triage,
)
from flowdesk.web.rendering import mount_static

router = APIRouter()
router.include_router(pages.router)
router.include_router(status.router)
router.include_router(backoffice.router)
router.include_router(dashboards.router)
router.include_router(triage.router)
router.include_router(analysis.router)
router.include_router(outbox.router)
router.include_router(admin.router)
router.include_router(supervisor.router)
router.include_router(simulation.router)

__all__ = ["mount_static", "router"]
