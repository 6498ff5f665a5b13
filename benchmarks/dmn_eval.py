#!/usr/bin/env python3
"""Decision table evaluations per second: Flowdesk vs SpiffWorkflow, plus FEEL expression speed.

    .venv/bin/python benchmarks/dmn_eval.py            # full run (a few minutes)
    .venv/bin/python benchmarks/dmn_eval.py --quick    # under 30 s once .bench-venv exists

Workload: the 34 cases of ../shared/peers/dmn/discount-cases.json (20 rules, hit policy UNIQUE)
evaluated in order, the same mix in every round. Flowdesk evaluates discount-feel.dmn through
the public API (`model.evaluate("Discount", inputs)`, inputs converted and type-checked on each
call). The peer is SpiffWorkflow's DMNEngine.result() on discount.dmn (its Python-expression
dialect), driven by the peer driver ../shared/peers/dmn/spiff_dmn_bench.py in the peer venv
(.bench-venv at the repo root, created on demand): a long-lived worker process imports the
driver and times its 'direct' mode one round at a time, so Flowdesk and peer rounds alternate
and a drift in machine speed hits both alike. A full run also runs the driver itself once and
reports the figures of its JSON output. Both engines are first checked against the expected
rule and discount of every case. Rates are medians over --rounds rounds.
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PEERS = REPO / ".." / "shared" / "peers" / "dmn"
VENV = REPO / ".bench-venv"
PEER_PYTHON = VENV / "bin" / "python"

PEER_WORKER = r"""
import json, math, sys, time
sys.path.insert(0, sys.argv[1])
import spiff_dmn_bench as d
cases = json.load(open(sys.argv[2]))
engine = d.direct_engine(sys.argv[3])
spec = d.bpmn_spec(sys.argv[3])
bad = d.check_cases(cases, engine, spec)
wfe = d._Workflow(d.PythonScriptEngine())
tasks = [d._Task(d.inputs_of(c), wfe) for c in cases]
result = engine.result
def run(reps):
    for _ in range(reps):
        for t in tasks:
            result(t)
print(json.dumps({"ready": True, "bad": bad, "version": d.version("SpiffWorkflow")}), flush=True)
reps = None
for line in sys.stdin:
    seconds = float(line)
    if reps is None:
        reps = d.calibrate(run, seconds)
        run(reps)
    t0 = time.perf_counter()
    run(reps)
    dt = time.perf_counter() - t0
    print(json.dumps({"rate": reps * len(tasks) / dt}), flush=True)
