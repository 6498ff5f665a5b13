"""Schemathesis over the served OpenAPI document: generated requests (valid and invalid) against
every operation, with a bounded number of examples, must never produce a server error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from tests.api.test_service_api import APPROVAL, WAIT

from flowdesk.api.app import create_app
from flowdesk.auth import service
from flowdesk.core.clock import FixedClock
from flowdesk.settings import Settings
from flowdesk.store import Store

EXAMPLES = 10


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, dict[str, str]]]:
    import os

    os.environ["FLOWDESK_WEBHOOK_INTERVAL"] = "0"
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    service.create_user(store, clock, username="root", roles=["admin"], groups=["billing"])
    _, key = service.create_api_key(store, clock, username="root", name="fuzz")
    app = create_app(Settings(database_url=url, max_body_bytes=64 * 1024), store, clock)
    from flowdesk.runtime.processes import ProcessRuntime

    runtime = ProcessRuntime(store, clock=clock)
    runtime.deploy("seed", [("approval.bpmn", APPROVAL.encode()), ("wait.bpmn", WAIT.encode())])
    runtime.start("approval", {"amount": 5})
    yield app, {"Authorization": f"Bearer {key}"}
    store.close()


def test_no_server_errors(
    served: tuple[object, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every operation, generated with schemathesis' strategies (positive and negative data).
    Driven by hand with hypothesis: schemathesis' pytest plugin does not run under this
    pytest."""
    from flowdesk.api.routes import external_tasks

    monkeypatch.setattr(external_tasks, "MAX_ASYNC_RESPONSE_MS", 20)  # long polls end quickly
    app, headers = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures: list[str] = []
    ran = 0
    for operation in operations:
        if operation.path == "/metrics":
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
                phases=[Phase.generate],
            )
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:300]}"
                    )

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing in it can be made invalid
            ran += 1
    assert ran >= 80
    assert failures == []
