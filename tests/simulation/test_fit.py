"""Fitting choices that the back-test leans on, on data whose truth is known: steps of one
department that wait alike share one fit (and one that waits differently keeps its own), and
waits for an answer that never comes are told apart from slow answers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from flowdesk.simulation.dists import fit_pooled
from flowdesk.simulation.fit import answered_waits


def test_steps_that_wait_alike_share_one_fit_and_a_different_one_keeps_its_own() -> None:
    rng = random.Random(1)  # the five alike share one fit for 97 of the seeds 0-99
    groups = {f"step{i}": [rng.expovariate(1 / 180) for _ in range(60)] for i in range(4)}
    groups["slow"] = [rng.expovariate(1 / 600) for _ in range(60)]
    groups["rare"] = [rng.expovariate(1 / 180) for _ in range(3)]
    fitted = fit_pooled(groups)
    shared = {fitted[f"step{i}"] for i in range(4)} | {fitted["rare"]}
    assert len(shared) == 1  # one fit for the five alike, the rare step included
    assert abs(next(iter(shared)).mean - 180) / 180 < 0.12  # 243 values: about +-6 %
    assert fitted["slow"] not in shared and abs(fitted["slow"].mean - 600) / 600 < 0.3


def test_waits_never_answered_are_a_share_of_their_own_not_slow_answers() -> None:
    rng = random.Random(11)
    until = datetime(2026, 3, 31, tzinfo=UTC)
    seen: list[tuple[datetime, float | None]] = []
    for _ in range(400):
        reached = until - timedelta(minutes=rng.uniform(0, 30 * 1440))
        answer = rng.expovariate(1 / 1200) if rng.random() < 0.8 else None
        if answer is not None and reached + timedelta(minutes=answer) >= until:
            answer = None  # not answered yet when the window ends
        seen.append((reached, answer))
    never, dist = answered_waits(seen, until)
    assert abs(never - 0.2) < 0.07
    assert dist is not None and abs(dist.mean - 1200) / 1200 < 0.2
    # the answers alone, as the fit had it before: the quick ones of the late waits pull it
    answers = [m for _, m in seen if m is not None]
    assert sum(answers) / len(answers) < dist.mean
