"""The event log over months: live database size and page times before and after `flowdesk
archive` moves the closed months to Parquet.

History: the demo seed (`flowdesk.demo.seed`, through intake, cases, claims, closing and
surveys) writes `--template-days` days ending now; those closed days' event rows are then
copied back in time, day by day, until `--days` days at `--contacts-per-day` are covered (a
bulk generator: the same rows as the seed writes, with fresh ids for events, cases, contacts,
customers, instances and work items, times shifted). Open cases of the last days stay live.

Measured, on the same SQLite file (WAL, synchronous NORMAL): generation time, events per
contact, live database size (pages in use and file size after VACUUM), archive time (wall and
CPU) and rate, Parquet size, and median times (TestClient through the real app, logged in as a
supervising agent) of the queue (`/work`), the desktop of an open work item (`/work/{id}`) and
the dashboards, before and after archiving. No peer: no other tool archives Flowdesk's log; the
Parquet files are checked by reading their rows back with Polars. Ends with one JSON line.

    python benchmarks/eventlog_archive.py --quick          # 35 days x 60 contacts
    python benchmarks/eventlog_archive.py --days 365 --contacts-per-day 1000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import text

from flowdesk.api.app import create_app
from flowdesk.app.archive import archive_events
from flowdesk.app.context import Ops
from flowdesk.auth.roles import permissions_of
from flowdesk.auth.service import Principal
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.core.clock import SystemClock
from flowdesk.demo.seed import seed
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

#: Every column holding an id of something the copy must not share with the template.
ID_COLUMNS = ("case_id", "contact_id", "customer_id", "process_instance_id")


def _shifted(column: str, n: str) -> str:
    """The column's id, made unique per copy (same length as a uuid)."""
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE substr({column}, 1, 27) || {n} END"


