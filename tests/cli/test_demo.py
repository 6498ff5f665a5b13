from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store


def flowdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowdesk.cli.main", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )


def test_demo_load_deploys_the_flows_and_the_logins_work(database_url: str) -> None:
    first = flowdesk("demo", "load", "--database-url", database_url)
    assert first.returncode == 0, first.stderr
    assert "deployed 8 experience flows" in first.stdout
    assert "password 'flowdesk-demo'" in first.stdout
    again = flowdesk("demo", "load", "--database-url", database_url)
    assert "nothing loaded" in again.stdout
    store = Store.open(database_url)
    try:
        keys = {d["key"] for d in ProcessRuntime(store).definitions()}
        assert len(keys) >= 8 and any("refund" in k for k in keys)
        with TestClient(create_app(Settings(database_url=database_url), store)) as client:
            login = client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": "flowdesk-demo"}
            )
            assert login.status_code == 200
            assert "admin" in client.get("/api/v1/me").json()["roles"]
    finally:
        store.close()
