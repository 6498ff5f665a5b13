#!/usr/bin/env python3
"""Group commit on PostgreSQL, in process: concurrent engine commands with and without it,
SQLite beside them, and one against two processes on one PostgreSQL.

    .venv/bin/python benchmarks/pg_group_commit.py            # 3 rounds of 5 s per variant
    .venv/bin/python benchmarks/pg_group_commit.py --quick    # under 30 s on a quiet machine

Workload: --threads callers (default 16) each start an instance of a one-user-task process and
complete its work item, back to back, through `ProcessRuntime` (two commands per instance, as
the API's two requests). Variants, alternating round by round so machine drift hits all alike:
SQLite (WAL, group commit, the default), PostgreSQL 15 with fsync and synchronous_commit on
and one transaction per command (FLOWDESK_GROUP_COMMIT=false, as before issue 24), and
PostgreSQL with group commit. Figures per variant (medians over rounds): instances/s, Python CPU
per instance (`time.process_time`, all threads), PostgreSQL's CPU per instance (its server
processes, from /proc), commands per COMMIT (the store's counter).

Then `--processes` (default 1,2): that many processes, each with the same threads and the
default settings (no group commit on PostgreSQL), run the workload on one database at once;
instances/s of all together and the scaling from the first count to the last. Ends with one
JSON line. On a machine shared with other work the wall-clock figures follow the neighbours'
load; the CPU per instance much less.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from flowdesk.runtime.processes import ProcessRuntime  # noqa: E402
from flowdesk.store import Store  # noqa: E402
from flowdesk.testing.postgres import PostgresServer  # noqa: E402

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="http://x">
  <bpmn:process id="one_task" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="handle"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="handle"/>
    <bpmn:sequenceFlow id="f1" sourceRef="handle" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def tree_cpu(root: int) -> float:
    """User + system CPU seconds of a process and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[str, list[str]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stats[pid] = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
    tree, total = {str(root)}, 0.0
    for _ in range(3):
        tree |= {pid for pid, s in stats.items() if s[1] in tree}
    for pid in tree:
        if pid in stats:
            # own time and that of its reaped children (PostgreSQL's ended backends)
            total += sum(int(field) for field in stats[pid][11:15]) / tick
    return total


def postmaster(pg: PostgresServer) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


def prepare(url: str) -> None:
    store = Store.open(url)
    store.upgrade()
    ProcessRuntime(store).deploy("one_task", [("one_task.bpmn", MODEL.encode())])
    store.close()


def load(url: str, threads: int, seconds: float, group_commit: bool | None) -> dict[str, Any]:
    """Run the workload from `threads` callers for `seconds`; counts and this process's CPU."""
    store = Store.open(url, group_commit=group_commit)
    runtime = ProcessRuntime(store)
    done = [0] * threads
    errors: list[BaseException] = []
    stop = time.perf_counter() + seconds

    def caller(i: int) -> None:
        try:
            while time.perf_counter() < stop:
                state = runtime.start("one_task")
                item = next(iter(state.work.values()))
                runtime.complete_work_item(item.id, {})
                done[i] += 1
        except BaseException as exc:  # reported, not hidden
            errors.append(exc)

    cpu0, t0 = time.process_time(), time.perf_counter()
    workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    group = store._group
    commits, units = (group.commits, group.units) if group is not None else (0, 0)
    store.close()
    if errors:
        raise errors[0]
    return {
        "instances": sum(done),
        "wall_s": wall,
        "cpu_s": cpu,
        "commits": commits,
        "units": units,
    }


def _child(url: str, threads: int, seconds: float, queue: Any) -> None:
    queue.put(load(url, threads, seconds, None))  # the default: group commit off on PostgreSQL


def run_processes(url: str, processes: int, threads: int, seconds: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    children = [
        ctx.Process(target=_child, args=(url, threads, seconds, queue)) for _ in range(processes)
    ]
    for c in children:
        c.start()
    results = [queue.get(timeout=seconds + 300) for _ in children]
    for c in children:
        c.join(60)
    instances = sum(r["instances"] for r in results)
    wall = max(r["wall_s"] for r in results)
    return {
        "processes": processes,
        "instances_per_s": round(instances / wall, 1),
        "python_cpu_ms_per_instance": round(1000 * sum(r["cpu_s"] for r in results) / instances, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--threads", type=int, default=16, help="concurrent callers per process")
    parser.add_argument("--seconds", type=float, default=None, help="per variant per round")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--processes", default="1,2", help="process counts on one PostgreSQL")
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    rounds = args.rounds or (1 if args.quick else 3)
    counts = [int(n) for n in args.processes.split(",") if n]
    out: dict[str, Any] = {
        "benchmark": "pg_group_commit",
        "workload": "start one-user-task instance + complete its work item, in process",
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "seconds": seconds,
        "rounds": rounds,
        "load_average_at_start": os.getloadavg()[0],
    }
    samples: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, PostgresServer(fsync=True) as pg:
        pg_pid = postmaster(pg)
        urls = {
            "sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "postgresql_one_commit_each": pg.create_database("bench_single"),
            "postgresql_group_commit": pg.create_database("bench_group"),
        }
        for url in urls.values():
            prepare(url)
        for _ in range(rounds):
            for name, url in urls.items():
                db0 = tree_cpu(pg_pid)
                r = load(url, args.threads, seconds, name != "postgresql_one_commit_each")
                db = tree_cpu(pg_pid) - db0
                n = max(r["instances"], 1)
                sample = {
                    "instances_per_s": r["instances"] / r["wall_s"],
                    "python_cpu_ms_per_instance": 1000 * r["cpu_s"] / n,
                    "commands_per_commit": r["units"] / r["commits"] if r["commits"] else 1.0,
                }
                if name != "sqlite":
                    sample["postgres_cpu_ms_per_instance"] = 1000 * db / n
                samples.setdefault(name, []).append(sample)
                print(name, {k: round(v, 3) for k, v in sample.items()}, flush=True)
        for name, rows in samples.items():
            out[name] = {k: round(statistics.median(r[k] for r in rows), 3) for k in rows[0]}
        out["postgresql_share_of_sqlite"] = round(
            out["postgresql_group_commit"]["instances_per_s"] / out["sqlite"]["instances_per_s"], 2
        )
        out["group_commit_speedup_on_postgresql"] = round(
            out["postgresql_group_commit"]["instances_per_s"]
            / out["postgresql_one_commit_each"]["instances_per_s"],
            2,
        )
        scaling = []
        for count in counts:
            url = pg.create_database(f"bench_procs_{count}")
            prepare(url)
            db0 = tree_cpu(pg_pid)
            row = run_processes(url, count, args.threads, seconds)
            row["postgres_cpu_s"] = round(tree_cpu(pg_pid) - db0, 2)
            print("processes", row, flush=True)
            scaling.append(row)
        out["processes_on_one_postgresql"] = scaling
        if len(scaling) > 1:
            out["process_scaling"] = round(
                scaling[-1]["instances_per_s"] / scaling[0]["instances_per_s"], 2
            )
    out["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
