"""The demo company ships inside the package: what setuptools puts in the wheel carries it, and
`flowdesk demo load` run from that copy alone (no source tree) deploys its flows.

The files are staged with setuptools' `build_py`, the step `bdist_wheel` zips up (the shared
environment has no `wheel` package, and building in isolation would need the network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowdesk.demo import COMPANY_DIR
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_package_carries_the_demo_company_and_loads_it(tmp_path: Path) -> None:
    lib, eggs = tmp_path / "lib", tmp_path / "eggs"
    eggs.mkdir()
    build = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q"]
        + ["egg_info", "--egg-base", str(eggs), "build_py", "--build-lib", str(lib)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    shipped = lib / "flowdesk" / "demo" / "company"
    source = {p.relative_to(COMPANY_DIR) for p in COMPANY_DIR.rglob("*") if p.is_file()}
    packaged = {p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file()}
    assert source == packaged, source ^ packaged
    assert {p.suffix for p in packaged} == {".bpmn", ".dmn", ".yaml", ".json", ".md"}

    database = tmp_path / "packaged.db"
    env = {**os.environ, "PYTHONPATH": str(lib)}
    env.pop("FLOWDESK_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "flowdesk.cli.main", "demo", "load"]
        + ["--database-url", f"sqlite:///{database}"],
        cwd=tmp_path,  # not the source tree: only the packaged copy is importable
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    assert f"deployed 8 experience flows from {shipped}" in run.stdout
    store = Store.open(f"sqlite:///{database}")
    try:
        keys = {d["key"] for d in ProcessRuntime(store).definitions()}
    finally:
        store.close()
    assert {"refund_request", "complaint", "moving_house"} <= keys
