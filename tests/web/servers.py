"""Start a server as a subprocess and wait until its /health answers (the browser tests' way
of running `flowdesk serve` or tests/web/serve_web.py on a free port)."""

from __future__ import annotations

import subprocess
import time
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
    try:
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() - started > budget_s:
                proc.kill()
                output = proc.stdout.read() if proc.stdout else "no output"
                raise AssertionError(
                    f"{command[-1]!r} did not answer within {budget_s} s:\n{output}"
                )
            time.sleep(0.2)
        yield time.monotonic() - started
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
