"""RFC 9457 problem documents for every error, so clients get a precise, machine-readable reason."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowdesk.core.errors import FlowdeskError

PROBLEM_JSON = "application/problem+json"

STATUS_BY_CODE = {
    "invalid-model": 422,
    "feel-syntax": 422,
    "feel-limit": 422,
    "not-found": 404,
    "conflict": 409,
    "configuration": 503,
    "invalid-input": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "unavailable": 503,
    "payload-too-large": 413,
    "rate-limited": 429,
}


def problem(
    status: int, title: str, detail: str, *, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install(app: FastAPI) -> None:
    @app.exception_handler(FlowdeskError)
    async def _flowdesk_error(request: Request, exc: FlowdeskError) -> JSONResponse:
        status = STATUS_BY_CODE.get(exc.code, 400)
        position = exc.position
        response = problem(
            status,
            exc.code.replace("-", " ").capitalize(),
            str(exc),
            type_=f"urn:flowdesk:problem:{exc.code}",
            hint=exc.hint,
            line=position.line if position else None,
            column=position.column if position else None,
            element_id=position.element_id if position else None,
            errors=getattr(exc, "errors", None),
        )
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="flowdesk"'
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int):
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "location": ".".join(str(p) for p in err.get("loc", ())),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"location": "", "message": "invalid request"}
        return problem(
            422,
            "Invalid request",
            f"{first['location']}: {first['message']}",
            type_="urn:flowdesk:problem:invalid-request",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _browsing(request):  # a person typed or followed an address: a page, not JSON
            from flowdesk.web.rendering import error_page

            message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
            return error_page(request, message, status_code=exc.status_code)
        response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
        for name, value in (exc.headers or {}).items():  # Allow on a 405, Retry-After on a 429
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        """A bug is still a problem document, and says nothing about the data it failed on
        (the exception goes to the server log)."""
        return problem(
            500,
            "Internal server error",
            "the server failed to carry out the request; the error is in its log",
            type_="urn:flowdesk:problem:internal",
        )


def _browsing(request: Request) -> bool:
    """A browser navigating outside the API (it asks for HTML first)."""
    accept = request.headers.get("accept", "")
    return not request.url.path.startswith("/api/") and accept.startswith("text/html")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