def copy_history(store: Store, template_days: list[str], days: int, per_day: int) -> int:
    """Copy the template days' rows back in time until `days` days of `per_day` contacts are
    covered. One INSERT ... SELECT per copy (SQLite), in one transaction per 20 copies."""
    with store.reading() as conn:
        contacts = {
            str(day): int(n)
            for day, n in conn.execute(
                text(
                    "SELECT substr(time, 1, 10), count(*) FROM events "
                    "WHERE type = 'contact.received' GROUP BY 1"
                )
            )
        }
    per_template_day = max(1, sum(contacts.get(d, 0) for d in template_days) // len(template_days))
    copies_per_day = max(1, round(per_day / per_template_day))
    columns = (
        "time, type, schema_version, source, case_id, contact_id, customer_id, "
        "process_instance_id, element_id, actor, department, channel, data, txid"
    )
    work_item = "json_extract(data, '$.work_item_id')"
    made = 0
    copy = 0
    started = datetime.fromisoformat(template_days[0])
    statements = []
    for back in range(1, days - len(template_days) + 1):
        day = started - timedelta(days=back)
        source = template_days[back % len(template_days)]
        shift = (datetime.fromisoformat(source) - day).days
        for _ in range(copies_per_day):
            copy += 1
            n = f"printf('%09d', {copy})"
            statements.append(
                f"INSERT INTO events (id, {columns}) SELECT substr(id, 1, 27) || {n}, "
                f"datetime(time, '-{shift} days') || substr(time, 20), type, schema_version, "
                f"source, {', '.join(_shifted(c, n) for c in ID_COLUMNS)}, element_id, actor, "
                f"department, channel, CASE WHEN {work_item} IS NULL THEN data ELSE "
                f"json_set(data, '$.work_item_id', {work_item} || '-' || {copy}) END, txid "
                f"FROM events WHERE substr(time, 1, 10) = '{source}' AND seq <= :top"
            )
            # the closed cases and ended instances too: the dashboards' tables grow as well
            back_in = f"'-{shift} days'"
            statements.append(
                f"INSERT INTO process_instances (id, definition_id, process_key, business_key, "
                f"status, version, state, parent_id, parent_token, started_at, ended_at) "
                f"SELECT substr(id, 1, 27) || {n}, definition_id, "
                f"process_key, business_key, status, version, state, "
                f"{_shifted('parent_id', n)}, parent_token, "
                f"datetime(started_at, {back_in}) || substr(started_at, 20), "
                f"datetime(ended_at, {back_in}) || substr(ended_at, 20) FROM process_instances "
                f"WHERE substr(started_at, 1, 10) = '{source}' AND ended_at IS NOT NULL"
            )
            statements.append(
                f"INSERT INTO cases (id, reference, customer_id, reason, process_key, "
                f"instance_id, status, owner, department, channel, opened_at, closed_at) "
                f"SELECT substr(id, 1, 27) || {n}, 'H' || substr(hex(randomblob(6)), 1, 11), "
                f"{_shifted('customer_id', n)}, reason, process_key, "
                f"{_shifted('instance_id', n)}, status, owner, department, channel, "
                f"datetime(opened_at, {back_in}) || substr(opened_at, 20), "
                f"datetime(closed_at, {back_in}) || substr(closed_at, 20) FROM cases "
                f"WHERE substr(opened_at, 1, 10) = '{source}' AND closed_at IS NOT NULL"
            )
    with store.reading() as conn:
        top = int(conn.execute(text("SELECT max(seq) FROM events")).scalar_one())
    for at in range(0, len(statements), 20):
        with store.unit_of_work() as uow:
            for statement in statements[at : at + 20]:
                rows = int(uow.connection.execute(text(statement), {"top": top}).rowcount)
                made += rows if statement.startswith("INSERT INTO events") else 0
    return made


def seeded_parquet_bytes(store: Store, folder: Path) -> float:
    """Parquet (zstd) bytes per event of the seeded rows alone: the copies share their
    payloads with the template, which compresses far better than a real history would."""
    from sqlalchemy import select

    from flowdesk.store.archive import _frame, _raw, write_month
    from flowdesk.store.tables import events

    with store.reading() as conn:
        rows = conn.execute(select(*(_raw(c, True) for c in events.columns))).all()
    frame = _frame(rows, sqlite=True)
    sample = folder / "seeded"
    write_month(sample, datetime(2000, 1, 1).date(), frame)
    size = sum(f.stat().st_size for f in sample.glob("*.parquet"))
    return round(size / max(1, frame.height), 1)


def db_size(store: Store, path: Path) -> dict[str, float]:
    with store.reading() as conn:
        page = int(conn.execute(text("PRAGMA page_size")).scalar_one())
        pages = int(conn.execute(text("PRAGMA page_count")).scalar_one())
        free = int(conn.execute(text("PRAGMA freelist_count")).scalar_one())
        rows = int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())
    return {"events_live": rows, "in_use_mb": round((pages - free) * page / 2**20, 1)}


def vacuumed_mb(store: Store, path: Path) -> float:
    import sqlite3

    store.engine.dispose()  # VACUUM runs outside a transaction, on a connection of its own
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return round(path.stat().st_size / 2**20, 1)


