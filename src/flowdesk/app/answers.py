"""A step's answers from submitted text, for every door that takes text (the desktop's form, the
customer's status page): the script's questions come first (their answers fill the process
variables), then the JSON Schema properties no question asks for. Text is typed by the step
(coerce_answers) or by the schema type; the use case that completes the item checks the typed
values against the schema."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flowdesk.experience.renditions import field_kind as _kind
from flowdesk.experience.service import StepView, coerce_answers

__all__ = ["Field", "StepView", "answers_from", "extra_fields", "parse_submission", "typed"]

_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")


@dataclass(frozen=True, slots=True)
class Field:
    """An input for a form property that no script step asks for."""

    name: str
    label: str
    kind: str  # text, textarea, number, integer, boolean, choice
    options: list[str]
    required: bool
    value: Any


def extra_fields(
    schema: dict[str, Any] | None, script: list[StepView], values: dict[str, Any]
) -> list[Field]:
    if not schema:
        return []
    asked = {s.variable for s in script if s.variable}
    required = set(schema.get("required") or [])
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in asked or not isinstance(prop, dict):
            continue
        kind = _kind(prop)
        options = [str(v) for v in prop.get("enum") or []]
        out.append(
            Field(
                name=name,
                label=str(prop.get("title") or ""),
                kind=kind,
                options=options,
                required=name in required,
                value=values.get(name),
            )
        )
    return out


def answers_from(raw: dict[str, str], script: list[StepView]) -> dict[str, Any]:
    """The script's answers (typed) from submitted text; ValueError names a bad one."""
    asked = {s.variable for s in script if s.variable}
    return coerce_answers(script, {k: v for k, v in raw.items() if k in asked})


def parse_submission(
    raw: dict[str, str], script: list[StepView], schema: dict[str, Any] | None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Typed variables and the errors ([{field, message}]) of text that does not parse; the
    step's form rules are checked by the use case (`flowdesk.app.work.complete`), the same for
    the API."""
    errors: list[dict[str, str]] = []
    try:
        values = answers_from(raw, script)
    except ValueError as exc:
        name = str(exc).split(":", 1)[0]
        return {}, [{"field": name, "message": str(exc)}]
    skipped = {s.variable for s in script if s.variable and s.state != "show"}
    values = {k: v for k, v in values.items() if v is not None and k not in skipped}
    properties = (schema or {}).get("properties") or {}
    for field_ in extra_fields(schema, script, {}):
        text = raw.get(field_.name, "").strip()
        if text == "":
            continue
        try:
            values[field_.name] = typed(field_.kind, text, properties.get(field_.name, {}))
        except ValueError as exc:
            errors.append({"field": field_.name, "message": str(exc)})
    return values, errors


def typed(kind: str, text: str, prop: dict[str, Any]) -> Any:
    """One answer typed by its field's kind; ValueError says why the text does not fit."""
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in _TRUE + _FALSE:
            raise ValueError(f"{text!r} is not yes or no")
        return lowered in _TRUE
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{text!r} is not a number")
        return number
    return text
