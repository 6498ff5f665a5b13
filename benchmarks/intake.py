#!/usr/bin/env python3
"""Contacts per second end to end on SQLite: store raw, identify, recognise, attach or start.

    .venv/bin/python benchmarks/intake.py            # 2,000 contacts
    .venv/bin/python benchmarks/intake.py --quick    # 300 contacts, under 30 s

Setup (not timed): a fresh SQLite file, the 8 demo flows deployed, 500 known customers, the
reason model trained on tests/data/contacts/reasons.csv. Workload, in a fixed random order:
web forms, chat, SMS and email from known customers (70 %) and unknown senders, with texts of
tests/data/contacts/reasons_holdout.csv (recognised by keyword rules or the model), 10 % that
quote the reference of the sender's open case (attached), 5 % resubmitted at once (merged as
duplicates). Each contact goes through `Intake.submit` (its own raw-store transaction, then
processing and, for a new case, the flow start, in a second one) one after the other.

Checked after the timed loop, for every contact: its stored status matches the answer; a known
sender resolved to that customer, an unknown one to a new (provisional) one, the same one each
time; a started case has its flow instance and reference; a resubmission was merged into the
contact it repeats; a quoted reference attached to that case. Any mismatch stops the run.

Cost per contact (for the capacity model): CPU ms (process time of the loop), SQL statements
and transactions (counted by SQLite's trace callback: every statement, the engine's own
driver-level ones too), rows and bytes added to the database (page count after a checkpoint).

Reason classifier: BANKING77 (the intent data set the issue names) is not shipped by any PyPI
package we could find, and nothing may be downloaded at run time here, so the classifier
figures are on Flowdesk's own labelled fixture (8 demo reasons, 360 examples) and its
independent 40-sentence file; they say little about a 77-class task.
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from sqlalchemy import event, text  # noqa: E402

from flowdesk.contacts import classifier  # noqa: E402
from flowdesk.contacts.intake import Intake, IntakeResult  # noqa: E402
from flowdesk.core.clock import SystemClock  # noqa: E402
from flowdesk.customers.service import create_customer  # noqa: E402
from flowdesk.demo import COMPANY_DIR  # noqa: E402
from flowdesk.experience.service import deploy_bundle  # noqa: E402
from flowdesk.store import Store  # noqa: E402

DATA = REPO / "tests" / "data" / "contacts"


def payload(kind: str, sender_email: str, sender_phone: str, text: str, n: int) -> bytes:
    if kind == "email":
        message = EmailMessage()
        message["From"] = sender_email
        message["To"] = "service@northwind.example"
        message["Subject"] = text[:40]
        message["Message-ID"] = f"<bench{n}@example.com>"
        message.set_content(text)
        return message.as_bytes()
    if kind == "sms":
        return json.dumps({"from": sender_phone, "text": text}).encode()
    if kind == "chat":
        return json.dumps({"session_id": f"s{n}", "email": sender_email, "text": text}).encode()
    return json.dumps({"email": sender_email, "message": text}).encode()


def _database(store: Store) -> dict[str, int]:
    """Rows in every table and bytes in use (pages after a WAL checkpoint, less free ones)."""
    raw = store.engine.raw_connection()  # outside any transaction: a checkpoint needs that
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        names = [r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = sum(cur.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names)
        pages, free, size = (
            cur.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("page_count", "freelist_count", "page_size")
        )
    finally:
        raw.close()
    return {"rows": int(rows), "bytes": int((pages - free) * size)}


def check(
    store: Store,
    outcomes: list[tuple[str, bool, str | None, int, IntakeResult]],
    customer_of: dict[str, str],
) -> None:
    """Every contact's outcome, as stored, against what its sender and text call for."""
    with store.engine.connect() as conn:
        stored = {
            r.id: r
            for r in conn.execute(
                text("SELECT id, status, customer_id, case_id, duplicate_of FROM contacts")
            )
        }
        cases = {
            r.id: r
            for r in conn.execute(text("SELECT id, reference, instance_id, customer_id FROM cases"))
        }
    new_senders: dict[str, str] = {}
    previous: dict[str, str] = {}
    for email, known, quoted, repeat, result in outcomes:
        r = result
        row = stored[r.contact_id]
        problem = None
        if row.status != r.status:
            problem = f"stored {row.status}, answered {r.status}"
        elif r.action == "failed":
            problem = f"failed: {r.error}"
        elif known and r.customer_id != customer_of[email]:
            problem = "a known sender resolved to another customer"
        elif not known and new_senders.setdefault(email, r.customer_id) != r.customer_id:
            problem = "an unknown sender got two customers"
        elif not known and r.customer_id in customer_of.values():
            problem = "an unknown sender resolved to a known customer"
        elif repeat and (
            r.action != "duplicate"
            or row.duplicate_of not in (previous[email], stored[previous[email]].duplicate_of)
        ):
            problem = "a resubmission was not merged into the contact it repeats"
        elif r.action == "started":
            case = cases.get(r.case_id)
            if case is None or case.instance_id != r.instance_id or not r.instance_id:
                problem = "a started case without its flow instance"
            elif case.reference != r.case_reference or case.customer_id != r.customer_id:
                problem = "a started case with another reference or customer"
        elif (
            quoted
            and r.action == "attached"
            and (r.case_reference != quoted or row.case_id != r.case_id)
        ):
            problem = f"quoted {quoted}, attached to {r.case_reference}"
        if problem is not None:
            raise SystemExit(f"contact {r.contact_id} ({email}): {problem}")
        if not repeat:
            previous[email] = r.contact_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--contacts", type=int, default=None)
    args = parser.parse_args()
    total = args.contacts or (300 if args.quick else 2000)
    rng = random.Random(5)
    clock = SystemClock()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/bench.db")
        store.upgrade()
        intake = Intake(store, clock=clock, default_region="GB")
        for bundle in sorted(COMPANY_DIR.glob("*/flow.yaml")):
            deploy_bundle(intake.runtime, store, bundle.parent)
        people = []
        customer_of: dict[str, str] = {}
        with store.unit_of_work() as uow:
            for i in range(500):
                email, phone = f"customer{i}@example.com", f"+4479111{i:05d}"
                made = create_customer(
                    uow=uow, clock=clock, identities=[("email", email), ("phone", phone)]
                )
                people.append((email, phone))
                customer_of[email] = made.id
        rows = classifier.read_examples(DATA / "reasons.csv")
        started = time.perf_counter()
        model = classifier.train(store, clock, rows)
        train_s = time.perf_counter() - started
        holdout = classifier.evaluate(store, classifier.read_examples(DATA / "reasons_holdout.csv"))
        texts = [t for t, _ in classifier.read_examples(DATA / "reasons_holdout.csv")]

        open_refs: dict[str, str] = {}
        timings: list[float] = []
        actions: dict[str, int] = {}
        outcomes: list[tuple[str, bool, str | None, int, IntakeResult]] = []
        counter = [0]

        def play(count: int, timed: bool) -> None:
            """`count` contacts of the workload (the next ones of the same random stream)."""
            end = counter[0] + count
            while counter[0] < end:
                n = counter[0]
                known = rng.random() < 0.7
                email, phone = (
                    rng.choice(people) if known else (f"new{n}@example.com", f"+4479112{n:05d}")
                )
                kind = rng.choice(["web", "chat", "sms", "email"])
                said = rng.choice(texts)
                quoted = None
                if email in open_refs and rng.random() < 0.1:
                    quoted = open_refs[email]
                    said = f"about {quoted}: {said}"
                raw = payload(kind, email, phone, said, n)
                repeats = 2 if rng.random() < 0.05 and n + 1 < end else 1
                for repeat in range(repeats):
                    t0 = time.perf_counter()
                    result = intake.submit(kind, raw)
                    if timed:
                        timings.append(time.perf_counter() - t0)
                        actions[result.action] = actions.get(result.action, 0) + 1
                    if result.case_reference and result.action == "started":
                        open_refs[email] = result.case_reference
                    outcomes.append((email, known, quoted, repeat, result))
                    counter[0] += 1

        before = _database(store)
        cpu = time.process_time()
        begin = time.perf_counter()
        play(total, True)
        elapsed = time.perf_counter() - begin
        cpu = time.process_time() - cpu
        after = _database(store)

        # Statements and transactions, counted on a further, untimed sample of the same
        # workload: SQLite's trace callback costs time of its own.
        sample = min(200, total)
        statements: dict[str, int] = {"all": 0, "commit": 0}

        def trace(sql: str) -> None:
            statements["all"] += 1
            if sql == "COMMIT":
                statements["commit"] += 1

        def traced(dbapi: object, *_: object) -> None:
            dbapi.set_trace_callback(trace)

        store.engine.dispose()  # new connections, each traced
        event.listen(store.engine, "connect", traced)
        play(sample, False)
        event.remove(store.engine, "connect", traced)
        store.engine.dispose()
        check(store, outcomes, customer_of)
        store.close()
    timings.sort()
    load = os.getloadavg()[0]
    figures = {
        "benchmark": "intake",
        "backend": "sqlite",
        "contacts": total,
        "seconds": round(elapsed, 3),
        "contacts_per_s": round(total / elapsed, 1),
        "p50_ms": round(statistics.median(timings) * 1000, 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 2),
        "actions": actions,
        "cpu_ms_per_contact": round(cpu / total * 1000, 2),
        "statements_per_contact": round(statements["all"] / sample, 1),
        "transactions_per_contact": round(statements["commit"] / sample, 2),
        "rows_per_contact": round((after["rows"] - before["rows"]) / total, 1),
        "db_bytes_per_contact": round((after["bytes"] - before["bytes"]) / total),
        "load_average_1m": round(load, 2),
        "classifier": {
            "algorithm": model.algorithm,
            "train_seconds": round(train_s, 2),
            "held_out_accuracy": round(model.held_out.accuracy, 4),
            "held_out_macro_f1": round(model.held_out.macro_f1, 4),
            "independent_accuracy": round(holdout.accuracy, 4),
            "independent_macro_f1": round(holdout.macro_f1, 4),
            "dataset": "own fixture, 8 reasons / 360 examples (BANKING77 not available offline)",
        },
    }
    print(
        f"{total} contacts in {elapsed:.1f} s: {figures['contacts_per_s']} contacts/s, "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms; {actions}; "
        f"{figures['cpu_ms_per_contact']} CPU ms, {figures['statements_per_contact']} statements, "
        f"{figures['transactions_per_contact']} transactions a contact (load {load:.1f})"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
