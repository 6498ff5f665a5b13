#!/usr/bin/env python3
"""What-if simulation: a month of the demo company, and Flowdesk beside Prosimos 2.1.0.

    .venv/bin/python benchmarks/simulation.py            # full run, with the 60-day back-test
    .venv/bin/python benchmarks/simulation.py --quick    # under 30 s once .bench-venv exists

* month: the demo company at full scale (its eight deployed flows, parsed from their BPMN, its
  30 agents on their shifts with capacity 5, the business calendar; about 1,000 new cases a day
  over the seed's weekly and daily pattern, the seed's work times), 30 simulated days, one
  replication, one core: wall time, contacts, events.
* peer: one BPMN model (start, task A, a 30/70 exclusive split into B then C or straight on,
  task D, end; each task its own pool of agents, around the clock), the same Poisson arrivals
  and the same work-time distributions (exponential and lognormal) given to Flowdesk
  (`flowdesk.simulation`) and to Prosimos 2.1.0 (PyPI, installed into .bench-venv by this
  script). Their cycle times are compared with a two-sample Kolmogorov-Smirnov test (not
  rejected at 1 % is the goal) and their wall times give the speed ratio (goal >= 10x). The
  same number of cases in both (Prosimos simulates a given count; Flowdesk the days that count
  needs, and its cases are cut to the same count).
* backtest (full run only): seeds 60 days of demo history through the front door (4-12
  minutes), leaves out its first and last day, fits on 29 days and simulates the next 29 (10
  replications): daily volume, turnaround
  median and p90 and SLA attainment, pooled and per flow (28 figures), each observed with its
  bootstrap 95 % interval and simulated with its 95 % interval over replications; counts the
  figures within 10 % and those whose simulated value lies inside the observed interval.

The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
VENV = REPO / ".bench-venv"
PEER_PYTHON = VENV / "bin" / "python"
PEER_PACKAGE = "prosimos==2.1.0"

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday

PEER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs"
  targetNamespace="http://flowdesk/bench">
  <bpmn:process id="peer_flow" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="pool_A" name="pool_A"><bpmn:flowNodeRef>A</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="pool_B" name="pool_B"><bpmn:flowNodeRef>B</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="pool_C" name="pool_C"><bpmn:flowNodeRef>C</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="pool_D" name="pool_D"><bpmn:flowNodeRef>D</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:task id="A" name="Register">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:task>
    <bpmn:exclusiveGateway id="split" default="f4">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:task id="B" name="Investigate">
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:task>
    <bpmn:task id="C" name="Correct">
      <bpmn:incoming>f5</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:task>
    <bpmn:exclusiveGateway id="merge">
      <bpmn:incoming>f6</bpmn:incoming>
      <bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f7</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:task id="D" name="Inform">
      <bpmn:incoming>f7</bpmn:incoming>
      <bpmn:outgoing>f8</bpmn:outgoing>
    </bpmn:task>
    <bpmn:endEvent id="end"><bpmn:incoming>f8</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="A"/>
    <bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="split"/>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="B">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=go</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="merge"/>
    <bpmn:sequenceFlow id="f5" sourceRef="B" targetRef="C"/>
    <bpmn:sequenceFlow id="f6" sourceRef="C" targetRef="merge"/>
    <bpmn:sequenceFlow id="f7" sourceRef="merge" targetRef="D"/>
    <bpmn:sequenceFlow id="f8" sourceRef="D" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
ARRIVAL_MEAN_MIN = 5.0
THIN = 10  # KS on every 10th case (50 min apart on average: past the queues' memory)
SPLIT_B = 0.3
#: task -> (agents, distribution, mean minutes, standard deviation minutes or None)
TASKS = {
    "A": (4, "expon", 12.0, None),
    "B": (2, "expon", 20.0, None),
    "C": (2, "lognorm", 15.0, 10.0),
    "D": (3, "expon", 8.0, None),
}

PEER_DRIVER = r"""
import csv, json, sys, time
from prosimos.simulation_engine import run_simulation
bpmn, params, cases, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t0 = time.perf_counter()
run_simulation(bpmn, params, cases, stat_out_path=None, log_out_path=log,
               starting_at="2026-03-02T00:00:00.000000+00:00")
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds}), flush=True)
"""


def ensure_peer_venv() -> None:
    if PEER_PYTHON.exists():
        check = subprocess.run(
            [str(PEER_PYTHON), "-c", "import prosimos"], capture_output=True, check=False
        )
        if check.returncode == 0:
            return
    print("creating the peer venv .bench-venv (Prosimos 2.1.0) ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet", PEER_PACKAGE],
        check=True,
        stdout=subprocess.DEVNULL,
    )


# -- the peer comparison ------------------------------------------------------------------------
def peer_params() -> dict[str, Any]:
    always = [{"from": "MONDAY", "to": "SUNDAY", "beginTime": "00:00:00", "endTime": "23:59:59"}]

    def dist(kind: str, mean: float, sd: float | None) -> dict[str, Any]:
        seconds = mean * 60
        if kind == "expon":
            values = [seconds, 0, seconds * 100]
        else:
            values = [seconds, (sd or 0) ** 2 * 3600, 0, seconds * 100]
        return {
            "distribution_name": kind,
            "distribution_params": [{"value": v} for v in values],
        }

    return {
        "resource_profiles": [
            {
                "id": f"pool_{t}",
                "name": f"pool_{t}",
                "resource_list": [
                    {
                        "id": f"agent_{t}",
                        "name": f"agent_{t}",
                        "cost_per_hour": 35,
                        "amount": agents,
                        "calendar": "always",
                        "assignedTasks": [t],
                    }
                ],
            }
            for t, (agents, _, _, _) in TASKS.items()
        ],
        "arrival_time_distribution": dist("expon", ARRIVAL_MEAN_MIN, None),
        "arrival_time_calendar": always,
        "gateway_branching_probabilities": [
            {
                "gateway_id": "split",
                "probabilities": [
                    {"path_id": "f3", "value": SPLIT_B},
                    {"path_id": "f4", "value": 1 - SPLIT_B},
                ],
            }
        ],
        "task_resource_distribution": [
            {"task_id": t, "resources": [{"resource_id": f"agent_{t}", **dist(k, m, s)}]}
            for t, (_, k, m, s) in TASKS.items()
        ],
        "resource_calendars": [{"id": "always", "name": "always", "time_periods": always}],
    }


def flowdesk_peer_model(bpmn: Path) -> Any:
    from flowdesk.bpmn.parser import load_bpmn
    from flowdesk.simulation.dists import Dist
    from flowdesk.simulation.flows import flow_from_process
    from flowdesk.simulation.model import Agent, Model, Stream

    flow = flow_from_process(load_bpmn(bpmn).process("peer_flow"))
    flow.nodes["split"].probs = [SPLIT_B, 1 - SPLIT_B]
    agents = []
    for t, (count, kind, mean, sd) in TASKS.items():
        node = flow.nodes[t]
        if kind == "expon":
            node.work = Dist("exp", mean)
        else:
            sigma2 = math.log(1 + (sd or 0) ** 2 / mean**2)
            node.work = Dist("lognorm", math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
        agents += [Agent(f"{t}{i}", node.department) for i in range(count)]
    return Model(
        start=START,
        flows={flow.key: flow},
        streams=[Stream(flow.key, "bench", "web", [60 / ARRIVAL_MEAN_MIN] * 168)],
        agents=agents,
    )


def run_peer(cases: int, seed: int) -> dict[str, Any]:
    from scipy import stats

    from flowdesk.simulation.engine import simulate

    with tempfile.TemporaryDirectory() as tmp:
        bpmn = Path(tmp) / "peer.bpmn"
        bpmn.write_text(PEER_BPMN)
        params = Path(tmp) / "peer.json"
        params.write_text(json.dumps(peer_params()))
        log = Path(tmp) / "log.csv"
        driver = Path(tmp) / "driver.py"
        driver.write_text(PEER_DRIVER)
        out = subprocess.run(
            [str(PEER_PYTHON), str(driver), str(bpmn), str(params), str(cases), str(log)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "no output")
        peer_seconds = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
        spans: dict[str, list[datetime]] = {}
        with log.open() as f:
            for row in csv.DictReader(f):
                times = spans.setdefault(row["case_id"], [])
                times.append(datetime.fromisoformat(row["enable_time"]))
                times.append(datetime.fromisoformat(row["end_time"]))
        # in arrival order (Prosimos numbers cases as they arrive)
        peer_cycle = [
            (max(t) - min(t)).total_seconds() / 60
            for _, t in sorted(spans.items(), key=lambda kv: int(kv[0]))
        ]
        model = flowdesk_peer_model(bpmn)
    days = cases * ARRIVAL_MEAN_MIN / 1440
    t0 = time.perf_counter()
    result = simulate(model, days + 1, seed=seed)  # a day more: every case counted has ended
    ours_seconds = time.perf_counter() - t0
    ours_cut = [
        t
        for s, t in sorted(
            zip(result.starts["peer_flow"], result.turnaround["peer_flow"], strict=True)
        )
        if s < days * 1440
    ]
    peer_cut = peer_cycle
    keep = len(ours_cut)
    # neighbouring cases share queues, so their cycle times are correlated and a KS test on
    # every case sees more evidence than there is: the test takes every THIN-th case
    ks = stats.ks_2samp(ours_cut[::THIN], peer_cut[::THIN])
    ks_all = stats.ks_2samp(ours_cut, peer_cut)
    return {
        "cases": cases,
        "compared": [keep, len(peer_cut)],
        "flowdesk_s": round(ours_seconds, 3),
        "prosimos_s": round(peer_seconds, 3),
        "speedup": round(peer_seconds / ours_seconds, 1),
        "ks_statistic": round(float(ks.statistic), 4),
        "ks_pvalue": round(float(ks.pvalue), 4),
        "ks_not_rejected_at_1pct": bool(ks.pvalue >= 0.01),
        "ks_every_case_pvalue": round(float(ks_all.pvalue), 4),
        "cycle_mean_min": [
            round(statistics.fmean(ours_cut), 1),
            round(statistics.fmean(peer_cut), 1),
        ],
        "cycle_p90_min": [
            round(statistics.quantiles(ours_cut, n=10)[8], 1),
            round(statistics.quantiles(peer_cut, n=10)[8], 1),
        ],
    }


# -- a month of the demo company ----------------------------------------------------------------
def demo_month_model(cases_per_day: float) -> Any:
    import yaml

    from flowdesk.bpmn.parser import load_bpmn
    from flowdesk.demo.seed import CHANNELS, HOURLY, WEEKDAY, WORK_MINUTES
    from flowdesk.experience.company import load_company
    from flowdesk.simulation.baseline import departments_of, model_of
    from flowdesk.simulation.dists import Dist
    from flowdesk.simulation.fit import Fitted
    from flowdesk.simulation.flows import flow_from_process
    from flowdesk.simulation.model import TASK, Stream

    demo = REPO / "src" / "flowdesk" / "demo" / "company"
    company = load_company(demo / "company.yaml")
    known = departments_of(company)
    flows = {}
    reasons = {}
    for manifest in sorted(demo.glob("*/flow.yaml")):
        spec = yaml.safe_load(manifest.read_text())
        tasks = spec.get("tasks") or {}
        bpmn = manifest.parent / spec["files"]["bpmn"][0]
        flow = flow_from_process(
            load_bpmn(bpmn).process(spec["process"]),
            departments=known,
            task_sla={t: (v or {}).get("sla") for t, v in tasks.items()},
            task_skills={t: (v or {}).get("skills") or {} for t, v in tasks.items()},
        )
        for node in flow.nodes.values():
            if node.kind == TASK:
                node.work = Dist("lognorm", math.log(WORK_MINUTES.get(node.department, 20)), 0.5)
        flows[flow.key] = flow
        reasons[flow.key] = spec["reasons"][0]["id"]
    day_share = [w / sum(WEEKDAY) for w in WEEKDAY]
    hour_share = [h / sum(HOURLY) for h in HOURLY]
    channel_total = sum(w for _, w in CHANNELS)
    streams = []
    for key in flows:
        for channel, weight in CHANNELS:
            per_week = cases_per_day * 7 / len(flows) * weight / channel_total
            rates = [per_week * day_share[h // 24] * hour_share[h % 24] for h in range(168)]
            streams.append(Stream(key, reasons[key], channel, rates))
    fitted = Fitted(streams, flows, {}, 0.15, 0)
    model = model_of(company, flows, fitted, start=START, fitted_hours=False)
    for agent in model.agents:
        agent.capacity = 5
    return model


def run_month(cases_per_day: float) -> dict[str, Any]:
    from flowdesk.simulation.engine import simulate
    from flowdesk.simulation.results import figures

    model = demo_month_model(cases_per_day)
    t0 = time.perf_counter()
    result = simulate(model, 30, seed=1)
    seconds = time.perf_counter() - t0
    f = figures(result)
    return {
        "days": 30,
        "agents": len(model.agents),
        "contacts": result.arrivals,
        "repeat_contacts": result.repeats,
        "events": result.events,
        "seconds": round(seconds, 2),
        "events_per_s": round(result.events / seconds),
        "sla": round(f["sla"], 3),
        "abandonment": round(f["abandonment"], 3),
    }


#: The back-test's windows in the seeded 60 days: the seed's first day, 29 days to fit on, 29
#: to simulate, and the seed's last day (left undone on purpose, a queue for the desktop).
#: (A week more in front, as a warm-up from the empty company, changed nothing: the seed's
#: volume keeps growing by about 2 % a week for nine weeks, so no window is its steady state.)
BACKTEST_WARM, BACKTEST_DAYS = 1, 29
BACKTEST_REPLICATIONS = 10


def run_backtest() -> dict[str, Any]:
    from flowdesk.cli.demo import default_demo_dir, load_demo_content
    from flowdesk.demo.seed import seed
    from flowdesk.simulation.backtest import backtest
    from flowdesk.store import Store

    end = datetime(2026, 11, 30, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/backtest.db")
        store.upgrade()
        list(load_demo_content(store))
        t0 = time.perf_counter()
        days = BACKTEST_WARM + 2 * BACKTEST_DAYS + 1
        seed(store, default_demo_dir(), days=days, customers=400, cases_per_day=40, end=end)
        seeded = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = backtest(
            store,
            default_demo_dir() / "company.yaml",
            until=end - timedelta(days=1),
            days=BACKTEST_DAYS,
            replications=BACKTEST_REPLICATIONS,
        )
        fitted = time.perf_counter() - t0
        store.close()

    def r(x: float | None) -> float | None:
        return None if x is None or x != x else round(x, 3)

    table = [
        {
            "flow": row["flow"],
            "figure": row["figure"],
            "observed": r(row["observed"]),
            "observed_95": [r(row["observed_low"]), r(row["observed_high"])],
            "simulated": r(row["simulated"]),
            "simulated_95": [r(row["simulated_low"]), r(row["simulated_high"])],
            "error": r(row["error"]),
        }
        for row in report["table"]
    ]
    outside = [
        f"{row['flow']}.{row['figure']}"
        for row in report["table"]
        if row["error"] is not None and not row["within_10pct"]
    ]
    return {
        "seed_days": days,
        "seed_s": round(seeded, 1),
        "backtest_s": round(fitted, 1),
        "fit": report["fit"],
        "test": report["test"],
        "replications": report["replications"],
        "within_10pct": report["within_10pct"],
        "simulated_in_observed_95": report["simulated_in_observed_95"],
        "outside_10pct": outside,
        "table": table,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="no back-test, fewer peer cases")
    ap.add_argument("--cases-per-day", type=float, default=1000.0)
    ap.add_argument("--peer-cases", type=int, default=None)
    args = ap.parse_args()
    out: dict[str, Any] = {"benchmark": "simulation", "quick": args.quick}
    out["month"] = run_month(args.cases_per_day)
    print(f"month: {out['month']}", file=sys.stderr, flush=True)
    try:
        ensure_peer_venv()
        cases = args.peer_cases or (3000 if args.quick else 20000)
        out["peer"] = run_peer(cases, seed=7)
    except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
        out["peer"] = {"error": f"Prosimos could not run: {exc}"}
    print(f"peer: {out['peer']}", file=sys.stderr, flush=True)
    if not args.quick:
        out["backtest"] = run_backtest()
    out["note"] = "shared machine, other engineers' jobs running: wall times are upper bounds"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
