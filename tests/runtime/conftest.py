from __future__ import annotations

from pathlib import Path

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

DATA = Path(__file__).parent.parent / "data" / "bpmn"


@pytest.fixture
def runtime(store: Store, clock: FixedClock) -> ProcessRuntime:
    return ProcessRuntime(store, clock=clock)


def deploy_file(runtime: ProcessRuntime, name: str) -> None:
    path = DATA / name
    runtime.deploy(name, [(name, path.read_bytes())])
