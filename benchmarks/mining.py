"""Process mining on a generated ~1,000,000-event log: Flowdesk (Polars) against pm4py.

Generates a seeded log of refund and complaint cases (variants, rework loops, departments,
resources), writes it as gzip XES to a temp dir, then in the same run imports it and computes
the process map (directly-follows counts), variants, start/end activities and turnaround time
(mean/median/p90 case duration) with Flowdesk and with pm4py, checks that the counts are
identical and prints seconds for each step and the ratios. Import and analysis are timed apart.
Then discovery (Flowdesk's inductive miner to BPMN against pm4py's inductive miner, same noise;
Flowdesk's heuristics miner against pm4py's, both at pm4py's default thresholds, each model's
fitness by its own token replay),
token replay of the log on Flowdesk's discovered model (a net with silent transitions; pm4py
replays the very same net) with both fitness figures, and variants, in wall and CPU seconds.

pm4py is a benchmark peer only (AGPL, heavy); it runs in .bench-venv (git-ignored; the script
installs it there on first use) as a subprocess of this script (`--peer`), or in-process if the
running Python has it.

    python benchmarks/mining.py [--quick] [--events N] [--seed S] [--keep DIR]
    python benchmarks/mining.py --bpic-shape [--quick]   # import only, BPIC 2012's shape

Ends with ONE JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# -- the generated log -----------------------------------------------------------------------

FRONT, BACK, FINANCE, QUALITY = "Front office", "Back office", "Finance", "Quality"
DEPT_STAFF = {FRONT: 40, BACK: 25, FINANCE: 10, QUALITY: 12}
Step = tuple[str, str, float]  # activity, department, mean hours until it happens


def refund_case(rnd: random.Random) -> list[Step]:
    steps: list[Step] = [("Register refund request", FRONT, 0.1)]
    if rnd.random() < 0.3:
        steps.append(("Identify customer", FRONT, 0.2))
    steps.append(("Check eligibility", BACK, 6))
    for _ in range(min(3, int(rnd.expovariate(2.5)))):  # rework loop: missing documents
        steps += [("Request documents", FRONT, 1), ("Receive documents", BACK, 30)]
        steps.append(("Check eligibility", BACK, 4))
    amount = rnd.lognormvariate(4, 1)
    if amount > 250:
        steps.append(("Approve refund", FINANCE, 20))
        if rnd.random() < 0.15:
            steps += [("Reject refund", FINANCE, 2), ("Notify customer", FRONT, 1)]
            if rnd.random() < 0.4:
                steps += [("Receive complaint", FRONT, 48), ("Review decision", QUALITY, 24)]
                steps.append(("Pay refund", FINANCE, 12))
            return steps + [("Close case", FRONT, 2)]
    steps.append(("Pay refund", FINANCE, 8))
    if rnd.random() < 0.05:
        steps += [("Payment failed", FINANCE, 24), ("Pay refund", FINANCE, 8)]
    steps.append(("Notify customer", FRONT, 0.5))
    if rnd.random() < 0.3:
        steps.append(("Send survey", FRONT, 24))
    return steps + [("Close case", FRONT, 1)]


def complaint_case(rnd: random.Random) -> list[Step]:
    steps: list[Step] = [("Log complaint", FRONT, 0.1), ("Classify complaint", FRONT, 0.5)]
    if rnd.random() < 0.6:
        steps.append(("Investigate", QUALITY, 24))
    else:
        steps.append(("Investigate", BACK, 12))
    for _ in range(min(4, int(rnd.expovariate(1.8)))):
        steps += [("Contact customer", FRONT, 8), ("Investigate", QUALITY, 16)]
    steps.append(("Propose resolution", QUALITY, 6))
    if rnd.random() < 0.2:
        steps += [("Escalate", QUALITY, 4), ("Management review", BACK, 48)]
        steps.append(("Propose resolution", QUALITY, 6))
    if rnd.random() < 0.25:
        steps.append(("Compensate customer", FINANCE, 24))
    steps.append(("Resolve complaint", FRONT, 2))
    if rnd.random() < 0.1:
        steps += [("Reopen complaint", FRONT, 72), ("Resolve complaint", FRONT, 24)]
    return steps + [("Close case", FRONT, 1)]


def generate(events: int, seed: int) -> dict[str, list[Any]]:
    """Columns of a log with about `events` events (whole cases), seeded."""
    rnd = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    cols: dict[str, list[Any]] = {
        "case": [],
        "activity": [],
        "timestamp": [],
        "resource": [],
        "department": [],
        "channel": [],
    }
    staff = {
        d: [f"{d.split()[0].lower()}-{i:02d}" for i in range(n)] for d, n in DEPT_STAFF.items()
    }
    channels = ["phone", "email", "chat", "web", "letter"]
    n = 0
    case_no = 0
    while n < events:
        case_no += 1
        steps = refund_case(rnd) if rnd.random() < 0.6 else complaint_case(rnd)
        when = start + timedelta(seconds=rnd.randrange(365 * 86400))
        channel = rnd.choice(channels)
        case = f"case-{case_no:07d}"
        for activity, department, hours in steps:
            when += timedelta(seconds=1 + int(rnd.expovariate(1 / (hours * 3600))))
            cols["case"].append(case)
            cols["activity"].append(activity)
            cols["timestamp"].append(when)
            cols["resource"].append(rnd.choice(staff[department]))
            cols["department"].append(department)
            cols["channel"].append(channel)
        n += len(steps)
    return cols


# -- a log of BPI Challenge 2012's size and shape ---------------------------------------------

#: BPIC 2012's activities: application states (A_) and offer states (O_) are completions only;
#: work items (W_) are scheduled, started and completed.
BPIC_STATES = [
    "A_SUBMITTED", "A_PARTLYSUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "A_FINALIZED",
    "A_APPROVED", "A_REGISTERED", "A_ACTIVATED", "A_DECLINED", "A_CANCELLED",
    "O_SELECTED", "O_CREATED", "O_SENT", "O_SENT_BACK", "O_ACCEPTED", "O_DECLINED",
    "O_CANCELLED",
]  # fmt: skip
BPIC_WORK = [
    "W_Afhandelen leads", "W_Completeren aanvraag", "W_Valideren aanvraag",
    "W_Nabellen offertes", "W_Nabellen incomplete dossiers", "W_Beoordelen fraude",
    "W_Wijzigen contractgegevens",
]  # fmt: skip
BPIC_CASES, BPIC_EVENTS = 13_087, 262_200


def bpic_shape(seed: int = 2012) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Event and case columns the size and shape of BPI Challenge 2012 (13,087 cases,
    262,200 events, 24 activities, lifecycle SCHEDULE/START/COMPLETE on work items,
    org:resource, AMOUNT_REQ and REG_DATE on the trace), seeded. Generated, not the real log
    (not redistributable here): the count of events per case is drawn, then trimmed so the
    total is exactly 262,200."""
    rnd = random.Random(seed)
    start = datetime(2011, 10, 1, tzinfo=UTC)
    resources = ["112"] + [str(10000 + i * 17) for i in range(68)]
    lengths = [max(3, int(rnd.lognormvariate(2.7, 0.7))) for _ in range(BPIC_CASES)]
    scale = BPIC_EVENTS / sum(lengths)
    lengths = [max(3, round(n * scale)) for n in lengths]
    surplus = sum(lengths) - BPIC_EVENTS
    i = 0
    while surplus != 0:  # exact total: nudge case lengths one event at a time
        step = -1 if surplus > 0 else 1
        if lengths[i] + step >= 3:
            lengths[i] += step
            surplus += step
        i = (i + 1) % BPIC_CASES
    events: dict[str, list[Any]] = {
        "case": [], "activity": [], "timestamp": [], "lifecycle": [], "resource": []
    }  # fmt: skip
    cases: dict[str, list[Any]] = {"case": [], "AMOUNT_REQ": [], "REG_DATE": []}
    for number, length in enumerate(lengths):
        case = str(173688 + number * 3)
        when = start + timedelta(seconds=rnd.randrange(166 * 86400))
        cases["case"].append(case)
        cases["AMOUNT_REQ"].append(
            str(rnd.choice([5000, 10000, 15000, 2500, 500]) * rnd.randint(1, 6))
        )
        cases["REG_DATE"].append(when)
        states = iter(["A_SUBMITTED", "A_PARTLYSUBMITTED"])
        left = length
        while left > 0:
            state = next(states, None)
            if state is not None or left < 3 or rnd.random() < 0.45:
                activity, phases = state or rnd.choice(BPIC_STATES[2:]), ["COMPLETE"]
            else:
                activity, phases = rnd.choice(BPIC_WORK), ["SCHEDULE", "START", "COMPLETE"]
            for phase in phases[:left]:
                when += timedelta(seconds=1 + int(rnd.expovariate(1 / 5400)))
                events["case"].append(case)
                events["activity"].append(activity)
                events["timestamp"].append(when)
                events["lifecycle"].append(phase)
                events["resource"].append("112" if phase == "SCHEDULE" else rnd.choice(resources))
            left -= len(phases[:left])
    return events, cases


