"""Start a server as a subprocess and wait until its /health answers (the browser tests' way
of running `flowdesk serve` or tests/web/serve_web.py on a free port).

The server's output is read all the time by a thread that keeps its last lines: a pipe nobody
reads fills up (64 KiB of access log) and the server then blocks in its next log write, event
loop and all, so every later request hangs (the crawl met this after a few hundred pages)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def running(
    command: list[str],
    base: str,
    *,
    env: dict[str, str],
    cwd: Path | None = None,
    budget_s: float = 90,
) -> Iterator[float]:
    """Run `command` until the block ends; yields the seconds until /health answered 200.
    A server that exits or stays silent past the budget fails with what it printed."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    reader = threading.Thread(target=_drain, args=(proc, tail), daemon=True)
    reader.start()
    try:
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() - started > budget_s:
                proc.kill()
                reader.join(timeout=10)
                output = "".join(tail) or "no output"
                raise AssertionError(
                    f"{command[-1]!r} did not answer within {budget_s} s:\n{output}"
                )
            time.sleep(0.2)
        yield time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=10)


TAIL_LINES = 400


def _drain(proc: subprocess.Popen[str], tail: deque[str]) -> None:
    """Read the server's output until it closes, keeping the last lines for error messages."""
    if proc.stdout is not None:
        for line in proc.stdout:
            tail.append(line)


@contextmanager
def demo_server(
    folder: Path, *options: str, budget_s: float = 90, host: str = "127.0.0.1"
) -> Iterator[tuple[str, str]]:
    """`flowdesk serve` with the demo company as a newcomer runs it (no FLOWDESK_* settings, so
    the demo outbox is on), on a free port and a SQLite file in `folder`: (base URL, database
    URL) until the block ends. `options` go to serve (e.g. "--seed-days", "0")."""
    from flowdesk.testing.postgres import free_port

    url = f"sqlite:///{folder / 'flowdesk.db'}"
    port = free_port()
    flowdesk = Path(sys.executable).with_name("flowdesk")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env["FLOWDESK_WEBHOOK_INTERVAL"] = "0"
    command = [str(flowdesk), "serve", "--port", str(port), "--database-url", url, *options]
    base = f"http://{host}:{port}"
    with running(command, base, env=env, cwd=folder, budget_s=budget_s):
        yield base, url


@contextmanager
def seeded_web(folder: Path) -> Iterator[str]:
    """tests/web/serve_web.py on a free port over three days of seeded demo history (100
    customers, 15 cases a day, ending an hour ago, so the analysis and simulation pages have
    a log to read): the base URL until the block ends."""
    from datetime import UTC, datetime, timedelta

    from flowdesk.cli.demo import default_demo_dir, load_demo_content
    from flowdesk.demo.seed import seed
    from flowdesk.store import Store
    from flowdesk.testing.postgres import free_port

    url = f"sqlite:///{folder / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    end = datetime.now(UTC) - timedelta(hours=1)
    seed(store, default_demo_dir(), days=3, customers=100, cases_per_day=15, end=end)
    store.close()
    port = free_port()
    launcher = Path(__file__).with_name("serve_web.py")
    base = f"http://127.0.0.1:{port}"
    with running(
        [sys.executable, str(launcher), "--port", str(port), "--database-url", url],
        base,
        env=dict(os.environ, FLOWDESK_WEBHOOK_INTERVAL="0"),
    ):
        yield base
