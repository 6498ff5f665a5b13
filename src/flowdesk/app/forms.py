"""A step's form check, shared by the API and the desktop: JSON Schema from the bundle, errors in
words, each on the field it is about, with the field's title rather than its variable name."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jsonschema
import jsonschema.validators

from flowdesk.experience.service import bundle_by_id, bundle_id_for_definition
from flowdesk.store import Store


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

_CACHE_SIZE = 512
_cache: OrderedDict[tuple[str, str], dict[str, Any] | None] = OrderedDict()
_cache_lock = threading.Lock()


def form_schema(store: Store, definition_id: str, element_id: str) -> dict[str, Any] | None:
    """The step's form (JSON Schema) or None. Bundles never change once stored, so the parsed
    form is kept per bundle id; which bundle a definition runs with is read every time (a
    redeploy may move it)."""
    return bundle_form(store, bundle_id_for_definition(store, definition_id), element_id)


def bundle_form(store: Store, bundle_id: str | None, element_id: str) -> dict[str, Any] | None:
    """The form of a step of a stored bundle (parsed once per bundle and step)."""
    if bundle_id is None:
        return None
    key = (bundle_id, element_id)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    bundle = bundle_by_id(store, bundle_id)
    task = bundle.tasks.get(element_id) if bundle else None
    schema = dict(task.form) if task is not None and task.form else None
    with _cache_lock:
        _cache[key] = schema
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return schema


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


def validate_form(
    schema: Mapping[str, Any] | None, data: Mapping[str, Any]
) -> list[dict[str, str]]:
    """The answers checked against the form: [{field, message}], one per problem, in field
    order. Only the form's own fields of `data` are checked (the instance has more)."""
    if not schema:
        return []
    properties = schema.get("properties") or {}
    relevant = {k: v for k, v in data.items() if k in properties and v is not None}
    validator = FormValidator(dict(schema))
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(validator.iter_errors(relevant), key=lambda e: list(e.absolute_path)):
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
    return sorted(out, key=lambda e: _order(properties, e["field"]))


def _order(properties: Mapping[str, Any], field: str) -> tuple[int, str]:
    names = list(properties)
    head = field.split(".")[0]
    return (names.index(head) if head in names else len(names), field)
