"""The administrator's pages under /admin: users and roles, agents (skills, languages, capacity,
department, presence), the organisation the company file describes (departments, SLA and OLA
policies, business calendars), experience bundles (deploy, versions, diff, rollback), API keys
and webhooks. Plain forms with CSRF; every action calls the same use case as the REST API
(`flowdesk.app.users`, `organisation`, `bundles`, `keys`, `webhooks`), and a refusal comes back
as the page again with the message beside the field it concerns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from flowdesk.api.problems import STATUS_BY_CODE
from flowdesk.api.routes.common import ops_of
from flowdesk.app import bundles, keys, organisation, users, webhooks
from flowdesk.app.context import Ops
from flowdesk.app.errors import FormInvalid
from flowdesk.auth.roles import Permission, Role
from flowdesk.auth.service import Forbidden
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.web import csrf
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import error_page, render

router = APIRouter(include_in_schema=False)

Admin = Annotated[PageAccess, Depends(page_access(Permission.USERS_MANAGE))]
Deployer = Annotated[PageAccess, Depends(page_access(Permission.DEPLOY))]
Hooks = Annotated[PageAccess, Depends(page_access(Permission.WEBHOOKS_MANAGE))]

MAX_FIELD = 10_000
MAX_FIELDS = 200
MAX_UPLOAD = 20 * 1024 * 1024
SKILL_ROWS = 3  # empty skill rows offered besides the agent's skills
MAX_CAPACITY = 100
CHANNELS = organisation.CHANNELS
ROLES = tuple(r.value for r in Role)
PRESENCES = organisation.PRESENCES

Fields = dict[str, list[str]]
Errors = dict[str, str]


# -- plumbing --------------------------------------------------------------------------------
async def _form(request: Request) -> tuple[Fields, UploadFile | None]:
    """The submitted fields (every value of a repeated name) and at most one uploaded file."""
    out: Fields = {}
    upload: UploadFile | None = None
    try:
        form = await request.form(max_files=1, max_fields=MAX_FIELDS)
    except Exception:
        return {"__invalid__": ["the form could not be read"]}, None
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value[:MAX_FIELD])
        elif isinstance(value, UploadFile):
            upload = value
    return out, upload


async def form_fields(request: Request) -> Fields:
    return (await _form(request))[0]


Form = Annotated[Fields, Depends(form_fields)]


def _one(fields: Fields, name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def _split(text: str) -> list[str]:
    """'billing, front-office' or one per line -> ['billing', 'front-office']."""
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


def _blocked(request: Request, access: PageAccess, fields: Fields) -> Response | None:
    """The page to answer instead of acting: login, 403, or the CSRF refusal."""
    if access.denied:
        return access.denied
    if csrf.valid(request, _one(fields, csrf.CSRF_FIELD) or None):
        return None
    return error_page(
        request,
        "The form expired or came from another site. Reload the page and try again.",
        status_code=400,
        principal=access.user,
    )


def _refused(request: Request, access: PageAccess, exc: FlowdeskError) -> Response:
    status = 404 if isinstance(exc, NotFoundError) else 403 if isinstance(exc, Forbidden) else 409
    return error_page(request, exc.message, status_code=status, principal=access.user)


def _done(target: str, notice: str) -> Response:
    return RedirectResponse(f"{target}?notice={quote(notice[:200])}", status_code=303)


def _attempt(
    request: Request,
    access: PageAccess,
    act: Callable[[], Any],
    again: Callable[[Errors, int], Response],
    *,
    field: str,
) -> Response | None:
    """Run a use case; on a refusal, the form's page again with the messages on their fields
    (None: it went through)."""
    try:
        act()
    except FormInvalid as exc:
        return again({e["field"]: e["message"] for e in exc.errors}, 422)
    except (NotFoundError, Forbidden) as exc:
        return _refused(request, access, exc)
    except FlowdeskError as exc:
        status = STATUS_BY_CODE.get(exc.code, 400)
        message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
        return again({field: message}, 503 if status >= 500 else status)
    return None


def _page(
    request: Request,
    access: PageAccess,
    template: str,
    context: dict[str, Any],
    *,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    notice = request.query_params.get("notice", "")[:200] or None
    return render(
        request,
        template,
        {"errors": errors or {}, "notice": notice, "section": template, **context},
        principal=access.user,
        status_code=status_code,
    )


# -- overview --------------------------------------------------------------------------------
@router.get("/admin")
def admin_home(request: Request, access: Admin) -> Response:
    if access.denied:
        return access.denied
    return _page(request, access, "admin_home.html", {})


# -- users -----------------------------------------------------------------------------------
def _users(
    request: Request,
    access: PageAccess,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    ops = ops_of(request)
    try:
        listed = users.list_users(access.user, ops)
        departments = organisation.list_departments(access.user, ops)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return _page(
        request,
        access,
        "admin_users.html",
        {
            "users": listed,
            "roles": ROLES,
            "departments": departments,
            "values": values or {"roles": ["agent"]},
        },
        errors=errors,
        status_code=status_code,
    )


@router.get("/admin/users")
def users_page(request: Request, access: Admin) -> Response:
    if access.denied:
        return access.denied
    return _users(request, access)


@router.post("/admin/users")
def create_user(request: Request, access: Admin, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked
    values: dict[str, Any] = {
        "username": _one(fields, "username").strip(),
        "display_name": _one(fields, "display_name"),
        "email": _one(fields, "email"),
        "roles": fields.get("roles", []),
        "groups": _one(fields, "groups"),
    }
    password = _one(fields, "password")

    def act() -> None:
        users.create_user(
            access.user,
            ops_of(request),
            username=values["username"],
            display_name=values["display_name"],
            email=values["email"],
            roles=values["roles"],
            groups=_split(values["groups"]),
            password=password or None,
        )

    def again(errors: Errors, status: int) -> Response:
        return _users(request, access, values=values, errors=errors, status_code=status)

    refused = _attempt(request, access, act, again, field="username")
    return refused or _done("/admin/users", f"User {values['username']} created.")


def _user(
    request: Request,
    access: PageAccess,
    username: str,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    ops = ops_of(request)
    try:
        account = users.get_user(access.user, ops, username)
        departments = organisation.list_departments(access.user, ops)
        agent = _agent_or_none(access, ops, username)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    shown = values or {
        "display_name": account.display_name,
        "email": account.email or "",
        "roles": list(account.roles),
        "groups": ", ".join(account.groups),
    }
    return _page(
        request,
        access,
        "admin_user.html",
        {
            "account": account,
            "roles": ROLES,
            "departments": departments,
            "values": shown,
            "me": account.username == access.user.username,
            "agent": agent,
        },
        errors=errors,
        status_code=status_code,
    )


def _agent_or_none(access: PageAccess, ops: Ops, username: str) -> dict[str, Any] | None:
    """The user's routing profile, when they have one."""
    try:
        return organisation.get_agent(access.user, ops, username)
    except NotFoundError:
        return None


