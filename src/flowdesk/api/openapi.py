"""The OpenAPI document says what the API really answers: every error is a problem document.

FastAPI documents a 422 as `application/json` with its own validation schema and leaves the
other error statuses out; Flowdesk answers every error (401, 404, 405, 409, 413, 415, 422, 429,
500, 503...) with `application/problem+json` (RFC 9457). This rewrites each operation's error
responses to that media type and schema, and adds a `default` response for the statuses an
operation does not list, so generated clients and contract tests (schemathesis) know them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from flowdesk.api.problems import PROBLEM_JSON
from flowdesk.api.routes.common import Problem

_REF = {"$ref": "#/components/schemas/Problem"}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_responses(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status != "default" and int(status) >= 400:
                    response["content"] = {PROBLEM_JSON: {"schema": _REF}}
            responses["default"] = {
                "description": "Any other error, as a problem document (RFC 9457)",
                "content": {PROBLEM_JSON: {"schema": _REF}},
            }
    return schema
