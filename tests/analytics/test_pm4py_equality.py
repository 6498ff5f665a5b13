"""Flowdesk's directly-follows counts, variants and start/end activities equal pm4py's.

The committed answers (tests/data/xes/expected_pm4py.json) were produced by pm4py itself
(pm4py_oracle.py); when the running Python has pm4py, the test also asks it directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowdesk.analytics.dfg import directly_follows
from flowdesk.analytics.endpoints import endpoints
from flowdesk.analytics.export import write_xes
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.variants import variants
from flowdesk.analytics.xes import read_xes

XES = Path(__file__).resolve().parent.parent / "data" / "xes"
EXPECTED = json.loads((XES / "expected_pm4py.json").read_text())
Oracle = Callable[[str, Path], dict[str, Any]]
CASES = [(name, mode) for name, entry in EXPECTED["logs"].items() for mode in entry]


def ours(log: EventLog) -> dict[str, Any]:
    ends = endpoints(log)
    return {
        "dfg": sorted([e.source, e.target, e.count] for e in directly_follows(log).edges),
        "start": dict(sorted(ends.start.items())),
        "end": dict(sorted(ends.end.items())),
        "variants": sorted([list(v.activities), v.count] for v in variants(log)),
        "events": log.event_count,
    }


def mined(name: str, mode: str) -> dict[str, Any]:
    log = read_xes(XES / name)
    return ours(log.completions() if mode == "complete" else log)


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_counts_equal_pm4pys_committed_answers(name: str, mode: str) -> None:
    assert mined(name, mode) == EXPECTED["logs"][name][mode]


def test_the_oracle_covers_a_generated_log_and_a_lifecycle_log() -> None:
    assert {"generated.xes.gz", "lifecycle.xes", "refunds.xes.gz"} <= set(EXPECTED["logs"])
    generated = EXPECTED["logs"]["generated.xes.gz"]["all"]
    assert generated["events"] == 5000 and len(generated["variants"]) > 10


@pytest.mark.parametrize("name", ["refunds.xes.gz", "lifecycle.xes"])
def test_counts_equal_live_pm4py(name: str, ask_pm4py: Oracle) -> None:
    live = ask_pm4py("--log", XES / name)
    for mode, answer in live.items():
        assert mined(name, mode) == answer


def test_a_log_flowdesk_writes_is_mined_alike_by_pm4py(tmp_path: Path, ask_pm4py: Oracle) -> None:
    log = read_xes(XES / "generated.xes.gz")
    rewritten = tmp_path / "again.xes"
    write_xes(log, rewritten)
    assert ask_pm4py("--log", rewritten)["all"] == ours(log)
