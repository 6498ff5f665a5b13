"""Bundle problems: every one names the file, the line (and column) and the field at fault."""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.core.errors import ModelError, Position


@dataclass(frozen=True, slots=True)
class Issue:
    file: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None  # dotted path in flow.yaml / front matter, or a BPMN element id

    def describe(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        subject = f" {self.field}:" if self.field else ""
        return f"{where}:{subject} {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
        }


class BundleError(ModelError):
    """A bundle that cannot be deployed; `issues` lists every problem found, not just the first."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        first = self.issues[0] if self.issues else Issue("bundle", "invalid bundle")
        count = len(self.issues)
        lines = "\n".join(f"  {i.describe()}" for i in self.issues)
        super().__init__(
            f"the bundle has {count} problem{'s' if count != 1 else ''}:\n{lines}",
            position=Position(first.file, first.line, first.column, first.field),
        )

    def __str__(self) -> str:
        return self.message
