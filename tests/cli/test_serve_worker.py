"""`flowdesk serve` runs worker rounds itself: a timer in a flow started over its API fires and
the instance completes with no `flowdesk worker` running; FLOWDESK_EMBEDDED_WORKER=false
leaves that to separate workers."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tests.web.servers import running

from flowdesk.auth import service as auth
from flowdesk.core.clock import FixedClock
from flowdesk.engine.testing import wrap
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port

TIMER = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="wait"/>
    <bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="e"/>
    """,
    process_id="nap",
)


def store_with_admin(tmp_path: Path) -> tuple[str, str]:
    """(database URL, API key of an admin) of a fresh SQLite store for a server to serve."""
    url = f"sqlite:///{tmp_path / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    clock = FixedClock(datetime.now(UTC))
    auth.create_user(store, clock, username="ops", roles=["admin"], groups=[])
    _, key = auth.create_api_key(store, clock, username="ops", name="t")
    store.close()
    return url, key


def _status_after_timer(tmp_path: Path, embedded: str, wait: float) -> str:
    url, key = store_with_admin(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(FLOWDESK_DATABASE_URL=url, FLOWDESK_EMBEDDED_WORKER=embedded)
    command = [str(Path(sys.executable).with_name("flowdesk")), "serve", "--no-demo"]
    base = f"http://127.0.0.1:{port}"
    with running([*command, "--port", str(port)], base, env=env, cwd=tmp_path):
        headers = {"Authorization": f"Bearer {key}"}
        deployed = httpx.post(
            f"{base}/api/v1/deployments",
            files=[("files", ("nap.bpmn", TIMER.encode(), "application/xml"))],
            headers=headers,
        )
        assert deployed.status_code == 201, deployed.text
        started = httpx.post(
            f"{base}/api/v1/process-instances", json={"processKey": "nap"}, headers=headers
        )
        assert started.status_code == 201, started.text
        instance = started.json()["id"]
        deadline = time.monotonic() + wait
        status = "active"
        while time.monotonic() < deadline and status == "active":
            time.sleep(0.5)
            got = httpx.get(f"{base}/api/v1/process-instances/{instance}", headers=headers)
            status = got.json()["status"]
        return str(status)


def test_serve_fires_timers_itself(tmp_path: Path) -> None:
    assert _status_after_timer(tmp_path, "true", wait=15) == "completed"


def test_without_the_embedded_worker_timers_wait(tmp_path: Path) -> None:
    # 4 s is four times the timer and several worker polls: long enough to have fired.
    assert _status_after_timer(tmp_path, "false", wait=4) == "active"
