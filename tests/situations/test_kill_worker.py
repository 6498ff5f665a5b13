"""A worker killed with SIGKILL in the middle of a window loses no situation and, restarted,
starts no action twice: the partial window, the situations and the actions are rows committed
with the consumer's cursor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from tests.situations.bundle import write

from flowdesk.app import bundles, events
from flowdesk.app.context import Ops
from flowdesk.auth.roles import permissions_of
from flowdesk.auth.service import Principal
from flowdesk.core.clock import SystemClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.situations.actions import ActionRunner
from flowdesk.situations.consumer import SituationConsumer
from flowdesk.situations.models import cep_partitions, situation_actions, situations
from flowdesk.store import Store

ADMIN = Principal("id-admin", "admin", "admin", ("admin",), (), permissions_of(("admin",)))


def _count(store: Store, table: object) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _down(ops: Ops, n: int) -> None:
    now = SystemClock().now().isoformat()
    item = {
        "specversion": "1.0",
        "id": f"n{n}",
        "source": "/net",
        "type": "network.node_down",
        "time": now,
        "data": {"area": "NW-9", "node": n},
    }
    events.append(ADMIN, ops, [item], batch=False)


def _worker(url: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FLOWDESK_DATABASE_URL": url, "FLOWDESK_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "flowdesk.cli.main", "worker", "--no-routing", *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_kill_9_mid_window_then_restart(sqlite_url: str, tmp_path: Path) -> None:
    store = Store.open(sqlite_url)
    store.upgrade()
    ops = Ops(store, SystemClock(), ProcessRuntime(store))
    bundles.deploy(ADMIN, ops, write(tmp_path / "outage"))
    _down(ops, 1)
    _down(ops, 2)
    worker = _worker(sqlite_url, "--poll", "0.1")
    try:
        deadline = time.monotonic() + 30
        while _count(store, cep_partitions) == 0:  # the partial window is committed
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never stored the window"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert _count(store, situations) == 0
    _down(ops, 3)  # the third node in ten minutes, seen only by the next worker
    again = _worker(sqlite_url, "--until-idle")  # restarted: it finishes the window
    assert again.wait(timeout=60) == 0, again.stderr.read() if again.stderr else ""
    for _ in range(2):  # and the rounds after that (here in process) find nothing to do
        with store.reading() as conn:
            rows = conn.execute(select(situation_actions.c.kind, situation_actions.c.status)).all()
        assert _count(store, situations) == 1
        assert sorted(rows) == [("alert", "done")]  # nobody to notify; alerted once
        SituationConsumer(store).tick()
        ActionRunner(store, ops.runtime).tick()
    alerts = [e for e in store.events.after(0, 10**6) if e.type == "situation.alert"]
    assert len(alerts) == 1
    store.close()
