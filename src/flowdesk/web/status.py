"""The customer's status page (public): the case reference (business key) plus something
only the customer knows (the last name, postcode or an email address on file) shows the
customer-facing status texts of the case, and lets them add information: delivered to the
flow when it waits for the customer's message (a name ending in "-reply" or starting with
"customer-"), and always recorded as an event for the agent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from flowdesk.api.routes.common import ops_of
from flowdesk.app import answers, nba
from flowdesk.app import selfservice as use
from flowdesk.app.context import Ops
from flowdesk.app.errors import FormInvalid
from flowdesk.app.work import customer_id_of
from flowdesk.core.errors import FlowdeskError
from flowdesk.web import csrf
from flowdesk.web.pages import MAX_FIELD, Form
from flowdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

#: One message for every failed look-up: it must not tell which references exist.
NOT_VERIFIED = (
    "We could not find a case with that reference and those details. Check the reference "
    "in our message to you and the last name, postcode or email address you gave us."
)


def _page(request: Request, **context: Any) -> Response:
    context.setdefault("texts", [])
    context.setdefault("error", None)
    context.setdefault("reference", "")
    context.setdefault("proof", "")
    context.setdefault("case", None)
    context.setdefault("notice", None)
    context.setdefault("questions", [])
    context.setdefault("answers", {})
    context.setdefault("answer_errors", [])
    context.setdefault(
        "photo_limit_mb", max(1, request.app.state.settings.status_photo_max_bytes // 1_048_576)
    )
    status = int(context.pop("status_code", 200))
    return render(request, "status.html", context, status_code=status)


def _verify(request: Request, fields: dict[str, str]) -> use.InstanceState | Response:
    """The verified case of the submitted reference and proof, or the page to answer instead:
    400 without a valid form token, 429 while the address (or, for a wrong proof, the
    reference) is blocked, 404 for a failed check (counted). The limits are counted in the
    database (flowdesk.app.selfservice.limited_check), the address is the peer's unless it is
    a trusted proxy (FLOWDESK_TRUSTED_PROXIES)."""
    if not csrf.valid(request, fields.get(csrf.CSRF_FIELD)):
        return _page(request, error="The form expired. Please try again.", status_code=400)
    reference = fields.get("reference", "")
    address = request.client.host if request.client else "unknown"
    ops = ops_of(request)
    try:
        state = use.limited_check(
            ops,
            f"address:{address}",
            reference,
            lambda: use.verified_case(ops, reference, fields.get("proof", "")),
        )
    except use.TooManyAttempts as refused:
        minutes = max(1, round(refused.retry_after / 60))
        response = _page(
            request,
            error=(
                "Too many attempts. To protect our customers' cases, please wait about "
                f"{minutes} minute{'s' if minutes != 1 else ''} before you try again."
            ),
            reference=reference[:200],
            status_code=429,
        )
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    if state is None:
        return _page(request, error=NOT_VERIFIED, reference=reference[:200], status_code=404)
    return state


@router.get("/status")
def status_form(request: Request) -> Response:
    return _page(request)


@router.post("/status")
def status_check(request: Request, fields: Form) -> Response:
    state = _verify(request, fields)
    if isinstance(state, Response):
        return state
    ops = ops_of(request)
    return _page(request, **_shown(ops, state, fields.get("reference", ""), fields["proof"]))


def _shown(ops: Ops, state: use.InstanceState, reference: str, proof: str) -> dict[str, Any]:
    offer = nba.status_card(ops, customer_id_of(state.vars)) if state.status == "active" else None
    return {**use.view(ops, state), "reference": reference.strip(), "proof": proof, "offer": offer}


@router.post("/status/offer")
def status_offer(request: Request, fields: Form) -> Response:
    """The customer answers the next-best-action card on their status page."""
    state = _verify(request, fields)
    if isinstance(state, Response):
        return state
    ops = ops_of(request)
    reference, proof = fields.get("reference", ""), fields.get("proof", "")
    try:
        nba.customer_outcome(
            ops, customer_id_of(state.vars), fields.get("decision", ""), fields.get("outcome", "")
        )
    except FlowdeskError as exc:
        shown = _shown(ops, state, reference, proof)
        return _page(request, **shown, error=exc.message, status_code=422)
    notice = "Thank you: we have noted your answer."
    return _page(request, **_shown(ops, state, reference, proof), notice=notice)


@router.post("/status/answers")
def status_answers(request: Request, fields: Form) -> Response:
    """The customer answers the current step's questions themselves: typed by the field, checked
    against the step's JSON Schema restricted to the customer's fields, then set as process
    variables and recorded (`customer.form_submitted`); any error -> 422, nothing written."""
    state = _verify(request, fields)
    if isinstance(state, Response):
        return state
    ops = ops_of(request)
    reference, proof = fields.get("reference", ""), fields.get("proof", "")
    shown = _shown(ops, state, reference, proof)
    asked = use.questions(ops, state)
    if asked is None:
        return _page(request, **shown, error="There are no questions for you now.", status_code=409)
    questions, schema = asked
    values: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for q in questions:
        text = fields.get(q.name, "").strip()
        if text == "":
            continue
        try:
            values[q.name] = answers.typed(q.type, text, schema["properties"][q.name])
        except ValueError as exc:
            errors.append({"field": q.name, "message": str(exc)})
    fresh = None
    if not errors:
        try:
            fresh = use.answer(ops, state, values)
        except FormInvalid as exc:
            errors = exc.errors
    if fresh is None:
        labels = {q.name: q.label for q in questions}
        messages = [f"{labels.get(e['field'], e['field'])}: {e['message']}" for e in errors]
        typed = {q.name: fields.get(q.name, "")[:200] for q in questions}
        return _page(
            request,
            **{**shown, "answers": typed},
            error="Please check your answers.",
            answer_errors=messages,
            status_code=422,
        )
    notice = "Thank you: your answers are on your case."
    return _page(request, **_shown(ops, fresh, reference, proof), notice=notice)


@router.post("/status/message")
def status_message(request: Request, fields: Form) -> Response:
    state = _verify(request, fields)
    if isinstance(state, Response):
        return state
    ops = ops_of(request)
    reference = fields.get("reference", "")
    proof = fields.get("proof", "")
    text = fields.get("message", "").strip()[:4000]
    if not text:
        shown = _shown(ops, state, reference, proof)
        return _page(request, **shown, error="Please write your message.", status_code=422)
    delivered = use.add_information(ops, state, text)
    notice = (
        "Thank you: your case continues with your information."
        if delivered
        else "Thank you: we have added your information to your case."
    )
    fresh = use.instance(ops, state.id)
    return _page(request, **_shown(ops, fresh, reference, proof), notice=notice)


async def _photo_form(request: Request) -> tuple[dict[str, str], bytes | None]:
    """The text fields and the photo's bytes (read up to one byte over the limit)."""
    limit = request.app.state.settings.status_photo_max_bytes
    try:
        form = await request.form(max_files=1, max_fields=20)
    except Exception:
        return {"__invalid__": "the form could not be read"}, None
    fields: dict[str, str] = {}
    photo: bytes | None = None
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields[key] = value[:MAX_FIELD]
        elif key == "photo":
            photo = await value.read(limit + 1)
    await form.close()
    return fields, photo


PhotoForm = Annotated[tuple[dict[str, str], bytes | None], Depends(_photo_form)]


@router.post("/status/photo")
def status_photo(request: Request, form: PhotoForm) -> Response:
    """A photo (and a note) from the verified customer, stored on the case for the agent. The
    file is checked by its content and re-encoded; a bad one is refused with the reason."""
    fields, data = form
    state = _verify(request, fields)
    if isinstance(state, Response):
        return state
    ops = ops_of(request)
    shown = _shown(ops, state, fields.get("reference", ""), fields.get("proof", ""))
    if state.status != "active":
        return _page(request, **shown, error="This case is closed.", status_code=409)
    try:
        photo = use.add_photo(
            ops,
            state,
            data or b"",
            max_bytes=request.app.state.settings.status_photo_max_bytes,
            keep_location=fields.get("share_location") == "yes",
            note=fields.get("note", "").strip()[:4000],
        )
    except use.PhotoRefusedError as exc:
        return _page(request, **shown, error=exc.message, status_code=exc.status)
    where = " with its location" if photo.geo else ""
    return _page(request, **shown, notice=f"Thank you: your photo{where} is on your case.")
