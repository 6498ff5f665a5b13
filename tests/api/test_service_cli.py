"""`flowdesk deploy | start | tasks | webhooks` through CliRunner on a Typer app they register
into, against a real SQLite file (and PostgreSQL)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import typer
from tests.api.test_service_api import APPROVAL, BROKEN, FIELD
from typer.testing import CliRunner

from flowdesk.cli import service as cli_service
from flowdesk.core.errors import FlowdeskError
from flowdesk.store import Store
from flowdesk.webhooks import subscriptions


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root."""

    cli_service.register(app)
    return app


def test_deploy_start_tasks_and_webhooks(tmp_path: Path, database_url: str) -> None:
    runner = CliRunner()
    app = _app()
    db = ["--database-url", database_url]
    models = tmp_path / "models"
    models.mkdir()
    (models / "approval.bpmn").write_text(APPROVAL)
    (models / "notes.txt").write_text("ignored")
    result = runner.invoke(app, ["deploy", str(models), *db])
    assert result.exit_code == 0, result.output
    assert "approval:1" in result.output
    again = runner.invoke(app, ["deploy", str(models / "approval.bpmn"), *db])
    assert "approval:1 (unchanged)" in again.output
    bundle = tmp_path / "b.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("field.bpmn", FIELD)
    bundle.write_bytes(buffer.getvalue())
    assert "field:1" in runner.invoke(app, ["deploy", str(bundle), *db]).output

    started = runner.invoke(
        app,
        ["start", "approval", "--var", "amount=500", "--var", "note=hello world"]
        + ["--business-key", "CLI-1", *db],
    )
    assert started.exit_code == 0, started.output
    assert "waiting on review" in started.output
    listed = runner.invoke(app, ["tasks", "--group", "billing", "--json", *db])
    (item,) = [json.loads(line) for line in listed.output.splitlines()]
    assert item["element_id"] == "review" and item["process_key"] == "approval"
    assert runner.invoke(app, ["tasks", "--group", "field-service", "--json", *db]).output == ""
    table = runner.invoke(app, ["tasks", *db])
    assert "Review" in table.output

    store = Store.open(database_url)
    try:
        with store.reading() as conn:
            row = conn.exec_driver_sql("SELECT business_key, state FROM process_instances").first()
        assert row is not None and row[0] == "CLI-1"
        added = runner.invoke(
            app, ["webhooks", "add", "http://127.0.0.1:9/h", "-e", "process.*", *db]
        )
        assert added.exit_code == 0 and "secret:" in added.output
        (sub,) = subscriptions.active(store)
        assert sub.event_types == ["process.*"]
        assert sub.id in runner.invoke(app, ["webhooks", "list", *db]).output
        once = runner.invoke(app, ["webhooks", "deliver", "--once", *db])
        assert once.exit_code == 0 and "retrying" in once.output
        assert runner.invoke(app, ["webhooks", "remove", sub.id, *db]).exit_code == 0
        assert subscriptions.active(store) == []
    finally:
        store.close()


def test_cli_errors_are_flowdesk_errors(tmp_path: Path, database_url: str) -> None:
    runner = CliRunner()
    app = _app()
    db = ["--database-url", database_url]
    broken = tmp_path / "broken.bpmn"
    broken.write_text(BROKEN)
    result = runner.invoke(app, ["deploy", str(broken), *db])
    assert isinstance(result.exception, FlowdeskError)  # main() prints it as one line, exit 2
    assert "nowhere" in str(result.exception)
    missing = runner.invoke(app, ["deploy", str(tmp_path / "none"), *db])
    assert "no such file" in str(missing.exception)
    bad_var = runner.invoke(app, ["start", "approval", "--var", "novalue", *db])
    assert "not name=value" in str(bad_var.exception)
    unknown = runner.invoke(app, ["start", "nope", *db])
    assert "no process 'nope' is deployed" in str(unknown.exception)
