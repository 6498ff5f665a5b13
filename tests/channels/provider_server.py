"""A real HTTP server on 127.0.0.1 standing in for a provider's send endpoint (Twilio's
Messages API, Meta's Graph API): it keeps every request as it arrived and answers what the
test tells it to, so a test checks exactly what Flowdesk sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Answer = Callable[[Seen], tuple[int, dict[str, Any]]]


@dataclass
class ProviderServer:
    url: str
    requests: list[Seen] = field(default_factory=list)
    answer: Answer | None = None


@contextmanager
def provider_server(answer: Answer) -> Iterator[ProviderServer]:
    server_state = ProviderServer(url="", answer=answer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen("POST", self.path, dict(self.headers.items()), self.rfile.read(length))
            server_state.requests.append(seen)
            assert server_state.answer is not None
            status, body = server_state.answer(seen)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