"""

FEEL_EXPRESSIONS = [
    "amount > 100",
    'customer.segment = "gold" and amount <= 500',
    "count(items[price > 10]) > 2",
    'date(created) + duration("P30D") < today()',
]


def ensure_peer_venv() -> None:
    if PEER_PYTHON.exists():
        return
    print("creating the peer venv .bench-venv (SpiffWorkflow) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "spiffworkflow"], check=True)


def calibrate(fn: Callable[[int], None], seconds: float) -> int:
    reps = 1
    while True:
        t0 = time.perf_counter()
        fn(reps)
        dt = time.perf_counter() - t0
        if dt >= min(0.2, seconds):
            return max(1, math.ceil(reps * seconds / dt))
        reps *= 2


def flowdesk_runner(
    cases: list[dict[str, Any]],
) -> tuple[Callable[[int], None], list[str], float]:
    from flowdesk.dmn import load_model

    t0 = time.perf_counter()
    model = load_model(PEERS / "discount-feel.dmn")
    load_ms = (time.perf_counter() - t0) * 1e3
    inputs = [{k: c[k] for k in ("segment", "amount", "tenure", "channel")} for c in cases]
    bad = []
    for case, given in zip(cases, inputs, strict=True):
        value = model.evaluate("Discount", given).value
        ok = (
            isinstance(value, dict)
            and value.get("rule") == case["expected_rule"]
            and isinstance(value.get("discount"), Decimal)
            and abs(float(value["discount"]) - case["expected_discount"]) < 1e-9
        )
        if not ok:
            bad.append(f"case {case['case']}: got {value!r}, expected {case['expected_rule']}")
    evaluate = model.evaluate

    def run(reps: int) -> None:
        for _ in range(reps):
            for given in inputs:
                evaluate("Discount", given)

    return run, bad, load_ms


def feel_rates(seconds: float, rounds: int) -> dict[str, float]:
    from datetime import date

    from flowdesk.feel import compile_expression
    from flowdesk.feel.runtime import Env

    context: dict[str, Any] = {
        "amount": Decimal(250),
        "customer": {"segment": "gold", "name": "Ada"},
        "items": [{"price": Decimal(p)} for p in (5, 12, 30, 8, 55)],
        "created": date(2026, 1, 10).isoformat(),
    }
    rates: dict[str, float] = {}
    for text in FEEL_EXPRESSIONS:
        compiled = compile_expression(text)

        def run(reps: int, compiled: Any = compiled) -> None:
            for _ in range(reps):  # a fresh Env per evaluation, as an engine does
                compiled.evaluate(context, Env())

        reps = calibrate(run, seconds)
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            run(reps)
            samples.append(reps / (time.perf_counter() - t0))
        rates[text] = round(statistics.median(samples), 1)
    return rates


def run_driver(seconds: float, rounds: int) -> dict[str, Any]:
    """The peer driver itself, once, as the brief's reference; returns its JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "spiff.json"
        subprocess.run(
            [
                str(PEER_PYTHON),
                str(PEERS / "spiff_dmn_bench.py"),
                "--no-probe",
                "--seconds",
                str(seconds),
                "--rounds",
                str(rounds),
                "--out",
                str(out),
            ],
            check=True,
            cwd=str(PEERS),
            stdout=subprocess.DEVNULL,
        )
        data: dict[str, Any] = json.loads(out.read_text())
        return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short rounds; whole run under 30 s")
    ap.add_argument("--seconds", type=float, default=None, help="target seconds per round")
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds per engine")
    args = ap.parse_args()
    seconds = args.seconds or (0.5 if args.quick else 3.0)
    rounds = args.rounds or (3 if args.quick else 5)

    cases = json.loads((PEERS / "discount-cases.json").read_text())
    flowdesk, bad, load_ms = flowdesk_runner(cases)
    if bad:
        print("Flowdesk gives wrong results:", *bad, sep="\n  ")
        return 1
    print(f"Flowdesk: {len(cases)} cases correct; model load {load_ms:.1f} ms", flush=True)

    ensure_peer_venv()
    worker = subprocess.Popen(
        [
            str(PEER_PYTHON),
            "-c",
            PEER_WORKER,
            str(PEERS),
            str(PEERS / "discount-cases.json"),
            str(PEERS / "discount.dmn"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(PEERS),
    )
    assert worker.stdin is not None and worker.stdout is not None
    hello = json.loads(worker.stdout.readline())
    if hello["bad"]:
        print("SpiffWorkflow gives wrong results:", hello["bad"])
        worker.kill()
        return 1
    print(f"SpiffWorkflow {hello['version']}: {len(cases)} cases correct", flush=True)

    reps = calibrate(flowdesk, seconds)
    flowdesk(reps)  # warm-up
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        flowdesk(reps)
        ours.append(reps * len(cases) / (time.perf_counter() - t0))
        worker.stdin.write(f"{seconds}\n")
        worker.stdin.flush()
        theirs.append(json.loads(worker.stdout.readline())["rate"])
    worker.stdin.close()
    worker.wait(timeout=60)

    ours_median = statistics.median(ours)
    theirs_median = statistics.median(theirs)
    ratio = ours_median / theirs_median
    print(f"  flowdesk       {ours_median:12.1f} evals/s  rounds {[round(r) for r in ours]}")
    print(f"  spiffworkflow  {theirs_median:12.1f} evals/s  rounds {[round(r) for r in theirs]}")
    print(f"  ratio          {ratio:12.2f} x")

    feel = feel_rates(min(seconds, 0.5), rounds)
    for text, rate in feel.items():
        print(f"  FEEL {text!r:50s} {rate:12.1f} evals/s")

    figures: dict[str, Any] = {
        "cases": len(cases),
        "rounds": rounds,
        "round_seconds": seconds,
        "flowdesk_evals_per_s": round(ours_median, 1),
        "spiffworkflow_evals_per_s": round(theirs_median, 1),
        "ratio": round(ratio, 2),
        "flowdesk_model_load_ms": round(load_ms, 2),
        "feel_evals_per_s": feel,
        "spiffworkflow_version": hello["version"],
    }
    if not args.quick:
        driver = run_driver(seconds, rounds)["results"]
        figures["peer_driver"] = {
            "direct_median": driver["direct"]["median"],
            "bpmn_median": driver["bpmn"]["median"],
        }
        print(
            f"  peer driver alone: direct {driver['direct']['median']} evals/s, "
            f"bpmn {driver['bpmn']['median']} evals/s"
        )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
