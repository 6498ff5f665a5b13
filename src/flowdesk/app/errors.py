"""Errors of the use cases that both doors render: the API as a problem document with one entry
per field, the desktop next to the field it names."""

from __future__ import annotations

from flowdesk.core.errors import FlowdeskError


class FormInvalid(FlowdeskError):
    """Submitted answers that the step's form or the use case refuses, one message per field."""

    code = "invalid-input"

    def __init__(self, errors: list[dict[str, str]], *, hint: str | None = None) -> None:
        self.errors = errors
        first = errors[0] if errors else {"field": "", "message": "invalid input"}
        where = f"{first['field']}: " if first.get("field") else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{where}{first['message']}{more}", hint=hint)
