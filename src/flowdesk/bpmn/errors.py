"""Collect every problem of a model and report them together, each with where and how to fix."""

from __future__ import annotations

from flowdesk.core.errors import ModelError, Position


class BpmnModelError(ModelError):
    """All problems found in one BPMN document; ``errors`` holds each one with its position."""

    def __init__(self, errors: list[ModelError], *, file: str | None = None) -> None:
        self.errors = tuple(errors)
        where = f"{file}: " if file else ""
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{where}{len(errors)} problem(s) in the BPMN model:\n{lines}")

    def __str__(self) -> str:
        return self.message


class Issues:
    """An accumulator the parser and validator append to; ``raise_if_any`` raises them at once.

    Importing a model and checking that it can run are two steps: problems that only stop a
    process from *running* are errors inside executable processes and warnings elsewhere
    (``warn`` is set while a descriptive pool or document-level artefact is read), so any valid
    BPMN file still imports, renders and serves conformance checking."""

    def __init__(self, file: str | None = None) -> None:
        self.file = file
        self.items: list[ModelError] = []
        self.warnings: list[ModelError] = []
        self.warn = False
        #: element ids whose expression was already reported (no follow-up "missing" errors)
        self.reported: set[str] = set()

    def add(
        self,
        message: str,
        *,
        line: int | None = None,
        element_id: str | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        position = Position(file=self.file, line=line, column=column, element_id=element_id)
        found = ModelError(message, position=position, hint=hint)
        (self.warnings if self.warn else self.items).append(found)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise BpmnModelError(self.items, file=self.file)
