"""The page images of a scanned letter or fax, for those who may read the contact: rendered
again from the stored scan (the same rendering OCR read), so nothing but the scan is stored."""

from __future__ import annotations

import base64
import json

from flowdesk.app.contacts import get_contact
from flowdesk.app.context import Caller, Ops
from flowdesk.channels.ocr import page_images
from flowdesk.contacts.intake import Intake
from flowdesk.core.errors import NotFoundError


def scan_page(caller: Caller, ops: Ops, contact_id: str, number: int) -> bytes:
    """Page `number` (from 1) of a letter's or fax's scan as PNG."""
    contact = get_contact(caller, ops, contact_id)  # permission and visibility
    pages = (contact.details or {}).get("pages") or []
    if contact.channel not in ("letter", "fax") or not 1 <= number <= len(pages):
        raise NotFoundError(f"contact {contact_id} has no scanned page {number}")
    intake: Intake = ops.service("intake")
    scan = json.loads(intake.raw(contact_id))["scan"]
    images = page_images(base64.b64decode(scan["data"]), str(scan["content_type"]).lower())
    if len(images) < number:
        raise NotFoundError(f"page {number} of contact {contact_id} cannot be rendered here")
    return images[number - 1]
