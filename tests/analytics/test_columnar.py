"""Columnar mining: an XES log streamed into Parquet batch by batch (`flowdesk mine FILE
--parquet DIR`) gives the same process map, variants, start/end activities and turnaround as
the in-memory import; `scan_events` reads Parquet from different producers under one schema;
a broken file leaves nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from flowdesk.analytics import columnar, xes
from flowdesk.analytics.columnar import SCHEMA, import_xes, scan_events
from flowdesk.analytics.export import write_xes
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.turnaround import turnaround
from flowdesk.analytics.xes import read_xes
from flowdesk.cli.mine import register
from flowdesk.core.errors import ModelError

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root so `mine` stays a sub-command."""

    register(app)
    return app


def work_log(cases: int = 300) -> EventLog:
    """Applications with scheduled/started/completed work items and a rework loop; equal
    timestamps in some cases (the arrival order must break the tie as in memory)."""
    rows = []
    for i in range(cases):
        steps = ["Submit", "Check"] + ["Fix", "Check"] * (i % 3) + ["Decide"]
        if i % 4 == 0:
            steps.append("Pay")
        when = T0 + timedelta(hours=i)
        for step in steps:
            phases = ["start", "complete"] if step == "Check" else ["complete"]
            for phase in phases:
                when += timedelta(minutes=0 if i % 10 == 0 else 7 + (i * 13) % 50)
                rows.append(
                    {
                        "case": f"app-{i:04d}",
                        "activity": step,
                        "timestamp": when,
                        "lifecycle": phase,
                        "resource": f"r{(i + len(rows)) % 7}",
                        "channel": "web" if i % 2 else "phone",
                    }
                )
    return EventLog.from_records(rows)


def test_streamed_parquet_gives_the_in_memory_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "log.xes.gz"
    write_xes(work_log(), source)
    monkeypatch.setattr(xes, "BATCH_CHARS", 40_000)  # many batches, events split across none
    monkeypatch.setattr(columnar, "PARTITION_EVENTS", 700)  # cases mined in several shares
    runner = CliRunner()
    target = tmp_path / "columnar"
    done = runner.invoke(cli(), ["mine", str(source), "--parquet", str(target), "--json"])
    assert done.exit_code == 0, done.output
    ours = json.loads(done.output)
    memory = json.loads(runner.invoke(cli(), ["mine", str(source), "--json"]).output)
    for key in ("events", "cases", "lifecycle", "activities", "variant_count"):
        assert ours[key] == memory[key], key
    assert ours["lifecycle"] == "complete"
    assert ours["start_activities"] == memory["start_activities"]
    assert ours["end_activities"] == memory["end_activities"]
    assert [(e["from"], e["to"], e["count"]) for e in ours["edges"]] == [
        (e["from"], e["to"], e["count"]) for e in memory["edges"]
    ]
    for mine, theirs in zip(ours["variants"], memory["variants"], strict=True):
        assert mine.pop("activities") == theirs.pop("activities")
        assert mine == pytest.approx(theirs)
    kpi = turnaround(read_xes(source).completions())
    assert ours["turnaround"]["median_seconds"] == pytest.approx(kpi.median_seconds)
    assert ours["turnaround"]["p90_seconds"] == pytest.approx(kpi.p90_seconds)
    # what was written: the documented schema first, then the event attributes, as text
    written = pl.read_parquet(target / "events.parquet")
    assert written.columns[:7] == list(SCHEMA) and "channel" in written.columns
    assert written.height == read_xes(source).event_count
    assert not (target / ".parts").exists()
    # all events (starts too), read from the folder again without importing
    both = runner.invoke(cli(), ["mine", str(target), "--json", "--all-events"])
    assert json.loads(both.output)["events"] == written.height


def test_scan_events_reads_parquet_from_different_producers(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "case": ["a", "a", "b"],
            "activity": ["x", "y", "x"],
            "timestamp": [datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10), datetime(2026, 1, 2)],
            "payload_size": [1, 2, 3],
        }
    ).write_parquet(tmp_path / "events-2026-01.parquet")
    pl.DataFrame(
        {"case": ["c"], "activity": ["z"], "lifecycle": ["complete"], "order": [5]}
    ).write_parquet(tmp_path / "events-2026-02.parquet")
    frame = scan_events([tmp_path]).collect()
    assert frame.schema == pl.Schema(SCHEMA)
    assert frame.get_column("case").to_list() == ["a", "a", "b", "c"]
    assert frame.get_column("timestamp")[0] == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert frame.get_column("order").to_list() == [0, 1, 2, 5]
    pl.DataFrame({"case": ["c"]}).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ModelError, match="no 'activity' column"):
        scan_events([tmp_path / "bad.parquet"])
    with pytest.raises(ModelError, match="no Parquet files"):
        scan_events([tmp_path / "bad.parquet"][:0])
    with pytest.raises(ModelError, match="no such file"):
        scan_events([tmp_path / "missing.parquet"])


def test_a_broken_file_leaves_nothing_behind(tmp_path: Path) -> None:
    text = write_xes(work_log(40), tmp_path / "ok.xes") and (tmp_path / "ok.xes").read_text()
    broken = text.replace("</trace>", "</trace><event>", 30)
    (tmp_path / "broken.xes").write_text(broken)
    target = tmp_path / "out"
    with pytest.raises(ModelError):
        import_xes(tmp_path / "broken.xes", target)
    assert list(target.iterdir()) == []
    done = CliRunner().invoke(cli(), ["mine", str(tmp_path / "broken.xes"), "--parquet", "x"])
    assert done.exit_code == 2 and done.output.startswith("error:")
