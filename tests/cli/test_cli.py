from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.store import Store, migrate
from flowdesk.testing.postgres import free_port


def flowdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowdesk.cli.main", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        timeout=60,
    )


def test_help_lists_the_commands() -> None:
    result = flowdesk("--help")
    assert result.returncode == 0
    for command in ("serve", "db", "events"):
        assert command in result.stdout


def test_db_upgrade_migrates_the_configured_database(database_url: str) -> None:
    result = flowdesk("db", "upgrade", env={"FLOWDESK_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    heads = ", ".join(migrate.head_revisions())
    assert f"database at revision {heads} (was empty)" in result.stdout
    again = flowdesk("db", "upgrade", "--database-url", database_url)
    assert f"(was {heads})" in again.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@localhost/x", "'mysql', which Flowdesk does not support"),
        ("postgresql://u@127.0.0.1:{port}/x", "cannot connect to PostgreSQL at 127.0.0.1"),
    ],
)
def test_bad_database_urls_give_one_clear_line(url: str, expected: str) -> None:
    # the free port is picked when the test runs, so every collection names the same tests
    url = url.format(port=free_port())
    result = flowdesk("db", "upgrade", env={"FLOWDESK_DATABASE_URL": url})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]


def test_unwritable_database_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("a file where the data directory should be")
    result = flowdesk("db", "upgrade", "--database-url", f"sqlite:///{blocker}/flowdesk.db")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot create the database directory" in result.stderr
    assert "writable location" in result.stderr


def test_events_export_writes_cloudevents(database_url: str, clock: FixedClock) -> None:
    store = Store.open(database_url)
    store.upgrade()
    with store.unit_of_work() as uow:
        case = {"reference": "C-1", "reason": "refund", "process_key": "refund"}
        uow.append(NewEvent("case.opened", clock.now(), case, case_id="c1"))
        closed = {**case, "instance_id": None, "outcome": "completed"}
        uow.append(NewEvent("case.closed", clock.now(), closed, case_id="c1"))
    store.close()
    lines = flowdesk("events", "export", "--database-url", database_url).stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["type"] for e in events] == ["io.flowdesk.case.opened", "io.flowdesk.case.closed"]
    assert all(e["specversion"] == "1.0" and e["caseid"] == "c1" for e in events)
    batch = flowdesk("events", "export", "--batch", "--after", "1", "--database-url", database_url)
    assert [e["type"] for e in json.loads(batch.stdout)] == ["io.flowdesk.case.closed"]


def test_decide_is_wired_into_the_flowdesk_command() -> None:
    model = "../shared/peers/dmn/discount-feel.dmn"
    if not os.path.exists(model):
        pytest.skip("../shared/peers is not beside the repository")
    inputs = '{"segment": "gold", "amount": 500, "tenure": 3, "channel": "web"}'
    result = flowdesk("decide", model, "--decision", "Discount", "--input", inputs)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"discount": 0.1, "rule": "R02"}
    bad = flowdesk("decide", model, "--decision", "Discount", "--input", "{not json")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_customers_commands_are_wired_into_flowdesk(database_url: str) -> None:
    data = "tests/data/customers/customers.csv"
    result = flowdesk(
        "customers",
        "import",
        data,
        "--region",
        "GB",
        "--no-progress",
        "--database-url",
        database_url,
    )
    assert result.returncode == 0, result.stderr
    store = Store.open(database_url)
    try:
        assert any(e.type == "customer.created" for e in store.events.after(0))
    finally:
        store.close()
    bad = flowdesk(
        "customers",
        "import",
        "tests/data/customers/bad_row.csv",
        "--no-progress",
        "--database-url",
        database_url,
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_mine_is_wired_into_the_flowdesk_command() -> None:
    result = flowdesk("mine", "tests/data/xes/refunds.xes.gz", "--json")
    assert result.returncode == 0, result.stderr
    mined = json.loads(result.stdout)
    assert mined["cases"] > 0 and mined["events"] > 0


def test_contact_commands_are_wired_into_flowdesk(database_url: str) -> None:
    result = flowdesk("contacts", "dead-letters", "--database-url", database_url)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert flowdesk("reasons", "--help").returncode == 0


def test_service_commands_are_wired_into_flowdesk(database_url: str, tmp_path: Path) -> None:
    model = tmp_path / "hello.bpmn"
    model.write_text(
        '<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' id="d" targetNamespace="t"><bpmn:process id="hello" isExecutable="true">'
        '<bpmn:startEvent id="s"/><bpmn:userTask id="say"/>'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="say"/>'
        "</bpmn:process></bpmn:definitions>"
    )
    deployed = flowdesk("deploy", str(model), "--database-url", database_url)
    assert deployed.returncode == 0, deployed.stderr
    started = flowdesk("start", "hello", "--var", "n=1", "--database-url", database_url)
    assert started.returncode == 0, started.stderr
    tasks = flowdesk("tasks", "--json", "--database-url", database_url)
    assert tasks.returncode == 0 and "say" in tasks.stdout
