# ruff: noqa: F811
"""Old Idempotency-Key answers are purged: a retry inside the retention replays the first
answer, one after it is a new request. Driven with the injected clock, and once through
`flowdesk worker` (which runs the purge on its rounds)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tests.api.test_service_api import APPROVAL, Api, api, make_api  # noqa: F401

from flowdesk.api.idempotency import KeyPurger
from flowdesk.core.clock import FixedClock
from flowdesk.store import Store

URL = "/api/v1/process-instances"
BODY = {"processKey": "approval", "variables": {"amount": 10}, "businessKey": "O-1"}


def _start(api: Api, key: str) -> tuple[str, bool]:
    """Start with an Idempotency-Key: (instance id, whether the answer was a replay)."""
    headers = {**api.as_("integration"), "Idempotency-Key": key}
    response = api.client.post(URL, json=BODY, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"], response.headers.get("idempotent-replayed") == "true"


def test_keys_are_kept_for_the_retention_then_purged(api: Api) -> None:
    assert api.deploy(("approval.bpmn", APPROVAL)).status_code == 201
    purger = KeyPurger(api.store, api.clock, retention=timedelta(hours=24))
    first, _ = _start(api, "order-1")
    api.clock.advance(hours=12)
    _start(api, "order-2")
    api.clock.advance(hours=11, minutes=59)  # order-1 is 23:59 old
    assert purger.tick() == 0
    assert _start(api, "order-1") == (first, True)
    api.clock.advance(minutes=2)  # order-1 is 24:01 old, order-2 12:01
    assert purger.tick() == 1
    again, replayed = _start(api, "order-1")
    assert again != first and not replayed  # a new request: a second instance
    assert _start(api, "order-2")[1] is True  # still inside its retention


def test_the_purge_runs_at_most_once_per_interval(api: Api) -> None:
    assert api.deploy(("approval.bpmn", APPROVAL)).status_code == 201
    purger = KeyPurger(
        api.store, api.clock, retention=timedelta(hours=1), every=timedelta(minutes=5)
    )
    start = api.clock.now()
    assert purger.tick() == 0  # nothing to purge yet; the interval starts now
    api.clock.set(start - timedelta(hours=2))
    _start(api, "k1")  # a key two hours old ...
    api.clock.set(start + timedelta(minutes=4))
    assert purger.tick() == 0  # ... but the last purge was 4 minutes ago: skipped
    api.clock.set(start + timedelta(minutes=5))
    assert purger.tick() == 1


def _worker(database_url: str, **env: str) -> None:
    """`flowdesk worker --until-idle` in its own process, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk.cli.main", "worker", "--until-idle", "--no-routing"]
        + ["--database-url", database_url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_the_worker_purges_keys_older_than_the_setting(store: Store, database_url: str) -> None:
    days_ago = FixedClock(datetime.now(UTC) - timedelta(days=2))
    gen = make_api(store, days_ago, database_url)
    api = next(gen)
    try:
        assert api.deploy(("approval.bpmn", APPROVAL)).status_code == 201
        first, _ = _start(api, "old-order")
        days_ago.advance(days=1, hours=12)  # 12 hours ago
        recent, _ = _start(api, "recent-order")
        _worker(database_url)
        assert _start(api, "recent-order") == (recent, True)
        assert _start(api, "old-order")[0] != first
        # a shorter retention in the environment reaches the recent key too
        _worker(database_url, FLOWDESK_IDEMPOTENCY_RETENTION_HOURS="6")
        assert _start(api, "recent-order")[0] != recent
    finally:
        for _ in gen:  # runs the rest of the fixture generator: the test client closes
            pass
