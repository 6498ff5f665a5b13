"""`flowdesk patterns test` as a rule author runs it: situations printed, bad rules named."""

from __future__ import annotations

from pathlib import Path

from tests.situations.bundle import PATTERNS
from typer.testing import CliRunner

from flowdesk.cli.main import app

EVENTS = """\
{"type": "network.node_down", "time": "2026-03-02T09:00:00Z", "data": {"area": "NW-1"}}
{"type": "network.node_down", "time": "2026-03-02T09:03:00Z", "data": {"area": "NW-1"}}
{"type": "network.node_down", "time": "2026-03-02T09:04:00Z", "data": {"area": "NW-2"}}
{"type": "network.node_down", "time": "2026-03-02T09:05:00Z", "data": {"area": "NW-1"}}
{"type": "network.node_up", "time": "2026-03-02T10:00:00Z", "data": {"area": "NW-1"}}
"""


def test_patterns_test_prints_the_situations_and_names_bad_rules(tmp_path: Path) -> None:
    rules, events = tmp_path / "rules.yaml", tmp_path / "events.jsonl"
    rules.write_text(PATTERNS)
    events.write_text(EVENTS)
    result = CliRunner().invoke(app, ["patterns", "test", str(rules), str(events)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("2026-03-02T09:05:00+00:00  raised   area-outage  key=NW-1")
    assert "cleared" in lines[1] and lines[-1].startswith("5 events, 2 changes, 0 situations")
    rules.write_text(PATTERNS.replace("PT10M", "soon"))
    bad = CliRunner().invoke(app, ["patterns", "test", str(rules), str(events)])
    assert bad.exit_code == 2
    assert "rules.yaml:5:58" in bad.output and "'soon'" in bad.output
