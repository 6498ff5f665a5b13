"""The chat widget's protocol (docs/channels.md): JSON over three public routes, the session
token in the body or query. The widget posts with `Content-Type: text/plain` so a page on
another origin needs no CORS preflight; the origins in FLOWDESK_CHAT_WIDGET_ORIGINS may read
the answers."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from flowdesk.api.routes.common import ops_of
from flowdesk.app import chat as use
from flowdesk.app.contacts import InvalidContactError

router = APIRouter(tags=["chat widget"])


async def _json(request: Request) -> dict[str, Any]:
    try:
        value = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise InvalidContactError("the body must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidContactError("the body must be a JSON object")
    return value


class StartIn(BaseModel):
    """`{name, email}`: the address the answers go to (anything with an @)."""

    name: str = ""
    email: str = Field(max_length=320, pattern="@", examples=["ann@example.com"])


class WriteIn(BaseModel):
    """`{session, text}`: the token `POST /chat/sessions` gave, and the message."""

    session: str = Field(max_length=2000)
    text: str = Field(min_length=1, max_length=use.MAX_TEXT, pattern=r"\S")


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    """The body the route reads raw (the widget posts it as text/plain), as OpenAPI says it."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


M = TypeVar("M", bound=BaseModel)


def _parsed(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidContactError(f"field {where!r}: {first['msg']}") from None


def _answer(request: Request, body: Any, status: int = 200) -> JSONResponse:
    response = JSONResponse(body, status_code=status)
    allowed = use.origin_allowed(ops_of(request), request.headers.get("origin"))
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = allowed
    return response


@router.post("/api/v1/chat/sessions", status_code=201, openapi_extra=_documented(StartIn))
def start(request: Request, body: Annotated[dict[str, Any], Depends(_json)]) -> JSONResponse:
    """Start a chat: `{name, email}` -> `{session, cursor}`."""
    given = _parsed(StartIn, body)
    started = use.start(ops_of(request), given.name, given.email)
    return _answer(request, started, 201)


@router.post("/api/v1/chat/messages", status_code=201, openapi_extra=_documented(WriteIn))
def write(request: Request, body: Annotated[dict[str, Any], Depends(_json)]) -> JSONResponse:
    """The customer writes: `{session, text}` -> the contact (its case reference once known)."""
    given = _parsed(WriteIn, body)
    result = use.write(ops_of(request), given.session, given.text)
    if result.status == "failed":
        raise InvalidContactError(result.error or "the message could not be taken")
    answer = {"contact_id": result.contact_id, "case_reference": result.case_reference}
    return _answer(request, answer, 201)


@router.get("/api/v1/chat/messages")
async def read(
    request: Request,
    session: Annotated[str, Query(max_length=2000)],
    after: Annotated[int, Query(ge=0)] = 0,
    wait: Annotated[float, Query(ge=0, le=25)] = 20,
) -> JSONResponse:
    """The conversation from message `after` on; waits up to `wait` seconds for a new one."""
    return _answer(request, await use.read(ops_of(request), session, after, wait))


DEMO_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Northwind Energy - chat with us</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:40rem}</style></head>
<body><h1>Northwind Energy</h1>
<p>A customer's page with Flowdesk's chat widget: one script tag.</p>
<pre>&lt;script src="/static/web/chat-widget.js" data-flowdesk="/"&gt;&lt;/script&gt;</pre>
<script src="/static/web/chat-widget.js" data-flowdesk="/" data-title="Chat with Northwind">
</script></body></html>"""


@router.get("/chat/demo", response_class=HTMLResponse, include_in_schema=False)
def demo_page() -> HTMLResponse:
    """A page that embeds the widget, as a company's site would."""
    return HTMLResponse(DEMO_PAGE)
