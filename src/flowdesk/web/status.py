"""The customer's status page (public): the case reference (business key) plus something
only the customer knows (the last name, postcode or an email address on file) shows the
customer-facing status texts of the case, and lets them add information: delivered to the
flow when it waits for the customer's message (a name ending in "-reply" or starting with
"customer-"), and always recorded as an event for the agent."""

from __future__ import annotations

import hmac
import unicodedata
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from flowdesk.api.routes.common import app_singleton, runtime_of
from flowdesk.app.work import CUSTOMER_VARIABLES
from flowdesk.cases.references import normalize_reference
from flowdesk.channels import case_contacts
from flowdesk.channels.photos import PhotoRefusedError, check_photo
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.customers.service import get_customer
from flowdesk.engine.state import InstanceState
from flowdesk.experience.renditions import customer_form, customer_schema
from flowdesk.experience.selfservice import customer_step
from flowdesk.experience.service import check_form, customer_status
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository
from flowdesk.web import csrf, forms
from flowdesk.web.pages import MAX_FIELD, Form
from flowdesk.web.ratelimit import FailureLimiter
from flowdesk.web.rendering import render

router = APIRouter(include_in_schema=False)

#: One message for every failed look-up: it must not tell which references exist.
NOT_VERIFIED = (
    "We could not find a case with that reference and those details. Check the reference "
    "in our message to you and the last name, postcode or email address you gave us."
)
MESSAGE_VARIABLE = "customerMessage"


def customer_message(name: str) -> bool:
    """Messages a customer may answer from the status page, by naming convention: other
    waits (e.g. "area-restored" from network operations) are not the customer's to end."""
    return name.endswith("-reply") or name.startswith("customer-")


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum() or ch == "@" or ch == ".")


def _secrets(store: Store, state: InstanceState) -> list[str]:
    """What the customer may answer: last name, postcode, email identities."""
    out: list[str] = []
    name = state.vars.get("customerName")
    if isinstance(name, str) and name.strip():
        words = name.split()
        out.append(words[-1])  # "Maria van Dijk": "Dijk" or "van Dijk"
        if len(words) > 2:
            out.append(" ".join(words[1:]))
    for key in ("lastName", "familyName", "postcode", "email"):
        value = state.vars.get(key)
        if isinstance(value, str):
            out.append(value)
    customer_id = next((state.vars.get(n) for n in CUSTOMER_VARIABLES if state.vars.get(n)), None)
    if customer_id:
        try:
            with store.reading() as conn:
                customer = get_customer(conn, str(customer_id))
        except NotFoundError:
            customer = None
        if customer is not None:
            out += [v for v in (customer.family_name, customer.postcode) if v]
            out += [i.value for i in customer.identities if i.kind == "email"]
    return [n for v in out if (n := _norm(v))]


def verified_case(store: Store, reference: str, proof: str) -> InstanceState | None:
    """The newest case with this reference when `proof` matches what is on file."""
    reference = reference.strip()[:200]
    answer = _norm(proof[:300])
    if not reference or not answer:
        return None
    with store.reading() as conn:
        repo = ProcessRepository(conn)
        instance_id = repo.newest_root_with_business_key(reference)
        # Customers type `fd-n3qrx` or ` FD N3QRX `: a well-formed reference in any case and
        # spacing is looked up in its canonical form when the text as typed names no case.
        canonical = normalize_reference(reference)
        if instance_id is None and canonical is not None and canonical != reference:
            instance_id = repo.newest_root_with_business_key(canonical)
    if instance_id is None:
        return None
    state = ProcessRuntime(store).instance(instance_id)
    matches = [hmac.compare_digest(answer.encode(), s.encode()) for s in _secrets(store, state)]
    return state if any(matches) else None


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


def limiter(request: Request) -> FailureLimiter:
    """The app's counter of failed checks, made from its settings on first use."""
    return app_singleton(
        request,
        "status_limiter",
        lambda state: FailureLimiter(
            state.settings.status_max_failures,
            timedelta(seconds=state.settings.status_window_seconds),
        ),
    )


def _limit_keys(request: Request, reference: str) -> list[str]:
    address = request.client.host if request.client else "unknown"
    ref = normalize_reference(reference) or reference.strip().upper()[:40]
    return [f"address:{address}", f"reference:{ref}"]


