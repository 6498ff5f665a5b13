"""The customer's own door (the public status page): the case reference (business key) plus
something only the customer knows (the last name, postcode or an email address on file) shows
the customer-facing status of the case and lets the customer answer the questions of the
current step, add information and add a photo. The customer has no account: the verified
reference and proof are the check, so these use cases take no caller."""

from __future__ import annotations

import hmac
import unicodedata
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from flowdesk.app.context import Ops
from flowdesk.app.errors import FormInvalid
from flowdesk.app.work import CUSTOMER_VARIABLES
from flowdesk.auth.throttle import FailureLimiter
from flowdesk.cases.references import normalize_reference
from flowdesk.channels import case_contacts
from flowdesk.channels.photos import CheckedPhoto, PhotoRefusedError, check_photo
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.core.events import NewEvent
from flowdesk.customers.service import get_customer
from flowdesk.engine.state import InstanceState
from flowdesk.experience.formcheck import check_form
from flowdesk.experience.renditions import CustomerField, customer_form, customer_schema
from flowdesk.experience.selfservice import customer_step
from flowdesk.experience.service import customer_status
from flowdesk.store.processes import ProcessRepository

__all__ = ["CustomerField", "InstanceState", "PhotoRefusedError"]

MESSAGE_VARIABLE = "customerMessage"

T = TypeVar("T")


def customer_message(name: str) -> bool:
    """Messages a customer may answer from the status page, by naming convention: other
    waits (e.g. "area-restored" from network operations) are not the customer's to end."""
    return name.endswith("-reply") or name.startswith("customer-")


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum() or ch == "@" or ch == ".")


def _customer_id(state: InstanceState) -> str | None:
    found = next((state.vars.get(n) for n in CUSTOMER_VARIABLES if state.vars.get(n)), None)
    return str(found) if found else None


def _secrets(ops: Ops, state: InstanceState) -> list[str]:
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
    customer_id = _customer_id(state)
    if customer_id:
        try:
            with ops.store.reading() as conn:
                customer = get_customer(conn, customer_id)
        except NotFoundError:
            customer = None
        if customer is not None:
            out += [v for v in (customer.family_name, customer.postcode) if v]
            out += [i.value for i in customer.identities if i.kind == "email"]
    return [n for v in out if (n := _norm(v))]


def limit_key(reference: str) -> str:
    """The reference as failed checks are counted against it (one key however it is typed)."""
    return normalize_reference(reference) or reference.strip().upper()[:40]


class TooManyAttempts(FlowdeskError):
    """Status checks refused for a while (HTTP 429 with Retry-After)."""

    code = "rate-limited"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            "too many failed status checks: please wait about "
            f"{minutes} minute{'s' if minutes != 1 else ''} before you try again"
        )
        self.retry_after = retry_after


def status_limiter(ops: Ops) -> FailureLimiter:
    """Failed status checks, counted in the database (every server process sees them)."""
    settings = ops.settings
    limit = int(getattr(settings, "status_max_failures", 5))
    window = timedelta(seconds=int(getattr(settings, "status_window_seconds", 900)))
    return FailureLimiter(ops.store, limit, window)


def limited_check(ops: Ops, client: str, reference: str, check: Callable[[], T | None]) -> T | None:
    """Run a status `check` (None: not verified) under the failure limits of the status page and
    its API: per `client` (an address, or the API caller) and per case reference.

    A blocked client is refused before anything is checked (a right guess tells nothing). A
    blocked reference still lets the right proof through, so a stranger hammering a customer's
    reference cannot lock the customer out; a wrong one is refused as blocked. Raises
    TooManyAttempts (with the seconds to wait) when refused."""
    limiter = status_limiter(ops)
    now = ops.clock.now()
    by_client = [f"status-client:{client}"]
    by_reference = [f"status-reference:{limit_key(reference)}"]
    wait = limiter.retry_after(by_client, now)
    if wait is not None:
        raise TooManyAttempts(wait)
    locked = limiter.retry_after(by_reference, now)
    found = check()
    if found is None:
        limiter.failed(by_client + by_reference, now)
        if locked is not None:
            raise TooManyAttempts(locked)
    return found


def verified_case(ops: Ops, reference: str, proof: str) -> InstanceState | None:
    """The newest case with this reference when `proof` matches what is on file; None alike
    for an unknown reference and a wrong proof."""
    reference = reference.strip()[:200]
    answer = _norm(proof[:300])
    if not reference or not answer:
        return None
    with ops.store.reading() as conn:
        repo = ProcessRepository(conn)
        instance_id = repo.newest_root_with_business_key(reference)
        # Customers type `fd-n3qrx` or ` FD N3QRX `: a well-formed reference in any case and
        # spacing is looked up in its canonical form when the text as typed names no case.
        canonical = normalize_reference(reference)
        if instance_id is None and canonical is not None and canonical != reference:
            instance_id = repo.newest_root_with_business_key(canonical)
    if instance_id is None:
        return None
    state = ops.runtime.instance(instance_id)
    secrets = _secrets(ops, state)
    matches = [hmac.compare_digest(answer.encode(), s.encode()) for s in secrets]
    return state if any(matches) else None