def login(client: TestClient, username: str) -> None:
    import re

    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"csrf": token.group(1), "username": username, "password": "flowdesk-demo"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def pages(url: str, store: Store, repeat: int) -> dict[str, float]:
    """Median ms of the queue, an open item's desktop and the dashboards."""
    with store.reading() as conn:
        item = conn.execute(
            text(
                "SELECT id FROM work_items WHERE status = 'open' AND candidate_groups LIKE "
                "'%front-office%' ORDER BY created_at DESC LIMIT 1"
            )
        ).scalar()
    out: dict[str, float] = {}
    app = create_app(Settings(database_url=url, embedded_worker=False), store)
    with TestClient(app) as client:
        login(client, "akeller")  # a front-office agent who supervises: queue and dashboards
        paths = ["/work", f"/work/{item}" if item else None, "/dashboards"]
        for path in [p for p in paths if p]:
            times, cpu = [], []
            for _ in range(repeat):
                start, cpu_start = time.perf_counter(), time.process_time()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - cpu_start) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            name = "desktop" if path.startswith("/work/") else path.strip("/") or "home"
            out[f"{name}_ms"] = round(statistics.median(times), 1)
            # CPU of this process (the app runs in it): the machine is shared, wall time is not
            out[f"{name}_cpu_ms"] = round(statistics.median(cpu), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--contacts-per-day", type=int, default=1000)
    parser.add_argument("--template-days", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", help="keep the database and archive in this folder")
    args = parser.parse_args()
    if args.quick:
        args.days, args.contacts_per_day, args.repeat, args.template_days = 35, 60, 2, 2
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fd-archive-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flowdesk.db"
    url = f"sqlite:///{path}"
    os.environ.setdefault("FLOWDESK_COMPANY_FILE", str(default_demo_dir() / "company.yaml"))
    result: dict[str, Any] = {
        "days": args.days,
        "contacts_per_day": args.contacts_per_day,
        "machine": "2 shared cores, loaded by other engineers",
    }
    store = Store.open(url)
    store.upgrade()
    store.archive_dir = folder / "archive"
    list(load_demo_content(store))
    now = datetime.now(UTC)
    started = time.perf_counter()
    per_template = max(10, args.contacts_per_day // 25)
    seed(
        store,
        default_demo_dir(),
        days=args.template_days + 2,
        seed=7,
        customers=500,
        cases_per_day=per_template,
        end=now,
    )
    result["seed_s"] = round(time.perf_counter() - started, 1)
    with store.reading() as conn:
        seeded = [
            str(d)
            for d in conn.execute(
                text(
                    "SELECT DISTINCT substr(time, 1, 10) FROM events "
                    "WHERE type = 'contact.received' ORDER BY 1"
                )
            ).scalars()
        ]
    # not the first day (the seed creates every customer then) nor today (cases just begun)
    template = [d for d in seeded[1:] if d < now.date().isoformat()]
    result["parquet_bytes_per_seeded_event"] = seeded_parquet_bytes(store, folder)
    started = time.perf_counter()
    copied = copy_history(store, template, args.days, args.contacts_per_day)
    result["bulk_s"] = round(time.perf_counter() - started, 1)
    result["events_generated"] = copied
    with store.reading() as conn:
        received = conn.execute(
            text("SELECT count(*) FROM events WHERE type = 'contact.received'")
        ).scalar_one()
    result["contacts"] = int(received)
    before = db_size(store, path)
    result["events_per_contact"] = round(before["events_live"] / max(1, result["contacts"]), 1)
    result["before"] = {**before, "vacuumed_mb": vacuumed_mb(store, path)}
    result["before"].update(pages(url, store, args.repeat))
    roles = ("admin",)
    caller = Principal("bench", "bench", "benchmark", roles, (), permissions_of(roles))
    clock = SystemClock()
    ops = Ops(store=store, clock=clock, runtime=ProcessRuntime(store, clock=clock))
    started, cpu = time.perf_counter(), time.process_time()
    report = archive_events(caller, ops, company_file=os.environ["FLOWDESK_COMPANY_FILE"])
    archive_s = time.perf_counter() - started
    archive_cpu = time.process_time() - cpu
    files = sorted((folder / "archive").glob("*.parquet"))
    parquet_rows = pl.scan_parquet(files).select(pl.len()).collect().item() if files else 0
    result["archive"] = {
        "seconds": round(archive_s, 1),
        "cpu_seconds": round(archive_cpu, 1),
        "events_archived": report["archived"],
        "events_expired": report["expired_live"] + report["expired_archived"],
        "events_per_s": round(report["archived"] / archive_s) if archive_s else None,
        "months": len(files),
        "parquet_mb": round(sum(f.stat().st_size for f in files) / 2**20, 1),
        "parquet_rows": parquet_rows,
    }
    after = db_size(store, path)
    result["after"] = {**after, "vacuumed_mb": vacuumed_mb(store, path)}
    result["after"].update(pages(url, store, args.repeat))
    store.close()
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
