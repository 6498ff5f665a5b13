"""The agent desktop: login, my work (filtered, sorted, polled), the case page (360, one
conversation, business timeline, script, knowledge, form, macros, notes, transfer) and search
(docs/desktop.md). Pages are plain HTML forms; with htmx, the script and the knowledge search
re-render in place (the supervisor's pages are in supervisor.py)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from flowdesk.api.routes.common import ops_of
from flowdesk.api.security import SESSION_COOKIE
from flowdesk.app import analytics, casework, desktop, knowledge, macros, work
from flowdesk.app import nba as next_best
from flowdesk.app import search as app_search
from flowdesk.app.casework import WorkItemExperience
from flowdesk.app.context import Ops
from flowdesk.app.errors import FormInvalid
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.web import csrf, forms, triage
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import countdown, error_page, render

router = APIRouter(include_in_schema=False)

MAX_FIELD = 10_000
MAX_FIELDS = 200

Read = Annotated[PageAccess, Depends(page_access(Permission.WORK_READ))]
Act = Annotated[PageAccess, Depends(page_access(Permission.WORK_ACT))]


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


def _posted(request: Request, access: PageAccess, fields: dict[str, str]) -> Response | None:
    """The page to answer instead of acting: the login redirect or the CSRF refusal."""
    if access.denied:
        return access.denied
    return _csrf_failed(request, fields)


def _refused(request: Request, access: PageAccess, exc: FlowdeskError) -> Response:
    """A use case's refusal as a page: 404 unknown, 403 not the user's to see, else 409."""
    status = 404 if isinstance(exc, NotFoundError) else 403 if isinstance(exc, Forbidden) else 409
    return error_page(request, exc.message, status_code=status, principal=access.user)


def _store(request: Request) -> Any:
    return request.app.state.store


def _ops(request: Request) -> Ops:
    return ops_of(request)


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
            _store(request),
            request.app.state.clock,
            username=username,
            password=password,
            address=request.client.host if request.client else None,
        )
    except auth.LoginThrottled as locked:  # the lock-out notice
        notice = render(
            request,
            "login.html",
            {"next": target, "error": f"{str(locked).capitalize()}.", "username": username},
            status_code=429,
        )
        notice.headers["Retry-After"] = str(locked.retry_after)
        return notice
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
        secure=request.app.state.settings.cookie_secure,
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


CHANNELS = ("email", "sms", "chat", "phone", "web", "social", "letter", "app", "store")


def _queue_filter(params: Any) -> tuple[work.QueueFilter, dict[str, str]]:
    """The queue's filters from the query string (unknown values are dropped, not errors:
    they come from links and bookmarks), and the same as plain values for the form."""
    values = {k: str(params.get(k) or "")[:200] for k in ("channel", "flow", "overdue", "scope")}
    values["sort"] = str(params.get("sort") or "priority")[:20]
    if values["channel"] not in CHANNELS:
        values["channel"] = ""
    if values["scope"] not in work.QUEUE_SCOPES:
        values["scope"] = ""
    if values["sort"] not in work.QUEUE_SORTS:
        values["sort"] = "priority"
    values["overdue"] = "1" if values["overdue"] in ("1", "on", "yes", "true") else ""
    chosen = work.QueueFilter(
        channel=values["channel"] or None,
        flow=values["flow"] or None,
        overdue=bool(values["overdue"]),
        scope=values["scope"] or None,
        sort=values["sort"],
    )
    return chosen, values


def _queue_context(request: Request, access: PageAccess, page: str) -> dict[str, Any]:
    number = int(page) if page.isdigit() and 0 < len(page) <= 5 else 1
    now = request.app.state.clock.now()
    chosen, values = _queue_filter(request.query_params)
    queue = work.my_queue(
        access.user, _ops(request), page=min(max(number, 1), MAX_PAGE), filters=chosen
    )
    for row in queue.rows:
        row["countdown"] = countdown(row["due"], now)
        row["late"] = row["due"] is not None and row["due"] < now
    kept = {k: v for k, v in values.items() if v and not (k == "sort" and v == "priority")}
    return {
        "queue": queue.rows,
        "page": queue,
        "filters": values,
        "flows": sorted({*queue.flows, *([values["flow"]] if values["flow"] else [])}),
        "channels": CHANNELS,
        "query": urlencode(kept),
        "sorts": work.QUEUE_SORTS,
    }


@router.get("/work")
def my_work(request: Request, access: Read, notice: str | None = None, page: str = "1") -> Response:
    if access.denied:
        return access.denied
    context = _queue_context(request, access, page)
    now = request.app.state.clock.now()
    # Contacts waiting for a first answer lead the first page (they are due within minutes).
    first = context["page"].page == 1
    first_answers = triage.rows(triage.waiting(request, access.user), now) if first else []
    context.update(triage=first_answers, notice=(notice or "")[:200])
    return render(request, "work.html", context, principal=access.user)


@router.get("/work/queue")
def my_work_list(request: Request, access: Read, page: str = "1") -> Response:
    """The queue list alone, with the same filters: what htmx polls every 15 seconds."""
    if access.denied:
        return access.denied
    context = _queue_context(request, access, page)
    return render(request, "_queue.html", context, principal=access.user)


@router.post("/work/next")
def take_next(request: Request, access: Act, fields: Form) -> Response:
    if failed := _posted(request, access, fields):
        return failed
    try:
        taken = desktop.take_next(access.user, _ops(request))
    except FlowdeskError as exc:
        return RedirectResponse("/work?notice=" + quote(exc.message[:200]), 303)
    if taken.contact_id is not None:
        return RedirectResponse(f"/triage/{quote(taken.contact_id)}", status_code=303)
    if taken.item is None:
        return RedirectResponse("/work?notice=" + quote("Your queue is empty."), 303)
    return RedirectResponse(f"/work/{quote(taken.item['id'])}", status_code=303)


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
    ops = _ops(request)
    try:
        view = casework.case_view(access.user, ops, item_id)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    item, answerable = view.item, view.answerable
    exp, typed, answer_error = _experience(request, access, item_id, answers or {})
    if answer_error:
        errors = [*(errors or []), answer_error]
    now = request.app.state.clock.now()
    due = exp.due_at or work.DueTimes(ops)(item)
    context = {
        "item": item,
        "exp": exp,
        "values": {**typed, **(answers or {})},
        "fields": forms.extra_fields(exp.form, exp.script, answers or {}),
        "c360": view.c360,
        "due": due,
        "countdown": countdown(due, now),
        "errors": errors or [],
        "error_fields": {e["field"] for e in errors or []},
        "notice": notice,
        "mine": item["assignee"] == access.user.username,
        "open": item["status"] == "open",
        "case": view.case,
        "contacts": view.contacts,
        "answerable": answerable,
        "reply": reply or {"contact": answerable[0].id if answerable else "", "text": ""},
        "conversation": casework.conversation(access.user, ops, item_id),
        "timeline": casework.timeline(access.user, ops, item_id),
        "macros": macros.list_macros(access.user, ops),
    }
    case_id = view.case.id if view.case is not None else None
    context["nba"], context["nba_done"] = next_best.for_case(
        access.user, ops, view.c360.customer_id, case_id
    )
    context["scores"] = next_best.customer_scores(access.user, ops, view.c360.customer_id)
    # what the customer's words feel like, per contact and for the case (its most negative)
    felt = analytics.case_sentiment(access.user, ops, item_id) if case_id else []
    context["feelings"] = {f["id"]: f for f in felt}
    context["case_feeling"] = min(felt, key=lambda f: f["compound"]) if felt else None
    return render(request, "case.html", context, principal=access.user, status_code=status_code)


def _experience(
    request: Request, access: PageAccess, item_id: str, raw: dict[str, str]
) -> tuple[WorkItemExperience, dict[str, Any], dict[str, str] | None]:
    """The experience with the answers so far; answers that do not parse are left out and
    reported instead of failing the page."""
    ops = _ops(request)
    exp = casework.step_experience(access.user, ops, item_id)
    try:
        typed = forms.answers_from(raw, exp.script)
    except ValueError as exc:
        return exp, {}, {"field": str(exc).split(":", 1)[0], "message": str(exc)}
    typed = {k: v for k, v in typed.items() if v is not None}
    if typed:
        exp = casework.step_experience(access.user, ops, item_id, answers=typed)
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
    try:
        work.get_item(access.user, _ops(request), item_id)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    exp, typed, problem = _experience(request, access, item_id, answers)
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


def _acted(
    request: Request,
    access: PageAccess,
    item_id: str,
    act: Any,
    done: str,
    *,
    field: str = "",
    answers: dict[str, str] | None = None,
    reply: dict[str, str] | None = None,
    back_to: str | None = None,
) -> Response:
    """Run a use case for the form and answer as the desktop does: back to the case (or
    `back_to`) with a notice, or the case page with the refusal next to its field."""
    try:
        act()
    except FormInvalid as exc:
        return _case(
            request,
            access,
            item_id,
            answers=answers,
            errors=exc.errors,
            status_code=422,
            reply=reply,
        )
    except (NotFoundError, Forbidden) as exc:
        return _refused(request, access, exc)
    except FlowdeskError as exc:
        error = [{"field": field, "message": exc.message}]
        status = 503 if exc.code == "unavailable" else 409
        return _case(
            request,
            access,
            item_id,
            answers=answers,
            errors=error,
            status_code=status,
            reply=reply,
        )
    target = back_to or f"/work/{quote(item_id)}"
    return RedirectResponse(f"{target}?notice={quote(done)}", status_code=303)


@router.post("/work/{item_id}/complete")
def complete(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    if failed := _posted(request, access, fields):
        return failed
    ops = _ops(request)
    try:
        item = work.get_item(access.user, ops, item_id)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    raw = {k: v for k, v in fields.items() if k != csrf.CSRF_FIELD}
    exp, _, _ = _experience(request, access, item_id, raw)
    values, errors = forms.parse_submission(raw, exp.script, exp.form)
    if errors:
        return _case(request, access, item_id, answers=raw, errors=errors, status_code=422)
    name = item["name"] or item["element_id"]
    return _acted(
        request,
        access,
        item_id,
        lambda: work.complete(access.user, ops, item_id, values),
        f"Completed: {name}",
        answers=raw,
        back_to="/work",
    )


@router.post("/work/{item_id}/claim")
def claim(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    if failed := _posted(request, access, fields):
        return failed
    act = lambda: work.claim(access.user, _ops(request), item_id)  # noqa: E731
    return _acted(request, access, item_id, act, "Claimed: it is yours now.")


@router.post("/work/{item_id}/unclaim")
def unclaim(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    if failed := _posted(request, access, fields):
        return failed
    act = lambda: work.unclaim(access.user, _ops(request), item_id)  # noqa: E731
    return _acted(request, access, item_id, act, "Returned to the queue.")


@router.post("/work/{item_id}/note")
def add_note(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    if failed := _posted(request, access, fields):
        return failed
    text = fields.get("note", "")
    act = lambda: work.add_note(access.user, _ops(request), item_id, text)  # noqa: E731
    return _acted(request, access, item_id, act, "Note added", field="note")


@router.post("/work/{item_id}/nba/{decision_id}")
def nba_outcome(
    request: Request, item_id: str, decision_id: str, access: Act, fields: Form
) -> Response:
    """One click on a suggested action: the customer accepted or declined it."""
    if failed := _posted(request, access, fields):
        return failed
    outcome = fields.get("outcome", "")

    def act() -> Any:
        return next_best.record_outcome(access.user, _ops(request), decision_id, outcome)

    return _acted(request, access, item_id, act, f"Next best action {outcome or 'recorded'}")


@router.post("/work/{item_id}/transfer")
def transfer(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    """Delegate to a user, or hand over to a department through routing."""
    if failed := _posted(request, access, fields):
        return failed
    ops = _ops(request)
    target = fields.get("to", "").strip()
    reason = fields.get("reason", "").strip() or "transferred from the desktop"
    if target.startswith("group:"):
        department = target[6:]

        def act() -> Any:
            return work.transfer(access.user, ops, item_id, department=department, reason=reason)

        done = f"Transferred to {department}."
    elif target:

        def act() -> Any:
            return work.delegate(access.user, ops, item_id, target)

        done = f"Delegated to {target}."
    else:
        problem = "Say who to transfer to: a username or group:<department>."
        return _case(
            request, access, item_id, errors=[{"field": "to", "message": problem}], status_code=422
        )
    try:
        act()
    except (NotFoundError, FormInvalid, FlowdeskError) as exc:
        if isinstance(exc, Forbidden):
            return _refused(request, access, exc)
        error = [{"field": "to", "message": exc.message}]
        return _case(request, access, item_id, errors=error, status_code=422)
    return RedirectResponse("/work?notice=" + quote(done), status_code=303)


# -- replies and photos ----------------------------------------------------------------------
@router.post("/work/{item_id}/reply")
def send_reply(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    """Answer the customer on the channel of the chosen contact (the latest by default)."""
    if failed := _posted(request, access, fields):
        return failed
    typed = {"contact": fields.get("contact", "")[:64], "text": fields.get("reply", "")}
    sent: list[Any] = []

    def act() -> None:
        sent.append(
            casework.reply(access.user, _ops(request), item_id, typed["contact"], typed["text"])
        )

    answer = _acted(request, access, item_id, act, "", field="reply", reply=typed)
    if not sent:
        return answer
    if sent[0].send_at is not None:
        notice = f"Reply kept: the customer's quiet hours end {sent[0].send_at:%Y-%m-%d %H:%M} UTC."
    else:
        notice = f"Reply sent by {sent[0].channel} to {sent[0].to}."
    return RedirectResponse(f"/work/{quote(item_id)}?notice={quote(notice)}", status_code=303)


@router.post("/work/{item_id}/macro")
def use_macro(request: Request, item_id: str, access: Act, fields: Form) -> Response:
    """Fill the reply box with a macro, placeholders filled for this case: the case page again
    with the text in the box (no script needed), for the agent to edit and send."""
    if failed := _posted(request, access, fields):
        return failed
    chosen = fields.get("macro", "")[:100]
    typed = {"contact": fields.get("contact", "")[:64], "text": fields.get("reply", "")}
    try:
        typed["text"] = macros.fill(access.user, _ops(request), item_id, chosen)
    except FormInvalid as exc:
        return _case(request, access, item_id, errors=exc.errors, status_code=422, reply=typed)
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return _case(request, access, item_id, reply={**typed, "macro": chosen})


@router.get("/work/{item_id}/photos/{contact_id}")
def photo(request: Request, item_id: str, contact_id: str, access: Read) -> Response:
    """A photo the customer added to this item's case (re-encoded on upload, no metadata)."""
    if access.denied:
        return access.denied
    try:
        stored = casework.photo(access.user, _ops(request), item_id, contact_id[:64])
    except FlowdeskError as exc:
        return _refused(request, access, exc)
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


