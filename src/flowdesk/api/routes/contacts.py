"""Contacts, cases and reasons over HTTP: channel webhooks, contacts, dead letters and replay,
triage decisions, cases by reference, verified status lookup, reason model train/evaluate.

Every inbound payload is stored raw before it is parsed, so a malformed one still exists as a
dead letter; the answer is then a 422 problem naming the contact id and what is wrong.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.problems import problem
from flowdesk.api.routes.common import app_singleton, ops_of
from flowdesk.api.security import require
from flowdesk.app import contacts as use
from flowdesk.app import triage as app_triage
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["contacts"])

MAX_CSV_BYTES = use.MAX_CSV_BYTES


def intake_of(request: Request) -> use.Intake:
    """One Intake per app; it reuses the app's process runtime when there is one, and the
    outbound senders the app was given in `app.state.contact_senders`."""
    return app_singleton(request, "contact_intake", use.build_intake)


def _answer(result: use.IntakeResult) -> JSONResponse:
    if result.status == "failed":
        return problem(
            422,
            "Invalid contact",
            result.error or "the contact could not be processed",
            type_="urn:flowdesk:problem:invalid-input",
            contact_id=result.contact_id,
            hint="the payload is kept as a dead letter; fix it and send it again",
        )
    return JSONResponse(result.to_dict(), status_code=201)


async def _body(request: Request) -> bytes:
    return await request.body()


@router.post("/webhooks/{channel}", status_code=201)
def webhook(
    channel: str,
    request: Request,
    raw: Annotated[bytes, Depends(_body)],
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_INGEST))],
) -> JSONResponse:
    """A channel's inbound webhook: JSON for phone (CTI events), chat, sms, web, social, letter,
    fax, counter and app; an RFC 5322 message (message/rfc822) for email."""
    content_type = request.headers.get("content-type")
    return _answer(use.receive(principal, ops_of(request), channel, raw, content_type))


_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": r"\S"}
#: The documented shape: a web-form or chat contact (each channel's other fields are in
#: docs/channels.md; the body is read raw, so other channels' JSON is accepted too).
_CONTACT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["channel", "text", "email"],
                    "properties": {
                        "channel": {"type": "string", "enum": ["web", "chat", "sms"]},
                        "text": _TEXT,
                        "email": {"type": "string", "format": "email", "maxLength": 200},
                        "session_id": _TEXT,
                        "from": {"type": "string", "pattern": r"^\+[1-9][0-9]{7,12}$"},
                    },
                }
            }
        },
    }
}


@router.post("/contacts", status_code=201, openapi_extra=_CONTACT_DOC)
def submit_contact(
    request: Request,
    raw: Annotated[bytes, Depends(_body)],
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_INGEST))],
) -> JSONResponse:
    """A contact as JSON with its `channel` and that channel's fields. A body that is not JSON
    or names no known channel is kept (as a web contact) and refused with the reason."""
    content_type = request.headers.get("content-type")
    return _answer(use.submit(principal, ops_of(request), raw, content_type))


@router.get("/contacts/dead-letters")
def dead_letters(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_ADMIN))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Contacts whose processing failed, with the reason, oldest first."""
    return [c.to_dict() for c in use.dead_letters(principal, ops_of(request), limit)]


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = Field(default=None, description="Contacts to replay; all when none")


@router.post("/contacts/dead-letters/replay")
def replay(
    body: ReplayIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_ADMIN))],
) -> list[dict[str, Any]]:
    """Process dead letters again (after the cause was fixed)."""
    return [r.to_dict() for r in use.replay(principal, ops_of(request), body.ids)]


@router.get("/contacts/triage")
def triage(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_TRIAGE))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Contacts whose reason was not recognised confidently: a person decides."""
    return [c.to_dict() for c in use.triage_queue(principal, ops_of(request), limit)]


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=100)


@router.post("/contacts/{contact_id}/reason")
def decide_reason(
    contact_id: str,
    body: ReasonIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_TRIAGE))],
) -> JSONResponse:
    """Decide the reason of a contact in triage; its flow starts (or it joins the open case)."""
    return _answer(use.decide_reason(principal, ops_of(request), contact_id, body.reason))


class AttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=40)


@router.post("/contacts/{contact_id}/attach")
def attach_to_case(
    contact_id: str,
    body: AttachIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_TRIAGE))],
) -> JSONResponse:
    """Attach a contact in triage to an open case of the same customer instead of starting a
    flow (404 for another customer's or an unknown case, 422 for a closed one)."""
    result = app_triage.attach(principal, ops_of(request), contact_id, body.reference)
    return JSONResponse(result.to_dict())


@router.get("/contacts/{contact_id}")
def get_contact(
    contact_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_READ))],
) -> dict[str, Any]:
    """A contact, for those who work on its case (or triage it) and for supervisors."""
    return use.get_contact(principal, ops_of(request), contact_id).to_dict()


@router.get("/cases/{reference}")
def get_case(
    reference: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CASES_READ))],
) -> dict[str, Any]:
    """A case by its public reference, with its contacts and the customer-facing status."""
    return use.get_case(principal, ops_of(request), reference)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=3, max_length=20, examples=["FD-7K3Q9"])
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    account: str | None = Field(default=None, max_length=100)


@router.post("/cases/status")
def case_status(
    body: StatusIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CASES_STATUS))],
) -> dict[str, Any]:
    """The status page: the reference plus one identifier of the case's customer. Without a
    matching identifier the answer says nothing about the case (nor whether it exists)."""
    claimed = [(k, v) for k, v in body.model_dump(exclude={"reference"}).items() if v]
    return use.case_status(principal, ops_of(request), body.reference, claimed)


async def _csv(request: Request) -> bytes:
    data = await request.body()
    if len(data) > MAX_CSV_BYTES:
        raise use.InvalidContactError(f"training file over {MAX_CSV_BYTES} bytes")
    return data


@router.post("/reasons/train", status_code=201)
def train_reasons(
    request: Request,
    data: Annotated[bytes, Depends(_csv)],
    principal: Annotated[Principal, Depends(require(Permission.REASONS_TRAIN))],
) -> dict[str, Any]:
    """Train a new reason model version from a CSV body (columns text,reason) and activate it;
    answers the accuracy and macro-F1 on a held-out split."""
    return use.train_reasons(principal, ops_of(request), data)


@router.post("/reasons/evaluate")
def evaluate_reasons(
    request: Request,
    data: Annotated[bytes, Depends(_csv)],
    principal: Annotated[Principal, Depends(require(Permission.REASONS_TRAIN))],
) -> dict[str, Any]:
    """Accuracy and macro-F1 of the active model on a labelled CSV body."""
    return use.evaluate_reasons(principal, ops_of(request), data)


@router.get("/reasons/models")
def reason_models(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_READ))],
) -> list[dict[str, Any]]:
    return use.reason_models(principal, ops_of(request))
