#!/usr/bin/env python3
"""Refund instances per second: Flowdesk's engine vs SpiffWorkflow, on the same model and data.

    .venv/bin/python benchmarks/engine_refund.py --mode memory            # N = 9000
    .venv/bin/python benchmarks/engine_refund.py --mode memory --quick    # N = 1000
    .venv/bin/python benchmarks/engine_refund.py --mode memory -n 20000

Workload (the peer's, ../shared/peers/README.md): N instances of the refund model, one after the
other, each run to completion. User-task data: capture {amount} alternating 50/500 (so N/2 go
through approve), approve {approved: true}, notify {notified: true}, crm {crm_updated: true}.
Flowdesk runs tests/data/bpmn/refund.bpmn (FEEL conditions, FEEL script task) through the pure
engine API (Engine.start / Engine.complete_work_item on the returned state). The peer is
../shared/peers/spiff_bench.py in .bench-venv (created on demand), run as a subprocess between
two Flowdesk rounds; Flowdesk's figure is the mean of the two rounds around it, so a drift in
machine speed hits both alike. Both sides must pass the same checks (all completed, N/2
approvals, refunded true). Max snapshot bytes is the largest JSON state at any wait state.

Modes: ``memory`` (a) the pure engine; ``persisted`` (b) every command through ProcessRuntime,
committed to SQLite (WAL, synchronous NORMAL, as the peer), instance loaded from the store and
written back each time, against the peer's persisted mode in the same run; ``postgres`` (c) the
same on PostgreSQL 15 (fsync on) with 1 and with 2 worker processes.
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from flowdesk.bpmn.parser import load_bpmn  # noqa: E402
from flowdesk.core.clock import FixedClock  # noqa: E402
from flowdesk.core.ids import SequentialIds  # noqa: E402
from flowdesk.engine.engine import DefinitionRegistry, Engine  # noqa: E402
from flowdesk.engine.state import InstanceState, state_to_json  # noqa: E402

MODEL = REPO / "tests" / "data" / "bpmn" / "refund.bpmn"
PEER = REPO / ".." / "shared" / "peers" / "spiff_bench.py"
VENV = REPO / ".bench-venv"
PEER_PYTHON = VENV / "bin" / "python"
FORMS: dict[str, dict[str, Any]] = {
    "approve": {"approved": True},
    "notify": {"notified": True},
    "crm": {"crm_updated": True},
}


class Steps:
    """How a step gets and keeps the state. In memory it is simply passed along; a persisted
    mode would save the snapshot after every command and load it before the next one."""

    def __init__(self, measure: bool) -> None:
        self.measure = measure
        self.max_bytes = 0

    def save(self, state: InstanceState) -> InstanceState:
        if self.measure:
            self.max_bytes = max(self.max_bytes, len(state_to_json(state)))
        return state


def run_instance(engine: Engine, steps: Steps, amount: int) -> tuple[InstanceState, list[str]]:
    state = steps.save(engine.start("refund").state)
    done: list[str] = []
    while state.status == "active":
        item = next(iter(state.work.values()))
        data = {"amount": amount} if item.el == "capture" else FORMS[item.el]
        done.append(item.el)
        state = steps.save(engine.complete_work_item(state, item.id, data).state)
    return state, done


def flowdesk_round(engine: Engine, n: int) -> dict[str, Any]:
    steps = Steps(measure=False)
    completed = approved = refunded = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        state, done = run_instance(engine, steps, 50 if i % 2 == 0 else 500)
        completed += state.status == "completed"
        approved += "approve" in done
        refunded += state.vars.get("refunded") is True
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    ok = completed == n and approved == n // 2 and refunded == n
    return {
        "seconds": round(seconds, 3),
        "inst_per_s": round(n / seconds, 1),
        "cpu_ms_per_inst": round(cpu * 1000 / n, 3),
        "completed": completed,
        "approved": approved,
        "refunded": refunded,
        "ok": ok,
    }


def ensure_peer_venv() -> None:
    """.bench-venv is shared with other peers' benchmarks (pm4py ...): make it if missing and
    add SpiffWorkflow when it is not importable there."""
    if not PEER_PYTHON.exists():
        print("creating the peer venv .bench-venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(PEER_PYTHON), "-c", "import SpiffWorkflow"], check=False)
    if probe.returncode != 0:
        print("installing SpiffWorkflow 3.2.0 into .bench-venv ...", flush=True)
        pip = [str(PEER_PYTHON), "-m", "pip", "install", "-q", "spiffworkflow==3.2.0"]
        subprocess.run(pip, check=True)


def peer_round(mode: str, n: int) -> dict[str, Any]:
    ensure_peer_venv()
    proc = subprocess.run(
        [str(PEER_PYTHON), str(PEER), "--mode", mode, "-n", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"peer produced no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mode", choices=["memory", "persisted", "postgres"], default="memory")
    ap.add_argument("-n", type=int, default=None, help="instances per round (default 9000)")
    ap.add_argument("--quick", action="store_true", help="1000 instances")
    ap.add_argument("--no-peer", action="store_true", help="skip SpiffWorkflow")
    ap.add_argument(
        "--pg-fsync",
        choices=["on", "off"],
        default="on",
        help="postgres mode: fsync of the throwaway server (off shows scaling without disk waits)",
    )
    args = ap.parse_args()
    if args.mode == "persisted":
        main_persisted(args)
        return
    if args.mode == "postgres":
        main_postgres(args)
        return
    n = args.n or (1000 if args.quick else 9000)

    t0 = time.perf_counter()
    definitions = load_bpmn(MODEL)
    parse_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    for _ in range(20):
        load_bpmn(MODEL)
    parse_warm_ms = (time.perf_counter() - t0) * 1000 / 20
    engine = Engine(DefinitionRegistry(definitions), clock=FixedClock(), ids=SequentialIds())

    sample = Steps(measure=True)  # snapshot sizes along both paths, outside the timed rounds
    for amount in (50, 500):
        run_instance(engine, sample, amount)
    flowdesk_round(engine, min(n, 200))  # warm-up (FEEL compile cache, allocator)

    first = flowdesk_round(engine, n)
    peer = None if args.no_peer else peer_round(args.mode, n)
    second = flowdesk_round(engine, n)
    rate = (first["inst_per_s"] + second["inst_per_s"]) / 2
    ok = first["ok"] and second["ok"] and (peer is None or bool(peer.get("ok")))

    print(
        f"model            {MODEL.relative_to(REPO)} (first parse {parse_ms:.1f} ms, "
        f"then {parse_warm_ms:.2f} ms)"
    )
    print(f"instances/round  {n}")
    print(
        f"flowdesk         {rate:,.0f} inst/s  (rounds {first['inst_per_s']:,.0f} and "
        f"{second['inst_per_s']:,.0f}; {1000 / rate:.3f} ms/instance)"
    )
    print(
        f"checks           completed {second['completed']}/{n}, approvals {second['approved']}, "
        f"refunded {second['refunded']}"
    )
    print(f"max snapshot     {sample.max_bytes} bytes (JSON, at any wait state)")
    ratio = cpu_ratio = None
    cpu_ms = (first["cpu_ms_per_inst"] + second["cpu_ms_per_inst"]) / 2
    if peer is not None:
        ratio = rate / float(peer["inst_per_s"])
        cpu_ratio = float(peer["cpu_ms_per_inst"]) / cpu_ms
        print(f"{peer['engine']:<16} {float(peer['inst_per_s']):,.0f} inst/s  (ok={peer['ok']})")
        print(
            f"ratio            {ratio:.1f}x SpiffWorkflow (CPU time per instance: {cpu_ratio:.1f}x)"
        )
    print(
        json.dumps(
            {
                "benchmark": "engine_refund",
                "mode": args.mode,
                "n": n,
                "flowdesk_inst_per_s": round(rate, 1),
                "flowdesk_rounds": [first, second],
                "parse_ms": round(parse_ms, 2),
                "parse_warm_ms": round(parse_warm_ms, 3),
                "max_snapshot_bytes": sample.max_bytes,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "peer": peer,
                "ratio": None if ratio is None else round(ratio, 2),
                "cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 2),
                "ok": ok,
            }
        )
    )
    sys.exit(0 if ok else 1)


def main_persisted(args: argparse.Namespace) -> None:
    """(b): every command committed to SQLite (WAL, synchronous NORMAL), as the peer does."""
    import tempfile

    from refund_persisted import open_runtime, run

    n = args.n or (200 if args.quick else 2000)
    folder = Path(tempfile.mkdtemp(prefix="flowdesk-refund-"))
    runtime = open_runtime(f"sqlite:///{folder / 'flowdesk.db'}", MODEL, deploy=True)
    sample = run(runtime, 2, 10**7, measure=True)  # stored bytes per waiting instance
    run(runtime, min(n, 50), 10**6)  # warm-up
    first = run(runtime, n)
    peer = None
    if not args.no_peer:
        peer = peer_round_persisted(n, folder / "spiff.db")
    second = run(runtime, n, n)
    rate = (first["inst_per_s"] + second["inst_per_s"]) / 2
    ok = all(
        r["completed"] == r["n"] and r["approved"] == r["n"] // 2 and r["refunded"] == r["n"]
        for r in (first, second)
    ) and (peer is None or bool(peer.get("ok")))
    ratio = None if peer is None else rate / float(peer["inst_per_s"])
    print("mode             persisted (SQLite WAL, synchronous NORMAL, one commit per command)")
    print(
        f"flowdesk         {rate:,.0f} inst/s  (rounds {first['inst_per_s']:,.0f} and "
        f"{second['inst_per_s']:,.0f})"
    )
    print(f"stored state     {sample['max_state_bytes']} bytes max per waiting instance")
    if peer is not None:
        print(
            f"{peer['engine']:<16} {float(peer['inst_per_s']):,.0f} inst/s, state "
            f"{peer.get('max_state_bytes')} bytes (ok={peer['ok']})"
        )
        print(f"ratio            {ratio:.1f}x SpiffWorkflow persisted")
    print(
        json.dumps(
            {
                "benchmark": "engine_refund",
                "mode": "persisted",
                "n": n,
                "flowdesk_inst_per_s": round(rate, 1),
                "flowdesk_rounds": [first, second],
                "max_state_bytes": sample["max_state_bytes"],
                "peer": peer,
                "ratio": None if ratio is None else round(ratio, 2),
                "ok": ok,
            }
        )
    )
    sys.exit(0 if ok else 1)


def peer_round_persisted(n: int, db: Path) -> dict[str, Any]:
    ensure_peer_venv()
    proc = subprocess.run(
        [str(PEER_PYTHON), str(PEER), "--mode", "persisted", "-n", str(n), "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"peer produced no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main_postgres(args: argparse.Namespace) -> None:
    """(c): PostgreSQL (fsync on), the same workload by 1 and by 2 worker processes."""
    from flowdesk.testing.postgres import PostgresServer, find_pg_bin
    from refund_persisted import open_runtime, run_processes

    if find_pg_bin() is None:
        raise SystemExit("PostgreSQL 15 server binaries not found (apt-get install postgresql-15)")
    n = args.n or (200 if args.quick else 2000)
    with PostgresServer(fsync=args.pg_fsync == "on") as pg:
        url = pg.create_database("refund")
        open_runtime(url, MODEL, deploy=True).store.close()
        one = run_processes(url, MODEL, n, 1)
        two = run_processes(url, MODEL, n, 2)
        one_again = run_processes(url, MODEL, n, 1)
    single = (one["inst_per_s"] + one_again["inst_per_s"]) / 2
    scale = two["inst_per_s"] / single
    ok = all(
        r["completed"] == r["n"] and r["approved"] == r["n"] // 2 and r["refunded"] == r["n"]
        for r in (one, two, one_again)
    )
    print(
        f"mode             postgres (PostgreSQL 15, fsync {args.pg_fsync}, one commit per command)"
    )
    print(
        f"1 worker         {single:,.0f} inst/s (rounds {one['inst_per_s']:,.0f}, "
        f"{one_again['inst_per_s']:,.0f})"
    )
    print(f"2 workers        {two['inst_per_s']:,.0f} inst/s")
    print(f"scaling          {scale:.2f}x (goal >= 1.7x)")
    print(
        json.dumps(
            {
                "benchmark": "engine_refund",
                "mode": "postgres",
                "fsync": args.pg_fsync,
                "n": n,
                "one_worker_inst_per_s": round(single, 1),
                "two_workers_inst_per_s": two["inst_per_s"],
                "scaling": round(scale, 2),
                "rounds": [one, two, one_again],
                "ok": ok,
            }
        )
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
