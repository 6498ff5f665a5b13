"""The supervisor's pages: the live wallboard (agents' presence and load, queues per department
with SLAs at risk and breached, triage waiting; the panel re-renders every 10 s with htmx and on
reload without it), the work behind each count, and the actions on it (reassign, priority, an
agent's presence). The rules are `flowdesk.app.supervision`'s, shared with the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from flowdesk.api.routes.common import ops_of
from flowdesk.app import organisation, supervision
from flowdesk.app import situations as situations_use
from flowdesk.app.errors import FormInvalid
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.web import csrf
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.pages import form_data
from flowdesk.web.rendering import countdown, error_page, render
from flowdesk.web.triage import rows as rows_of

router = APIRouter(include_in_schema=False)

Supervise = Annotated[PageAccess, Depends(page_access(Permission.SUPERVISE))]
Form = Annotated[dict[str, str], Depends(form_data)]
#: The drill-down filters a list keeps across its actions.
FILTERS = ("department", "state", "agent", "flow")
PRESENCE_COLOURS = {
    "available": "#1e6b34",
    "busy": "#c2410c",
    "away": "#92400e",
    "offline": "#5b6472",
    "unknown": "#5b6472",
}


def _ago(since: datetime | None, now: datetime) -> str:
    """'3h 20m' waited since `since` ('-' when nothing waits)."""
    if since is None:
        return "-"
    return countdown(now, since).removeprefix("in ").removeprefix("overdue ")


def _link(**filters: str | None) -> str:
    """The work list's address for these filters (empty ones left out)."""
    query = {k: v for k, v in filters.items() if v}
    return "/supervisor/work" + ("?" + urlencode(query) if query else "")


def _figures(request: Request, access: PageAccess) -> dict[str, Any]:
    figures = supervision.supervisor_figures(access.user, ops_of(request))
    now = figures["now"]
    for row in figures["at_risk"]:
        row["countdown"] = countdown(row["due"], now)
    widest = max([d["open"] for d in figures["departments"]] or [1]) or 1
    for dept in figures["departments"]:
        dept["waited"] = _ago(dept["oldest"], now)
        dept["work_open"] = dept["open"] - dept["triage"]
        # bar segments: assigned, unassigned flow work, then contacts waiting for triage
        x = 0.0
        dept["bars"] = []
        for state, count, colour in (
            ("assigned", dept["assigned"], "#0b5cad"),
            ("unassigned", dept["work_open"] - dept["assigned"], "#c2410c"),
            ("triage", dept["triage"], "#7c3aed"),
        ):
            width = 300 * count / widest
            if count:
                dept["bars"].append(
                    {"state": state, "count": count, "x": x, "width": width, "colour": colour}
                )
            x += width
    for agent in figures["agents"]:
        agent["colour"] = PRESENCE_COLOURS.get(agent["presence"], "#5b6472")
    totals = {
        key: sum(d[key] for d in figures["departments"])
        for key in ("open", "unassigned", "at-risk", "breached", "triage")
    }
    # situations the event patterns raised (an area outage): what customers are about to call on
    active = situations_use.situations(access.user, ops_of(request), status="active", limit=10)
    return {"fig": figures, "now": now, "totals": totals, "link": _link, "situations": active}


@router.get("/supervisor")
def wallboard(request: Request, access: Supervise) -> Response:
    if access.denied:
        return access.denied
    return render(request, "supervisor.html", _figures(request, access), principal=access.user)


@router.get("/supervisor/panel")
def wallboard_panel(request: Request, access: Supervise) -> Response:
    if access.denied:
        return access.denied
    return render(
        request, "_supervisor_panel.html", _figures(request, access), principal=access.user
    )


