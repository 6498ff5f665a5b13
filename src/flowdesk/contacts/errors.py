"""Errors a contact can cause: each one says what is wrong so the sender or an agent can fix it."""

from __future__ import annotations

from flowdesk.core.errors import FlowdeskError


class InvalidContactError(FlowdeskError):
    """A payload that is not a contact of its channel (malformed JSON or MIME, missing fields)."""

    code = "invalid-input"


class AttachmentRefusedError(InvalidContactError):
    """An attachment over the size limit or of a type Flowdesk does not accept."""


class ReasonModelError(FlowdeskError):
    """A training or evaluation file that cannot be used (columns, too few examples)."""

    code = "invalid-input"
