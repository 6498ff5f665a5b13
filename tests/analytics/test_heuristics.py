"""Heuristics miner: the dependency, loop and AND measures by hand on a tiny log, the same
dependency values, kept edges and AND pairs as pm4py's `discover_heuristics_net` on a shared
log at two thresholds, and a BPMN model that parses, replays the log it came from and is
reachable as `miner=heuristic` from the REST API (422 for an unknown miner) and the CLI."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
import typer
from tests.analytics.conftest import pm4py_python
from typer.testing import CliRunner

from flowdesk.analytics.conformance import check_conformance
from flowdesk.analytics.discovery import discover_bpmn
from flowdesk.analytics.export import write_xes
from flowdesk.analytics.heuristics import heuristics_bpmn, heuristics_miner
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.variants import variant_counts
from flowdesk.bpmn import parse_bpmn
from flowdesk.cli.mine import register
from flowdesk.core.errors import ModelError

ORACLE = Path(__file__).resolve().parent / "pm4py_heuristics_oracle.py"


def shop_traces(seed: int, cases: int = 400) -> list[list[str]]:
    """Order, then pick and invoice in parallel (either order), a documents loop of length two
    (Ask <-> Check), reminders that repeat (a self-loop), ship, and a little noise."""
    rnd = random.Random(seed)
    traces = []
    for _ in range(cases):
        trace = ["Order", "Check"]
        for _ in range(int(rnd.expovariate(1.5))):
            trace += ["Ask", "Check"]
        trace += ["Pick", "Invoice"] if rnd.random() < 0.55 else ["Invoice", "Pick"]
        trace += ["Remind"] * int(rnd.expovariate(1.2))
        trace.append("Ship" if rnd.random() < 0.9 else "Cancel")
        if rnd.random() < 0.04:
            trace.insert(rnd.randrange(1, len(trace)), rnd.choice(["Call", "Ship", "Check"]))
        traces.append(trace)
    return traces


def counts(traces: list[list[str]]) -> dict[tuple[str, ...], int]:
    found: dict[tuple[str, ...], int] = {}
    for t in traces:
        found[tuple(t)] = found.get(tuple(t), 0) + 1
    return found


def log_of(traces: list[list[str]]) -> EventLog:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return EventLog.from_records(
        {"case": f"c{i:04d}", "activity": a, "timestamp": t0 + timedelta(days=i, hours=j)}
        for i, trace in enumerate(traces)
        for j, a in enumerate(trace)
    )


def test_measures_loops_and_and_splits_by_hand() -> None:
    log = {("a", "b", "c", "d"): 5, ("a", "c", "b", "d"): 3, ("a", "e", "f", "e", "d"): 2}
    log |= {("a", "x", "x", "x", "d"): 1}
    net = heuristics_miner(log, noise=0.0)
    assert net.dependency[("a", "b")] == pytest.approx(5 / 6)  # |a>b| = 5, |b>a| = 0
    assert net.dependency[("b", "c")] == pytest.approx((5 - 3) / (5 + 3 + 1))
    assert net.dependency[("x", "x")] == pytest.approx(2 / 3)  # self-loop: |x>x| / (|x>x| + 1)
    assert ("b", "c") not in net.edges and ("c", "b") not in net.edges  # below 0.5 both ways
    assert net.edges[("x", "x")] == 2
    # e f e: dependency 0 both ways, kept as a length-two loop
    assert net.dependency[("e", "f")] == 0.0 and {("e", "f"), ("f", "e")} <= set(net.edges)
    # b and c follow each other after a: the AND-measure calls them concurrent
    assert net.and_out["a"][("b", "c")] == pytest.approx((5 + 3) / (5 + 3 + 1))
    assert net.and_out["a"][("b", "e")] == 0.0
    stricter = heuristics_miner(log, noise=0.0, dependency=0.85)
    assert ("a", "b") not in stricter.edges and ("a", "e") not in stricter.edges
    xml = heuristics_bpmn(net)
    process = next(iter(parse_bpmn(xml).processes.values()))
    kinds = sorted(n.type for n in process.nodes.values() if n.type.endswith("Gateway"))
    assert "parallelGateway" in kinds and "exclusiveGateway" in kinds
    with pytest.raises(ModelError, match="no cases"):
        heuristics_miner({})
    with pytest.raises(ModelError, match="dependency threshold"):
        heuristics_miner(log, dependency=2)


def test_the_model_deploys_and_replays_the_log_it_came_from() -> None:
    traces = shop_traces(3)
    log = log_of(traces)
    xml = discover_bpmn(log, miner="heuristic", noise=0.05, dependency=0.7)
    process = next(iter(parse_bpmn(xml).processes.values()))
    assert xml.count("<bpmndi:BPMNShape") == len(process.nodes)
    names = {n.name for n in process.nodes.values() if n.type == "task"}
    assert {"Order", "Check", "Ask", "Pick", "Invoice", "Remind", "Ship", "Cancel"} <= names
    assert "Call" not in names  # a rare detour (dependency 0.5), dropped at 0.7
    report = check_conformance(log, {"h:1": process}, match="name")
    assert report.totals.fitness is not None and 0.99 < report.totals.fitness < 1.0
    # Pick and Invoice in parallel: only the noisy cases (under 4 %) do not fit
    assert 0.96 * len(traces) < report.totals.fitting_cases < len(traces)
    # the inductive miner's model of the same log deploys too (an empty choice did not)
    assert parse_bpmn(discover_bpmn(log, noise=0.2)).processes
    with pytest.raises(ModelError, match="unknown miner"):
        discover_bpmn(log, miner="alpha")  # type: ignore[arg-type]


def test_pm4py_keeps_the_same_edges_with_the_same_measures(tmp_path: Path) -> None:
    python = pm4py_python()
    if python is None:
        pytest.skip("pm4py is not installed here or in .bench-venv")
    traces = shop_traces(5, cases=300)
    runs = [{"dependency": 0.5, "and": 0.65}, {"dependency": 0.9, "and": 0.65}]
    (tmp_path / "spec.json").write_text(json.dumps({"traces": traces, "runs": runs}))
    done = subprocess.run(
        [python, str(ORACLE), str(tmp_path / "spec.json")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])["runs"]
    for run, their in zip(runs, theirs, strict=True):
        net = heuristics_miner(
            counts(traces), dependency=run["dependency"], and_threshold=run["and"]
        )
        ours: dict[tuple[str, str], float] = net.dependency
        assert {(a, b) for a, b, _ in their["dependency"]} == set(ours)
        for a, b, value in their["dependency"]:
            assert ours[(a, b)] == pytest.approx(value)
        their_edges = {(a, b): n for a, b, _, n in their["edges"]}
        assert their_edges == net.edges
        for side, measures in (("and_out", net.and_out), ("and_in", net.and_in)):
            kept = {
                (a, b, c): v
                for a, pairs in measures.items()
                for (b, c), v in pairs.items()
                if v >= run["and"]
            }
            assert {(a, b, c): pytest.approx(v) for a, b, c, v in their[side]} == kept
        assert any(v >= 0.65 for v in net.and_out["Check"].values())  # Pick + Invoice
    strict = heuristics_miner(counts(traces), dependency=0.9)
    assert len(strict.edges) < len(heuristics_miner(counts(traces)).edges)
    assert variant_counts(log_of(traces[:5]))  # the variants the miner reads come from the log


def test_mine_discover_with_the_heuristic_miner_writes_bpmn(tmp_path: Path) -> None:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root so `mine` stays a sub-command."""

    register(app)
    xes = tmp_path / "log.xes"
    write_xes(log_of(shop_traces(7, cases=60)), xes)
    out = tmp_path / "found.bpmn"
    args = ["mine", str(xes), "--discover", "--miner", "heuristic", "--dependency", "0.7"]
    done = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert done.exit_code == 0, done.output
    process = next(iter(parse_bpmn(out.read_text()).processes.values()))
    assert "parallelGateway" in {n.type for n in process.nodes.values()}  # Pick + Invoice
    bad = CliRunner().invoke(app, ["mine", str(xes), "--discover", "--miner", "alpha"])
    assert bad.exit_code == 2 and "--miner must be inductive or heuristic" in bad.output
