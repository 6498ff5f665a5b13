"""`flowdesk mine`: on XES files and on Flowdesk's own log, through Typer's runner and as a
subprocess, with one-line errors and exit status 2 for problems the user can fix."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from flowdesk.cli.mine import register
from flowdesk.core.events import NewEvent
from flowdesk.store import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXPECTED = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "xes" / "expected_pm4py.json").read_text()
)


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()

    @application.callback()
    def root() -> None:
        """Test root so `mine` stays a sub-command."""

    register(application)
    return application


def run(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, ["mine", *args])


def test_mine_an_xes_file_as_json(app: typer.Typer, xes_dir: Path) -> None:
    result = run(app, str(xes_dir / "refunds.xes.gz"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = EXPECTED["logs"]["refunds.xes.gz"]["all"]
    assert sorted([e["from"], e["to"], e["count"]] for e in report["edges"]) == expected["dfg"]
    assert sorted([v["activities"], v["count"]] for v in report["variants"]) == expected["variants"]
    assert report["start_activities"] == expected["start"]
    assert report["end_activities"] == expected["end"]
    assert (report["events"], report["cases"], report["lifecycle"]) == (34, 5, "all")
    assert report["edges"][0]["median_seconds"] is not None


def test_start_events_are_left_out_unless_asked(app: typer.Typer, xes_dir: Path) -> None:
    report = json.loads(run(app, str(xes_dir / "lifecycle.xes"), "--json").stdout)
    assert report["lifecycle"] == "complete" and report["events"] == 7
    every = json.loads(run(app, str(xes_dir / "lifecycle.xes"), "--json", "--all-events").stdout)
    assert every["lifecycle"] == "all" and every["events"] == 14


def test_top_limits_the_variants(app: typer.Typer, xes_dir: Path) -> None:
    report = json.loads(run(app, str(xes_dir / "generated.xes.gz"), "--json", "--top", "3").stdout)
    assert len(report["variants"]) == 3 and report["variant_count"] > 3
    counts = [v["count"] for v in report["variants"]]
    assert counts == sorted(counts, reverse=True)


def test_tables_without_json(app: typer.Typer, xes_dir: Path) -> None:
    result = run(app, str(xes_dir / "refunds.xes"))
    assert result.exit_code == 0
    assert "Process map" in result.stdout and "Register request" in result.stdout
    assert "5 cases" in result.stdout


def test_bad_files_fail_in_one_line(app: typer.Typer, tmp_path: Path) -> None:
    evil = tmp_path / "evil.xes"
    evil.write_text('<!DOCTYPE log [<!ENTITY x "y">]><log/>')
    result = run(app, str(evil), "--json")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "DOCTYPE" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    missing = run(app, str(tmp_path / "missing.xes"))
    assert missing.exit_code == 2 and "cannot read file" in missing.stderr


def seeded_store(url: str) -> None:
    store = Store.open(url)
    store.upgrade()
    events = []
    for n, steps in enumerate([["Check", "Pay"], ["Check", "Reject"], ["Check", "Pay"]]):
        for i, name in enumerate(steps):
            for kind in ("element.activated", "element.completed"):
                events.append(
                    NewEvent(
                        kind,
                        T0 + timedelta(hours=n, minutes=10 * i + (kind == "element.completed")),
                        {"element_name": name, "work_item_id": f"w{n}{i}"},
                        process_instance_id=f"p{n}",
                        case_id=f"c{n}",
                        customer_id="cust",
                        element_id=name.lower(),
                    )
                )
    try:
        with store.unit_of_work() as uow:
            uow.append(*events)
    finally:
        store.close()


@pytest.mark.usefixtures("loose_events")  # a hand-made history
def test_mine_flowdesks_own_log_and_export_it(app: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flowdesk.db'}"
    seeded_store(url)
    xes_out, ocel_out = tmp_path / "own.xes.gz", tmp_path / "own.jsonocel"
    result = run(
        app,
        "--json",
        "--database-url",
        url,
        "--export-xes",
        str(xes_out),
        "--export-ocel",
        str(ocel_out),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["source"] == "flowdesk event log" and report["lifecycle"] == "complete"
    assert {(e["from"], e["to"]): e["count"] for e in report["edges"]} == {
        ("Check", "Pay"): 2,
        ("Check", "Reject"): 1,
    }
    assert report["start_activities"] == {"Check": 3}
    assert report["end_activities"] == {"Pay": 2, "Reject": 1}
    again = json.loads(run(app, str(xes_out), "--json").stdout)
    assert again["edges"] == report["edges"]
    ocel = json.loads(ocel_out.read_text())
    assert len(ocel["events"]) == 12
    assert {o["type"] for o in ocel["objects"]} == {
        "customer",
        "case",
        "work item",
        "process instance",
    }


def test_a_database_without_schema_is_a_one_line_error(app: typer.Typer, tmp_path: Path) -> None:
    result = run(app, "--json", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code == 2
    assert "no Flowdesk schema" in result.stderr and "db upgrade" in result.stderr


def test_ocel_export_needs_the_own_log(app: typer.Typer, xes_dir: Path, tmp_path: Path) -> None:
    result = run(app, str(xes_dir / "refunds.xes"), "--export-ocel", str(tmp_path / "x.json"))
    assert result.exit_code == 2 and "leave out FILE" in result.stderr


def test_as_a_subprocess(xes_dir: Path) -> None:
    script = (
        "import typer; from flowdesk.cli.mine import register\n"
        "app = typer.Typer()\n"
        "@app.callback()\n"
        "def root() -> None: pass\n"
        "register(app); app()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "mine", str(xes_dir / "refunds.xes.gz"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["variant_count"] == 4 and report["start_activities"] == {"Register request": 5}
