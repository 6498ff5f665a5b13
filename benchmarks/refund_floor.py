#!/usr/bin/env python3
"""The floor under engine_refund.py --mode persisted: what SQLite alone needs for the writes.

    .venv/bin/python benchmarks/refund_floor.py            # N = 2000
    .venv/bin/python benchmarks/refund_floor.py --quick    # N = 300

Runs N refund instances through ProcessRuntime on SQLite (WAL, synchronous NORMAL, one commit
per command: the persisted mode of engine_refund.py) and records every statement the store sent
to the driver, with its parameters and transaction boundaries. Then it replays exactly those
statements, with the same values, on a copy of the database taken before the run, through the
bare sqlite3 driver: no engine, no SQLAlchemy, no JSON or id making, no Python but the replay
loop (statements are prepared once and cached by the driver, as in the real run). The replay
is the most any engine could get out of SQLite on this machine while writing what Flowdesk
writes per command (the instance row, its element lifecycle events in the event log, work
items, one commit each); the ratio of the real run to it is what the engine and store layers
cost. In the same run SpiffWorkflow's persisted mode (the peer of engine_refund.py, in
.bench-venv) sets the scale: the floor's ratio to it bounds what ratio (b) can reach. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from sqlalchemy import event  # noqa: E402

import refund_persisted as rp  # noqa: E402
from engine_refund import peer_round  # noqa: E402
from flowdesk.store import hotpath  # noqa: E402
from flowdesk.store.eventlog import EventWriter  # noqa: E402

MODEL = REPO / "tests" / "data" / "bpmn" / "refund.bpmn"

Step = tuple[str, Any, bool]  # sql, parameters, executemany


class Recorder:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.on = False

    def add(self, sql: str, params: Any, many: bool) -> None:
        if self.on:
            self.steps.append((sql, params, many))


def install(recorder: Recorder, engine: Any) -> None:
    """Record what reaches the driver: SQLAlchemy's statements, the hot path's, and BEGIN /
    COMMIT / ROLLBACK of every transaction."""

    @event.listens_for(engine, "before_cursor_execute")
    def _sql(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        recorder.add(statement, params, many)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("readonly")
        recorder.add("BEGIN" if readonly else "BEGIN IMMEDIATE", (), False)

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        recorder.add("COMMIT", (), False)

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        recorder.add("ROLLBACK", (), False)

    io = hotpath.DriverIO
    one, run, many = io.one, io.run, io.many

    def rec_one(self: Any, connection: Any, sql: str, params: Any) -> Any:
        recorder.add(sql, tuple(params), False)
        return one(self, connection, sql, params)

    def rec_run(self: Any, connection: Any, sql: str, params: Any) -> int:
        recorder.add(sql, tuple(params), False)
        return run(self, connection, sql, params)

    def rec_many(self: Any, connection: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            recorder.add(sql, list(rows), True)
        many(self, connection, sql, rows)

    io.one, io.run, io.many = rec_one, rec_run, rec_many  # type: ignore[method-assign]

    # The event log's INSERT goes straight to the DB-API cursor (eventlog.EventWriter): record
    # its rows too, or the floor would leave out most of what a command writes.
    writer = EventWriter
    write = writer.write

    def rec_write(self: Any, connection: Any, pending: list[Any], ids: Any) -> None:
        times: dict[Any, Any] = {}
        rows = [self._row(e, ids, times) for e in pending]
        if rows:
            recorder.add(self.sql, rows, True)
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.executemany(self.sql, rows)
        finally:
            cursor.close()

    writer.write = rec_write  # type: ignore[method-assign]
    del write


def replay(database: Path, steps: list[Step]) -> tuple[float, float]:
    """Seconds and CPU seconds (time.process_time: what load from other processes does not
    change) to replay `steps` on the bare driver."""
    conn = sqlite3.connect(database, isolation_level=None, cached_statements=256)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    cur = conn.cursor()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for sql, params, many in steps:
        if many:
            cur.executemany(sql, params)
        else:
            cur.execute(sql, params)
            if sql.lstrip().upper().startswith("SELECT"):
                cur.fetchall()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    conn.close()
    return seconds, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-n", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (300 if args.quick else 2000)
    work = Path(tempfile.mkdtemp(prefix="flowdesk-floor-"))
    db = work / "refund.db"
    try:
        runtime = rp.open_runtime(f"sqlite:///{db}", MODEL, deploy=True)
        rp.run(runtime, 100)  # warm: definition cached, tables past their first pages
        runtime.store.engine.dispose()
        raw = sqlite3.connect(db)
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
        shutil.copy(db, work / "copy.db")
        recorder = Recorder()
        install(recorder, runtime.store.engine)
        recorder.on = True
        real = rp.run(runtime, n, offset=100)
        recorder.on = False
        runtime.store.close()
        steps = recorder.steps
        commits = sum(1 for s in steps if s[0] == "COMMIT")
        rows = sum(len(s[1]) if s[2] else 1 for s in steps if s[0] not in ("COMMIT", "BEGIN"))
        statements = sum(1 for s in steps if s[0] not in ("COMMIT", "BEGIN", "BEGIN IMMEDIATE"))
        event_rows = sum(len(s[1]) for s in steps if s[2] and "INTO events" in s[0])
        replays = [
            replay(shutil.copy(work / "copy.db", work / f"replay{i}.db"), steps) for i in range(2)
        ]
        floor_s = min(r[0] for r in replays)
        floor_cpu_ms = min(r[1] for r in replays) * 1000 / n
        floor = n / floor_s
        peer = peer_round("persisted", n)
        result = {
            "benchmark": "refund_floor",
            "n": n,
            "flowdesk_inst_per_s": real["inst_per_s"],
            "bare_driver_replay_inst_per_s": round(floor, 1),
            "flowdesk_share_of_floor": round(real["inst_per_s"] / floor, 3),
            "transactions_per_instance": round(commits / n, 2),
            "statements_and_rows_per_instance": round(rows / n, 1),
            "statements_per_instance": round(statements / n, 1),
            "event_rows_per_instance": round(event_rows / n, 1),
            "flowdesk_cpu_ms_per_inst": real["cpu_ms_per_inst"],
            "bare_driver_cpu_ms_per_inst": round(floor_cpu_ms, 3),
            "flowdesk_share_of_floor_cpu": round(floor_cpu_ms / real["cpu_ms_per_inst"], 3),
            "history_level": real.get("history_level"),
            "replay_us_per_transaction": round(floor_s / commits * 1e6, 1),
            "peer": peer.get("engine"),
            "peer_inst_per_s": peer["inst_per_s"],
            "flowdesk_vs_peer": round(real["inst_per_s"] / peer["inst_per_s"], 2),
            "floor_vs_peer": round(floor / peer["inst_per_s"], 2),
            "peer_cpu_ms_per_inst": peer.get("cpu_ms_per_inst"),
            "flowdesk_vs_peer_cpu": round(peer["cpu_ms_per_inst"] / real["cpu_ms_per_inst"], 2)
            if peer.get("cpu_ms_per_inst")
            else None,
            "floor_vs_peer_cpu": round(peer["cpu_ms_per_inst"] / floor_cpu_ms, 2)
            if peer.get("cpu_ms_per_inst")
            else None,
        }
        print(f"Flowdesk persisted       {real['inst_per_s']:8.1f} inst/s")
        print(f"bare-driver replay       {floor:8.1f} inst/s  (same statements and values)")
        print(
            f"per instance             {commits / n:.2f} transactions, "
            f"{rows / n:.1f} statements and rows ({statements / n:.1f} statements, "
            f"{event_rows / n:.1f} event rows)"
        )
        print(
            f"{peer.get('engine')} {peer['inst_per_s']:8.1f} inst/s persisted: Flowdesk "
            f"{result['flowdesk_vs_peer']}x, the bare-driver floor {result['floor_vs_peer']}x"
        )
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
