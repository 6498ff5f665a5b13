from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.settings import Settings
from flowdesk.store import Store


def flowdesk(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowdesk.cli.main", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, FLOWDESK_DATABASE_URL=database_url),
        timeout=60,
    )


def test_users_add_and_keys_create_give_a_working_key(database_url: str) -> None:
    added = flowdesk(
        "users",
        "add",
        "sam.super",
        "--role",
        "supervisor",
        "--group",
        "billing",
        database_url=database_url,
    )
    assert added.returncode == 0, added.stderr
    assert "created user sam.super (supervisor)" in added.stdout
    created = flowdesk("keys", "create", "--user", "sam.super", database_url=database_url)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("fdk_")
    store = Store.open(database_url)
    try:
        with TestClient(create_app(Settings(database_url=database_url), store)) as client:
            me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
        assert me["username"] == "sam.super" and me["groups"] == ["billing"]
    finally:
        store.close()
    listed = flowdesk("users", "list", database_url=database_url)
    assert "sam.super" in listed.stdout


def test_users_add_with_an_unknown_role_is_one_clear_line(database_url: str) -> None:
    result = flowdesk("users", "add", "x1", "--role", "wizard", database_url=database_url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "unknown role 'wizard'" in result.stderr
    missing = flowdesk("keys", "create", "--user", "ghost", database_url=database_url)
    assert missing.returncode == 2 and "no user named 'ghost'" in missing.stderr
