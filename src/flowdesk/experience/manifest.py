"""The JSON Schema of `flow.yaml`: the shape check that runs before the semantic checks.

Keeping the shape in a schema (rather than in hand-written `isinstance` checks) gives one
precise message per wrong field, and each error's path maps back to a line through the YAML
marks. docs/bundles.md documents the same fields.
"""

from __future__ import annotations

from typing import Any

from flowdesk.experience.bundle import STEP_TYPES

_NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,99}$"}
_IDENT = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,99}$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 4000}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}

_OPTION = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "required": ["value", "label"],
            "additionalProperties": False,
            "properties": {"value": {"type": ["string", "number", "boolean"]}, "label": _TEXT},
        },
    ]
}

_STEP = {
    "type": "object",
    "required": ["id", "question"],
    "additionalProperties": False,
    "properties": {
        "id": _IDENT,
        "question": _TEXT,
        "help": _TEXT,
        "variable": _IDENT,
        "type": {"enum": sorted(STEP_TYPES)},
        "options": {"type": "array", "minItems": 1, "items": _OPTION},
        "required": {"type": "boolean"},
        "when": {"type": "string", "minLength": 1},
    },
}

_QUERY = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "required": ["query"],
            "additionalProperties": False,
            "properties": {"query": _TEXT, "tags": _STRINGS},
        },
    ]
}

_TASK = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "title": _TEXT,
        "script": {"type": "array", "maxItems": 30, "items": _STEP},
        "knowledge": {"type": "array", "items": _QUERY},
        "panels": _STRINGS,
        "form": {"type": ["string", "object"]},
        "status": _TEXT,
        "sla": {"type": "string", "minLength": 2},
        # skills the step needs, with the least level (1-5): routing offers it only to agents
        # who have them (the company file gives agents their skills)
        "skills": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
        },
    },
}

FLOW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "process", "reasons", "files"],
    "additionalProperties": False,
    "properties": {
        "name": _NAME,
        "title": _TEXT,
        "version": {"type": ["string", "number"]},
        "description": _TEXT,
        # the process owner: a user name or a department id (who answers for the flow end to end)
        "owner": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{1,99}$"},
        "process": _IDENT | {"pattern": "^[A-Za-z_][A-Za-z0-9_.-]{0,199}$"},
        "reasons": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "additionalProperties": False,
                "properties": {
                    "id": _NAME,
                    "name": _TEXT,
                    "description": _TEXT,
                    "channels": {
                        "type": "array",
                        "items": {
                            "enum": [
                                "phone",
                                "email",
                                "chat",
                                "sms",
                                "web",
                                "social",
                                "letter",
                                "app",
                                "store",
                            ]
                        },
                    },
                },
            },
        },
        "files": {
            "type": "object",
            "required": ["bpmn"],
            "additionalProperties": False,
            "properties": {
                "bpmn": _STRINGS | {"minItems": 1},
                "dmn": _STRINGS,
                "knowledge": _STRINGS,
            },
        },
        "tasks": {"type": "object", "additionalProperties": _TASK},
        "waiting": {"type": "object", "additionalProperties": _TEXT},
    },
}

#: The front matter of a knowledge article.
ARTICLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title"],
    "additionalProperties": False,
    "properties": {
        "title": _TEXT,
        "slug": _NAME,
        "reasons": _STRINGS,
        "steps": _STRINGS,
        "segments": _STRINGS,
        "tags": _STRINGS,
    },
}
