"""Discovery: the inductive miner finds the expected block structure, its BPMN (with diagram
interchange) parses and replays every case of the log it came from (fitness 1.0 with noise 0,
as pm4py's token replay of the same net and pm4py's own inductive miner agree), the noise
threshold drops rare paths, and `flowdesk mine --discover/--handoffs` work on an XES file."""

from __future__ import annotations

import json
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.analytics.conftest import pm4py_python
from typer.testing import CliRunner

from flowdesk.analytics.conformance import build_net, check_conformance, normalise_name
from flowdesk.analytics.discovery import discover_bpmn, inductive_miner, to_bpmn
from flowdesk.analytics.export import write_xes
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.variants import variant_counts
from flowdesk.bpmn import parse_bpmn
from flowdesk.bpmn.model import Process
from flowdesk.cli.mine import register
from flowdesk.core.errors import ModelError

ORACLE = Path(__file__).resolve().parent / "pm4py_replay_oracle.py"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def log_of(traces: list[list[str]], departments: dict[str, str] | None = None) -> EventLog:
    rows = [
        {
            "case": f"c{i:04d}",
            "activity": a,
            "timestamp": T0 + timedelta(days=i, hours=j),
            "department": (departments or {}).get(a),
        }
        for i, trace in enumerate(traces)
        for j, a in enumerate(trace)
    ]
    return EventLog.from_records(rows)


def random_traces(seed: int, cases: int = 300) -> list[list[str]]:
    """Register, then (check | fast track), a documents loop, pay and notify in either order,
    an optional survey, close; a few cases skip a step or repeat one (noise)."""
    rnd = random.Random(seed)
    traces = []
    for _ in range(cases):
        trace = ["Register"]
        trace.append("Check" if rnd.random() < 0.7 else "Fast track")
        for _ in range(int(rnd.expovariate(2))):
            trace += ["Request documents", "Check"]
        trace += ["Pay", "Notify"] if rnd.random() < 0.5 else ["Notify", "Pay"]
        if rnd.random() < 0.3:
            trace.append("Survey")
        trace.append("Close")
        if rnd.random() < 0.03:
            del trace[rnd.randrange(len(trace))]
        traces.append(trace)
    return traces


def model(xml: str) -> Process:
    return next(iter(parse_bpmn(xml).processes.values()))


def test_the_miner_finds_sequence_choice_parallel_and_loop() -> None:
    log = {("a", "b", "c", "d"): 5, ("a", "c", "b", "d"): 3, ("a", "e", "d"): 2}
    assert str(inductive_miner(log)) == "->('a', X(+('b', 'c'), 'e'), 'd')"
    looped = {("a", "b", "c"): 4, ("a", "b", "x", "b", "c"): 2}
    assert str(inductive_miner(looped)) == "->('a', *('b', 'x'), 'c')"
    assert str(inductive_miner({("a",): 3, (): 1})) == "X(tau, 'a')"
    # names that are not plain text still make a model that validates (conditions, XML)
    odd = {("a", 'say "hi" \\ now'): 2, ("a", "b & <c>"): 1}
    assert {n.name for n in model(to_bpmn(inductive_miner(odd))).nodes.values()} >= {
        'say "hi" \\ now',
        "b & <c>",
    }
    with pytest.raises(ModelError, match="noise threshold"):
        inductive_miner(log, noise=1.0)
    with pytest.raises(ModelError, match="no cases"):
        inductive_miner({})


def test_the_bpmn_has_a_shape_per_node_and_replays_every_case_with_noise_zero() -> None:
    traces = random_traces(3)
    log = log_of(traces)
    xml = discover_bpmn(log, noise=0.0)
    process = model(xml)
    assert xml.count("<bpmndi:BPMNShape") == len(process.nodes)
    assert xml.count("<bpmndi:BPMNEdge") == len(process.flows)
    report = check_conformance(log, {"d:1": process}, match="name")
    assert report.totals.fitness == 1.0 and report.totals.fitting_cases == len(traces)
    # with noise the rare skipped steps are no longer paths of the model: less fitness,
    # fewer gateways than the noise-free model needs for them
    noisy = model(discover_bpmn(log, noise=0.3))
    rough = check_conformance(log, {"d:1": noisy}, match="name").totals
    assert rough.fitness is not None and 0.9 < rough.fitness < 1.0
    assert rough.fitting_cases < len(traces)


def test_pm4py_agrees_on_fitness_of_our_model_and_of_its_own_miner(tmp_path: Path) -> None:
    python = pm4py_python()
    if python is None:
        pytest.skip("pm4py is not installed here or in .bench-venv")
    traces = random_traces(5, cases=200)
    log = log_of(traces)
    tree = inductive_miner(variant_counts(log))
    process = model(to_bpmn(tree))
    net = build_net(process, {a for t in traces for a in t}, match="name")
    spec: dict[str, Any] = {
        "net": net.to_petri_json(),
        "traces": [[normalise_name(a) for a in t] for t in traces],
        "discover_noise": 0.0,
        "precision": True,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    done = subprocess.run(
        [python, str(ORACLE), str(tmp_path / "spec.json")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    report = check_conformance(log, {"d:1": process}, match="name")
    ours = report.totals
    assert ours.fitness == pytest.approx(theirs["log_fitness"]) == 1.0
    assert report.precision == pytest.approx(theirs["precision"])
    assert report.precision is not None and report.precision < 1.0
    assert theirs["discovered_fitness"] == pytest.approx(ours.fitness)
    assert sum(t["produced"] for t in theirs["traces"]) == ours.produced


def test_mine_discovers_a_model_and_prints_handoffs_from_an_xes_file(tmp_path: Path) -> None:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root so `mine` stays a sub-command."""

    register(app)
    departments = {"Register": "Front", "Check": "Back", "Request documents": "Front"}
    departments |= {"Pay": "Finance", "Notify": "Front", "Close": "Front"}
    xes = tmp_path / "log.xes"
    write_xes(log_of(random_traces(7, cases=40), departments), xes)
    out = tmp_path / "found.bpmn"
    done = CliRunner().invoke(app, ["mine", str(xes), "--discover", "--noise", "0", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert "Register" in out.read_text() and model(out.read_text()).nodes

    done = CliRunner().invoke(app, ["mine", str(xes), "--handoffs", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    cells = {(c["from"], c["to"]): (c["count"], c["rework"]) for c in report["handoffs"]}
    expected: dict[tuple[str, str], list[int]] = {}
    for trace in random_traces(7, cases=40):  # counted by hand: department changes in order
        seen = [departments[a] for a in trace if a in departments]
        for i, (a, b) in enumerate(zip(seen, seen[1:], strict=False)):
            if a != b:
                cell = expected.setdefault((a, b), [0, 0])
                cell[0] += 1
                cell[1] += b in seen[: i + 1]
    assert cells == {k: tuple(v) for k, v in expected.items()}
    assert cells[("Front", "Back")][1] > 0  # documents sent back to the back office

    table = CliRunner().invoke(app, ["mine", str(xes), "--handoffs"])
    assert table.exit_code == 0 and "Hand-offs" in table.output
    bad = CliRunner().invoke(app, ["mine", str(tmp_path / "none.xes"), "--discover"])
    assert bad.exit_code == 2 and bad.output.startswith("error:")
