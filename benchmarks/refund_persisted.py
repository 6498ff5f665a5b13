"""Persisted refund runs for engine_refund.py: every command through ProcessRuntime and a store.

Each command loads the instance row, applies the engine and writes the state back in its own
transaction (as the peer driver's persisted mode does); the parsed definition is the only thing
kept between commands. Workers for the PostgreSQL mode are separate processes (spawn).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

from flowdesk.engine.state import state_to_json
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

FORMS: dict[str, dict[str, Any]] = {
    "approve": {"approved": True},
    "notify": {"notified": True},
    "crm": {"crm_updated": True},
}


def open_runtime(url: str, model: Path, *, deploy: bool) -> ProcessRuntime:
    store = Store.open(url, sqlite_synchronous="NORMAL")
    if deploy:
        store.upgrade()
    runtime = ProcessRuntime(store)
    if deploy:
        runtime.deploy("refund", [("refund.bpmn", model.read_bytes())])
    return runtime


def run(runtime: ProcessRuntime, n: int, offset: int = 0, measure: bool = False) -> dict[str, Any]:
    completed = approved = refunded = max_bytes = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(offset, offset + n):
        amount = 50 if i % 2 == 0 else 500
        state = runtime.start("refund")
        through_approve = False
        while state.status == "active":
            if measure:  # what is stored for a waiting instance
                max_bytes = max(max_bytes, len(state_to_json(runtime.instance(state.id))))
            item = next(iter(state.work.values()))
            through_approve |= item.el == "approve"
            data = {"amount": amount} if item.el == "capture" else FORMS[item.el]
            state = runtime.complete_work_item(item.id, data)
        completed += state.status == "completed"
        approved += through_approve
        refunded += state.vars.get("refunded") is True
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "n": n,
        "seconds": round(seconds, 3),
        "inst_per_s": round(n / seconds, 1),
        "cpu_ms_per_inst": round(cpu * 1000 / n, 3),
        "completed": completed,
        "approved": approved,
        "refunded": refunded,
        "max_state_bytes": max_bytes,
        "history_level": runtime.history_level,  # FLOWDESK_HISTORY_LEVEL, default activity
    }


def _worker(url: str, model: str, n: int, offset: int, ready: Any, go: Any, out: Any) -> None:
    runtime = open_runtime(url, Path(model), deploy=False)
    run(runtime, 5, offset + n)  # warm: imports, connection pool, FEEL compile cache
    ready.put(True)
    go.wait()
    out.put(run(runtime, n, offset))
    runtime.store.close()


def run_processes(url: str, model: Path, n: int, workers: int) -> dict[str, Any]:
    """`workers` processes share one database and run n instances between them."""
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    per = n // workers
    procs = [
        ctx.Process(target=_worker, args=(url, str(model), per, w * per * 10, ready, go, out))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    for _ in procs:  # every worker warmed up and waiting: start the clock for all at once
        ready.get()
    t0 = time.perf_counter()
    go.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    seconds = time.perf_counter() - t0
    total = {k: sum(r[k] for r in results) for k in ("n", "completed", "approved", "refunded")}
    total["seconds"] = round(seconds, 3)
    total["inst_per_s"] = round(total["n"] / seconds, 1)
    total["workers"] = workers
    return total
