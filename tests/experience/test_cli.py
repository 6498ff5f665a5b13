"""`flowdesk bundle validate` and `flowdesk knowledge search`, through a Typer app of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from tests.experience.conftest import FLOW, write_bundle
from typer.testing import CliRunner

from flowdesk.cli.experience import register
from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

DEMO = COMPANY_DIR


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def main() -> None:
        """Test root."""

    register(root)
    return root


def test_validate_a_good_bundle(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["bundle", "validate", str(DEMO / "refund-request")])
    assert result.exit_code == 0, result.output
    assert "valid: refund-request" in result.output and "4 articles" in result.output
    result = CliRunner().invoke(app, ["bundle", "validate", str(DEMO / "complaint"), "--json"])
    data = json.loads(result.output)
    assert data["valid"] is True and data["reasons"] == ["complaint"]


def test_validate_prints_every_problem_with_its_location(app: typer.Typer, tmp_path: Path) -> None:
    flow = FLOW.replace("[profile, billing]", "[profile, biling]").replace(
        "sla: P1D", "sla: tomorrow"
    )
    bundle = write_bundle(tmp_path / "bad", {"flow.yaml": flow})
    result = CliRunner().invoke(app, ["bundle", "validate", str(bundle)])
    assert result.exit_code == 2
    assert "2 problems" in result.output
    assert "flow.yaml:" in result.output and "tasks.check.panels[1]:" in result.output
    assert "tasks.approve.sla:" in result.output
    result = CliRunner().invoke(app, ["bundle", "validate", str(bundle), "--json"])
    assert result.exit_code == 2
    issues = json.loads(result.output)["issues"]
    assert {i["field"] for i in issues} == {"tasks.check.panels[1]", "tasks.approve.sla"}
    assert all(i["line"] for i in issues)


def test_knowledge_search(app: typer.Typer, database_url: str, clock: FixedClock) -> None:
    store = Store.open(database_url)
    store.upgrade()
    try:
        deploy_bundle(ProcessRuntime(store, clock=clock), store, DEMO / "refund-request")
    finally:
        store.close()
    runner = CliRunner()
    result = runner.invoke(
        app, ["knowledge", "search", "approval limits", "--json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["slug"] == "refund-approval-limits"
    result = runner.invoke(
        app, ["knowledge", "search", "zebra crossing", "--database-url", database_url]
    )
    assert result.exit_code == 0 and "no article matches" in result.output