# -- pm4py, the peer ----------------------------------------------------------------------


def run_pm4py(xes: Path, net_json: Path | None = None) -> dict[str, Any]:
    """Import and mine `xes` with pm4py; times and results as JSON-able data. With `net_json`
    (Flowdesk's discovered model as a Petri net) also token replay of that net, and pm4py's
    own inductive miner with its fitness."""
    import numpy
    import pm4py  # type: ignore[import-not-found]

    c0, t0 = time.process_time(), time.perf_counter()
    df = pm4py.read_xes(str(xes))
    c1, t1 = time.process_time(), time.perf_counter()
    dfg, starts, ends = pm4py.discover_dfg(df)
    variants = pm4py.get_variants(df)
    durations = pm4py.get_all_case_durations(df)
    kpi = {
        "mean": float(numpy.mean(durations)),
        "median": float(numpy.median(durations)),
        "p90": float(numpy.percentile(durations, 90)),
    }
    c2, t2 = time.process_time(), time.perf_counter()
    return {
        "import_s": t1 - t0,
        "analysis_s": t2 - t1,
        "import_cpu_s": c1 - c0,
        "analysis_cpu_s": c2 - c1,
        "events": len(df),
        "dfg": sorted([a, b, int(c)] for (a, b), c in dfg.items()),
        "start": {k: int(v) for k, v in starts.items()},
        "end": {k: int(v) for k, v in ends.items()},
        "variants": sorted([list(k), _count(v)] for k, v in variants.items()),
        "turnaround": kpi,
        "version": pm4py.__version__,
        **_cpu("variants", lambda: pm4py.get_variants(df)),
        **(_pm4py_models(pm4py, df, json.loads(net_json.read_text())) if net_json else {}),
    }