def instance(ops: Ops, instance_id: str) -> InstanceState:
    return ops.runtime.instance(instance_id)


def _shown_value(value: Any) -> str:
    """A variable as the self-service form shows it (yes/no for booleans, blank for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def view(ops: Ops, state: InstanceState) -> dict[str, Any]:
    """What the verified customer sees: the status texts, and the current step's questions for
    them with the answers so far."""
    texts = customer_status(ops.store, state.id)
    if not texts:
        texts = (
            ["Your case is closed. Thank you for your patience."]
            if state.status != "active"
            else ["We are working on your case."]
        )
    customer_id = _customer_id(state)
    if customer_id and state.status == "active":  # e.g. a known outage in the customer's area
        from flowdesk.situations.service import situations_of_customer

        known = situations_of_customer(ops.store, customer_id)
        texts = [f"We know about it: {s['title']}. We are working on it." for s in known] + texts
    step = customer_step(ops.store, state.id) if state.status == "active" else None
    questions = customer_form(step.task) if step else []
    answers = {f.name: _shown_value(step.variables.get(f.name)) for f in questions} if step else {}
    return {"texts": texts, "case": state, "questions": questions, "answers": answers}


def questions(ops: Ops, state: InstanceState) -> tuple[list[CustomerField], dict[str, Any]] | None:
    """The customer's questions of the current step and their JSON Schema; None when the case
    asks the customer nothing now."""
    step = customer_step(ops.store, state.id) if state.status == "active" else None
    if step is None:
        return None
    return customer_form(step.task), customer_schema(step.task) or {}


def answer(ops: Ops, state: InstanceState, values: Mapping[str, Any]) -> InstanceState:
    """Set the customer's typed answers as process variables, recorded as
    `customer.form_submitted`; FormInvalid (nothing written) when the schema refuses them."""
    step = customer_step(ops.store, state.id) if state.status == "active" else None
    if step is None:
        raise FormInvalid([{"field": "", "message": "there are no questions for you now"}])
    errors = check_form(customer_schema(step.task) or {}, values)
    if errors:
        raise FormInvalid(errors)
    case = case_contacts.case_of_instance(ops.store, state.id)
    submitted = NewEvent(
        "customer.form_submitted",
        ops.clock.now(),
        {
            "business_key": state.business_key,
            "work_item_id": step.work_item_id,
            "fields": sorted(values),
        },
        process_instance_id=state.id,
        customer_id=_customer_id(state),
        case_id=case.id if case else None,
        actor="customer",
        channel="web",
    )
    # The answers and the record of them commit together: never one without the other.
    return ops.runtime.set_variables(state.id, values, actor="customer", events=[submitted])


def add_information(ops: Ops, state: InstanceState, text: str) -> bool:
    """Correlate the text into the flow when it waits for the customer's message; always record
    it as `customer.information_added` for the agent. True when the flow took it."""
    delivered = False
    for sub in list(state.subs.values()):
        if sub.kind == "message" and sub.name and customer_message(sub.name):
            try:
                if ops.runtime.correlate_message(sub.name, sub.key, {MESSAGE_VARIABLE: text}):
                    delivered = True
                    break
            except FlowdeskError:
                continue
    with ops.store.unit_of_work() as uow:
        uow.append(
            NewEvent(
                "customer.information_added",
                ops.clock.now(),
                {"text": text, "business_key": state.business_key, "delivered": delivered},
                process_instance_id=state.id,
                customer_id=_customer_id(state),
                actor="customer",
                channel="web",
            )
        )
    return delivered


def add_photo(
    ops: Ops,
    state: InstanceState,
    data: bytes,
    *,
    max_bytes: int,
    keep_location: bool,
    note: str,
) -> CheckedPhoto:
    """Check the photo by its content, re-encode it and store it on the case for the agent
    (PhotoRefusedError with the reason for a bad one)."""
    photo = check_photo(data, max_bytes=max_bytes, keep_location=keep_location)
    case_contacts.add_photo(
        ops.store,
        ops.clock,
        instance_id=state.id,
        business_key=state.business_key,
        customer_id=_customer_id(state),
        photo=photo,
        note=note,
    )
    return photo
