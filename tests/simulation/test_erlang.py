"""The simulation against queueing theory: M/M/c (Erlang C) and M/M/c+M (Erlang A).

One flow with one step, one department of c agents around the clock, Poisson arrivals on the
phone, exponential work (and patience): the simulated waiting probability, mean wait and
service level must lie within 2 % (relative) of the analytic values, and the analytic value
inside the 95 % confidence interval of the replications. Seeds are fixed, so the test is
deterministic; the replication counts are what keeps the intervals near 2 % in a few seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flowdesk.simulation.dists import Dist
from flowdesk.simulation.engine import simulate
from flowdesk.simulation.erlang import erlang_a_figures, erlang_c, erlang_c_figures
from flowdesk.simulation.model import END, TASK, Agent, Flow, Model, Node, Stream
from flowdesk.simulation.results import ci


def queue_model(arrival: float, service: float, servers: int, patience: float | None) -> Model:
    step = Node("answer", TASK, ["done"], work=Dist("exp", service), department="desk")
    flow = Flow("call", "answer", {"answer": step, "done": Node("done", END)})
    return Model(
        start=datetime(2026, 1, 5, tzinfo=UTC),
        flows={"call": flow},
        streams=[Stream("call", "question", "phone", [arrival * 60] * 168)],
        agents=[Agent(f"agent{i}", "desk") for i in range(servers)],
        patience={} if patience is None else {"phone": Dist("exp", patience)},
    )


def check(
    model: Model, analytic: dict[str, float], threshold: float, *, runs: int, days: float
) -> None:
    measured: dict[str, list[float]] = {"p_wait": [], "mean_wait": [], "service_level": []}
    for seed in range(1, runs + 1):
        r = simulate(model, days, seed=seed, warmup_days=0.5)
        measured["p_wait"].append(r.waiting_waited / r.waiting_offered)
        measured["mean_wait"].append(sum(r.waiting_waits) / r.waiting_offered)
        served = sum(1 for w in r.waiting_served_waits if w <= threshold)
        measured["service_level"].append(served / r.waiting_offered)
    for name, expected in analytic.items():
        interval = ci(measured[name])
        error = abs(interval["mean"] - expected) / expected
        assert error < 0.02, (name, interval, expected)
        assert interval["low"] <= expected <= interval["high"], (name, interval, expected)


def test_erlang_c_closed_form_matches_the_textbook_example() -> None:
    # 10 Erlangs on 12 agents: P(wait) = 0.4494 (Erlang C tables)
    assert erlang_c(12, 10.0) == pytest.approx(0.4494, abs=1e-4)
    # with patience that never runs out, Erlang A is Erlang C
    c = erlang_c_figures(12, 1.0, 10.0, 0.5)
    a = erlang_a_figures(12, 1.0, 10.0, 1e12, 0.5)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-6)
    assert a.mean_wait == pytest.approx(c.mean_wait, rel=1e-4)


def test_mmc_waiting_probability_mean_wait_and_service_level_match_erlang_c() -> None:
    arrival, service, servers, threshold = 0.12, 10.0, 2, 5.0
    figures = erlang_c_figures(servers, arrival, service, threshold)
    analytic = {
        "p_wait": figures.p_wait,
        "mean_wait": figures.mean_wait,
        "service_level": figures.service_level,
    }
    check(queue_model(arrival, service, servers, None), analytic, threshold, runs=40, days=50)


def test_mmc_with_abandonment_matches_erlang_a() -> None:
    arrival, service, servers, patience, threshold = 1.1, 10.0, 10, 3.0, 0.5
    figures = erlang_a_figures(servers, arrival, service, patience, threshold)
    analytic = {
        "p_wait": figures.p_wait,
        "mean_wait": figures.mean_wait,
        "service_level": figures.service_level,
    }
    check(queue_model(arrival, service, servers, patience), analytic, threshold, runs=24, days=5)
