"""Queueing formulas: Erlang C (M/M/c) and Erlang A (M/M/c+M).

The oracle the simulation is checked against, and the first guess of the staffing search.
Erlang A is computed exactly from the birth-death chain (truncated where the tail is below
1e-12) rather than from the closed forms with incomplete gamma functions, which lose
precision at high load; with patience rate 0 it is Erlang C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QueueFigures:
    p_wait: float  # an arrival finds every agent busy
    mean_wait: float  # over all arrivals (abandoners: until they hang up), minutes
    service_level: float  # share of arrivals served within `threshold` minutes
    p_abandon: float
    threshold: float


def erlang_c(servers: int, load: float) -> float:
    """P(wait) for `load` = lambda / mu Erlangs on `servers` agents (1.0 if overloaded)."""
    if load >= servers:
        return 1.0
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= load / k
        total += term
    last = term * load / servers * servers / (servers - load)
    return last / (total + last)


def erlang_c_figures(
    servers: int, arrival: float, service: float, threshold: float
) -> QueueFigures:
    """M/M/c: `arrival` per minute, `service` mean minutes, wait threshold in minutes."""
    mu = 1.0 / service
    load = arrival * service
    pw = erlang_c(servers, load)
    if load >= servers:
        return QueueFigures(1.0, math.inf, 0.0, 0.0, threshold)
    rate = servers * mu - arrival
    return QueueFigures(pw, pw / rate, 1.0 - pw * math.exp(-rate * threshold), 0.0, threshold)


def erlang_a_figures(
    servers: int, arrival: float, service: float, patience: float, threshold: float
) -> QueueFigures:
    """M/M/c+M with exponential patience of mean `patience` minutes (math.inf: Erlang C)."""
    if not math.isfinite(patience):
        return erlang_c_figures(servers, arrival, service, threshold)
    mu, theta = 1.0 / service, 1.0 / patience
    # stationary distribution of the number in system, built on logs to avoid overflow
    logs = [0.0]
    n = 0
    while True:
        n += 1
        death = min(n, servers) * mu + max(n - servers, 0) * theta
        logs.append(logs[-1] + math.log(arrival / death))
        if n > servers and logs[-1] - max(logs) < math.log(1e-14):
            break
    top = max(logs)
    weights = np.exp(np.asarray(logs) - top)
    pi = weights / weights.sum()
    queue = pi[servers:]  # arrivals that find k = 0, 1, ... ahead of them in the queue
    pw = float(queue.sum())
    lq = float((np.arange(len(queue)) * queue).sum())  # mean number waiting
    mean_wait = _mean_wait(queue, servers, mu, theta)
    p_abandon = theta * lq / arrival  # hang-ups per minute over arrivals per minute
    served_by = _served_within(queue, servers, mu, theta, threshold)
    return QueueFigures(pw, mean_wait, (1.0 - pw) + served_by, p_abandon, threshold)


def _mean_wait(queue: np.ndarray, servers: int, mu: float, theta: float) -> float:
    """E[time in queue] of an arrival: with j ahead, the next queue departure ahead comes at
    rate c*mu + j*theta (served or hung up); the arrival's own patience competes throughout."""
    expected = 0.0
    m_prev = 0.0  # expected time in queue with j - 1 ahead (0 before the head: served)
    for j in range(len(queue)):
        out = servers * mu + j * theta  # the queue ahead shrinks
        rate = out + theta  # or the customer hangs up
        m_j = 1.0 / rate + (out / rate) * m_prev
        expected += float(queue[j]) * m_j
        m_prev = m_j
    return expected


def _served_within(
    queue: np.ndarray, servers: int, mu: float, theta: float, threshold: float
) -> float:
    """P(an arrival waits, then is served within `threshold`): a chain on the number ahead,
    absorbed in served or abandoned, solved with a matrix exponential."""
    from scipy.linalg import expm

    size = len(queue)
    q = np.zeros((size + 2, size + 2))
    served, gone = size, size + 1
    for j in range(size):
        out = servers * mu + j * theta
        if j == 0:
            q[j, served] = servers * mu
        else:
            q[j, j - 1] = out
        q[j, gone] = theta
        q[j, j] = -(out + theta)
    start = np.zeros(size + 2)
    start[:size] = queue
    return float((start @ expm(q * threshold))[served])
