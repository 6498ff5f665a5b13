"""History level `activity` writes fewer rows than `full` and every figure stays the same: the
demo's history seeded at both levels gives identical KPIs, process maps, variants, XES and OCEL
(ids aside, which are random per run)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.cli.main import app
from flowdesk.demo.seed import seed
from flowdesk.store import Store
from flowdesk.store.tables import events

END = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
COMPANY = default_demo_dir() / "company.yaml"
#: random per run: ids and case references
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|FD-[A-Z0-9]{5}\b")
STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d[.\d]*")


def _canonical(text: str) -> str:
    """Ids and references in order of first appearance, wall-clock times (the demo's
    deployment, after the seeded history's END) masked: the same history, the same text."""
    seen: dict[str, str] = {}
    text = UUID.sub(lambda m: seen.setdefault(m.group(0), f"id{len(seen)}"), text)
    end = END.strftime("%Y-%m-%dT%H:%M:%S")
    return STAMP.sub(lambda m: "now" if m.group(0).replace(" ", "T") > end else m.group(0), text)


def _figures(tmp: Path, level: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], int]:
    monkeypatch.setenv("FLOWDESK_HISTORY_LEVEL", level)
    url = f"sqlite:///{tmp / f'{level}.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    seed(store, default_demo_dir(), days=2, seed=5, customers=80, cases_per_day=12, end=END)
    with store.reading() as conn:
        rows = int(conn.execute(select(func.count()).select_from(events)).scalar_one())
    logged = [e.type for e in store.events.iterate()]
    store.close()
    runner = CliRunner()
    out: dict[str, str] = {"types": json.dumps(logged)}
    xes, ocel = tmp / f"{level}.xes", tmp / f"{level}.jsonocel"
    for name, args in {
        "mine": ["mine", "--json", "--all-events", "--export-xes", str(xes)],
        "mine_complete": ["mine", "--json", "--export-ocel", str(ocel), "--handoffs"],
        "kpis": ["kpis", "--days", "3660", "--grain", "day", "--by", "flow", "--csv"],
        "scorecard": ["kpis", "--days", "3660", "--scorecard"],
    }.items():
        extra = ["--company-file", str(COMPANY)] if name in ("kpis", "scorecard") else []
        result = runner.invoke(app, [*args, "--database-url", url, *extra])
        assert result.exit_code == 0, result.output
        out[name] = _canonical(result.stdout)
    out["xes"] = _canonical(xes.read_text())
    out["ocel"] = _canonical(ocel.read_text())
    return out, rows


def test_activity_level_keeps_every_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full, full_rows = _figures(tmp_path, "full", monkeypatch)
    activity, activity_rows = _figures(tmp_path, "activity", monkeypatch)
    assert json.loads(full["mine"])["events"] > 100  # a history worth comparing
    assert "process instance" in full["ocel"] and "<trace>" in full["xes"]
    for name, text in full.items():
        assert activity[name] == text, name
    # ... from fewer rows: instant elements (gateways, start and end events) are one row each
    assert activity_rows < full_rows - 20