# -- drill-down and actions --------------------------------------------------------------------
def _work_page(
    request: Request,
    access: PageAccess,
    filters: dict[str, str],
    *,
    notice: str | None = None,
    error: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ops = ops_of(request)
    if filters.get("state") == "triage":
        return _triage_page(request, access, filters)
    try:
        rows = supervision.work_list(
            access.user,
            ops,
            department=filters.get("department"),
            state=filters.get("state"),
            agent=filters.get("agent"),
            process_key=filters.get("flow"),
        )
    except FormInvalid as exc:
        return error_page(request, exc.message, status_code=422, principal=access.user)
    now = ops.clock.now()
    for row in rows:
        row["countdown"] = countdown(row["due"], now)
        row["late"] = row["due"] is not None and row["due"] < now
    agents = organisation.list_agents(access.user, ops)
    department = filters.get("department")
    # the department's own agents first, then the others (cross-skilled help); signed-in first
    ready = {p: n for n, p in enumerate(organisation.PRESENCES)}
    agents.sort(
        key=lambda a: (department not in a["departments"], ready.get(a["presence"], 9), a["id"])
    )
    shown_agent = next((a for a in agents if a["id"] == filters.get("agent")), None)
    placed = error is not None and (
        error["target"] in {r["id"] for r in rows}
        or (shown_agent is not None and error["target"] == "agent:" + shown_agent["id"])
    )
    context = {
        "error_placed": placed,
        "rows": rows,
        "filters": filters,
        "agents": agents,
        "agent": shown_agent,
        "presences": list(organisation.PRESENCES),
        "states": supervision.STATES,
        "notice": notice,
        "error": error,
        "link": _link,
    }
    return render(
        request, "supervisor_work.html", context, principal=access.user, status_code=status_code
    )


def _triage_page(request: Request, access: PageAccess, filters: dict[str, str]) -> Response:
    """The contacts behind the wallboard's triage count, each linking to its triage form."""
    now = ops_of(request).clock.now()
    contacts = supervision.triage_list(
        access.user, ops_of(request), department=filters.get("department")
    )
    context = {
        "contacts": rows_of(contacts, now),
        "filters": filters,
        "states": supervision.STATES,
        "link": _link,
    }
    return render(request, "supervisor_triage.html", context, principal=access.user)


def _filters(source: Any) -> dict[str, str]:
    return {k: str(source.get(k) or "")[:200] for k in FILTERS if source.get(k)}


@router.get("/supervisor/work")
def work_list(request: Request, access: Supervise, notice: str | None = None) -> Response:
    """The open work behind a wallboard count: ?department=&state=&agent=&flow=."""
    if access.denied:
        return access.denied
    return _work_page(
        request, access, _filters(request.query_params), notice=(notice or "")[:200] or None
    )


def _act(
    request: Request,
    access: PageAccess,
    fields: dict[str, str],
    act: Any,
    done: str,
    *,
    target: str,
) -> Response:
    """Run a supervisor's action for the form; back to the list with a notice, or the list
    again with the refusal next to the item (or agent) it is about."""
    if access.denied:
        return access.denied
    if not csrf.valid(request, fields.get(csrf.CSRF_FIELD)):
        return error_page(
            request,
            "The form expired or came from another site. Reload the page and try again.",
            status_code=400,
            principal=access.user,
        )
    filters = _filters(fields)
    try:
        act()
    except FormInvalid as exc:
        first = exc.errors[0] if exc.errors else {"field": "", "message": exc.message}
        error = {"target": target, **first}
        return _work_page(request, access, filters, error=error, status_code=422)
    except FlowdeskError as exc:
        status = (
            404 if isinstance(exc, NotFoundError) else 403 if isinstance(exc, Forbidden) else 409
        )
        error = {"target": target, "field": "", "message": exc.message}
        return _work_page(request, access, filters, error=error, status_code=status)
    back = _link(**filters)
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}notice={quote(done)}", status_code=303)


@router.post("/supervisor/work/{item_id}/reassign")
def reassign(request: Request, item_id: str, access: Supervise, fields: Form) -> Response:
    user = fields.get("user", "").strip()[:100]

    def act() -> None:
        supervision.reassign(access.user, ops_of(request), item_id, user)

    return _act(request, access, fields, act, f"Reassigned to {user}.", target=item_id)


@router.post("/supervisor/work/{item_id}/priority")
def priority(request: Request, item_id: str, access: Supervise, fields: Form) -> Response:
    value = fields.get("priority", "").strip()[:10]

    def act() -> None:
        supervision.set_priority(access.user, ops_of(request), item_id, value)

    return _act(request, access, fields, act, f"Priority set to {value}.", target=item_id)


@router.post("/supervisor/agents/{agent_id}/presence")
def presence(request: Request, agent_id: str, access: Supervise, fields: Form) -> Response:
    value = fields.get("presence", "").strip()[:20]

    def act() -> None:
        supervision.set_presence(access.user, ops_of(request), agent_id, value)

    done = f"{agent_id} is {value} now."
    return _act(request, access, fields, act, done, target="agent:" + agent_id)
