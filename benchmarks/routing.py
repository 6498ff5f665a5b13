"""Routing decisions/s and p99 assignment latency with 1,000 agents and 100,000 queued items.

Two set-ups, same synthetic workload (seeded): agents with 2-3 of 6 skills (levels 1-5), one
or two of three languages, one or two of five departments, default capacity (3 chats or 1 call
or 5 emails or 5 tasks); items on four channels, 0-1 required skill, an optional language,
30 % with an SLA deadline, reason priority and customer value at random.

* engine: the pure in-memory engine (`flowdesk.routing.RoutingEngine`). Continuous arrivals:
  every decision one new item arrives and the clock moves on (so SLA reviews re-score items,
  with the default priority formula; FEEL scoring cost is measured beside it);
  an agent at capacity first finishes its oldest work. Pull = "next best work item" for a
  random agent; push = the agent who just freed capacity gets the best offer and accepts.
* store: `RoutingService` on SQLite (WAL, synchronous NORMAL) with the same queue: each pull is
  one transaction (review, agent load, one index probe per class the agent serves, the
  conditional update and the event); each arrival is its own transaction too.

Latency is per decision: wall clock around the call (p50, p99), and the thread's CPU time
(p99_cpu), which leaves out time the process was not scheduled; on a shared, loaded machine
the wall-clock p99 is dominated by scheduler slices of about 4 ms. Ends with one JSON line.

    python benchmarks/routing.py [--quick] [--agents N] [--items N] [--decisions N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flowdesk.core.clock import FixedClock
from flowdesk.routing import (
    DEFAULT_EXPRESSION,
    Agent,
    Item,
    Presence,
    PriorityPolicy,
    RoutingEngine,
)
from flowdesk.routing.models import routing_agents
from flowdesk.routing.service import RoutingService, WorkRef
from flowdesk.store import Store

SKILLS = ("billing", "tech", "sales", "retention", "claims", "mobile")
LANGUAGES = ("nl", "en", "de")
DEPARTMENTS = ("support", "billing", "sales", "claims", "backoffice")
CHANNELS = ("chat", "email", "call", "task")
CHANNEL_WEIGHTS = (0.4, 0.3, 0.1, 0.2)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_agent(rng: random.Random, n: int) -> Agent:
    return Agent(
        f"agent-{n:04d}",
        skills={s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(2, 3))},
        languages=frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))),
        departments=frozenset(rng.sample(DEPARTMENTS, rng.randint(1, 2))),
    )


def make_item(rng: random.Random, n: int, now: datetime) -> Item:
    skills = {rng.choice(SKILLS): rng.choice((1, 3))} if rng.random() < 0.5 else {}
    return Item(
        f"item-{n:07d}",
        rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
        now - timedelta(seconds=rng.randint(0, 3600)),
        department=rng.choice(DEPARTMENTS),
        skills=skills,
        language=rng.choice((None, *LANGUAGES)),
        due_at=now + timedelta(seconds=rng.randint(300, 480 * 60)) if rng.random() < 0.3 else None,
        customer_value=round(rng.random() * 10, 2),
        churn_risk=round(rng.random(), 2),
        reason_priority=rng.randint(0, 3),
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_engine(agents: int, items: int, decisions: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    engine = RoutingEngine(PriorityPolicy())
    now = T0
    for n in range(agents):
        engine.upsert_agent(make_agent(rng, n))
        engine.set_presence(f"agent-{n:04d}", Presence.AVAILABLE, now)
    started = time.perf_counter()
    for n in range(items):
        engine.enqueue(make_item(rng, n, now), now)
    enqueue_s = time.perf_counter() - started
    held: dict[str, deque[str]] = {a: deque() for a in engine.agents}
    agent_ids = list(engine.agents)
    next_id = items

    def arrive() -> None:
        nonlocal next_id
        engine.enqueue(make_item(rng, next_id, now), now)
        next_id += 1

    def free(agent_id: str) -> None:
        agent = engine.agents[agent_id]
        while held[agent_id] and not any(agent.fits(c) for c in agent.capacity):
            engine.close(held[agent_id].popleft())

    pull_lat: list[float] = []
    pull_cpu: list[float] = []
    assigned = 0
    pull_wall = 0.0
    for _ in range(decisions):
        now += timedelta(seconds=1)
        arrive()
        agent_id = rng.choice(agent_ids)
        free(agent_id)
        c, t = time.thread_time(), time.perf_counter()
        engine.review(now)
        got = engine.pull(agent_id, now)
        dt = time.perf_counter() - t
        pull_cpu.append(time.thread_time() - c)
        pull_wall += dt
        pull_lat.append(dt)
        if got is not None:
            assigned += 1
            held[agent_id].append(got.id)
    push_lat: list[float] = []
    push_cpu: list[float] = []
    offered = 0
    push_wall = 0.0
    for _ in range(decisions):
        now += timedelta(seconds=1)
        arrive()
        agent_id = rng.choice(agent_ids)
        if held[agent_id]:
            engine.close(held[agent_id].popleft())
        c, t = time.thread_time(), time.perf_counter()
        offers = engine.dispatch(now, limit=1, ready={agent_id})
        for offer in offers:
            engine.accept(offer.id, offer.agent_id, now)
        dt = time.perf_counter() - t
        push_cpu.append(time.thread_time() - c)
        push_wall += dt
        push_lat.append(dt)
        for offer in offers:
            offered += 1
            held[offer.agent_id].append(offer.item_id)
    return {
        "agents": agents,
        "queued_at_start": items,
        "classes": len(engine._classes),
        "enqueue_per_s": round(items / enqueue_s),
        "pull_decisions_per_s": round(decisions / pull_wall),
        "pull_assigned": assigned,
        "pull_p50_us": round(pct(pull_lat, 0.5) * 1e6, 1),
        "pull_p99_us": round(pct(pull_lat, 0.99) * 1e6, 1),
        "pull_p99_cpu_us": round(pct(pull_cpu, 0.99) * 1e6, 1),
        "push_decisions_per_s": round(decisions / push_wall),
        "push_offered": offered,
        "push_p50_us": round(pct(push_lat, 0.5) * 1e6, 1),
        "push_p99_us": round(pct(push_lat, 0.99) * 1e6, 1),
        "push_p99_cpu_us": round(pct(push_cpu, 0.99) * 1e6, 1),
        "queued_at_end": sum(engine.queue_sizes().values()),
    }


def bench_priority(seed: int, n: int = 5000) -> dict[str, Any]:
    """Scoring cost: the default formula natively vs the same formula as a FEEL expression."""
    rng = random.Random(seed)
    items = [make_item(rng, i, T0) for i in range(n)]
    out: dict[str, Any] = {}
    for name, policy in (
        ("native", PriorityPolicy()),
        ("feel", PriorityPolicy(expression=DEFAULT_EXPRESSION)),
    ):
        t = time.perf_counter()
        for it in items:
            policy.base(it, T0)
        out[f"{name}_scores_per_s"] = round(n / (time.perf_counter() - t))
    return out


def bench_store(agents: int, items: int, decisions: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'routing.db'}")
        store.upgrade()
        clock = FixedClock(T0)
        service = RoutingService(store, clock=clock)
        made = [make_agent(rng, n) for n in range(agents)]
        with store.unit_of_work() as uow:
            uow.connection.execute(
                routing_agents.insert(),
                [
                    {
                        "id": a.id,
                        "display_name": a.id,
                        "skills": dict(a.skills),
                        "languages": sorted(a.languages),
                        "departments": sorted(a.departments),
                        "capacity": dict(a.capacity),
                        "presence": "available",
                        "presence_since": T0,
                        "idle_since": T0,
                        "updated_at": T0,
                    }
                    for a in made
                ],
            )
        started = time.perf_counter()
        service.enqueue_many([(make_item(rng, n, T0), WorkRef()) for n in range(items)])
        enqueue_s = time.perf_counter() - started
        held: dict[str, deque[str]] = {a.id: deque() for a in made}
        agent_ids = list(held)
        lat: list[float] = []
        cpu: list[float] = []
        assigned = 0
        wall = 0.0
        arrive_lat: list[float] = []
        next_id = items
        for _ in range(decisions):
            clock.advance(seconds=1)
            t = time.perf_counter()
            service.enqueue(make_item(rng, next_id, clock.now()))
            arrive_lat.append(time.perf_counter() - t)
            next_id += 1
            agent_id = rng.choice(agent_ids)
            # the agent finishes its oldest work first, so it holds at most two items
            while len(held[agent_id]) >= 3:
                service.close(held[agent_id].popleft())
            c, t = time.thread_time(), time.perf_counter()
            got = service.pull(agent_id)
            dt = time.perf_counter() - t
            cpu.append(time.thread_time() - c)
            wall += dt
            lat.append(dt)
            if got is not None:
                assigned += 1
                held[agent_id].append(got["id"])
        store.close()
    return {
        "agents": agents,
        "queued_at_start": items,
        "enqueue_many_per_s": round(items / enqueue_s),
        "pull_decisions_per_s": round(decisions / wall),
        "pull_assigned": assigned,
        "pull_p50_ms": round(pct(lat, 0.5) * 1e3, 2),
        "pull_p99_ms": round(pct(lat, 0.99) * 1e3, 2),
        "pull_p99_cpu_ms": round(pct(cpu, 0.99) * 1e3, 2),
        "arrival_p50_ms": round(statistics.median(arrive_lat) * 1e3, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller store phase; under 30 s")
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--store-items", type=int, default=None)
    ap.add_argument("--decisions", type=int, default=None)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    decisions = args.decisions or (2_000 if args.quick else 20_000)
    store_items = args.store_items or (10_000 if args.quick else args.items)
    store_decisions = 200 if args.quick else 2_000
    print(f"engine: {args.agents} agents, {args.items} queued, {decisions} decisions ...")
    engine = bench_engine(args.agents, args.items, decisions, args.seed)
    for k, v in engine.items():
        print(f"  {k}: {v}")
    priority = bench_priority(args.seed)
    print(f"  priority: {priority}")
    engine["priority"] = priority
    print(f"store (SQLite): {args.agents} agents, {store_items} queued ...")
    store = bench_store(args.agents, store_items, store_decisions, args.seed)
    for k, v in store.items():
        print(f"  {k}: {v}")
    print(
        json.dumps(
            {"benchmark": "routing", "quick": args.quick, "engine": engine, "store_sqlite": store}
        )
    )


if __name__ == "__main__":
    main()
