"""Errors a user can cause in the customers domain, each saying what to fix."""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.core.errors import FlowdeskError


class InvalidIdentifierError(FlowdeskError):
    """An email address, phone number or other identifier that cannot be normalised."""

    code = "invalid-identifier"

    def __init__(self, kind: str, value: str, reason: str, *, hint: str | None = None):
        self.kind = kind
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {kind} {value!r}: {reason}", hint=hint)


class IdentityTakenError(FlowdeskError):
    """The identifier already belongs to another customer (identities are unique per kind)."""

    code = "identity-taken"

    def __init__(self, kind: str, value: str, owner_id: str):
        self.kind = kind
        self.value = value
        self.owner_id = owner_id
        super().__init__(f"{kind} {value!r} already belongs to customer {owner_id}")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in an import file.

    `row` is the 1-based number of the record (the CSV header is not a record); `line` is the
    line in a CSV file where the record starts, so an editor can jump to it.
    """

    row: int
    field: str | None
    message: str
    line: int | None = None

    def describe(self) -> str:
        where = f"row {self.row}" + (f" (line {self.line})" if self.line else "")
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


class ImportRejectedError(FlowdeskError):
    """An import file with bad rows; nothing of it was written."""

    code = "import-rejected"

    def __init__(self, source: str, errors: list[RowError]):
        self.source = source
        self.errors = errors
        first = errors[0].describe() if errors else "no rows"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            f"{source}: {first}{more}; nothing was imported",
            hint="fix the listed rows and import the file again",
        )
