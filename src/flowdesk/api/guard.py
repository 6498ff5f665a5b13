"""Bad text refused at the edge, before any route stores or parses it (HTTP 422, problem+json).

A JSON body nested deeper than `MAX_DEPTH`, or holding a lone surrogate or a NUL character
(in a string or a key), a NUL in the path, the query or a form body: none of these can be
stored (UTF-8 and PostgreSQL text refuse them) or walked safely, so none reaches a route. Other
malformed JSON passes through: the routes answer it with their own, more precise message (and
the contact routes keep it as a dead letter).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowdesk.core.safetext import MAX_DEPTH, json_problem

_FORM = "application/x-www-form-urlencoded"
#: Bodies of these media types (or none) are read here; others (multipart, email) stream on.
_CHECKED = ("application/json", _FORM, "text/plain", "")


def _media(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip().lower()
    return ""


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"%00" in raw


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if _has_nul(raw_path) or _has_nul(scope.get("query_string", b"")):
            await _refuse(send, "the address holds a NUL character")
            return
        media = _media(scope)
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS") or not (
            media in _CHECKED or media.endswith("+json")
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _once(message, receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        reason = _problem(body, media)
        if reason is not None:
            await _refuse(send, reason)
            return
        await self.app(
            scope, _once({"type": "http.request", "body": body, "more_body": False}, receive), send
        )


def _problem(body: bytes, media: str) -> str | None:
    if media == _FORM:
        return "the form holds a NUL character" if _has_nul(body) else None
    start = body.lstrip()[:1]
    if not (media.endswith("json") or start in (b"{", b"[")):
        return None
    try:
        value = json.loads(body)
    except RecursionError:
        return f"the JSON body is nested more than {MAX_DEPTH} levels deep"
    except ValueError:  # not JSON (UnicodeDecodeError included): the route says what is wrong
        return None
    found = json_problem(value)
    return f"the JSON body is refused: {found}" if found else None


def _once(first: Message, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replay


async def _refuse(send: Send, detail: str) -> None:
    body: dict[str, Any] = {
        "type": "urn:flowdesk:problem:invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": detail,
        "hint": "send UTF-8 text without NUL characters or unpaired surrogates, "
        f"and JSON nested at most {MAX_DEPTH} levels deep",
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
