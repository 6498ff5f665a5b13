"""`flowdesk demo seed`: a reproducible history for the demo company, through the real runtime.

A discrete-event simulation on a FixedClock: contacts arrive with a time-of-day curve and the
reason mix, each starts its experience flow for a generated customer; agents of the task's
department pick work up after a queue wait and finish it after a service time, answering the
task's form (values drawn from its JSON Schema, so gateways take every branch now and then,
including rework loops); customers reply to waiting flows after a delay; timers fire as the
clock passes them. Everything goes through ProcessRuntime, so the event log, work items and KPIs
have the shapes real operations produce.
"""

from __future__ import annotations

import heapq
import random
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from faker import Faker

from flowdesk.core.clock import FixedClock
from flowdesk.customers.bulk import SourceRow, import_rows
from flowdesk.experience.company import load_company
from flowdesk.experience.service import catalog, experience_for
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository

Progress = Callable[[str, int, int], None]

#: Share of the day's contacts arriving in each hour (08:00-20:00 peak, quiet nights).
HOURLY = [1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 11, 10, 9, 9, 10, 10, 9, 8, 7, 6, 4, 3, 2, 1]
WEEKDAY = [1.0, 0.95, 0.9, 0.9, 0.85, 0.5, 0.35]
#: Mean minutes of work per task and of waiting in the queue, by department.
WORK_MINUTES = {
    "front-office": 12,
    "billing": 25,
    "field-service": 90,
    "network-operations": 40,
    "retention": 20,
}
WAIT_MINUTES = {
    "front-office": 20,
    "billing": 180,
    "field-service": 600,
    "network-operations": 60,
    "retention": 120,
}
#: Work due in the last day before "now" is left undone, as a live queue would have it.
BACKLOG = timedelta(hours=24)
SEGMENTS = [("residential", 0.7), ("premium", 0.2), ("business", 0.1)]


@dataclass
class SeedReport:
    customers: int = 0
    cases: int = 0
    completed_cases: int = 0
    work_done: int = 0
    messages: int = 0
    timers: int = 0
    open_work: int = 0
    events: int = 0
    seconds: float = 0.0


