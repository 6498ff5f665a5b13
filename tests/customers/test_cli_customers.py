from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flowdesk.cli.customers import register

DATA = Path(__file__).parents[1] / "data" / "customers"


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def main() -> None:
        """Test root."""

    register(root)
    return root


def test_import_then_find(app: typer.Typer, database_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "customers",
            "import",
            str(DATA / "customers.csv"),
            "--region",
            "GB",
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "imported 3 customers with 7 identities" in result.stdout
    assert "writing" in result.stderr  # the progress bar

    found = runner.invoke(
        app,
        [
            "customers",
            "find",
            "--phone",
            "020 7946 0958",
            "--region",
            "GB",
            "--json",
            "--database-url",
            database_url,
        ],
    )
    assert found.exit_code == 0, found.output
    record = json.loads(found.stdout.splitlines()[0])
    assert record["name"] == "Jane Doe" and record["matched_by"] == "phone"

    fuzzy = runner.invoke(
        app,
        [
            "customers",
            "find",
            "--given-name",
            "Hans",
            "--family-name",
            "Mueller",
            "--birth-date",
            "1962-07-30",
            "--database-url",
            database_url,
        ],
    )
    assert fuzzy.exit_code == 0, fuzzy.output
    assert "Müller" in fuzzy.stdout and "person" in fuzzy.stdout

    none = runner.invoke(
        app, ["customers", "find", "--email", "nobody@example.com", "--database-url", database_url]
    )
    assert none.exit_code == 1 and "no customer found" in none.stdout


def test_import_with_a_bad_row_reports_it_and_writes_nothing(
    app: typer.Typer, sqlite_url: str
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "customers",
            "import",
            str(DATA / "bad_row.csv"),
            "--no-progress",
            "--database-url",
            sqlite_url,
        ],
    )
    assert result.exit_code == 2
    assert "row 2 (line 3), field 'phone'" in result.stderr
    assert "row 3 (line 4), field 'email'" in result.stderr
    again = runner.invoke(
        app, ["customers", "find", "--email", "jane@example.com", "--database-url", sqlite_url]
    )
    assert again.exit_code == 1  # the good first row was not imported either


def test_find_rejects_bad_input(app: typer.Typer, sqlite_url: str) -> None:
    runner = CliRunner()
    nothing = runner.invoke(app, ["customers", "find", "--database-url", sqlite_url])
    assert nothing.exit_code == 2 and "give an identifier" in nothing.stderr
    bad = runner.invoke(app, ["customers", "find", "--phone", "12", "--database-url", sqlite_url])
    assert bad.exit_code == 2 and "invalid phone '12'" in bad.stderr
