"""A step's form checked against its JSON Schema, with errors in words, each on the field it is
about and named by the field's title rather than its variable name: what the desktop, the API and
the customer's status page all show."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jsonschema
import jsonschema.validators


def _is_integer(checker: Any, instance: Any) -> bool:
    """JSON Schema's integer, for FEEL numbers too: the API's numbers arrive as exact Decimals."""
    if isinstance(instance, bool):
        return False
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


#: Draft 2020-12 with integers that may be exact Decimals (3 and 3.0 are whole numbers).
FormValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def label(schema: Mapping[str, Any], field: str) -> str:
    """What a person calls the field: its title, else its name in words."""
    prop = (schema.get("properties") or {}).get(field)
    if isinstance(prop, dict) and prop.get("title"):
        return str(prop["title"])
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", field).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else "This field"


_TYPES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "yes or no",
    "array": "a list",
    "object": "a group of fields",
}


def _words(schema: Mapping[str, Any], field: str, error: jsonschema.ValidationError) -> str:
    name = label(schema, field)
    prop = error.schema if isinstance(error.schema, dict) else {}
    custom = prop.get("errorMessage") or prop.get("x-error")
    if isinstance(custom, str) and error.validator != "required":
        return custom
    kind = error.validator
    value: Any = error.validator_value
    if kind == "required":
        return f"{name} is required."
    if kind == "pattern":
        examples = prop.get("examples") or []
        hint = f" (for example {examples[0]})" if examples else ""
        return f"{name} does not have the expected format{hint}."
    if kind == "enum":
        return f"{name} must be one of: {', '.join(str(v) for v in value)}."
    if kind == "const":
        return f"{name} must be {value}."
    if kind == "type":
        wanted = value if isinstance(value, list) else [value]
        return f"{name} must be {' or '.join(_TYPES.get(str(w), str(w)) for w in wanted)}."
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{name} must be {'at least' if kind == 'minimum' else 'more than'} {value}."
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{name} must be {'at most' if kind == 'maximum' else 'less than'} {value}."
    if kind == "minLength":
        return f"{name} must be at least {value} characters long."
    if kind == "maxLength":
        return f"{name} must be at most {value} characters long."
    if kind == "format":
        return f"{name} is not a valid {value}."
    return f"{name}: {error.message}"


def check_form(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Validate submitted form data against a step's JSON Schema: [{field, message}], one per
    problem (a missing field on its own name), in words."""
    if not schema:
        return []
    validator = FormValidator(dict(schema))
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(validator.iter_errors(dict(data)), key=lambda e: list(e.absolute_path)):
        field = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required" and isinstance(error.validator_value, list):
            missing = [k for k in error.validator_value if k not in error.instance]
            found = [
                {"field": name, "message": f"{label(schema, name)} is required."}
                for name in missing
            ]
        else:
            found = [{"field": field, "message": _words(schema, field.split(".")[0], error)}]
        for entry in found:
            if (entry["field"], entry["message"]) not in seen:
                seen.add((entry["field"], entry["message"]))
                out.append(entry)
    return out
