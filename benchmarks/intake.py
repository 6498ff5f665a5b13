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
processing and, for a new case, the flow start) one after the other.

Reason classifier: BANKING77 (the intent data set the issue names) is not shipped by any PyPI
package we could find, and nothing may be downloaded at run time here, so the classifier
figures are on Flowdesk's own labelled fixture (8 demo reasons, 360 examples) and its
independent 40-sentence file; they say little about a 77-class task.
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from flowdesk.contacts import classifier  # noqa: E402
from flowdesk.contacts.intake import Intake  # noqa: E402
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
        with store.unit_of_work() as uow:
            for i in range(500):
                email, phone = f"customer{i}@example.com", f"+4479111{i:05d}"
                create_customer(
                    uow=uow, clock=clock, identities=[("email", email), ("phone", phone)]
                )
                people.append((email, phone))
        rows = classifier.read_examples(DATA / "reasons.csv")
        started = time.perf_counter()
        model = classifier.train(store, clock, rows)
        train_s = time.perf_counter() - started
        holdout = classifier.evaluate(store, classifier.read_examples(DATA / "reasons_holdout.csv"))
        texts = [t for t, _ in classifier.read_examples(DATA / "reasons_holdout.csv")]

        open_refs: dict[str, str] = {}
        timings: list[float] = []
        actions: dict[str, int] = {}
        begin = time.perf_counter()
        n = 0
        while n < total:
            known = rng.random() < 0.7
            email, phone = (
                rng.choice(people) if known else (f"new{n}@example.com", f"+4479112{n:05d}")
            )
            kind = rng.choice(["web", "chat", "sms", "email"])
            text = rng.choice(texts)
            if email in open_refs and rng.random() < 0.1:
                text = f"about {open_refs[email]}: {text}"
            raw = payload(kind, email, phone, text, n)
            repeats = 2 if rng.random() < 0.05 and n + 1 < total else 1
            for _ in range(repeats):
                t0 = time.perf_counter()
                result = intake.submit(kind, raw)
                timings.append(time.perf_counter() - t0)
                actions[result.action] = actions.get(result.action, 0) + 1
                if result.case_reference and result.action == "started":
                    open_refs[email] = result.case_reference
                n += 1
        elapsed = time.perf_counter() - begin
        store.close()
    timings.sort()
    figures = {
        "benchmark": "intake",
        "backend": "sqlite",
        "contacts": total,
        "seconds": round(elapsed, 3),
        "contacts_per_s": round(total / elapsed, 1),
        "p50_ms": round(statistics.median(timings) * 1000, 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 2),
        "actions": actions,
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
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms; {actions}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
