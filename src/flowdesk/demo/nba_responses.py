"""Simulated customers answering next best actions in `flowdesk demo live`.

Why: adaptive models that never see an outcome show nothing. Every few seconds a handful of
demo customers are offered their next best actions on a random channel, and each answers
according to a hidden true propensity (a base rate per action and a per-action reaction to
churn risk, tenure, segment and value, drawn from a seed that is the action's id), so the
models' evidence, AUC and the acceptance dashboard visibly move while the demo runs. A share of
the presented actions is left unanswered: those become `ignored` when their time-out passes.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from flowdesk.core.clock import Clock
from flowdesk.customers.models import customers
from flowdesk.nba.catalog import CHANNELS
from flowdesk.nba.service import Suggestion, engine_for
from flowdesk.store import Store

#: Decisions per round and the time between rounds.
PER_ROUND = 3
EVERY = timedelta(seconds=2)
#: Share of presented actions nobody answers (they time out as ignored).
UNANSWERED = 0.2


def true_propensity(action_id: str, customer: dict[str, Any]) -> float:
    """The hidden propensity of a customer for an action (the models must find it)."""
    seed = int.from_bytes(hashlib.sha256(action_id.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    base = rng.gauss(-1.6, 0.7)
    w_churn, w_tenure, w_premium, w_value = (rng.gauss(0, 1.5) for _ in range(4))
    z = (
        base
        + w_churn * (float(customer.get("churn_risk") or 0) - 0.2) * 4
        + w_tenure * (math.log1p(float(customer.get("tenure_years") or 0)) - 0.7)
        + w_premium * (1.0 if customer.get("segment") in ("premium", "business") else -0.3)
        + w_value * (math.log1p(float(customer.get("value") or 0)) - 5.5) / 2
    )
    return 1 / (1 + math.exp(-z))


class SimulatedResponses:
    """One `step(now)` per live-demo tick: offers and answers when a round is due."""

    def __init__(self, store: Store, clock: Clock, *, seed: int | None = None) -> None:
        self.store = store
        self.engine = engine_for(store, clock)
        self.rng = random.Random(seed)
        self.next_round: datetime | None = None
        self.presented = 0
        self.accepted = 0
        self._ids: list[str] = []

    def _customers(self) -> list[str]:
        if not self._ids:
            with self.store.reading() as conn:
                self._ids = list(
                    conn.execute(
                        select(customers.c.id).where(customers.c.status == "active").limit(2000)
                    ).scalars()
                )
        return self._ids

    def step(self, now: datetime) -> None:
        if self.next_round is not None and now < self.next_round:
            return
        self.next_round = now + EVERY
        ids = self._customers()
        if not ids or not self.engine.catalog():
            return
        for _ in range(PER_ROUND):
            customer_id = self.rng.choice(ids)
            channel = self.rng.choice(CHANNELS)
            try:
                decision = self.engine.decide(customer_id, channel, limit=1, actor="demo")
            except Exception:  # a merged customer, a contact policy race: skip this one
                continue
            for suggestion in decision.suggestions:
                self._answer(suggestion)

    def _answer(self, suggestion: Suggestion) -> None:
        self.presented += 1
        if self.rng.random() < UNANSWERED:
            return
        facts = self.engine.presented_facts(suggestion.decision_id)
        accepted = self.rng.random() < true_propensity(suggestion.action.id, facts)
        self.engine.record_outcome(
            suggestion.decision_id, "accepted" if accepted else "declined", actor="demo"
        )
        self.accepted += accepted

    def line(self) -> str:
        return f"offers {self.presented} ({self.accepted} accepted)"
