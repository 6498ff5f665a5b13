"""Error types that carry where a problem is, so users can fix their input.

Every error a user can cause (a bad model, a FEEL syntax error, a bad request) derives from
FlowdeskError; the API maps it to a 4xx problem document and the CLI prints it as one line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    """Where in a source a problem is: file, line and column are 1-based; element id optional."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    element_id: str | None = None

    def describe(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.element_id:
            parts.append(f"element '{self.element_id}'")
        return ", ".join(parts)


class FlowdeskError(Exception):
    """Base of every error caused by input or configuration; never a bug in Flowdesk."""

    #: Short, stable machine-readable kind, used as the problem type in the API.
    code: str = "flowdesk-error"

    def __init__(self, message: str, *, position: Position | None = None, hint: str | None = None):
        self.message = message
        self.position = position
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.message
        if self.position is not None and (where := self.position.describe()):
            text = f"{where}: {text}"
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class ModelError(FlowdeskError):
    """A BPMN, DMN or bundle model that cannot be loaded or is invalid."""

    code = "invalid-model"


class ConfigurationError(FlowdeskError):
    """Settings that cannot work: a bad database URL, an unwritable data directory."""

    code = "configuration"


class NotFoundError(FlowdeskError):
    """A referenced object (customer, process, decision, consumer) does not exist."""

    code = "not-found"


class ConflictError(FlowdeskError):
    """The request contradicts the current state (stale version, task claimed by someone else)."""

    code = "conflict"
