"""Next best action: which actions to present to one customer on one channel, and learning from
what the customer did with them.

A decision reads the customer's context once (profile, scores, open cases, recent event types,
earlier presentations), then for every action of the catalog: valid today, has a treatment for
the channel, not suppressed by an open case, eligible (its FEEL expression), within its contact
policy (caps per customer and channel, cool-down after a decline). The survivors are scored by
their adaptive model and arbitrated: priority = propensity x (value - cost) x lever. Customers in
the challenger arm (a fixed share, by a stable hash of the customer id) are arbitrated by the
static rule (prior instead of the learned propensity), so the two arms can be compared.

Every presented action is a row of `nba_decisions`; its outcome (accepted, declined, or ignored
once its time-out passed) updates the model of its action and channel in the same transaction.
A presentation is recorded when an action is first shown; while it is open (no outcome, not
timed out) later decisions on the channel show it again first, in its place, under the same
decision id, and record nothing (docs/decisions.md, "Presentations are recorded once"): showing
a page again neither uses up the contact policy nor leaves replaced offers to time out as
ignored. The statements of a decision run on the DB-API cursor (hotpath.py).
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select, update

from flowdesk.core.clock import Clock
from flowdesk.core.errors import ConflictError, FlowdeskError, NotFoundError
from flowdesk.customers.views import resolve_survivor
from flowdesk.experience.service import flows
from flowdesk.experience.versions import version_files, versions
from flowdesk.feel import Env
from flowdesk.feel.values import to_feel
from flowdesk.nba.adaptive import AdaptiveModel, bin_label, bin_of, sample_many
from flowdesk.nba.catalog import CHANNELS, Action, EligibilityRules, load_bundle_actions
from flowdesk.nba.hotpath import Presented, decision_io
from flowdesk.nba.models import nba_decisions, nba_model_history, nba_models
from flowdesk.store import Store

#: Share of customers in the challenger arm (static arbitration), by a stable hash of their id.
CHALLENGER_SHARE = 0.1
#: The catalog is read again after this many seconds (a deploy through the app clears it now).
CATALOG_TTL_S = 5.0
#: A model snapshot (a new version, for AUC over time) every this many outcomes.
SNAPSHOT_EVERY = 25
#: Recent events (their types) are those of this period.
RECENT = timedelta(days=30)
#: Bundle versions whose parsed actions are kept (current ones and a few recently replaced).
CATALOG_VERSIONS_KEPT = 16
OUTCOMES = ("accepted", "declined", "ignored")


class InvalidRequest(FlowdeskError):
    """A channel, limit or outcome the decisions do not know (HTTP 422 at both doors)."""

    code = "invalid-input"


@dataclass(frozen=True, slots=True)
class Suggestion:
    decision_id: str
    action: Action
    channel: str
    rank: int
    propensity: float
    priority: float
    arm: str
    treatment: Mapping[str, str]
    why: list[str]
    predictors: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "action": self.action.id,
            "name": self.action.name,
            "kind": self.action.kind,
            "group": self.action.group,
            "channel": self.channel,
            "rank": self.rank,
            "propensity": round(self.propensity, 4),
            "priority": round(self.priority, 4),
            "value": self.action.value,
            "cost": self.action.cost,
            "lever": self.action.lever,
            "arm": self.arm,
            "treatment": dict(self.treatment),
            "why": self.why,
            "top_predictors": self.predictors,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    customer_id: str
    channel: str
    arm: str
    suggestions: list[Suggestion]
    considered: int
    excluded: dict[str, str]  # action id -> why it was left out

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "channel": self.channel,
            "arm": self.arm,
            "actions": [s.to_dict() for s in self.suggestions],
            "considered": self.considered,
            "excluded": [{"action": k, "reason": v} for k, v in sorted(self.excluded.items())],
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    decision_id: str
    action_id: str
    channel: str
    customer_id: str
    outcome: str
    model_evidence: int
    model_version: int
    learn_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "action": self.action_id,
            "channel": self.channel,
            "customer_id": self.customer_id,
            "outcome": self.outcome,
            "model_evidence": self.model_evidence,
            "model_version": self.model_version,
            "learn_ms": round(self.learn_ms, 4),
        }


@dataclass
class _Context:
    customer: dict[str, Any]
    open_cases: list[dict[str, Any]]
    recent: list[str]
    presented: list[Presented] = field(default_factory=list)
    by_action: dict[str, list[Presented]] = field(default_factory=dict)  # action id -> them

    def __post_init__(self) -> None:
        for p in self.presented:
            self.by_action.setdefault(p.action_id, []).append(p)

    def feel(self, channel: str, today: Any) -> dict[str, Any]:
        """The FEEL context of the eligibility rules, converted to FEEL values once (so fifty
        rules do not convert it fifty times)."""
        raw = {
            "customer": self.customer,
            "channel": channel,
            "open_cases": self.open_cases,
            "open_reasons": [c["reason"] for c in self.open_cases],
            "recent_events": self.recent,
            "today": today,
        }
        return {k: to_feel(v) for k, v in raw.items()}

    def predictors(self) -> dict[str, Any]:
        out = {
            k: v
            for k, v in self.customer.items()
            if k not in ("id", "name") and (v is None or isinstance(v, (str, int, float, bool)))
        }
        out["open_cases"] = len(self.open_cases)
        return out


@dataclass(frozen=True, slots=True)
class _Catalog:
    """The actions of the current bundle versions, their eligibility rules compiled together,
    and how far back presentations matter to their contact policies."""

    actions: dict[str, Action]
    rules: EligibilityRules
    lookback: timedelta


def arm_of(customer_id: str, share: float = CHALLENGER_SHARE) -> str:
    """champion or challenger, the same for a customer on every call and every server."""
    h = int.from_bytes(hashlib.sha256(customer_id.encode()).digest()[:4], "big")
    return "challenger" if h / 2**32 < share else "champion"


class NextBestAction:
    """The decisions of one store. Keeps the catalog and the models it read (each model is read
    again once its evidence count in the store moved), so a decision reads a few small rows."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        challenger_share: float = CHALLENGER_SHARE,
        rng: random.Random | None = None,
        explore: bool = True,
    ) -> None:
        self.store = store
        self.clock = clock
        self.challenger_share = challenger_share
        self.rng = rng or random.Random()
        # the exploring draws (vectorised, seeded from `rng` so a seeded engine repeats)
        self._draws = np.random.default_rng(self.rng.getrandbits(64))
        self.explore = explore
        # the catalog and its eligibility rules, swapped as one
        self._snapshot = _Catalog({}, EligibilityRules(()), timedelta(0))
        self._catalog_at = -1e9
        self._signature: tuple[tuple[str, str], ...] = ()
        # bundle version id -> its parsed actions; least recently used dropped first
        self._by_bundle: OrderedDict[str, list[Action]] = OrderedDict()
        self._models: dict[tuple[str, str], tuple[int, AdaptiveModel]] = {}
        # channel -> action -> evidence of every stored model, as last read or learned here
        self._evidence: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()
        self._expired_at = -1e9

    # -- catalog ----------------------------------------------------------------------------
    def catalog(self) -> dict[str, Action]:
        """Every action of the current version of every deployed bundle, by id. The files of a
        bundle version are read and parsed once (the last CATALOG_VERSIONS_KEPT versions are
        kept, so a store deployed to all day does not grow the process); every
        CATALOG_TTL_S the list of current versions is looked at again."""
        return self._current().actions

    def _current(self) -> _Catalog:
        """The catalog and its eligibility rules compiled together (one FEEL evaluation per
        decision), replaced together when a bundle version changes."""
        now = time.monotonic()
        if now - self._catalog_at < CATALOG_TTL_S:
            return self._snapshot
        with self._lock:  # one thread reads the versions; the others wait for its catalog
            if now - self._catalog_at < CATALOG_TTL_S:
                return self._snapshot
            return self._refresh(now)

    def _refresh(self, now: float) -> _Catalog:
        current = flows(self.store)
        signature = tuple((f.name, f.bundle_id) for f in current)
        if signature != self._signature:
            found: dict[str, Action] = {}
            for flow in current:
                actions = self._by_bundle.get(flow.bundle_id)
                if actions is not None:
                    self._by_bundle.move_to_end(flow.bundle_id)
                else:
                    latest = versions(self.store, flow.name)[-1]
                    files = (
                        version_files(self.store, flow.name, latest.number)
                        if latest.has_files
                        else {}
                    )
                    actions = load_bundle_actions(flow.name, files)
                    self._by_bundle[flow.bundle_id] = actions
                    while len(self._by_bundle) > max(CATALOG_VERSIONS_KEPT, len(current)):
                        self._by_bundle.popitem(last=False)
                for action in actions:
                    found.setdefault(action.id, action)
            lookback = max(
                (max(a.policy.window, a.policy.cooldown_after_decline) for a in found.values()),
                default=timedelta(0),
            )
            self._snapshot = _Catalog(found, EligibilityRules(found.values()), lookback)
            self._signature = signature
        self._catalog_at = now
        return self._snapshot

    def invalidate(self) -> None:
        """Read the catalog again on the next decision (after a deploy)."""
        self._catalog_at = -1e9

    # -- context ----------------------------------------------------------------------------
    def _context(
        self,
        conn: Connection,
        customer_id: str,
        extra: Mapping[str, Any] | None,
        lookback: timedelta | None = None,
    ) -> _Context:
        """Four small queries on the driver (nba/hotpath.py). Presentations are read as far
        back as the catalog's longest contact-policy window or cool-down (`lookback`), and
        any still open."""
        now = self.clock.now()
        io = decision_io(conn)
        row = io.customer(conn, customer_id)
        if row is not None and row.status == "merged":
            row = io.customer(conn, resolve_survivor(conn, customer_id))
        if row is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        cid = row.id
        scored = row.churn_risk is not None
        tenure = (now - row.created_at).days / 365.25
        name = row.display_name or " ".join(p for p in (row.given_name, row.family_name) if p)
        customer: dict[str, Any] = {
            "id": cid,
            "name": name or cid,
            "segment": row.segment,
            "country": row.country,
            "value": float(row.value)
            if row.value is not None
            else (float(row.score_value) if scored else 0.0),
            "tenure_years": round(row.tenure_years if scored else tenure, 2),
            "churn_risk": round(row.churn_risk, 3) if scored else 0.0,
            "complaints": row.complaints if scored else 0,
            "repeat_contacts": row.repeat_contacts if scored else 0,
            "sla_breaches": row.sla_breaches if scored else 0,
            "products": row.products if scored else 0,
        }
        for key, value in (extra or {}).items():
            customer[str(key)] = value
        open_cases = [
            {"reason": reason, "process_key": process_key, "reference": reference}
            for reason, process_key, reference in io.open_cases(conn, cid)
        ]
        recent = sorted(io.recent_types(conn, cid, now - RECENT))
        if lookback is None:
            lookback = self._current().lookback
        presented = io.presented(conn, cid, now - lookback)
        return _Context(customer, open_cases, recent, presented)

    # -- models -----------------------------------------------------------------------------
    def _load_models(self, conn: Connection, channel: str, actions: Iterable[Action]) -> None:
        """Read again the models of the channel that learned elsewhere (another process, or
        this one in a transaction that did not commit): one aggregate row tells whether any
        did; only then are the evidence counts read, and only the stale states."""
        m = nba_models.c
        counts = self._evidence.get(channel)
        if counts is not None:
            n, total = decision_io(conn).evidence_sum(conn, channel)
            if n != len(counts) or total != sum(counts.values()):
                counts = None
        if counts is None:
            counts = decision_io(conn).evidence(conn, channel)
            self._evidence[channel] = counts
        stale = [
            a.id
            for a in actions
            if a.id in counts and self._models.get((a.id, channel), (-1,))[0] != counts[a.id]
        ]
        if stale:
            rows = conn.execute(
                select(m.action_id, m.evidence, m.state).where(
                    m.channel == channel, m.action_id.in_(stale)
                )
            ).all()
            for row in rows:
                self._models[(row.action_id, channel)] = (
                    row.evidence,
                    AdaptiveModel.from_dict(row.state),
                )

    def model(self, action: Action, channel: str) -> AdaptiveModel:
        found = self._models.get((action.id, channel))
        if found is None:
            return AdaptiveModel(prior=action.prior)
        return found[1]

    # -- eligibility and contact policy -------------------------------------------------------
    def _excluded(
        self,
        action: Action,
        channel: str,
        ctx: _Context,
        eligible: Mapping[str, bool],
        now: datetime,
        today: date,
    ) -> str | None:
        """Why the action may not be presented now, or None. `eligible` holds the outcome of
        every eligibility rule of the catalog for this customer (by rule text)."""
        if channel not in action.treatments:
            return f"no {channel} treatment"
        if (action.valid_from is not None or action.valid_until is not None) and not (
            action.valid_on(today)
        ):
            return "not valid today"
        policy = action.policy
        suppress = policy.suppress_while_open
        if suppress:
            for case in ctx.open_cases:
                if case["reason"] in suppress or case["process_key"] in suppress:
                    return f"suppressed while case {case['reference']} ({case['reason']}) is open"
        if action.eligible is not None and not eligible.get(action.eligible.text, False):
            return f"not eligible ({action.eligible_text})"
        mine = ctx.by_action.get(action.id)
        if not mine:
            return None
        # one pass over the customer's presentations of this action
        since = now - policy.window
        in_window = on_channel = 0
        accepted = False
        last_decline: datetime | None = None
        for p in mine:
            outcome = p.outcome
            if outcome is None and p.channel == channel:
                return None  # presented and still open: offered again under the same id
            if p.decided_at >= since:
                in_window += 1
                on_channel += p.channel == channel
                accepted = accepted or outcome == "accepted"
            if (
                outcome == "declined"
                and p.outcome_at
                and (last_decline is None or p.outcome_at > last_decline)
            ):
                last_decline = p.outcome_at
        if accepted:
            return "accepted already"
        if in_window >= policy.max_per_customer:
            days = policy.window.days
            return f"contact limit: {policy.max_per_customer} per customer in {days} days"
        if on_channel >= policy.max_per_channel:
            return (
                f"contact limit: {policy.max_per_channel} on {channel} in {policy.window.days} days"
            )
        if last_decline is not None and last_decline > now - policy.cooldown_after_decline:
            return f"declined less than {policy.cooldown_after_decline.days} days ago"
        return None

    # -- deciding ---------------------------------------------------------------------------
    def decide(
        self,
        customer_id: str,
        channel: str,
        *,
        context: Mapping[str, Any] | None = None,
        limit: int = 3,
        case_id: str | None = None,
        actor: str | None = None,
    ) -> Decision:
        """The best `limit` actions for this customer on this channel. Actions still presented
        on the channel (no outcome, not timed out) come first, in their place, under their
        decision id: showing a page again repeats what the customer was offered and writes
        nothing. Free places go to the best other actions, each recorded as presented."""
        if channel not in CHANNELS:
            raise InvalidRequest(
                f"unknown channel {channel!r}", hint=f"one of {', '.join(CHANNELS)}"
            )
        if not 1 <= limit <= 20:
            raise InvalidRequest("limit must be between 1 and 20")
        self.expire_due()
        current = self._current()
        catalog = current.actions
        now = self.clock.now()
        with self.store.reading() as conn:
            ctx = self._context(conn, customer_id, context, current.lookback)
            self._load_models(conn, channel, catalog.values())
        customer = ctx.customer["id"]
        arm = arm_of(customer, self.challenger_share)
        # every rule in one FEEL evaluation, with the engine's clock behind today() and now()
        eligible = current.rules.evaluate(ctx.feel(channel, now.date()), Env(clock=self.clock))
        predictors = ctx.predictors()
        labels = {name: bin_of(value) for name, value in predictors.items()}
        still_open = {
            p.action_id: p for p in ctx.presented if p.outcome is None and p.channel == channel
        }
        excluded: dict[str, str] = {}
        again: list[tuple[Any, Action, AdaptiveModel]] = []
        candidates: list[Action] = []
        models: list[AdaptiveModel] = []
        today = now.date()
        for action in catalog.values():
            why_not = self._excluded(action, channel, ctx, eligible, now, today)
            if why_not is not None:
                excluded[action.id] = why_not
                continue
            model = self.model(action, channel)
            shown = still_open.get(action.id)
            if shown is not None:
                again.append((shown, action, model))
            else:
                candidates.append(action)
                models.append(model)
        propensities = [m.propensity_of_bins(labels) for m in models]
        if arm == "challenger":
            ranks = [a.prior for a in candidates]
        elif self.explore:
            ranks = sample_many(models, propensities, self._draws)
        else:
            ranks = propensities
        scored = [
            (ranked * a.net_value * a.lever, p, a, m)
            for ranked, p, a, m in zip(ranks, propensities, candidates, models, strict=True)
        ]
        again.sort(key=lambda t: (t[0].rank, t[0].decided_at))
        scored.sort(key=lambda t: t[0], reverse=True)
        chosen: list[tuple[float, float, Action, AdaptiveModel, str | None]] = [
            (shown.priority, shown.propensity, action, model, shown.id)
            for shown, action, model in again[:limit]
        ]
        chosen += [(*t, None) for t in scored[: limit - len(chosen)]]
        rows: list[dict[str, Any]] = []
        suggestions: list[Suggestion] = []
        facts = _jsonable(predictors)
        for rank, (priority, propensity, action, model, known) in enumerate(chosen, start=1):
            decision_id = known or self.store.ids.new_id()
            if known is None:
                rows.append(
                    {
                        "id": decision_id,
                        "customer_id": customer,
                        "action_id": action.id,
                        "channel": channel,
                        "arm": arm,
                        "rank": rank,
                        "propensity": propensity,
                        "priority": priority,
                        "segment": ctx.customer.get("segment"),
                        "case_id": case_id,
                        "predictors": facts,
                        "decided_at": now,
                        "expires_at": now + action.timeout,
                        "actor": actor,
                    }
                )
            explained = model.score(predictors, explain=True)
            suggestions.append(
                Suggestion(
                    decision_id,
                    action,
                    channel,
                    rank,
                    propensity,
                    priority,
                    arm,
                    action.treatments[channel],
                    _why(action, model, propensity, priority, arm, explained.contributions),
                    [
                        {
                            "predictor": c.predictor,
                            "bin": bin_label(c.bin),
                            "value": _jsonable_value(c.value),
                            "weight": round(c.weight, 3),
                            "power": round(c.auc, 3),
                        }
                        for c in explained.contributions[:3]
                    ],
                )
            )
        if rows:
            self.store.run_unit(
                lambda uow: decision_io(uow.connection).insert_presented(uow.connection, rows)
            )
        return Decision(customer, channel, arm, suggestions, len(catalog), excluded)

    # -- outcomes ---------------------------------------------------------------------------
    def record_outcome(
        self, decision_id: str, outcome: str, *, actor: str | None = None
    ) -> Outcome:
        """Record what the customer did with a presented action and learn from it. Recording
        the same outcome again answers the first record; a different one is a conflict."""
        if outcome not in ("accepted", "declined"):
            raise InvalidRequest(
                f"unknown outcome {outcome!r}",
                hint="accepted or declined (ignored comes by time-out)",
            )
        # read before the write transaction: the catalog may query the store, which must not
        # happen while this unit holds the write lock
        priors = self._priors()
        return self.store.run_unit(
            lambda uow: self._record(uow.connection, decision_id, outcome, actor, priors)
        )

    def _priors(self) -> dict[str, float]:
        """Each action's cold-start prior (for the first outcome of a model)."""
        return {a.id: a.prior for a in self.catalog().values()}

    def _record(
        self,
        conn: Connection,
        decision_id: str,
        outcome: str,
        actor: str | None,
        priors: Mapping[str, float],
    ) -> Outcome:
        d = nba_decisions.c
        # locked: two answers to one decision at once must not both teach the model
        row = conn.execute(
            select(nba_decisions).where(d.id == decision_id).with_for_update()
        ).first()
        if row is None:
            raise NotFoundError(f"no next-best-action decision {decision_id!r}")
        if row.outcome is not None:
            if row.outcome != outcome:
                raise ConflictError(
                    f"decision {decision_id} already has the outcome {row.outcome!r}"
                )
            found = conn.execute(
                select(nba_models.c.evidence, nba_models.c.version).where(
                    nba_models.c.action_id == row.action_id, nba_models.c.channel == row.channel
                )
            ).first()
            return Outcome(
                row.id,
                row.action_id,
                row.channel,
                row.customer_id,
                row.outcome,
                found.evidence if found else 0,
                found.version if found else 0,
                0.0,
            )
        now = self.clock.now()
        conn.execute(
            update(nba_decisions)
            .where(d.id == decision_id)
            .values(outcome=outcome, outcome_at=now, actor=actor or row.actor)
        )
        evidence, version, ms = self._learn(conn, row, outcome == "accepted", now, priors)
        return Outcome(
            row.id, row.action_id, row.channel, row.customer_id, outcome, evidence, version, ms
        )

    def _learn(
        self, conn: Connection, row: Any, accepted: bool, now: datetime, priors: Mapping[str, float]
    ) -> tuple[int, int, float]:
        m = nba_models.c
        key = (row.action_id, row.channel)
        stored = conn.execute(
            select(m.version, m.state)
            .where(m.action_id == row.action_id, m.channel == row.channel)
            .with_for_update()
        ).first()
        if stored is not None:
            model = AdaptiveModel.from_dict(stored.state)
            version = int(stored.version)
        else:
            model = AdaptiveModel(prior=priors.get(row.action_id, 0.05))
            version = 1
        started = time.perf_counter()
        model.learn(row.predictors or {}, accepted, row.propensity)
        ms = (time.perf_counter() - started) * 1000
        evidence = model.evidence
        snapshot = evidence % SNAPSHOT_EVERY == 0
        if snapshot:
            version += 1
        values = {
            "version": version,
            "evidence": evidence,
            "positives": int(model.positives),
            "auc": model.auc(),
            "state": model.to_dict(),
            "updated_at": now,
        }
        if stored is None:
            conn.execute(
                nba_models.insert().values(action_id=row.action_id, channel=row.channel, **values)
            )
        else:
            conn.execute(
                update(nba_models)
                .where(m.action_id == row.action_id, m.channel == row.channel)
                .values(values)
            )
        if snapshot or stored is None:
            conn.execute(
                nba_model_history.insert().values(
                    id=self.store.ids.new_id(),
                    action_id=row.action_id,
                    channel=row.channel,
                    version=version,
                    evidence=evidence,
                    positives=int(model.positives),
                    auc=model.auc(),
                    calibration=model.calibration_table(),
                    predictors=model.powers,
                    at=now,
                )
            )
        self._models[key] = (evidence, model)
        known = self._evidence.get(row.channel)
        if known is not None:  # a new dict: a decision may be summing the old one
            self._evidence[row.channel] = {**known, row.action_id: evidence}
        return evidence, version, ms

    def expire_due(self, *, force: bool = False) -> int:
        """Presented actions past their time-out become `ignored` (a negative outcome). Runs at
        most every few seconds from decisions; `force` runs it now."""
        mono = time.monotonic()
        if not force and mono - self._expired_at < 5.0:
            return 0
        self._expired_at = mono
        now = self.clock.now()
        d = nba_decisions.c
        with self.store.reading() as conn:
            due = (
                conn.execute(
                    select(d.id).where(d.outcome.is_(None), d.expires_at <= now).limit(500)
                )
                .scalars()
                .all()
            )
        if not due:
            return 0
        priors = self._priors()

        def run(conn: Connection) -> int:
            done = 0
            for decision_id in due:
                row = conn.execute(
                    select(nba_decisions).where(d.id == decision_id).with_for_update()
                ).first()
                if row is None or row.outcome is not None:
                    continue
                conn.execute(
                    update(nba_decisions)
                    .where(d.id == decision_id)
                    .values(outcome="ignored", outcome_at=now)
                )
                self._learn(conn, row, False, now, priors)
                done += 1
            return done

        return self.store.run_unit(lambda uow: run(uow.connection))

    # -- reading ----------------------------------------------------------------------------
    def customer_of(self, decision_id: str) -> str | None:
        """The customer a decision was presented to (None for an unknown id)."""
        d = nba_decisions.c
        with self.store.reading() as conn:
            found = conn.execute(select(d.customer_id).where(d.id == decision_id)).scalar()
        return None if found is None else str(found)

    def presented_facts(self, decision_id: str) -> dict[str, Any]:
        """The predictors a decision was made with (what the demo's customers react to)."""
        d = nba_decisions.c
        with self.store.reading() as conn:
            found = conn.execute(select(d.predictors).where(d.id == decision_id)).scalar()
        return dict(found or {})

    def models(self) -> list[dict[str, Any]]:
        """Every model with its version, evidence, AUC, calibration and predictor ranking."""
        with self.store.reading() as conn:
            rows = conn.execute(
                select(nba_models).order_by(nba_models.c.action_id, nba_models.c.channel)
            ).all()
        out = []
        for row in rows:
            model = AdaptiveModel.from_dict(row.state)
            out.append(
                {
                    "action": row.action_id,
                    "channel": row.channel,
                    "version": row.version,
                    "evidence": row.evidence,
                    "positives": row.positives,
                    "auc": None if row.auc is None else round(row.auc, 4),
                    "calibration": model.calibration_table(),
                    "predictors": [
                        {"predictor": k, "power": round(v, 4), "active": k in model.active}
                        for k, v in sorted(model.powers.items(), key=lambda kv: kv[1], reverse=True)
                    ],
                    "updated_at": row.updated_at.isoformat(),
                }
            )
        return out

    def acceptance(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Presented, accepted, declined and ignored per action, channel, segment and arm."""
        d = nba_decisions.c
        query = select(
            d.action_id, d.channel, d.segment, d.arm, d.outcome, func.count().label("n")
        ).group_by(d.action_id, d.channel, d.segment, d.arm, d.outcome)
        if since is not None:
            query = query.where(d.decided_at >= since)
        with self.store.reading() as conn:
            rows = conn.execute(query).all()
        table: dict[tuple[str, str, str, str], dict[str, int]] = {}
        for r in rows:
            key = (r.action_id, r.channel, r.segment or "-", r.arm)
            cell = table.setdefault(
                key, {"presented": 0, "accepted": 0, "declined": 0, "ignored": 0}
            )
            cell["presented"] += r.n
            if r.outcome in OUTCOMES:
                cell[r.outcome] += r.n
        out = []
        for (action, channel, segment, arm), cell in sorted(table.items()):
            answered = cell["accepted"] + cell["declined"] + cell["ignored"]
            out.append(
                {
                    "action": action,
                    "channel": channel,
                    "segment": segment,
                    "arm": arm,
                    **cell,
                    "acceptance": round(cell["accepted"] / answered, 4) if answered else None,
                }
            )
        return out

    def auc_history(self) -> list[dict[str, Any]]:
        """Each model version's AUC and evidence, oldest first (the dashboard's lines)."""
        h = nba_model_history.c
        with self.store.reading() as conn:
            rows = conn.execute(
                select(h.action_id, h.channel, h.version, h.evidence, h.auc, h.at).order_by(
                    h.at, h.version
                )
            ).all()
        return [
            {
                "action": r.action_id,
                "channel": r.channel,
                "version": r.version,
                "evidence": r.evidence,
                "auc": None if r.auc is None else round(r.auc, 4),
                "at": r.at.isoformat(),
            }
            for r in rows
        ]

    def presented(self, customer_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """The customer's latest presentations with their outcomes."""
        d = nba_decisions.c
        with self.store.reading() as conn:
            rows = conn.execute(
                select(d.id, d.action_id, d.channel, d.outcome, d.decided_at, d.outcome_at, d.actor)
                .where(d.customer_id == customer_id)
                .order_by(d.decided_at.desc())
                .limit(limit)
            ).all()
        names = {a.id: a.name for a in self.catalog().values()}
        return [
            {
                "decision_id": r.id,
                "action": r.action_id,
                "name": names.get(r.action_id, r.action_id),
                "channel": r.channel,
                "outcome": r.outcome,
                "decided_at": r.decided_at.isoformat(),
                "outcome_at": r.outcome_at.isoformat() if r.outcome_at else None,
                "actor": r.actor,
            }
            for r in rows
        ]