@router.get("/admin/users/{username}")
def user_page(request: Request, username: str, access: Admin) -> Response:
    if access.denied:
        return access.denied
    return _user(request, access, username[:100])


@router.post("/admin/users/{username}")
def update_user(request: Request, username: str, access: Admin, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked
    username = username[:100]
    values: dict[str, Any] = {
        "display_name": _one(fields, "display_name"),
        "email": _one(fields, "email"),
        "roles": fields.get("roles", []),
        "groups": _one(fields, "groups"),
    }

    def act() -> None:
        users.update_user(
            access.user,
            ops_of(request),
            username,
            roles=values["roles"],
            groups=_split(values["groups"]),
            display_name=values["display_name"],
            email=values["email"],
        )

    def again(errors: Errors, status: int) -> Response:
        return _user(request, access, username, values=values, errors=errors, status_code=status)

    refused = _attempt(request, access, act, again, field="roles")
    return refused or _done(f"/admin/users/{quote(username)}", "Saved.")


@router.post("/admin/users/{username}/active")
def set_active(request: Request, username: str, access: Admin, fields: Form) -> Response:
    """Deactivate (active=no) or reactivate (active=yes) a user."""
    if blocked := _blocked(request, access, fields):
        return blocked
    username = username[:100]
    active = _one(fields, "active") == "yes"

    def act() -> None:
        users.set_active(access.user, ops_of(request), username, active)

    def again(errors: Errors, status: int) -> Response:
        return _user(request, access, username, errors=errors, status_code=status)

    refused = _attempt(request, access, act, again, field="active")
    done = "Reactivated: they can log in again." if active else "Deactivated: they cannot log in."
    return refused or _done(f"/admin/users/{quote(username)}", done)


@router.post("/admin/users/{username}/password")
def reset_password(request: Request, username: str, access: Admin, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked
    username = username[:100]
    password = _one(fields, "password")

    def act() -> None:
        users.reset_password(access.user, ops_of(request), username, password)

    def again(errors: Errors, status: int) -> Response:
        return _user(request, access, username, errors=errors, status_code=status)

    refused = _attempt(request, access, act, again, field="password")
    return refused or _done(f"/admin/users/{quote(username)}", "Password set.")


# -- agents ----------------------------------------------------------------------------------
def _agent_values(agent: dict[str, Any] | None) -> dict[str, Any]:
    if agent is None:
        return {
            "id": "",
            "display_name": "",
            "department": "",
            "languages": "",
            "skills": [],
            "capacity": organisation.default_capacity(),
        }
    return {
        "id": agent["id"],
        "display_name": agent.get("display_name") or "",
        "department": (agent.get("departments") or [""])[0],
        "languages": ", ".join(agent.get("languages") or ()),
        "skills": sorted((agent.get("skills") or {}).items()),
        "capacity": dict(agent.get("capacity") or organisation.default_capacity()),
    }


def _agents(
    request: Request,
    access: PageAccess,
    *,
    agent_id: str | None = None,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    """The agents list with the add form, or (agent_id) one agent's edit page."""
    ops = ops_of(request)
    try:
        agent = organisation.get_agent(access.user, ops, agent_id) if agent_id else None
        agents = [] if agent_id else organisation.list_agents(access.user, ops)
        departments = organisation.list_departments(access.user, ops)
        usernames = [u.username for u in users.list_users(access.user, ops)]
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    shown = values or _agent_values(agent)
    return _page(
        request,
        access,
        "admin_agent.html" if agent_id else "admin_agents.html",
        {
            "agent": agent,
            "agents": agents,
            "departments": departments,
            "usernames": usernames,
            "values": shown,
            "blank_skills": range(SKILL_ROWS),
            "levels": range(1, 6),
            "channels": CHANNELS,
            "presences": PRESENCES,
        },
        errors=errors,
        status_code=status_code,
    )


def _parse_agent(fields: Fields) -> tuple[dict[str, Any], Errors]:
    """The agent form as the use case takes it, and the fields it cannot even be read as."""
    errors: Errors = {}
    names = [n.strip() for n in fields.get("skill_name", [])]
    levels = fields.get("skill_level", [])
    skills: list[tuple[str, str]] = []
    for i, name in enumerate(names):
        level = levels[i].strip() if i < len(levels) else ""
        if name:
            skills.append((name, level))
    parsed_skills: dict[str, int] = {}
    for name, level in skills:
        if not level.isdigit() or not 1 <= int(level) <= 5:
            errors["skills"] = f"Skill {name!r}: give a level from 1 (learning) to 5 (expert)."
        elif len(name) > 100:
            errors["skills"] = "A skill name has at most 100 characters."
        else:
            parsed_skills[name] = int(level)
    capacity: dict[str, int] = {}
    for channel in CHANNELS:
        raw = _one(fields, f"capacity_{channel}").strip()
        if not raw:
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_CAPACITY:
            errors[f"capacity_{channel}"] = (
                f"Capacity for {channel}: a whole number from 1 to {MAX_CAPACITY}."
            )
        else:
            capacity[channel] = int(raw)
    values: dict[str, Any] = {
        "id": _one(fields, "id").strip(),
        "display_name": _one(fields, "display_name").strip(),
        "department": _one(fields, "department").strip(),
        "languages": _one(fields, "languages"),
        "skills": skills,
        "capacity": capacity or organisation.default_capacity(),
        "parsed_skills": parsed_skills,
    }
    languages = _split(values["languages"])
    bad = [x for x in languages if not (x.isalpha() and 2 <= len(x) <= 3)]
    if bad:
        errors["languages"] = f"{bad[0]!r} is not a language code: use ISO 639-1, e.g. en, nl."
    values["parsed_languages"] = [x.lower() for x in languages]
    return values, errors


def _field_of(message: str) -> str:
    """Which form field a refusal of `put_agent` concerns, from its words."""
    lowered = message.lower()
    if "skill" in lowered:
        return "skills"
    if "department" in lowered:
        return "department"
    if "capacity" in lowered:
        return "capacity_chat"
    return "id"


def _save_agent(
    request: Request, access: PageAccess, agent_id: str, fields: Fields, *, new: bool
) -> Response:
    values, errors = _parse_agent(fields)
    if new:
        values["id"] = agent_id

    def again(errs: Errors, status: int) -> Response:
        return _agents(
            request,
            access,
            agent_id=None if new else agent_id,
            values=values,
            errors=errs,
            status_code=status,
        )

    if new and not agent_id:
        errors["id"] = "Give the agent's username (their login)."
    if not values["department"]:
        errors["department"] = "Choose the agent's department."
    if errors:
        return again(errors, 422)
    if not new:
        try:  # editing an agent that is not there is a 404, not an agent made by accident
            organisation.get_agent(access.user, ops_of(request), agent_id)
        except FlowdeskError as exc:
            return _refused(request, access, exc)

    def act() -> None:
        organisation.put_agent(
            access.user,
            ops_of(request),
            agent_id,
            skills=values["parsed_skills"],
            languages=values["parsed_languages"],
            departments=[values["department"]],
            capacity=values["capacity"],
            display_name=values["display_name"] or None,
        )

    try:
        act()
    except (NotFoundError, Forbidden) as exc:
        return _refused(request, access, exc)
    except FlowdeskError as exc:
        message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
        status = STATUS_BY_CODE.get(exc.code, 400)
        return again({_field_of(exc.message): message}, 503 if status >= 500 else status)
    done = f"Agent {agent_id} added." if new else f"Agent {agent_id} saved."
    return _done("/admin/agents" if new else f"/admin/agents/{quote(agent_id)}", done)


@router.get("/admin/agents")
def agents_page(request: Request, access: Admin) -> Response:
    if access.denied:
        return access.denied
    return _agents(request, access)


@router.post("/admin/agents")
def add_agent(request: Request, access: Admin, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked
    return _save_agent(request, access, _one(fields, "id").strip()[:100], fields, new=True)


@router.get("/admin/agents/{agent_id}")
def agent_page(request: Request, agent_id: str, access: Admin) -> Response:
    if access.denied:
        return access.denied
    return _agents(request, access, agent_id=agent_id[:100])


@router.post("/admin/agents/{agent_id}")
def edit_agent(request: Request, agent_id: str, access: Admin, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked
    return _save_agent(request, access, agent_id[:100], fields, new=False)


@router.post("/admin/agents/{agent_id}/presence")
def agent_presence(request: Request, agent_id: str, access: Admin, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked
    agent_id = agent_id[:100]
    presence = _one(fields, "presence")

    def act() -> None:
        organisation.set_presence(access.user, ops_of(request), agent_id, presence)

    def again(errors: Errors, status: int) -> Response:
        return _agents(request, access, agent_id=agent_id, errors=errors, status_code=status)

    refused = _attempt(request, access, act, again, field="presence")
    return refused or _done(f"/admin/agents/{quote(agent_id)}", f"Presence: {presence}.")


# -- organisation (read-only: the company file is the source) ---------------------------------
@router.get("/admin/organisation")
def organisation_page(request: Request, access: Admin) -> Response:
    if access.denied:
        return access.denied
    ops = ops_of(request)
    try:
        departments = organisation.list_departments(access.user, ops)
        company = organisation.company_settings(access.user, ops)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    for d in departments:
        d["pickup_text"] = _minutes(d["ola_pickup_minutes"])
        d["resolve_text"] = _minutes(d["ola_resolve_minutes"])
    return _page(
        request,
        access,
        "admin_organisation.html",
        {"departments": departments, "company": company},
    )


def _minutes(value: float | None) -> str:
    """90.0 -> '1h 30m'; 2880.0 -> '2d'."""
    if value is None:
        return "-"
    days, rest = divmod(int(value), 1440)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return " ".join(p for p in parts if p) or "0m"


# -- bundles ---------------------------------------------------------------------------------
def _bundles(
    request: Request, access: PageAccess, *, errors: Errors | None = None, status_code: int = 200
) -> Response:
    try:
        flows = bundles.flows(access.user, ops_of(request))
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return _page(
        request,
        access,
        "admin_bundles.html",
        {"flows": flows},
        errors=errors,
        status_code=status_code,
    )


@router.get("/admin/bundles")
def bundles_page(request: Request, access: Deployer) -> Response:
    if access.denied:
        return access.denied
    return _bundles(request, access)


@router.post("/admin/bundles")
async def deploy_bundle(request: Request, access: Deployer) -> Response:
    """Deploy an uploaded bundle zip (flow.yaml with its BPMN, DMN, forms and articles)."""
    if access.denied:
        return access.denied
    fields, upload = await _form(request)
    if blocked := _blocked(request, access, fields):
        return blocked
    if upload is None or not upload.filename:
        return _bundles(
            request, access, errors={"bundle": "Choose a bundle .zip to upload."}, status_code=422
        )
    data = await upload.read(MAX_UPLOAD + 1)
    filename = upload.filename[:200]
    if len(data) > MAX_UPLOAD:
        too_big = {"bundle": f"The file is larger than {MAX_UPLOAD // (1024 * 1024)} MiB."}
        return _bundles(request, access, errors=too_big, status_code=413)
    # validating and deploying parses BPMN and DMN: off the event loop
    return await run_in_threadpool(_deploy, request, access, data, filename)


def _deploy(request: Request, access: PageAccess, data: bytes, filename: str) -> Response:
    outcome: list[bundles.DeployOutcome] = []

    def act() -> None:
        outcome.append(bundles.deploy(access.user, ops_of(request), data, filename=filename))

    def again(errors: Errors, status: int) -> Response:
        return _bundles(request, access, errors=errors, status_code=status)

    if refused := _attempt(request, access, act, again, field="bundle"):
        return refused
    done = outcome[0].version
    if outcome[0].created:
        notice = f"Deployed {done.name} as version {done.number}."
    else:
        notice = f"{done.name} version {done.number} has these files already: nothing deployed."
    return _done(f"/admin/bundles/{quote(done.name)}", notice)


def _versions(
    request: Request,
    access: PageAccess,
    name: str,
    *,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    try:
        versions = bundles.versions(access.user, ops_of(request), name)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return _page(
        request,
        access,
        "admin_bundle.html",
        {"name": name, "versions": versions, "diff": None},
        errors=errors,
        status_code=status_code,
    )


@router.get("/admin/bundles/{name}")
def bundle_page(request: Request, name: str, access: Deployer) -> Response:
    if access.denied:
        return access.denied
    return _versions(request, access, name[:200])


@router.get("/admin/bundles/{name}/diff")
def bundle_diff(
    request: Request, name: str, access: Deployer, old: str = "", new: str = ""
) -> Response:
    if access.denied:
        return access.denied
    name = name[:200]
    if not (old.isdigit() and new.isdigit() and len(old) < 7 and len(new) < 7):
        return _versions(
            request, access, name, errors={"diff": "Choose two versions."}, status_code=422
        )
    ops = ops_of(request)
    try:
        versions = bundles.versions(access.user, ops, name)
        diff = bundles.diff(access.user, ops, name, int(old), int(new))
    except (NotFoundError, Forbidden) as exc:
        return _refused(request, access, exc)
    except FlowdeskError as exc:
        return _versions(request, access, name, errors={"diff": exc.message}, status_code=409)
    return _page(
        request, access, "admin_bundle.html", {"name": name, "versions": versions, "diff": diff}
    )


@router.post("/admin/bundles/{name}/rollback")
def rollback(request: Request, name: str, access: Deployer, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked
    name = name[:200]
    raw = _one(fields, "version").strip()
    if not raw.isdigit() or len(raw) > 6:
        return _versions(
            request,
            access,
            name,
            errors={"rollback": "Choose the version to roll back to."},
            status_code=422,
        )
    outcome: list[bundles.DeployOutcome] = []

    def act() -> None:
        outcome.append(bundles.rollback(access.user, ops_of(request), name, int(raw)))

    def again(errors: Errors, status: int) -> Response:
        return _versions(request, access, name, errors=errors, status_code=status)

    if refused := _attempt(request, access, act, again, field="rollback"):
        return refused
    now = outcome[0].version
    notice = (
        f"Rolled back: version {now.number} has the files of version {raw}."
        if outcome[0].created
        else f"Version {raw} is current already."
    )
    return _done(f"/admin/bundles/{quote(name)}", notice)


# -- API keys --------------------------------------------------------------------------------
def _keys(
    request: Request,
    access: PageAccess,
    *,
    created: keys.NewKey | None = None,
    values: dict[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    ops = ops_of(request)
    try:
        listed = keys.list_keys(access.user, ops)
        usernames = [u.username for u in users.list_users(access.user, ops) if u.active]
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return _page(
        request,
        access,
        "admin_keys.html",
        {
            "keys": listed,
            "created": created,
            "usernames": usernames,
            "values": values or {"name": "", "owner": access.user.username},
        },
        errors=errors,
        status_code=status_code,
    )


@router.get("/admin/keys")
def keys_page(request: Request, access: Admin) -> Response:
    if access.denied:
        return access.denied
    return _keys(request, access)


@router.post("/admin/keys")
def create_key(request: Request, access: Admin, fields: Form) -> Response:
    """Create a key and show it on this answer only (it is not stored in clear)."""
    if blocked := _blocked(request, access, fields):
        return blocked
    values = {"name": _one(fields, "name"), "owner": _one(fields, "owner")}
    made: list[keys.NewKey] = []

    def act() -> None:
        made.append(
            keys.create_key(
                access.user, ops_of(request), name=values["name"], owner=values["owner"]
            )
        )

    def again(errors: Errors, status: int) -> Response:
        return _keys(request, access, values=values, errors=errors, status_code=status)

    if refused := _attempt(request, access, act, again, field="name"):
        return refused
    return _keys(request, access, created=made[0], status_code=201)


@router.post("/admin/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: str, access: Admin, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked

    def act() -> None:
        keys.revoke_key(access.user, ops_of(request), key_id[:64])

    def again(errors: Errors, status: int) -> Response:
        return _keys(request, access, errors=errors, status_code=status)

    refused = _attempt(request, access, act, again, field="keys")
    return refused or _done("/admin/keys", "Key revoked: it no longer works.")


# -- webhooks --------------------------------------------------------------------------------
def _webhooks(
    request: Request,
    access: PageAccess,
    *,
    created: Any = None,
    values: dict[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    try:
        listed = webhooks.list_webhooks(access.user, ops_of(request))
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return _page(
        request,
        access,
        "admin_webhooks.html",
        {
            "webhooks": listed,
            "created": created,
            "values": values or {"url": "", "event_types": "", "description": ""},
        },
        errors=errors,
        status_code=status_code,
    )


@router.get("/admin/webhooks")
def webhooks_page(request: Request, access: Hooks) -> Response:
    if access.denied:
        return access.denied
    return _webhooks(request, access)


@router.post("/admin/webhooks")
def create_webhook(request: Request, access: Hooks, fields: Form) -> Response:
    """Subscribe a URL; the signing secret is shown on this answer only."""
    if blocked := _blocked(request, access, fields):
        return blocked
    values = {
        "url": _one(fields, "url"),
        "event_types": _one(fields, "event_types"),
        "description": _one(fields, "description"),
    }
    secret = _one(fields, "secret")
    made: list[Any] = []

    def act() -> None:
        made.append(
            webhooks.create_webhook(
                access.user,
                ops_of(request),
                url=values["url"],
                event_types=_split(values["event_types"].replace(" ", ",")),
                secret=secret or None,
                description=values["description"].strip()[:500] or None,
            )
        )

    def again(errors: Errors, status: int) -> Response:
        return _webhooks(request, access, values=values, errors=errors, status_code=status)

    if refused := _attempt(request, access, act, again, field="url"):
        return refused
    return _webhooks(request, access, created=made[0], status_code=201)


@router.get("/admin/webhooks/{webhook_id}")
def webhook_page(request: Request, webhook_id: str, access: Hooks) -> Response:
    """One subscription with its recent deliveries (attempts, status code, error)."""
    if access.denied:
        return access.denied
    ops = ops_of(request)
    try:
        hook = webhooks.get_webhook(access.user, ops, webhook_id[:64])
        recent = webhooks.deliveries(access.user, ops, hook.id, limit=50)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return _page(request, access, "admin_webhook.html", {"hook": hook, "deliveries": recent})


@router.post("/admin/webhooks/{webhook_id}/delete")
def delete_webhook(request: Request, webhook_id: str, access: Hooks, fields: Form) -> Response:
    if blocked := _blocked(request, access, fields):
        return blocked

    def act() -> None:
        webhooks.delete_webhook(access.user, ops_of(request), webhook_id[:64])

    def again(errors: Errors, status: int) -> Response:
        return _webhooks(request, access, errors=errors, status_code=status)

    refused = _attempt(request, access, act, again, field="webhooks")
    return refused or _done("/admin/webhooks", "Webhook deleted: deliveries to it stopped.")
