"""A step's form as HTML inputs and back. The typing of submitted text lives in `app.answers`,
so the desktop and the customer's status page type answers alike."""

from __future__ import annotations

from flowdesk.app.answers import Field, answers_from, extra_fields, parse_submission
from flowdesk.app.answers import typed as _typed

__all__ = ["Field", "_typed", "answers_from", "extra_fields", "parse_submission"]
