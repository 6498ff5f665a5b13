"""`flowdesk bundle deploy | versions | diff | rollback` on a local store, as an operator runs
them: through the real `flowdesk` command (typer's runner), errors as one precise message and
exit status 2, never a traceback."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from tests.experience.conftest import BPMN, write_bundle
from typer.testing import CliRunner, Result

from flowdesk.cli.main import app
from flowdesk.contacts.intake import Intake
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


def flowdesk(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--database-url", database_url])


def zipped(root: Path) -> Path:
    target = root.with_suffix(".zip")
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(root).as_posix())
    return target


def test_deploy_versions_diff_and_rollback(database_url: str, tmp_path: Path) -> None:
    first = flowdesk(database_url, "bundle", "deploy", str(write_bundle(tmp_path / "v1")))
    assert first.exit_code == 0, first.output
    assert "mini version 1 deployed: process mini (mini:1)" in first.output
    assert "reasons: mini-reason" in first.output
    again = flowdesk(database_url, "bundle", "deploy", str(zipped(tmp_path / "v1")))
    assert again.exit_code == 0 and "version 1 unchanged, nothing written" in again.output

    renamed = BPMN.replace('name="Check request"', 'name="Check the request"')
    v2 = zipped(write_bundle(tmp_path / "v2", {"mini.bpmn": renamed}))
    second = flowdesk(database_url, "bundle", "deploy", str(v2), "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["definitions"] == ["mini:2"]

    listed = flowdesk(database_url, "bundle", "versions", "mini", "--json")
    assert [(v["number"], v["current"]) for v in json.loads(listed.output)] == [
        (1, False),
        (2, True),
    ]
    diff = flowdesk(database_url, "bundle", "diff", "mini", "1", "2")
    assert diff.exit_code == 0, diff.output
    assert "changed: mini.bpmn" in diff.output
    assert '+    <bpmn:userTask id="check" name="Check the request"' in diff.output

    back = flowdesk(database_url, "bundle", "rollback", "mini", "1")
    assert back.exit_code == 0, back.output
    assert "mini version 3 deployed" in back.output and "same files as version 1" in back.output

    store = Store.open(database_url)
    try:  # the next contact with the reason starts the restored model
        intake = Intake(store, ProcessRuntime(store), default_region="GB")
        body = {"channel": "web", "email": "c@example.com", "text": "hi", "reason": "mini-reason"}
        contact_id = intake.receive("web", json.dumps(body).encode(), content_type=None)
        started = intake.process(contact_id)
        assert started.instance_id is not None, started
        (item,) = intake.runtime.work_items(instance_id=started.instance_id)
        assert (item["definition_id"], item["name"]) == ("mini:3", "Check request")
    finally:
        store.close()


def test_errors_print_the_precise_message_and_exit_2(database_url: str, tmp_path: Path) -> None:
    bad = write_bundle(tmp_path / "bad", {"flow.yaml": None})
    (tmp_path / "bad" / "flow.yaml").write_text("name: mini\nprocess: [1\n", encoding="utf-8")
    result = flowdesk(database_url, "bundle", "deploy", str(bad))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "invalid: 1 problem" in result.output and "flow.yaml:" in result.output

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/flow.yaml", "name: x")
    evil = tmp_path / "evil.zip"
    evil.write_bytes(buffer.getvalue())
    result = flowdesk(database_url, "bundle", "deploy", str(evil))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "unsafe path '../../etc/flow.yaml'" in result.output
    assert "hint: zip the bundle folder's contents with plain relative paths" in result.output

    for args in (["versions", "nope"], ["rollback", "nope", "1"], ["diff", "nope", "1", "2"]):
        result = flowdesk(database_url, "bundle", *args)
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), args
        assert "error: no bundle 'nope' is deployed" in result.output
    assert "Traceback" not in result.output
    store = Store.open(database_url)
    try:
        assert ProcessRuntime(store).definitions() == []  # nothing of the bad bundles written
    finally:
        store.close()


def test_flowdesk_deploy_of_a_bundle_registers_its_reasons(
    database_url: str, tmp_path: Path
) -> None:
    """`flowdesk deploy` used to deploy only the BPMN of a bundle zip, dropping flow.yaml."""
    result = flowdesk(database_url, "deploy", str(zipped(write_bundle(tmp_path / "mini"))))
    assert result.exit_code == 0, result.output
    assert "mini version 1 deployed" in result.output and "reasons: mini-reason" in result.output
    store = Store.open(database_url)
    try:
        from flowdesk.experience.service import reason_flow

        assert reason_flow(store, "mini-reason") == "mini"
    finally:
        store.close()
