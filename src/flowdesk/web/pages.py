"""The agent desktop: login, my work, the case page (360, script, knowledge, form, notes,
transfer) and the supervisor's view. Pages are plain HTML forms; with htmx, the script, the
knowledge search and the supervisor figures re-render in place."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from flowdesk.api.routes.common import runtime_of
from flowdesk.api.security import SESSION_COOKIE
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission
from flowdesk.cases.notifier import senders_from
from flowdesk.channels import case_contacts
from flowdesk.channels.outbound import Sender
from flowdesk.core.errors import ConflictError, FlowdeskError, NotFoundError
from flowdesk.core.events import NewEvent
from flowdesk.experience.service import WorkItemExperience, experience_for
from flowdesk.knowledge import get_article, give_feedback, search
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.web import csrf, data, forms, triage
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import countdown, error_page, render

router = APIRouter(include_in_schema=False)

MAX_FIELD = 10_000
MAX_FIELDS = 200

Read = Annotated[PageAccess, Depends(page_access(Permission.WORK_READ))]
Act = Annotated[PageAccess, Depends(page_access(Permission.WORK_ACT))]
Supervise = Annotated[PageAccess, Depends(page_access(Permission.SUPERVISE))]


async def form_data(request: Request) -> dict[str, str]:
    """The submitted fields as text (files and oversized values are refused)."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except Exception:
        return {"__invalid__": "the form could not be read"}
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out[key] = value[:MAX_FIELD]
    return out


Form = Annotated[dict[str, str], Depends(form_data)]


def _csrf_failed(request: Request, fields: dict[str, str]) -> Response | None:
    if csrf.valid(request, fields.get(csrf.CSRF_FIELD)):
        return None
    return error_page(
        request,
        "The form expired or came from another site. Reload the page and try again.",
        status_code=400,
    )


def _posted_item(
    request: Request, access: PageAccess, fields: dict[str, str], item_id: str
) -> dict[str, Any] | Response:
    """The work item a form posts to, or the page to answer instead: the login redirect, the
    CSRF refusal, or 404 when the item does not exist or is not the user's to see."""
    if access.denied:
        return access.denied
    if failed := _csrf_failed(request, fields):
        return failed
    try:
        return data.visible_item(_store(request), access.user, item_id)
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)


def _store(request: Request) -> Any:
    return request.app.state.store


def _runtime(request: Request) -> ProcessRuntime:
    """The app's runtime: it keeps the parsed definitions and DMN models between requests."""
    return runtime_of(request)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/work"


# -- login -----------------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login_submit(request: Request, fields: Form) -> Response:
    if failed := _csrf_failed(request, fields):
        return failed
    username = fields.get("username", "").strip()[:100]
    password = fields.get("password", "")[:200]
    target = _safe_next(fields.get("next"))
    try:
        token, _ = auth.login(
            _store(request), request.app.state.clock, username=username, password=password
        )
    except FlowdeskError:
        return render(
            request,
            "login.html",
            {"next": target, "error": "Wrong username or password.", "username": username},
            status_code=401,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=int(auth.SESSION_TTL.total_seconds()),
    )
    return response


