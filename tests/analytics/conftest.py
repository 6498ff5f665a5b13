"""Fixtures of the analytics tests: the XES data folder and small hand-made logs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flowdesk.analytics.log import EventLog

XES = Path(__file__).resolve().parent.parent / "data" / "xes"
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def xes_dir() -> Path:
    return XES


def _log_of(*traces: tuple[str, str], step: timedelta = timedelta(hours=1)) -> EventLog:
    """A log from (case, "A B C") pairs, one event per activity, `step` apart."""
    records = []
    for case, activities in traces:
        for i, activity in enumerate(activities.split()):
            records.append({"case": case, "activity": activity, "timestamp": T0 + i * step})
    return EventLog.from_records(records)


@pytest.fixture
def log_of() -> Callable[..., EventLog]:
    """Builds a log from (case, "A B C") pairs, one event per activity, an hour apart."""
    return _log_of


ROOT = XES.parent.parent.parent
ORACLE = Path(__file__).resolve().parent / "pm4py_oracle.py"


@functools.cache
def pm4py_python() -> str | None:
    """A Python that has pm4py: this one, or the git-ignored benchmark venv's; else None."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("pm4py") is not None:
        return sys.executable
    candidate = ROOT / ".bench-venv" / "bin" / "python"
    if candidate.exists():
        probe = subprocess.run(
            [str(candidate), "-c", "import pm4py"], capture_output=True, timeout=120
        )
        if probe.returncode == 0:
            return str(candidate)
    return None


def _ask_pm4py(flag: str, path: Path) -> dict[str, Any]:
    """Run the oracle script (`--log` or `--ocel`) on `path` with pm4py; skip without pm4py."""
    import json
    import subprocess

    python = pm4py_python()
    if python is None:
        pytest.skip("pm4py is not installed here or in .bench-venv")
    done = subprocess.run(
        [python, str(ORACLE), flag, str(path)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def ask_pm4py() -> Callable[[str, Path], dict[str, Any]]:
    """pm4py's reading of a file (`--log` or `--ocel`), via pm4py_oracle.py; skips without it."""
    return _ask_pm4py
