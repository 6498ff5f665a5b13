"""One step, three renditions: the agent's form (web/forms.py), the customer's self-service
form and the email/SMS text all come from the same step of an experience bundle, so the
customer reads the same status text and answers the same questions the agent would ask.

A form property marked `"x-customer": true` is one the customer may answer themselves (JSON
Schema ignores keywords it does not know, so the mark passes bundle validation). Everything
here is pure: it reads a step (`TaskExperience`) and variables, never the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowdesk.experience.bundle import TaskExperience
from flowdesk.experience.service import render_status

#: The JSON Schema keyword that marks a property the customer may answer.
CUSTOMER_MARK = "x-customer"
#: Where the customer answers (the status page), as the texts name it.
STATUS_PAGE = "/status"
#: One SMS of at most two parts' worth of text, sent as a single message.
SMS_LIMIT = 320
DEFAULT_STATUS = "We are working on your case."
_LIMITS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength")


@dataclass(frozen=True, slots=True)
class CustomerField:
    """A question of the step the customer may answer: `type` is the input kind (choice,
    boolean, number, integer, textarea, text), `limits` the schema's bounds for it."""

    name: str
    label: str
    type: str
    options: list[str]
    required: bool
    limits: dict[str, Any]


def field_kind(prop: Mapping[str, Any]) -> str:
    """The input kind of a form property, shared by the agent's and the customer's forms."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if prop.get("enum"):
        return "choice"
    if kind == "boolean":
        return "boolean"
    if kind in ("number", "integer"):
        return str(kind)
    if kind == "string" and int(prop.get("maxLength") or 0) > 200:
        return "textarea"
    return "text"


def _label(name: str, prop: Mapping[str, Any]) -> str:
    title = prop.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in name).replace("_", " ")
    return spaced.strip().capitalize()


def customer_form(experience: TaskExperience | None) -> list[CustomerField]:
    """The fields of the step's form marked for the customer, in the schema's order."""
    schema = experience.form if experience else None
    if not schema:
        return []
    required = set(schema.get("required") or [])
    out: list[CustomerField] = []
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict) or prop.get(CUSTOMER_MARK) is not True:
            continue
        out.append(
            CustomerField(
                name=name,
                label=_label(name, prop),
                type=field_kind(prop),
                options=[str(v) for v in prop.get("enum") or []],
                required=name in required,
                limits={k: prop[k] for k in _LIMITS if k in prop},
            )
        )
    return out


def customer_schema(experience: TaskExperience | None) -> dict[str, Any] | None:
    """The step's JSON Schema restricted to the customer's fields (their required ones stay
    required; no other property may be sent), or None when the step has no such fields."""
    fields = customer_form(experience)
    if experience is None or not experience.form or not fields:
        return None
    schema = experience.form
    names = [f.name for f in fields]
    restricted: dict[str, Any] = {
        k: v for k, v in schema.items() if k in ("$schema", "$defs", "definitions", "title")
    }
    restricted.update(
        type="object",
        properties={n: schema["properties"][n] for n in names},
        required=[f.name for f in fields if f.required],
        additionalProperties=False,
    )
    return restricted


def as_text(
    experience: TaskExperience | None,
    variables: Mapping[str, Any],
    channel: str,
    *,
    reference: str = "",
) -> tuple[str, str]:
    """(subject, body) of the step for a channel: email gets the status text, the questions as
    a list and how to answer; SMS (any other channel) one short text of at most 320 chars."""
    status = render_status(experience.status if experience else None, variables)
    status = status or DEFAULT_STATUS
    fields = customer_form(experience)
    ref = f" {reference}" if reference else ""
    subject = f"Update on your case{ref}"
    if channel == "email":
        lines = [f"Your case{ref}: {status}"]
        if fields:
            lines += ["", "Please tell us:"]
            lines += [f"- {f.label}" for f in fields]
            how = f"with your case reference{ref}" if reference else "with your case reference"
            lines += ["", f"Answer on our status page {STATUS_PAGE} {how}."]
        return subject, "\n".join(lines)
    tail = ""
    if fields:
        asked = ", ".join(f.label for f in fields)
        tail = f" Please tell us: {asked}. Answer at {STATUS_PAGE}" + (
            f" with ref{ref}." if reference else "."
        )
    head = f"Case{ref}: "
    room = SMS_LIMIT - len(head) - len(tail)
    if room < 20:  # too many questions: point to the page instead of listing them
        tail = f" We have questions for you: answer at {STATUS_PAGE}" + (
            f" with ref{ref}." if reference else "."
        )
        room = SMS_LIMIT - len(head) - len(tail)
    if len(status) > room:
        status = status[: room - 1].rstrip() + "…"
    return subject, f"{head}{status}{tail}"