@router.post("/logout")
def logout(request: Request, fields: Form) -> Response:
    if failed := _csrf_failed(request, fields):
        return failed
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.logout(_store(request), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- my work ---------------------------------------------------------------------------------
@router.get("/")
def home(access: Read) -> Response:
    if access.denied:
        return access.denied
    return RedirectResponse("/work", status_code=303)


MAX_PAGE = 10_000


@router.get("/work")
def my_work(request: Request, access: Read, notice: str | None = None, page: str = "1") -> Response:
    if access.denied:
        return access.denied
    number = int(page) if page.isdigit() and 0 < len(page) <= 5 else 1
    now = request.app.state.clock.now()
    queue = data.my_queue(_store(request), access.user, page=min(max(number, 1), MAX_PAGE))
    for row in queue.rows:
        row["countdown"] = countdown(row["due"], now)
        row["late"] = row["due"] is not None and row["due"] < now
    # Contacts waiting for a first answer lead the first page (they are due within minutes).
    first_answers = triage.rows(triage.waiting(request, access.user), now) if number == 1 else []
    return render(
        request,
        "work.html",
        {
            "queue": queue.rows,
            "triage": first_answers,
            "page": queue,
            "notice": (notice or "")[:200],
        },
        principal=access.user,
    )


@router.post("/work/next")
def take_next(request: Request, access: Act, fields: Form) -> Response:
    if access.denied:
        return access.denied
    if failed := _csrf_failed(request, fields):
        return failed
    best = data.next_best(_store(request), access.user)
    first = next(iter(triage.waiting(request, access.user, limit=1)), None)
    if first is not None and (best is None or best["due"] is None or first.due <= best["due"]):
        return RedirectResponse(f"/triage/{quote(first.id)}", status_code=303)
    if best is None:
        return RedirectResponse("/work?notice=" + quote("Your queue is empty."), 303)
    if best["assignee"] is None:
        try:
            _runtime(request).claim(best["id"], access.user.username)
        except (ConflictError, NotFoundError):
            return RedirectResponse("/work?notice=" + quote("Someone took it; try again."), 303)
    return RedirectResponse(f"/work/{quote(best['id'])}", status_code=303)


# -- the case --------------------------------------------------------------------------------
def _case(
    request: Request,
    access: PageAccess,
    item_id: str,
    *,
    answers: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    notice: str | None = None,
    status_code: int = 200,
    reply: dict[str, str] | None = None,
) -> Response:
    store = _store(request)
    try:
        item = data.visible_item(store, access.user, item_id)
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    case = case_contacts.case_of_instance(store, item["instance_id"])
    contacts = case_contacts.contacts_of_case(store, case.id) if case else []
    answerable = [c for c in contacts if case_contacts.replyable(c)]
    exp, typed, answer_error = _experience(store, item_id, answers or {})
    if answer_error:
        errors = [*(errors or []), answer_error]
    now = request.app.state.clock.now()
    due = exp.due_at or data.DueTimes(store)(item)
    context = {
        "item": item,
        "exp": exp,
        "values": {**typed, **(answers or {})},
        "fields": forms.extra_fields(exp.form, exp.script, answers or {}),
        "c360": data.customer_360(store, item["instance_id"]),
        "due": due,
        "countdown": countdown(due, now),
        "errors": errors or [],
        "error_fields": {e["field"] for e in errors or []},
        "notice": notice,
        "mine": item["assignee"] == access.user.username,
        "open": item["status"] == "open",
        "case": case,
        "contacts": contacts,
        "answerable": answerable,
        "reply": reply or {"contact": answerable[0].id if answerable else "", "text": ""},
    }
    return render(request, "case.html", context, principal=access.user, status_code=status_code)


def _experience(
    store: Any, item_id: str, raw: dict[str, str]
) -> tuple[WorkItemExperience, dict[str, Any], dict[str, str] | None]:
    """The experience with the answers so far; answers that do not parse are left out and
    reported instead of failing the page."""
    exp = experience_for(store, item_id)
    try:
        typed = forms.answers_from(raw, exp.script)
    except ValueError as exc:
        return exp, {}, {"field": str(exc).split(":", 1)[0], "message": str(exc)}
    typed = {k: v for k, v in typed.items() if v is not None}
    if typed:
        exp = experience_for(store, item_id, answers=typed)
    return exp, typed, None


@router.get("/work/{item_id}")
def case_page(request: Request, item_id: str, access: Read, notice: str | None = None) -> Response:
    if access.denied:
        return access.denied
    return _case(request, access, item_id, notice=(notice or "")[:200] or None)


@router.post("/work/{item_id}/script")
def script_update(request: Request, item_id: str, access: Read, fields: Form) -> Response:
    """Re-evaluate the script with the answers so far: the fragment for htmx, else the page."""
    if access.denied:
        return access.denied
    if failed := _csrf_failed(request, fields):
        return failed
    answers = {k: v for k, v in fields.items() if k != csrf.CSRF_FIELD}
    if not request.headers.get("HX-Request"):
        return _case(request, access, item_id, answers=answers)
    store = _store(request)
    try:
        data.visible_item(store, access.user, item_id)
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    exp, typed, problem = _experience(store, item_id, answers)
    return render(
        request,
        "_script.html",
        {
            "exp": exp,
            "values": {**typed, **answers},
            "script_errors": [problem] if problem else [],
            "error_fields": {problem["field"]} if problem else set(),
        },
        principal=access.user,
    )


@router.post("/work/{item_id}/complete")
def complete(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    item = _posted_item(request, access, fields, item_id)
    if isinstance(item, Response):
        return item
    store = _store(request)
    raw = {k: v for k, v in fields.items() if k != csrf.CSRF_FIELD}
    exp, _, _ = _experience(store, item_id, raw)
    values, errors = forms.parse_submission(raw, exp.script, exp.form)
    if not errors:
        try:
            _runtime(request).complete_work_item(item_id, values, actor=access.user.username)
        except FlowdeskError as exc:
            errors = [{"field": "", "message": exc.message}]
    if errors:
        return _case(request, access, item_id, answers=raw, errors=errors, status_code=422)
    name = item["name"] or item["element_id"]
    return RedirectResponse("/work?notice=" + quote(f"Completed: {name}"), status_code=303)


@router.post("/work/{item_id}/claim")
def claim(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    return _assign(request, item_id, access, fields, "claim")


@router.post("/work/{item_id}/unclaim")
def unclaim(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    return _assign(request, item_id, access, fields, "unclaim")


def _assign(
    request: Request, item_id: str, access: PageAccess, fields: dict[str, str], action: str
) -> Response:
    if access.denied:
        return access.denied
    if failed := _csrf_failed(request, fields):
        return failed
    store = _store(request)
    try:
        item = data.visible_item(store, access.user, item_id)
        runtime = _runtime(request)
        if action == "claim":
            runtime.claim(item_id, access.user.username)
            notice = "Claimed: it is yours now."
        else:
            if item["assignee"] != access.user.username:
                raise ConflictError("only the assignee can give this item back")
            runtime.unclaim(item_id, access.user.username)
            notice = "Returned to the queue."
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    except FlowdeskError as exc:
        return _case(
            request,
            access,
            item_id,
            errors=[{"field": "", "message": exc.message}],
            status_code=409,
        )
    return RedirectResponse(f"/work/{quote(item_id)}?notice={quote(notice)}", status_code=303)


@router.post("/work/{item_id}/note")
def add_note(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    item = _posted_item(request, access, fields, item_id)
    if isinstance(item, Response):
        return item
    store = _store(request)
    text = fields.get("note", "").strip()
    if not text:
        return _case(
            request,
            access,
            item_id,
            errors=[{"field": "note", "message": "The note is empty."}],
            status_code=422,
        )
    c360 = data.customer_360(store, item["instance_id"])
    with store.unit_of_work() as uow:
        uow.append(
            NewEvent(
                "work_item.note_added",
                request.app.state.clock.now(),
                {"work_item_id": item_id, "text": text[:4000]},
                process_instance_id=item["instance_id"],
                customer_id=c360.customer_id,
                element_id=item["element_id"],
                actor=access.user.username,
                department=item["lane"],
            )
        )
    return RedirectResponse(f"/work/{quote(item_id)}?notice=Note+added", status_code=303)


@router.post("/work/{item_id}/transfer")
def transfer(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    """Delegate to a user, or hand over to a department through routing."""
    if access.denied:
        return access.denied
    if failed := _csrf_failed(request, fields):
        return failed
    store = _store(request)
    target = fields.get("to", "").strip()
    reason = fields.get("reason", "").strip() or "transferred from the desktop"
    try:
        data.visible_item(store, access.user, item_id)
        if target.startswith("group:"):
            from flowdesk.api.routes.routing import routing_service

            routing = routing_service(request)  # the app's, with the company's organisation
            routing.sync()  # the queue follows the event log; make sure it has this item
            routing.transfer(
                item_id, reason=reason, department=target[6:], actor=access.user.username
            )
            done = f"Transferred to {target[6:]}."
        elif target:
            auth.get_user(store, target)  # an unknown user is an error, not a lost item
            _runtime(request).delegate(item_id, target, actor=access.user.username)
            done = f"Delegated to {target}."
        else:
            raise ConflictError("say who to transfer to: a username or group:<department>")
    except NotFoundError as exc:
        return _transfer_error(request, access, item_id, exc.message)
    except FlowdeskError as exc:
        return _transfer_error(request, access, item_id, exc.message)
    return RedirectResponse("/work?notice=" + quote(done), status_code=303)


def _transfer_error(request: Request, access: PageAccess, item_id: str, message: str) -> Response:
    return _case(
        request, access, item_id, errors=[{"field": "to", "message": message}], status_code=422
    )


# -- replies and photos ----------------------------------------------------------------------
def reply_senders(request: Request) -> dict[str, Sender]:
    """The senders the app was given (`app.state.contact_senders`, as intake uses), else those
    the settings configure for notifications (FLOWDESK_SMTP_HOST, FLOWDESK_NOTIFY_WEBHOOKS)."""
    state = request.app.state
    given: dict[str, Sender] | None = getattr(state, "contact_senders", None)
    if given is not None:
        return given
    built: dict[str, Sender] | None = getattr(state, "reply_senders", None)
    if built is None:
        built = state.reply_senders = senders_from(state.settings)
    return built


@router.post("/work/{item_id}/reply")
def send_reply(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    """Answer the customer on the channel of the chosen contact (the latest by default)."""
    item = _posted_item(request, access, fields, item_id)
    if isinstance(item, Response):
        return item
    store = _store(request)
    typed = {"contact": fields.get("contact", "")[:64], "text": fields.get("reply", "")}

    def refused(field: str, message: str, status: int) -> Response:
        error = [{"field": field, "message": message}]
        return _case(request, access, item_id, errors=error, status_code=status, reply=typed)

    case = case_contacts.case_of_instance(store, item["instance_id"])
    if case is None:
        return refused("reply", "this work has no case with customer contacts to answer", 422)
    try:
        sent = case_contacts.reply(
            store,
            request.app.state.clock,
            case=case,
            instance_id=item["instance_id"],
            contact_id=typed["contact"],
            text=typed["text"],
            actor=access.user.username,
            senders=reply_senders(request),
        )
    except NotFoundError as exc:
        return refused("contact", exc.message, 422)
    except case_contacts.ReplyRefusedError as exc:
        return refused("reply", exc.message, 422)
    except case_contacts.ReplyFailedError as exc:
        return refused("reply", exc.message, 503)
    if sent.send_at is not None:
        notice = f"Reply kept: the customer's quiet hours end {sent.send_at:%Y-%m-%d %H:%M} UTC."
    else:
        notice = f"Reply sent by {sent.channel} to {sent.to}."
    return RedirectResponse(f"/work/{quote(item_id)}?notice={quote(notice)}", status_code=303)


@router.get("/work/{item_id}/photos/{contact_id}")
def photo(request: Request, item_id: str, contact_id: str, access: Read) -> Response:
    """A photo the customer added to this item's case (re-encoded on upload, no metadata)."""
    if access.denied:
        return access.denied
    store = _store(request)
    try:
        item = data.visible_item(store, access.user, item_id)
        stored = case_contacts.photo_of(store, contact_id[:64])
        if stored.instance_id != item["instance_id"]:
            raise NotFoundError(f"no photo {contact_id!r} on this case")
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


# -- knowledge -------------------------------------------------------------------------------
@router.get("/knowledge/search")
def knowledge_search(request: Request, access: Read, q: str = "", item: str = "") -> Response:
    if access.denied:
        return access.denied
    query = q.strip()[:200]
    hits = search(_store(request), query, limit=10) if query else []
    template = "_knowledge_hits.html" if request.headers.get("HX-Request") else "knowledge.html"
    return render(
        request, template, {"q": query, "hits": hits, "item_id": item[:64]}, principal=access.user
    )


@router.get("/knowledge/{slug}")
def article(request: Request, slug: str, access: Read, item: str = "") -> Response:
    if access.denied:
        return access.denied
    try:
        view = get_article(_store(request), slug[:200])
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    paragraphs = [p.strip() for p in view.body.split("\n\n") if p.strip()]
    return render(
        request,
        "article.html",
        {"article": view, "paragraphs": paragraphs, "item_id": item[:64], "thanks": None},
        principal=access.user,
    )


@router.post("/knowledge/{slug}/feedback")
def feedback(request: Request, slug: str, access: Read, fields: Form) -> Response:
    if access.denied:
        return access.denied
    if failed := _csrf_failed(request, fields):
        return failed
    helpful = fields.get("helpful") == "yes"
    item_id = fields.get("item") or None
    try:
        give_feedback(
            _store(request),
            slug[:200],
            helpful,
            clock=request.app.state.clock,
            actor=access.user.username,
            work_item_id=item_id,
        )
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    if request.headers.get("HX-Request"):
        return render(request, "_thanks.html", {"helpful": helpful}, principal=access.user)
    back = f"/knowledge/{quote(slug)}?item={quote(item_id or '')}"
    return RedirectResponse(back, status_code=303)


# -- supervisor ------------------------------------------------------------------------------
RISK_HORIZON = timedelta(hours=1)


def _figures(request: Request) -> dict[str, Any]:
    now = request.app.state.clock.now()
    figures = data.supervisor_figures(_store(request), now, RISK_HORIZON)
    for row in figures["at_risk"]:
        row["countdown"] = countdown(row["due"], now)
    return {"fig": figures, "now": now}


@router.get("/supervisor")
def supervisor(request: Request, access: Supervise) -> Response:
    if access.denied:
        return access.denied
    return render(request, "supervisor.html", _figures(request), principal=access.user)


@router.get("/supervisor/panel")
def supervisor_panel(request: Request, access: Supervise) -> Response:
    if access.denied:
        return access.denied
    return render(request, "_supervisor_panel.html", _figures(request), principal=access.user)
