#!/usr/bin/env python3
"""CPU per instance of the service API inside the process, without an HTTP server: the same two
requests as `api_throughput.py` (start a one-user-task instance, complete its work item) sent
straight to the ASGI app, so the app's own cost is measured apart from uvicorn and the load
generator, and can be profiled.

    .venv/bin/python benchmarks/api_profile.py                 # CPU ms per instance, 5 x 300
    .venv/bin/python benchmarks/api_profile.py --profile 25    # + cProfile, top 25 by own time

cProfile sees only the thread it runs in, and FastAPI runs sync routes and dependencies in a
thread pool; with --profile the pool hop is replaced by a direct call so the profile shows the
work done there (the CPU figure without --profile keeps the real thread pool).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from fastapi.testclient import TestClient  # noqa: E402

from api_throughput import MODEL, prepare  # noqa: E402
from flowdesk.api.app import create_app  # noqa: E402
from flowdesk.runtime.bootstrap import open_store  # noqa: E402
from flowdesk.settings import Settings  # noqa: E402

Call = Callable[[str, str, bytes], Any]


def asgi_caller(app: Any, key: str) -> Call:
    """An async function that sends one request to the app and returns (status, JSON body)."""
    auth = (b"authorization", f"Bearer {key}".encode())

    async def call(method: str, path: str, body: bytes) -> tuple[int, Any]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                auth,
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        return status, json.loads(b"".join(chunks))

    return call


async def instances(call: Any, n: int) -> None:
    start = json.dumps({"processKey": "one_task"}).encode()
    done = json.dumps({"variables": {"ok": True}}).encode()
    for _ in range(n):
        status, body = await call("POST", "/api/v1/process-instances", start)
        assert status == 201, body
        item = body["work_items"][0]["id"]
        status, body = await call("POST", f"/api/v1/work-items/{item}/complete", done)
        assert status == 200 and body["instance_status"] == "completed", body


def direct_threadpool() -> None:
    """Run the thread-pool work in the event loop's thread, where cProfile sees it."""
    import fastapi.dependencies.utils as deps
    import fastapi.routing as routing

    import flowdesk.api.idempotency as idem

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    for module in (deps, routing, idem):
        module.run_in_threadpool = inline  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=300, help="instances per round")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        key = prepare(url)
        settings = Settings(database_url=url)
        store = open_store(settings)  # as `flowdesk serve` opens it
        app = create_app(settings, store)
        with TestClient(app) as client:  # lifespan as in `flowdesk serve`
            files = [("files", ("one_task.bpmn", MODEL.encode(), "application/xml"))]
            client.headers["Authorization"] = f"Bearer {key}"
            assert client.post("/api/v1/deployments", files=files).status_code == 201
            call = asgi_caller(app, key)
            if args.profile:
                direct_threadpool()
            asyncio.run(instances(call, 50))  # warm-up: definition cache, key cache
            per_instance = []
            profiler = cProfile.Profile()
            for _ in range(args.rounds):
                t0 = time.process_time()
                if args.profile:
                    profiler.enable()
                asyncio.run(instances(call, args.n))
                if args.profile:
                    profiler.disable()
                per_instance.append((time.process_time() - t0) * 1000 / args.n)
        store.close()
    print(
        json.dumps(
            {
                "cpu_ms_per_instance_median": round(statistics.median(per_instance), 3),
                "rounds": [round(x, 3) for x in per_instance],
                "profiled": bool(args.profile),
            }
        )
    )
    if args.profile:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile * 2)


if __name__ == "__main__":
    main()