class SeededUuids:
    """Random-looking but reproducible ids, so the same seed gives the same history."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed ^ 0x5EED)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False, default_factory=dict)


class Simulation:
    def __init__(
        self,
        store: Store,
        demo_dir: Path,
        *,
        days: int,
        seed: int,
        customers: int,
        cases_per_day: int,
        end: datetime | None = None,
    ) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.faker = Faker(["nl_NL", "en_GB"])
        self.faker.seed_instance(seed)
        self.days = days
        self.customer_count = customers
        self.cases_per_day = cases_per_day
        now = (end or datetime.now(UTC)).replace(second=0, microsecond=0)
        self.end = now
        self.clock = FixedClock(now - timedelta(days=days))
        self.runtime = ProcessRuntime(
            store,
            clock=self.clock,
            ids=SeededUuids(seed),
        )
        company = load_company(demo_dir / "company.yaml")
        self.agents: dict[str, list[str]] = {}
        for agent in company.get("agents", []):
            self.agents.setdefault(agent["department"], []).append(agent["username"])
        self.reasons = [(e.reason, e.process_key) for e in catalog(store)]
        self.queue: list[_Action] = []
        self.seq = 0
        self.known_items: set[str] = set()
        self.waiting: set[str] = set()  # subscription ids already scheduled
        self.customers: list[dict[str, Any]] = []
        self.report = SeedReport()

    # -- set-up -----------------------------------------------------------------------------
    def make_customers(self, progress: Progress | None) -> None:
        rows = []
        for n in range(1, self.customer_count + 1):
            given, family = self.faker.first_name(), self.faker.last_name()
            segment = self._pick(SEGMENTS)
            value = round(self.rng.lognormvariate(6.2 if segment != "business" else 7.5, 0.6), 2)
            rows.append(
                SourceRow(
                    n,
                    {
                        "given_name": given,
                        "family_name": family,
                        "email": f"{_slug(given)}.{_slug(family)}.{n}@example.nl",
                        "phone": f"+3161{n:07d}",
                        "birth_date": self.faker.date_of_birth(
                            minimum_age=18, maximum_age=90
                        ).isoformat(),
                        "street": self.faker.street_address(),
                        "city": self.faker.city(),
                        "postcode": self.faker.postcode(),
                        "country": "NL",
                        "segment": segment,
                        "value": str(value),
                    },
                )
            )
            self.customers.append({"segment": segment, "value": value, "name": f"{given} {family}"})
        with self.store.unit_of_work() as uow:
            result = import_rows(
                uow=uow,
                clock=self.clock,
                rows=rows,
                source="demo",
                actor="demo",
                progress=progress,
            )
        for customer, customer_id in zip(self.customers, result.customer_ids, strict=True):
            customer["id"] = customer_id
        self.report.customers = len(rows)

    def plan_arrivals(self) -> None:
        start = self.clock.now()
        for day in range(self.days + 1):
            date = start + timedelta(days=day)
            expected = self.cases_per_day * WEEKDAY[date.weekday()]
            count = max(0, round(self.rng.gauss(expected, expected**0.5)))
            for _ in range(count):
                hour = self._pick(list(enumerate(HOURLY)))
                at = date.replace(hour=hour, minute=0) + timedelta(minutes=self.rng.randrange(60))
                if start <= at < self.end:
                    self._schedule(at, "arrive", {})

    # -- the loop ---------------------------------------------------------------------------
    def run(self, progress: Progress | None = None) -> SeedReport:
        total = len(self.queue)
        done = 0
        while self.queue and self.queue[0].at < self.end:
            action = heapq.heappop(self.queue)
            if action.kind == "work" and action.at > self.end - BACKLOG:
                continue  # the morning's work is still waiting: the desktop opens on a queue
            self.clock.set(max(action.at, self.clock.now()))
            self.report.timers += self.runtime.run_due_jobs(limit=500)
            handler = getattr(self, f"_on_{action.kind}")
            handler(action.payload)
            if action.kind == "arrive":
                done += 1
                if progress is not None:
                    progress("simulating", done, total)
        self.clock.set(self.end)
        self.report.timers += self.runtime.run_due_jobs(limit=10_000)
        self.report.open_work = len(self.runtime.work_items())
        self.report.events = self.store.events.head()
        return self.report

    def _on_arrive(self, _: dict[str, Any]) -> None:
        reason, process_key = self.rng.choice(self.reasons)
        customer = self.rng.choice(self.customers)
        channel = self.rng.choice(["phone", "email", "chat", "web", "sms", "app"])
        reference = f"FD-{self.rng.randrange(16**6):06X}"
        state = self.runtime.start(
            process_key,
            {
                "customerId": customer["id"],
                "customerName": customer["name"],
                "segment": customer["segment"],
                "customerValue": customer["value"],
                "channel": channel,
                "reason": reason,
            },
            business_key=reference,
            actor="customer",
        )
        self.report.cases += 1
        self._follow(state.id)

    def _on_work(self, payload: dict[str, Any]) -> None:
        item_id = payload["item"]
        try:
            answers = self._answers(item_id)
        except Exception:  # the item was closed meanwhile (timer, cancellation)
            return
        try:
            state = self.runtime.complete_work_item(item_id, answers, actor=payload["agent"])
        except Exception:
            return  # closed by a boundary event in the meantime
        self.report.work_done += 1
        if state.status == "completed":
            self.report.completed_cases += 1
        self._follow(state.id)

    def _on_reply(self, payload: dict[str, Any]) -> None:
        hit = self.runtime.correlate_message(payload["name"], payload["key"], payload["vars"])
        if hit:
            self.report.messages += 1
            for instance_id in hit:
                self._follow(instance_id)

    # -- helpers ----------------------------------------------------------------------------
    def _follow(self, instance_id: str) -> None:
        """Schedule work for new items and replies for new message waits of an instance."""
        now = self.clock.now()
        for item in self.runtime.work_items(instance_id=instance_id):
            if item["id"] in self.known_items:
                continue
            self.known_items.add(item["id"])
            department = item["lane"] or (item["candidate_groups"] or ["front-office"])[0]
            dept = department.lower().replace(" ", "-")
            wait = self.rng.expovariate(1 / WAIT_MINUTES.get(dept, 60))
            work = self.rng.lognormvariate(0, 0.5) * WORK_MINUTES.get(dept, 20)
            agents = self.agents.get(dept) or [a for v in self.agents.values() for a in v]
            self._schedule(
                now + timedelta(minutes=wait + work),
                "work",
                {"item": item["id"], "agent": self.rng.choice(agents)},
            )
        with self.store.reading() as conn:
            subs = ProcessRepository(conn).instance_subscriptions(instance_id)
        for sub in subs:
            if sub["id"] in self.waiting or sub["kind"] != "message":
                continue
            self.waiting.add(sub["id"])
            if self.rng.random() < 0.8:  # some customers never answer: timers take over
                delay = timedelta(hours=self.rng.expovariate(1 / 20))
                self._schedule(
                    now + delay,
                    "reply",
                    {
                        "name": sub["name"],
                        "key": sub["correlation_key"],
                        "vars": {"customerReplied": True},
                    },
                )

    def _answers(self, item_id: str) -> dict[str, Any]:
        experience = experience_for(self.store, item_id, suggestions=0)
        schema = experience.form or {}
        answers: dict[str, Any] = {}
        for name, prop in (schema.get("properties") or {}).items():
            answers[name] = self._value(prop)
        for step in experience.script:
            if not step.variable or step.variable in answers:
                continue
            if step.options:
                answers[step.variable] = self.rng.choice(step.options)["value"]
            elif step.type in ("boolean", "number", "integer"):
                answers[step.variable] = self._value({"type": step.type})
            else:
                answers[step.variable] = self.faker.sentence(nb_words=5)
        return answers

    def _value(self, prop: dict[str, Any]) -> Any:
        if "enum" in prop:
            return self.rng.choice(prop["enum"])
        kind = prop.get("type")
        if kind == "boolean":
            return self.rng.random() < 0.8
        if kind in ("number", "integer"):
            low = prop.get("minimum", prop.get("exclusiveMinimum", 0)) or 0
            high = prop.get("maximum", low + 500)
            value = self.rng.triangular(low, min(high, low + 1000), low + (high - low) * 0.1)
            if kind == "integer":
                return max(int(low) + (1 if "exclusiveMinimum" in prop else 0), int(value))
            return round(max(value, low + 0.01), 2)
        if prop.get("format") == "date":
            return (self.clock.now() + timedelta(days=self.rng.randrange(1, 14))).date().isoformat()
        return self.faker.sentence(nb_words=6)

    def _schedule(self, at: datetime, kind: str, payload: dict[str, Any]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, _Action(at, self.seq, kind, payload))

    def _pick(self, weighted: list[tuple[Any, float]]) -> Any:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights=weights)[0]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower()) or "x"


def seed(
    store: Store,
    demo_dir: Path,
    *,
    days: int = 30,
    seed: int = 7,
    customers: int = 10_000,
    cases_per_day: int = 40,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    import time

    started = time.perf_counter()
    simulation = Simulation(
        store,
        demo_dir,
        days=days,
        seed=seed,
        customers=customers,
        cases_per_day=cases_per_day,
        end=end,
    )
    simulation.make_customers(progress)
    simulation.plan_arrivals()
    report = simulation.run(progress)
    report.seconds = round(time.perf_counter() - started, 2)
    return report