def _seconds(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _cpu(name: str, fn: Callable[[], Any]) -> dict[str, float]:
    """`{name}_s` (wall) and `{name}_cpu_s` (process CPU, all threads) of one call: on a shared
    machine the CPU figure is the steadier one."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return {f"{name}_s": time.perf_counter() - t0, f"{name}_cpu_s": time.process_time() - c0}


def _pm4py_models(pm4py: Any, df: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """pm4py's inductive miner (same noise) and token replay, on its model and on ours."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet  # type: ignore[import-not-found]
    from pm4py.objects.petri_net.utils import petri_utils  # type: ignore[import-not-found]

    discover_s = discover_cpu_s = math.inf
    for _ in range(2):  # best of two, as for Flowdesk
        c0, t0 = time.process_time(), time.perf_counter()
        own, own_im, own_fm = pm4py.discover_petri_net_inductive(df, noise_threshold=spec["noise"])
        discover_s = min(discover_s, time.perf_counter() - t0)
        discover_cpu_s = min(discover_cpu_s, time.process_time() - c0)
    own_fitness = pm4py.fitness_token_based_replay(df, own, own_im, own_fm)["log_fitness"]
    heuristic_s = heuristic_cpu_s = math.inf
    for _ in range(2):  # pm4py's heuristics miner (its defaults) as a Petri net, best of two
        c0, t0 = time.process_time(), time.perf_counter()
        heu, heu_im, heu_fm = pm4py.discover_petri_net_heuristics(df)
        heuristic_s = min(heuristic_s, time.perf_counter() - t0)
        heuristic_cpu_s = min(heuristic_cpu_s, time.process_time() - c0)
    heu_fitness = pm4py.fitness_token_based_replay(df, heu, heu_im, heu_fm)["log_fitness"]
    net = PetriNet("flowdesk")
    places = {name: PetriNet.Place(name) for name in spec["places"]}
    for place in places.values():
        net.places.add(place)
    for item in spec["transitions"]:
        transition = PetriNet.Transition(item["id"], item["label"])
        net.transitions.add(transition)
        for name in item["inputs"]:
            petri_utils.add_arc_from_to(places[name], transition, net)
        for name in item["outputs"]:
            petri_utils.add_arc_from_to(transition, places[name], net)
    initial = Marking({places[k]: v for k, v in spec["initial"].items()})
    final = Marking({places[k]: v for k, v in spec["final"].items()})
    c0, t0 = time.process_time(), time.perf_counter()
    replayed = pm4py.fitness_token_based_replay(df, net, initial, final)
    replay_s = time.perf_counter() - t0
    replay_cpu_s = time.process_time() - c0
    return {
        "discover_s": discover_s,
        "discover_cpu_s": discover_cpu_s,
        "heuristic_s": heuristic_s,
        "heuristic_cpu_s": heuristic_cpu_s,
        "heuristic_fitness": float(heu_fitness),
        "replay_cpu_s": replay_cpu_s,
        "discovered_fitness": float(own_fitness),
        "discovered_transitions": len(own.transitions),
        "discovered_silent": sum(1 for t in own.transitions if t.label is None),
        "replay_s": replay_s,
        "replay_fitness": float(replayed["log_fitness"]),
    }


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else int(value)


PM4PY = "pm4py==2.7.23.11"


def ensure_peer_venv() -> Path | None:
    """The Python of .bench-venv (git-ignored, shared by the benchmarks), with pm4py installed
    into it on first use; None where it cannot be installed (offline)."""
    venv = ROOT / ".bench-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print("creating the peer venv .bench-venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import pm4py"], capture_output=True).returncode:
        print(f"installing {PM4PY} into .bench-venv (once) ...", flush=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", PM4PY])
        if done.returncode != 0:
            return None
    return python


def pm4py_peer(xes: Path, net_json: Path | None = None) -> dict[str, Any] | None:
    """Run run_pm4py here if pm4py imports, else in .bench-venv; None when neither has it."""
    try:
        import pm4py  # noqa: F401
    except ImportError:
        python = ensure_peer_venv()
        if python is None:
            return None
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            done = subprocess.run(
                [str(python), __file__, "--peer", str(xes), out.name]
                + ([str(net_json)] if net_json else []),
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return None
            result: dict[str, Any] = json.loads(Path(out.name).read_text())
            return result
    return run_pm4py(xes, net_json)


# -- Flowdesk -----------------------------------------------------------------------------


def run_flowdesk(xes: Path, net_json: Path, noise: float) -> dict[str, Any]:
    from flowdesk.analytics.bottlenecks import bottlenecks
    from flowdesk.analytics.dfg import directly_follows
    from flowdesk.analytics.endpoints import endpoints
    from flowdesk.analytics.handoffs import handoffs
    from flowdesk.analytics.rework import rework
    from flowdesk.analytics.turnaround import turnaround
    from flowdesk.analytics.variants import variants
    from flowdesk.analytics.xes import read_xes

    c0, t0 = time.process_time(), time.perf_counter()
    log = read_xes(xes)
    c1, t1 = time.process_time(), time.perf_counter()
    dfg = directly_follows(log)
    found = variants(log)
    ends = endpoints(log)
    kpi = turnaround(log)
    c2, t2 = time.process_time(), time.perf_counter()
    handoffs(log)
    rework(log)
    bottlenecks(log)
    t3 = time.perf_counter()
    timing = _cpu("variants", lambda: variants(log))
    models = _flowdesk_models(log, net_json, noise)
    return {
        **timing,
        **models,
        "import_s": t1 - t0,
        "analysis_s": t2 - t1,
        "extras_s": t3 - t2,
        "import_cpu_s": c1 - c0,
        "analysis_cpu_s": c2 - c1,
        "events": log.event_count,
        "dfg": sorted([e.source, e.target, e.count] for e in dfg.edges),
        "start": ends.start,
        "end": ends.end,
        "variants": sorted([list(v.activities), v.count] for v in found),
        "turnaround": {
            "mean": kpi.mean_seconds,
            "median": kpi.median_seconds,
            "p90": kpi.p90_seconds,
        },
    }


def _flowdesk_models(log: Any, net_json: Path, noise: float) -> dict[str, Any]:
    """Discover (inductive miner, infrequent: the BPMN XML) and token-replay the log on the
    result (parsing that XML included); write the replayed net for the peer, with the log's
    activity names as labels."""
    from flowdesk.analytics.conformance import build_net, check_conformance
    from flowdesk.analytics.discovery import discover_bpmn
    from flowdesk.bpmn import parse_bpmn
    from flowdesk.feel import compile_expression  # noqa: F401  (module loading is not timed)

    discover_s = discover_cpu_s = math.inf
    for _ in range(2):  # best of two, as for pm4py: the first call also fills caches
        c0, t0 = time.process_time(), time.perf_counter()
        xml = discover_bpmn(log, noise=noise)
        discover_s = min(discover_s, time.perf_counter() - t0)
        discover_cpu_s = min(discover_cpu_s, time.process_time() - c0)
    heuristic_s = heuristic_cpu_s = math.inf
    for _ in range(2):  # the heuristics miner at pm4py's defaults (noise 0.05, dependency 0.5)
        c0, t0 = time.process_time(), time.perf_counter()
        heuristic_xml = discover_bpmn(log, miner="heuristic", noise=0.05)
        heuristic_s = min(heuristic_s, time.perf_counter() - t0)
        heuristic_cpu_s = min(heuristic_cpu_s, time.process_time() - c0)
    heuristic_model = next(iter(parse_bpmn(heuristic_xml).processes.values()))
    heuristic_fitness = check_conformance(
        log, {"heuristic:1": heuristic_model}, match="name", with_precision=False
    ).totals.fitness
    # the replay includes reading the model (BPMN XML, validated): pm4py's net is in memory
    c0, t0 = time.process_time(), time.perf_counter()
    process = next(iter(parse_bpmn(xml).processes.values()))
    t1 = time.perf_counter()
    report = check_conformance(log, {"discovered:1": process}, match="name", with_precision=False)
    replay_s = time.perf_counter() - t0
    replay_cpu_s = time.process_time() - c0
    conformance_s = time.perf_counter() - t1
    t0 = time.perf_counter()
    measured = check_conformance(log, {"discovered:1": process}, match="name")
    precision_s = time.perf_counter() - t0 - conformance_s
    names = sorted(log.events["activity"].unique().to_list())
    net = build_net(process, names, match="name")
    spec = net.to_petri_json()
    for item, transition in zip(spec["transitions"], net.transitions, strict=True):
        if item["label"] is not None:
            item["label"] = net.name_of(transition.element)
    spec["noise"] = noise
    net_json.write_text(json.dumps(spec))
    return {
        "discover_s": discover_s,
        "discover_cpu_s": discover_cpu_s,
        "heuristic_s": heuristic_s,
        "heuristic_cpu_s": heuristic_cpu_s,
        "heuristic_fitness": heuristic_fitness,
        "replay_s": replay_s,
        "replay_cpu_s": replay_cpu_s,
        "precision_s": max(0.0, precision_s),
        "precision": measured.precision,
        "replay_fitness": report.totals.fitness,
        "transitions": len(net.transitions),
        "silent_transitions": len(net.silent),
    }


def bpic_import(*, quick: bool) -> None:
    """Import speed on a log of BPIC 2012's size and shape: Flowdesk's read_xes (best of three,
    CPU and wall) against pm4py's read_xes (one call; skipped with --quick)."""
    import polars as pl

    from flowdesk.analytics.export import write_xes
    from flowdesk.analytics.log import EventLog
    from flowdesk.analytics.xes import read_xes

    events, cases = bpic_shape()
    log = EventLog.from_frame(pl.DataFrame(events), pl.DataFrame(cases))
    with tempfile.TemporaryDirectory(prefix="flowdesk-bpic-") as tmp:
        xes = Path(tmp) / "bpic2012-shape.xes.gz"
        write_xes(log, xes)
        read_xes(xes)  # warm: imports, Polars' thread pool
        cpu = wall = math.inf
        for _ in range(3):
            c0, t0 = time.process_time(), time.perf_counter()
            read = read_xes(xes)
            cpu = min(cpu, time.process_time() - c0)
            wall = min(wall, time.perf_counter() - t0)
        print(f"Flowdesk read_xes: {read.event_count:,} events, {cpu:.3f} s CPU, {wall:.3f} s wall")
        figures: dict[str, Any] = {
            "benchmark": "mining_bpic_shape_import",
            "events": read.event_count,
            "cases": read.case_count,
            "activities": read.events["activity"].n_unique(),
            "xes_gz_mb": round(xes.stat().st_size / 1e6, 2),
            "flowdesk_import_cpu_s": round(cpu, 3),
            "flowdesk_import_s": round(wall, 3),
            "goal_cpu_s": 0.7,
        }
        python = None if quick else ensure_peer_venv()
        if python is not None:
            done = subprocess.run(
                [str(python), __file__, "--peer-import", str(xes)], capture_output=True, text=True
            )
            if done.returncode == 0:
                peer = json.loads(done.stdout.strip().splitlines()[-1])
                figures["pm4py_import_cpu_s"] = round(peer["import_cpu_s"], 3)
                figures["pm4py_import_s"] = round(peer["import_s"], 3)
                figures["import_speedup_cpu"] = round(peer["import_cpu_s"] / cpu, 2)
    print(json.dumps(figures))


def timed(label: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    print(f"{label:<34} {seconds:8.2f} s", flush=True)
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 50k events, under 30 s")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="copy the XES file here")
    parser.add_argument(
        "--noise", type=float, default=0.0, help="inductive miner noise (pm4py default 0)"
    )
    parser.add_argument(
        "--bpic-shape",
        action="store_true",
        help="only the import, of a generated log of BPI Challenge 2012's size and shape",
    )
    parser.add_argument("--peer", nargs="+", metavar="XES OUT [NET]", help=argparse.SUPPRESS)
    parser.add_argument("--peer-import", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_import:
        import pm4py  # type: ignore[import-not-found]

        c0, t0 = time.process_time(), time.perf_counter()
        frame = pm4py.read_xes(args.peer_import)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        print(json.dumps({"events": len(frame), "import_s": wall, "import_cpu_s": cpu}))
        return
    if args.bpic_shape:
        bpic_import(quick=args.quick)
        return
    if args.peer:
        net = Path(args.peer[2]) if len(args.peer) > 2 else None
        Path(args.peer[1]).write_text(json.dumps(run_pm4py(Path(args.peer[0]), net)))
        return

    import polars as pl

    from flowdesk.analytics.export import write_xes
    from flowdesk.analytics.log import EventLog

    events = args.events or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="flowdesk-mining-") as tmp:
        xes = Path(tmp) / "log.xes.gz"
        cols, gen_s = timed(f"generate {events:,} events", lambda: generate(events, args.seed))
        log = EventLog.from_frame(pl.DataFrame(cols))
        del cols
        _, write_s = timed("write XES (gzip)", lambda: write_xes(log, xes))
        size = xes.stat().st_size
        print(f"  {log.event_count:,} events, {log.case_count:,} cases, {size / 1e6:.1f} MB gz")
        if args.keep:
            shutil.copy(xes, args.keep)
        net_json = Path(tmp) / "net.json"
        ours, _ = timed(
            "Flowdesk import + analysis", lambda: run_flowdesk(xes, net_json, args.noise)
        )
        print(f"  import {ours['import_s']:.2f} s, analysis {ours['analysis_s']:.3f} s")
        print(f"  (hand-offs, rework, bottlenecks: {ours['extras_s']:.3f} s, no pm4py peer)")
        print(
            f"  discovery {ours['discover_s']:.3f} s, token replay {ours['replay_s']:.3f} s "
            f"(fitness {ours['replay_fitness']:.6f}; {ours['transitions']} transitions, "
            f"{ours['silent_transitions']} silent)"
        )
        print(
            f"  heuristics miner {ours['heuristic_s']:.3f} s "
            f"(fitness {ours['heuristic_fitness']:.6f})"
        )
        peer, _ = timed("pm4py import + analysis", lambda: pm4py_peer(xes, net_json))
    figures: dict[str, Any] = {
        "benchmark": "mining",
        "events": ours["events"],
        "cases": log.case_count,
        "xes_gz_mb": round(size / 1e6, 2),
        "generate_s": round(gen_s, 3),
        "write_xes_s": round(write_s, 3),
        "flowdesk_import_s": round(ours["import_s"], 3),
        "flowdesk_analysis_s": round(ours["analysis_s"], 4),
        "flowdesk_import_cpu_s": round(ours["import_cpu_s"], 3),
        "flowdesk_analysis_cpu_s": round(ours["analysis_cpu_s"], 4),
        "flowdesk_handoffs_rework_bottlenecks_s": round(ours["extras_s"], 4),
        "edges": len(ours["dfg"]),
        "variants": len(ours["variants"]),
        "flowdesk_variants_s": round(ours["variants_s"], 4),
        "noise": args.noise,
        "flowdesk_discover_s": round(ours["discover_s"], 4),
        "flowdesk_replay_s": round(ours["replay_s"], 4),
        "flowdesk_heuristic_s": round(ours["heuristic_s"], 4),
        "flowdesk_heuristic_fitness": ours["heuristic_fitness"],
        **{
            f"flowdesk_{k}_cpu_s": round(ours[f"{k}_cpu_s"], 4)
            for k in ("variants", "discover", "replay", "heuristic")
        },
        "flowdesk_replay_fitness": ours["replay_fitness"],
        "flowdesk_precision": ours["precision"],
        "flowdesk_precision_s": round(ours["precision_s"], 4),
        "replayed_transitions": ours["transitions"],
        "replayed_silent_transitions": ours["silent_transitions"],
    }
    if peer is None:
        print("pm4py not available (install it in .bench-venv): no comparison")
        figures["pm4py"] = None
    else:
        print(f"  import {peer['import_s']:.2f} s, analysis {peer['analysis_s']:.3f} s")
        same = {
            key: ours[key] == peer[key] for key in ("events", "dfg", "start", "end", "variants")
        }
        same["turnaround"] = all(
            math.isclose(ours["turnaround"][k], peer["turnaround"][k], rel_tol=1e-9)
            for k in ("mean", "median", "p90")
        )
        ratios = {}
        for clock in ("", "_cpu"):
            ours_import, peer_import = ours[f"import{clock}_s"], peer[f"import{clock}_s"]
            ours_analysis, peer_analysis = ours[f"analysis{clock}_s"], peer[f"analysis{clock}_s"]
            ratios[f"import_speedup{clock}"] = round(peer_import / ours_import, 2)
            ratios[f"analysis_speedup{clock}"] = round(peer_analysis / ours_analysis, 2)
            ratios[f"total_speedup{clock}"] = round(
                (peer_import + peer_analysis) / (ours_import + ours_analysis), 2
            )
        print(f"identical counts: {same}")
        print(
            "speed-up vs pm4py (wall): import {import_speedup}x, analysis {analysis_speedup}x, "
            "total {total_speedup}x".format(**ratios)
        )
        print(
            "speed-up vs pm4py (CPU):  import {import_speedup_cpu}x, "
            "analysis {analysis_speedup_cpu}x, total {total_speedup_cpu}x".format(**ratios)
        )
        print(
            f"  pm4py inductive miner {peer['discover_s']:.3f} s (fitness "
            f"{peer['discovered_fitness']:.6f}), heuristics miner {peer['heuristic_s']:.3f} s "
            f"(fitness {peer['heuristic_fitness']:.6f}), token replay of Flowdesk's model "
            f"{peer['replay_s']:.3f} s (fitness {peer['replay_fitness']:.6f})"
        )
        figures.update(
            {
                "pm4py_variants_s": round(peer["variants_s"], 4),
                "variants_speedup": round(peer["variants_s"] / ours["variants_s"], 2),
                **{
                    f"pm4py_{k}_cpu_s": round(peer[f"{k}_cpu_s"], 4)
                    for k in ("variants", "discover", "replay", "heuristic")
                },
                **{
                    f"{step}_speedup_cpu": round(
                        peer[f"{step}_cpu_s"] / max(ours[f"{step}_cpu_s"], 1e-6), 2
                    )
                    for step in ("variants", "discover", "replay", "heuristic")
                },
                "pm4py_heuristic_s": round(peer["heuristic_s"], 4),
                "pm4py_heuristic_fitness": peer["heuristic_fitness"],
                "heuristic_speedup": round(peer["heuristic_s"] / ours["heuristic_s"], 2),
                "pm4py_discover_s": round(peer["discover_s"], 4),
                "pm4py_discovered_fitness": peer["discovered_fitness"],
                "discover_speedup": round(peer["discover_s"] / ours["discover_s"], 2),
                "pm4py_replay_s": round(peer["replay_s"], 4),
                "pm4py_replay_fitness": peer["replay_fitness"],
                "replay_speedup": round(peer["replay_s"] / ours["replay_s"], 2),
                "same_replay_fitness": math.isclose(
                    peer["replay_fitness"], ours["replay_fitness"], abs_tol=1e-9
                ),
                "pm4py": peer["version"],
                "pm4py_import_s": round(peer["import_s"], 3),
                "pm4py_analysis_s": round(peer["analysis_s"], 4),
                "pm4py_import_cpu_s": round(peer["import_cpu_s"], 3),
                "pm4py_analysis_cpu_s": round(peer["analysis_cpu_s"], 4),
                **ratios,
                "identical": all(same.values()),
                "checks": same,
            }
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
