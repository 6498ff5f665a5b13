"""Scanned letters' and faxes' page images, beside the OCR text of each page (docs/channels.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from flowdesk.api.routes.common import ops_of
from flowdesk.api.security import require
from flowdesk.app import scans as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["contacts"])


@router.get("/contacts/{contact_id}/pages/{number}", response_class=Response)
def scan_page(
    contact_id: str,
    number: Annotated[int, Path(ge=1, le=1000)],
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_READ))],
) -> Response:
    """Page `number` of a letter's or fax's scan as PNG (its text is details.pages[n-1])."""
    png = use.scan_page(principal, ops_of(request), contact_id, number)
    return Response(png, media_type="image/png")