# -- search ----------------------------------------------------------------------------------
@router.get("/search")
def search_page(request: Request, access: Read, q: str = "") -> Response:
    """Customers and cases the user may see, by name, email, phone, account number, case
    reference or what was said."""
    if access.denied:
        return access.denied
    query = q.strip()[:200]
    found, error = None, None
    if query:
        try:
            found = app_search.search(access.user, _ops(request), query)
        except FormInvalid as exc:
            error = exc.errors[0]["message"]
    return render(
        request,
        "search.html",
        {"q": query, "search_q": query, "found": found, "error": error},
        principal=access.user,
        status_code=422 if error else 200,
    )


# -- knowledge -------------------------------------------------------------------------------
@router.get("/knowledge/search")
def knowledge_search(request: Request, access: Read, q: str = "", item: str = "") -> Response:
    if access.denied:
        return access.denied
    query = q.strip()[:200]
    hits = knowledge.find(access.user, _ops(request), query, limit=10) if query else []
    template = "_knowledge_hits.html" if request.headers.get("HX-Request") else "knowledge.html"
    return render(
        request, template, {"q": query, "hits": hits, "item_id": item[:64]}, principal=access.user
    )


@router.get("/knowledge/{slug}")
def article(request: Request, slug: str, access: Read, item: str = "") -> Response:
    if access.denied:
        return access.denied
    try:
        view = knowledge.article(access.user, _ops(request), slug[:200])
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
        knowledge.feedback(access.user, _ops(request), slug[:200], helpful, work_item_id=item_id)
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    if request.headers.get("HX-Request"):
        return render(request, "_thanks.html", {"helpful": helpful}, principal=access.user)
    back = f"/knowledge/{quote(slug)}?item={quote(item_id or '')}"
    return RedirectResponse(back, status_code=303)
