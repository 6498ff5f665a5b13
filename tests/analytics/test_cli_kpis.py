"""`flowdesk kpis` on a few seeded demo days: its CSV holds the same figures as the API, the
scorecard lists the company's criteria, and bad options exit 2 with one line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from flowdesk.api.app import create_app
from flowdesk.auth import service as auth
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.cli.main import app
from flowdesk.core.clock import SystemClock
from flowdesk.demo.seed import seed
from flowdesk.settings import Settings
from flowdesk.store import Store

COMPANY = default_demo_dir() / "company.yaml"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = f"sqlite:///{tmp_path_factory.mktemp('kpis') / 'flowdesk.db'}"
    store = Store.open(database)
    store.upgrade()
    list(load_demo_content(store))
    seed(store, default_demo_dir(), days=4, customers=150, cases_per_day=15, end=datetime.now(UTC))
    store.close()
    yield database


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["kpis", *args])
    return result.exit_code, result.output


def test_csv_equals_the_api(url: str) -> None:
    code, output = _cli(
        "--database-url",
        url,
        "--company-file",
        str(COMPANY),
        "--grain",
        "total",
        "--by",
        "flow",
        "--csv",
    )
    assert code == 0, output
    from_cli = {r["flow"]: r for r in csv.DictReader(io.StringIO(output))}
    assert len(from_cli) >= 5

    store = Store.open(url)
    try:
        auth.create_user(store, SystemClock(), username="boss", roles=["supervisor"], groups=[])
        _, key = auth.create_api_key(store, SystemClock(), username="boss", name="t")
        api = create_app(Settings(database_url=url, company_file=str(COMPANY)), store)
        with TestClient(api) as client:
            rows = client.get(
                "/api/v1/analytics/kpis",
                params={"grain": "total", "by": "flow"},
                headers={"Authorization": f"Bearer {key}"},
            ).json()["rows"]
    finally:
        store.close()
    assert {r["group"] for r in rows} == set(from_cli)
    for row in rows:
        cli_row = from_cli[row["group"]]
        assert int(cli_row["opened"]) == row["opened"] and int(cli_row["closed"]) == row["closed"]
        if row["sla_compliance"] is not None:
            assert float(cli_row["sla_compliance"]) == pytest.approx(
                row["sla_compliance"], abs=1e-4
            )


def test_table_and_scorecard(url: str) -> None:
    code, output = _cli(
        "--database-url", url, "--company-file", str(COMPANY), "--scorecard", "--csv"
    )
    assert code == 0, output
    criteria = {r["criterion"] for r in csv.DictReader(io.StringIO(output))}
    assert "Prompt restoration after a disruption" in criteria and len(criteria) == 6
    code, output = _cli("--database-url", url, "--grain", "week")
    assert code == 0 and "opened" in output


def test_bad_options_exit_2(url: str, tmp_path: Path) -> None:
    code, output = _cli("--database-url", url, "--by", "colour")
    assert code == 2 and "cannot group by 'colour'" in output
    broken = tmp_path / "company.yaml"
    broken.write_text("company: {name: X}\n")
    code, output = _cli("--database-url", url, "--company-file", str(broken))
    assert code == 2 and "error:" in output
