"""Process owners: `owner` in flow.yaml is checked with its line, stored with the deployed
experience, listed by the API with the flows and the reason catalog, carried in the deploy
event, and every demo flow has one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from tests.experience.conftest import FLOW, write_bundle
from typer.testing import CliRunner

from flowdesk.api.app import create_app
from flowdesk.auth import service as auth
from flowdesk.cli.experience import register
from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.loader import load_bundle
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

DEMO = COMPANY_DIR
OWNED = FLOW.replace("process: mini\n", "owner: akeller\nprocess: mini\n")


@pytest.fixture
def http(store: Store, database_url: str, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url), store, clock)) as client:
        yield client


def _key(store: Store, clock: FixedClock, name: str, role: str) -> dict[str, str]:
    auth.create_user(store, clock, username=name, roles=[role])
    _, token = auth.create_api_key(store, clock, username=name, name="t")
    return {"Authorization": f"Bearer {token}"}


def test_the_owner_is_listed_with_the_flow_and_its_reasons(
    http: TestClient, store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    runtime = ProcessRuntime(store, clock=clock)
    deploy_bundle(runtime, store, write_bundle(tmp_path / "v1", {"flow.yaml": OWNED}))
    deploy_bundle(runtime, store, DEMO / "refund-request")
    agent = _key(store, clock, "ana", "agent")
    flows = {f["name"]: f for f in http.get("/api/v1/experiences", headers=agent).json()}
    assert flows["mini"]["owner"] == "akeller" and flows["mini"]["reasons"] == ["mini-reason"]
    assert flows["refund-request"]["owner"] == "kkowalski"
    assert flows["refund-request"]["process_key"] == "refund_request"
    # a redeployment with another owner: the latest deployment is the one listed
    clock.advance(minutes=1)
    moved = OWNED.replace("owner: akeller", "owner: front-office")
    deploy_bundle(runtime, store, write_bundle(tmp_path / "v2", {"flow.yaml": moved}))
    flows = {f["name"]: f for f in http.get("/api/v1/experiences", headers=agent).json()}
    assert flows["mini"]["owner"] == "front-office" and len(flows) == 2
    reasons = {
        r["reason"]: r for r in http.get("/api/v1/experiences/catalog", headers=agent).json()
    }
    assert reasons["mini-reason"]["owner"] == "front-office"
    assert reasons["refund-request"]["owner"] == "kkowalski"
    deployed = [e for e in store.events.iterate() if e.type == "experience_bundle.deployed"]
    assert [e.data["owner"] for e in deployed] == ["akeller", "kkowalski", "front-office"]
    assert http.get("/api/v1/experiences").status_code == 401  # no key


def test_a_flow_without_owner_is_listed_with_none(
    http: TestClient, store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    deploy_bundle(ProcessRuntime(store, clock=clock), store, write_bundle(tmp_path / "b"))
    (flow,) = http.get("/api/v1/experiences", headers=_key(store, clock, "ana", "agent")).json()
    assert flow["owner"] is None


def test_a_malformed_owner_is_refused_with_its_line(tmp_path: Path) -> None:
    root = typer.Typer()

    @root.callback()
    def main() -> None:
        """Test root."""

    register(root)
    bad = OWNED.replace("owner: akeller", "owner: Ana Keller")
    bundle = write_bundle(tmp_path / "bad", {"flow.yaml": bad})
    result = CliRunner().invoke(root, ["bundle", "validate", str(bundle), "--json"])
    assert result.exit_code == 2
    (issue,) = json.loads(result.output)["issues"]
    line = bad.splitlines().index("owner: Ana Keller") + 1
    assert (issue["file"], issue["line"], issue["field"]) == ("flow.yaml", line, "owner")
    assert "is not a user name or department id" in issue["message"]


def test_every_demo_flow_has_an_owner() -> None:
    flows = sorted(p.parent for p in DEMO.glob("*/flow.yaml"))
    assert len(flows) == 8
    for folder in flows:
        assert load_bundle(folder).owner, folder.name
