"""Time of the agent's queue page (`GET /work`) and of the API's work-item list with many open
work items: does the queue stay fast when the whole company's backlog is open?

A fresh SQLite store (WAL, synchronous NORMAL) with the demo company loaded gets N open work
items (default 100,000) written straight into `work_items` in one transaction: candidate groups
spread over the five demo departments (front-office 40 %, billing 30 %, field-service 20 %,
network-operations 9 %, retention 1 %: the rare group is the worst case for a filtered scan),
a tenth already claimed by someone else, priorities 0-3, created over the last 30 days. Then,
through the real app (TestClient, logged in through the form), each page is fetched R times and
the median and the slowest are reported, per agent:

* bokafor (front-office, 40 % of the items) and bfischer (retention, 1 %): `/work` (page 1) and
  `/work?page=50`;
* the API as bokafor: `GET /api/v1/work-items?limit=50` and `&offset=2500`.

Ends with one JSON line. Run it against another source tree with PYTHONPATH=that/src to compare.

    python benchmarks/web_queue.py [--items N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.cli.demo import load_demo_content
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository

GROUPS = (
    ("front-office", 0.40),
    ("billing", 0.30),
    ("field-service", 0.20),
    ("network-operations", 0.09),
    ("retention", 0.01),
)


def fill(store: Store, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    names, weights = zip(*GROUPS, strict=True)
    with store.reading() as conn:
        definition = ProcessRepository(conn).latest_definition_id("complaint")
    assert definition is not None, "the demo complaint flow is not deployed"
    rows: list[dict[str, Any]] = []
    for n in range(count):
        group = rng.choices(names, weights)[0]
        rows.append(
            {
                "id": f"bench-{n:07d}",
                "instance_id": f"inst-{n:07d}",
                "definition_id": definition,
                "process_key": "complaint",
                "element_id": "register_complaint",
                "name": "Register complaint",
                "lane": group,
                "assignee": "someone-else" if rng.random() < 0.1 else None,
                "candidate_groups": [group],
                "candidate_users": [],
                "form_key": None,
                "due_at": None,
                "priority": rng.randint(0, 3),
                "status": "open",
                "created_at": now - timedelta(seconds=rng.randint(0, 30 * 86400)),
            }
        )
    with store.unit_of_work() as uow:
        ProcessRepository(uow.connection).insert_work_items(rows)


def login(client: TestClient, username: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"csrf": token.group(1), "username": username, "password": "flowdesk-demo"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def timed(client: TestClient, path: str, repeat: int) -> dict[str, Any]:
    times = []
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        rows = (
            len(response.json()) if path.startswith("/api/") else response.text.count("data-item=")
        )
    return {
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'queue.db'}"
        store = Store.open(url)
        store.upgrade()
        list(load_demo_content(store))
        started = time.perf_counter()
        fill(store, args.items)
        filled_s = time.perf_counter() - started
        app = create_app(Settings(database_url=url), store)
        results: dict[str, Any] = {"items": args.items, "fill_s": round(filled_s, 1)}
        for username in ("bokafor", "bfischer"):
            with TestClient(app) as client:
                login(client, username)
                for path in ("/work", "/work?page=50"):
                    results[f"{username} {path}"] = timed(client, path, args.repeat)
                if username == "bokafor":
                    for path in (
                        "/api/v1/work-items?limit=50",
                        "/api/v1/work-items?limit=50&offset=2500",
                    ):
                        results[f"{username} {path}"] = timed(client, path, args.repeat)
        store.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