def _why(
    action: Action,
    model: AdaptiveModel,
    propensity: float,
    priority: float,
    arm: str,
    contributions: Iterable[Any],
) -> list[str]:
    lines = [
        f"priority {priority:.3g} = propensity {propensity:.1%} x value {action.net_value:g}"
        f" x lever {action.lever:g}"
        + (" (challenger arm: ranked by the prior)" if arm == "challenger" else ""),
    ]
    if model.evidence < 20:
        lines.append(f"model still learning ({model.evidence} outcomes): prior {action.prior:.0%}")
    for c in list(contributions)[:3]:
        direction = "raises" if c.weight > 0 else "lowers"
        lines.append(
            f"{c.predictor} {bin_label(c.bin)} {direction} the propensity ({c.weight:+.2f})"
        )
    if action.eligible_text:
        lines.append(f"eligible: {action.eligible_text}")
    return lines


def _jsonable_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _jsonable(predictors: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _jsonable_value(v) for k, v in predictors.items()}


def outbound_offer(store: Store, clock: Clock) -> Callable[[str, str], str | None]:
    """For case update notifications: the text of the customer's next best action on the
    channel the update goes out on (email or sms; None on others, or with no action)."""
    engine = engine_for(store, clock)

    def offer(customer_id: str, channel: str) -> str | None:
        if channel not in ("email", "sms"):
            return None
        try:
            found = engine.decide(customer_id, channel, limit=1, actor="notifications")
        except FlowdeskError:
            return None
        if not found.suggestions:
            return None
        return found.suggestions[0].treatment.get("text")

    return offer


_ENGINES: weakref.WeakKeyDictionary[Store, NextBestAction] = weakref.WeakKeyDictionary()
_ENGINES_LOCK = threading.Lock()


def engine_for(store: Store, clock: Clock) -> NextBestAction:
    """The store's decision engine (one per store and process: it keeps the catalog and the
    models it read)."""
    with _ENGINES_LOCK:
        found = _ENGINES.get(store)
        if found is None:
            found = NextBestAction(store, clock)
            _ENGINES[store] = found
        return found


__all__ = ["NextBestAction", "Decision", "Suggestion", "Outcome", "arm_of", "engine_for"]
