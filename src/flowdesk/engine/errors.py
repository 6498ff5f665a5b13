"""Engine errors: misuse of the API (EngineError) and BPMN errors thrown by handlers."""

from __future__ import annotations

from typing import Any

from flowdesk.core.errors import ConflictError, FlowdeskError, NotFoundError


class EngineError(FlowdeskError):
    """A command that cannot be applied (unknown process, DMN not configured ...)."""

    code = "engine-error"


class UnknownItemError(NotFoundError):
    """The work item, job or subscription a command names is not in the instance."""


class InstanceEndedError(ConflictError):
    """A command for an instance that is no longer active."""


class BpmnError(Exception):
    """Raise from a service handler to throw a BPMN error caught by boundary/event subprocess."""

    def __init__(
        self, code: str, message: str | None = None, variables: dict[str, Any] | None = None
    ) -> None:
        self.code = code
        self.message = message or code
        self.variables = variables or {}
        super().__init__(self.message)


class Incident(Exception):
    """Raised inside a behaviour when the token cannot go on; becomes an incident on the state."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
