"""Commits per second of a small engine-like transaction, raw driver vs Flowdesk's store.

The transaction is what one engine command writes: update one instance row (new state and
version), insert four event rows and one task row, commit. Variants: SQLite in WAL with
synchronous NORMAL and FULL, and a throwaway PostgreSQL 15 (fsync on), each once through the raw
DB-API driver (sqlite3 / psycopg, the same SQL and values) and once through `flowdesk.store.Store`
(SQLAlchemy Core, unit of work, event log append). Rounds of the variants alternate so machine
drift hits all alike; figures are medians. Ends with one JSON line.

    python benchmarks/store_commit.py [--quick] [--seconds S] [--rounds R] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, bindparam, update

from flowdesk.core.events import NewEvent
from flowdesk.core.jsonutil import dumps
from flowdesk.store import Store
from flowdesk.store.eventlog import PG_TXID
from flowdesk.testing.postgres import PostgresServer, find_pg_bin

bench_meta = MetaData()
instances = Table(
    "bench_instances",
    bench_meta,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state", JSON, nullable=False),
)
tasks = Table(
    "bench_tasks",
    bench_meta,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), nullable=False),
    Column("element_id", String(100), nullable=False),
    Column("state", String(20), nullable=False),
)
STATE = {"tokens": [{"id": "t1", "el": "approve"}], "vars": {"amount": 500, "approved": None}}
EVENT_COLUMNS = (
    "id, time, type, schema_version, source, case_id, contact_id, customer_id, "
    "process_instance_id, element_id, actor, department, channel, data"
)

Txn = Callable[[int], None]


def setup_schema(store: Store) -> None:
    store.upgrade()
    bench_meta.create_all(store.engine)
    with store.unit_of_work() as uow:
        uow.connection.execute(instances.insert().values(id="i1", version=0, state=STATE))


def store_txn(store: Store) -> Txn:
    """As the runtime writes: statements built once, executed with parameters."""
    now = datetime.now(UTC)
    save_instance = update(instances).where(instances.c.id == bindparam("iid"))
    insert_task = tasks.insert()

    def run(i: int) -> None:
        with store.unit_of_work() as uow:
            uow.connection.execute(save_instance, {"iid": "i1", "version": i, "state": STATE})
            uow.append(
                *(
                    NewEvent(
                        "element.completed",
                        now,
                        {"i": i, "k": k},
                        process_instance_id="i1",
                        element_id="approve",
                    )
                    for k in range(4)
                )
            )
            uow.connection.execute(
                insert_task,
                {
                    "id": str(uuid.uuid4()),
                    "instance_id": "i1",
                    "element_id": "notify",
                    "state": "open",
                },
            )

    return run


def event_params(i: int, now: str) -> list[tuple[object, ...]]:
    return [
        (
            str(uuid.uuid4()),
            now,
            "element.completed",
            1,
            "/flowdesk",
            None,
            None,
            None,
            "i1",
            "approve",
            None,
            None,
            None,
            dumps({"i": i, "k": k}),
        )
        for k in range(4)
    ]


def raw_sqlite_txn(path: str, synchronous: str) -> Txn:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    now = datetime.now(UTC).isoformat(sep=" ")
    state = dumps(STATE)
    insert_events = f"INSERT INTO events ({EVENT_COLUMNS}, txid) VALUES ({', '.join('?' * 14)}, 0)"

    def run(i: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE bench_instances SET version=?, state=? WHERE id=?", (i, state, "i1"))
        conn.executemany(insert_events, event_params(i, now))
        conn.execute(
            "INSERT INTO bench_tasks (id, instance_id, element_id, state) VALUES (?,?,?,?)",
            (str(uuid.uuid4()), "i1", "notify", "open"),
        )
        conn.execute("COMMIT")

    return run


def raw_pg_txn(url: str) -> Txn:
    import psycopg

    conn = psycopg.connect(url)
    now = datetime.now(UTC).isoformat()
    state = dumps(STATE)
    insert_events = (
        f"INSERT INTO events ({EVENT_COLUMNS}, txid) VALUES ({', '.join(['%s'] * 14)}, {PG_TXID})"
    )

    def run(i: int) -> None:
        with conn.cursor() as cur:
            cur.execute(
                "UPDATE bench_instances SET version=%s, state=%s WHERE id=%s", (i, state, "i1")
            )
            # Same row as the store writes: the transaction id for consumers' ordering.
            cur.executemany(insert_events, event_params(i, now))
            cur.execute(
                "INSERT INTO bench_tasks (id, instance_id, element_id, state) VALUES (%s,%s,%s,%s)",
                (str(uuid.uuid4()), "i1", "notify", "open"),
            )
        conn.commit()

    return run


def measure(txn: Txn, seconds: float, start: int) -> tuple[float, int]:
    n = 0
    t0 = time.perf_counter()
    while True:
        txn(start + n)
        n += 1
        if n % 20 == 0 and time.perf_counter() - t0 >= seconds:
            break
    return n / (time.perf_counter() - t0), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="whole run under 30 s")
    parser.add_argument("--seconds", type=float, default=3.0, help="per variant per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 0.8, 2

    tmp = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    variants: dict[str, Txn] = {}
    stores: list[Store] = []
    for sync in ("NORMAL", "FULL"):
        path = tmp / f"store-{sync}.db"
        store = Store.open(f"sqlite:///{path}", sqlite_synchronous=sync)
        setup_schema(store)
        stores.append(store)
        variants[f"sqlite_{sync.lower()}_store"] = store_txn(store)
        raw_path = tmp / f"raw-{sync}.db"
        raw_store = Store.open(f"sqlite:///{raw_path}")
        setup_schema(raw_store)
        raw_store.close()
        variants[f"sqlite_{sync.lower()}_raw"] = raw_sqlite_txn(str(raw_path), sync)

    pg: PostgresServer | None = None
    if not args.no_postgres and find_pg_bin() is not None:
        pg = PostgresServer(fsync=True).start()
        store = Store.open(pg.create_database("bench_store"))
        setup_schema(store)
        stores.append(store)
        variants["postgres_store"] = store_txn(store)
        raw_url = pg.create_database("bench_raw")
        raw_store = Store.open(raw_url)
        setup_schema(raw_store)
        raw_store.close()
        variants["postgres_raw"] = raw_pg_txn(raw_url)

    rates: dict[str, list[float]] = {name: [] for name in variants}
    counter = 1
    try:
        for txn in variants.values():  # warm-up
            measure(txn, 0.2, counter)
            counter += 10_000
        for _ in range(args.rounds):
            for name, txn in variants.items():
                rate, n = measure(txn, args.seconds, counter)
                counter += n + 1
                rates[name].append(rate)
    finally:
        for s in stores:
            s.close()
        if pg is not None:
            pg.stop()

    medians = {name: round(statistics.median(r), 1) for name, r in rates.items()}
    print(f"{'variant':<22} {'commits/s':>10}   (median of {args.rounds} rounds)")
    for name, value in medians.items():
        print(f"{name:<22} {value:>10,.1f}")
    ratios = {}
    for backend in ("sqlite_normal", "sqlite_full", "postgres"):
        if f"{backend}_store" in medians:
            ratio = medians[f"{backend}_store"] / medians[f"{backend}_raw"]
            ratios[f"{backend}_store_vs_raw"] = round(ratio, 3)
            print(f"{backend}: store / raw = {ratio:.2f} (goal >= 0.5)")
    print(
        json.dumps(
            {
                "benchmark": "store_commit",
                "commits_per_s": medians,
                "ratios": ratios,
                "seconds": args.seconds,
                "rounds": args.rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