def _verify(request: Request, fields: dict[str, str]) -> InstanceState | Response:
    """The verified case of the submitted reference and proof, or the page to answer instead:
    400 without a valid form token, 429 while the address or reference is blocked (nothing is
    checked then), 404 for a failed check (counted)."""
    if not csrf.valid(request, fields.get(csrf.CSRF_FIELD)):
        return _page(request, error="The form expired. Please try again.", status_code=400)
    reference = fields.get("reference", "")
    keys = _limit_keys(request, reference)
    now = request.app.state.clock.now()
    wait = limiter(request).retry_after(keys, now)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        response = _page(
            request,
            error=(
                "Too many attempts. To protect our customers' cases, please wait about "
                f"{minutes} minute{'s' if minutes != 1 else ''} before you try again."
            ),
            reference=reference[:200],
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    state = verified_case(request.app.state.store, reference, fields.get("proof", ""))
    if state is None:
        limiter(request).failed(keys, now)
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
    store: Store = request.app.state.store
    return _page(request, **_shown(store, state, fields.get("reference", ""), fields["proof"]))


def _shown(store: Store, state: InstanceState, reference: str, proof: str) -> dict[str, Any]:
    texts = customer_status(store, state.id)
    if not texts:
        texts = (
            ["Your case is closed. Thank you for your patience."]
            if state.status != "active"
            else ["We are working on your case."]
        )
    step = customer_step(store, state.id) if state.status == "active" else None
    questions = customer_form(step.task) if step else []
    answers = {f.name: _shown_value(step.variables.get(f.name)) for f in questions} if step else {}
    return {
        "texts": texts,
        "case": state,
        "reference": reference.strip(),
        "proof": proof,
        "questions": questions,
        "answers": answers,
    }


def _shown_value(value: Any) -> str:
    """A variable as the self-service form shows it (yes/no for booleans, blank for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@router.post("/status/answers")
def status_answers(request: Request, fields: Form) -> Response:
    """The customer answers the current step's questions themselves: typed by the field, checked
    against the step's JSON Schema restricted to the customer's fields, then set as process
    variables and recorded (`customer.form_submitted`); any error -> 422, nothing written."""
    state = _verify(request, fields)
    if isinstance(state, Response):
        return state
    store: Store = request.app.state.store
    reference, proof = fields.get("reference", ""), fields.get("proof", "")
    shown = _shown(store, state, reference, proof)
    step = customer_step(store, state.id) if state.status == "active" else None
    if step is None:
        return _page(request, **shown, error="There are no questions for you now.", status_code=409)
    questions = customer_form(step.task)
    schema = customer_schema(step.task) or {}
    values: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for q in questions:
        text = fields.get(q.name, "").strip()
        if text == "":
            continue
        try:
            values[q.name] = forms._typed(q.type, text, schema["properties"][q.name])
        except ValueError as exc:
            errors.append({"field": q.name, "message": str(exc)})
    if not errors:
        errors = check_form(schema, values)
    if errors:
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
    customer_id = next((state.vars.get(n) for n in CUSTOMER_VARIABLES if state.vars.get(n)), None)
    case = case_contacts.case_of_instance(store, state.id)
    submitted = NewEvent(
        EventType.CUSTOMER_FORM_SUBMITTED,
        request.app.state.clock.now(),
        {
            "business_key": state.business_key,
            "work_item_id": step.work_item_id,
            "fields": sorted(values),
        },
        process_instance_id=state.id,
        customer_id=str(customer_id) if customer_id else None,
        case_id=case.id if case else None,
        actor="customer",
        channel="web",
    )
    # The answers and the record of them commit together: never one without the other.
    fresh = runtime_of(request).set_variables(
        state.id, values, actor="customer", events=[submitted]
    )
    notice = "Thank you: your answers are on your case."
    return _page(request, **_shown(store, fresh, reference, proof), notice=notice)


@router.post("/status/message")
def status_message(request: Request, fields: Form) -> Response:
    state = _verify(request, fields)
    if isinstance(state, Response):
        return state
    store: Store = request.app.state.store
    reference = fields.get("reference", "")
    proof = fields.get("proof", "")
    text = fields.get("message", "").strip()[:4000]
    if not text:
        shown = _shown(store, state, reference, proof)
        return _page(request, **shown, error="Please write your message.", status_code=422)
    delivered = _deliver(request, state, text)
    notice = (
        "Thank you: your case continues with your information."
        if delivered
        else "Thank you: we have added your information to your case."
    )
    fresh = ProcessRuntime(store).instance(state.id)
    return _page(request, **_shown(store, fresh, reference, proof), notice=notice)


def _deliver(request: Request, state: InstanceState, text: str) -> bool:
    """Correlate into the flow when it waits for a message; always record the event."""
    store: Store = request.app.state.store
    clock = request.app.state.clock
    runtime = runtime_of(request)
    delivered = False
    for sub in list(state.subs.values()):
        if sub.kind == "message" and sub.name and customer_message(sub.name):
            try:
                if runtime.correlate_message(sub.name, sub.key, {MESSAGE_VARIABLE: text}):
                    delivered = True
                    break
            except FlowdeskError:
                continue
    customer_id = next((state.vars.get(n) for n in CUSTOMER_VARIABLES if state.vars.get(n)), None)
    with store.unit_of_work() as uow:
        uow.append(
            NewEvent(
                EventType.CUSTOMER_INFORMATION_ADDED,
                clock.now(),
                {"text": text, "business_key": state.business_key, "delivered": delivered},
                process_instance_id=state.id,
                customer_id=str(customer_id) if customer_id else None,
                actor="customer",
                channel="web",
            )
        )
    return delivered


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
    store: Store = request.app.state.store
    shown = _shown(store, state, fields.get("reference", ""), fields.get("proof", ""))
    if state.status != "active":
        return _page(request, **shown, error="This case is closed.", status_code=409)
    keep_location = fields.get("share_location") == "yes"
    try:
        photo = check_photo(
            data or b"",
            max_bytes=request.app.state.settings.status_photo_max_bytes,
            keep_location=keep_location,
        )
    except PhotoRefusedError as exc:
        return _page(request, **shown, error=exc.message, status_code=exc.status)
    customer_id = next((state.vars.get(n) for n in CUSTOMER_VARIABLES if state.vars.get(n)), None)
    case_contacts.add_photo(
        store,
        request.app.state.clock,
        instance_id=state.id,
        business_key=state.business_key,
        customer_id=str(customer_id) if customer_id else None,
        photo=photo,
        note=fields.get("note", "").strip()[:4000],
    )
    where = " with its location" if photo.geo else ""
    return _page(request, **shown, notice=f"Thank you: your photo{where} is on your case.")
