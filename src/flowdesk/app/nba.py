"""Next best action through the front doors: decide for a customer on a channel, record what the
customer did, and read the catalog, the models and the acceptance dashboard.

Deciding and recording outcomes need `decisions:evaluate` (agents and integrations: the desktop
shows the top actions on a case, a CRM or the outbound sender asks for its channel); the models
and the dashboard are analytics (`analytics:read`); the catalog is a deployed model
(`deployments:read`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.nba.scores import scores_of
from flowdesk.nba.service import Decision, NextBestAction, Outcome, Suggestion, engine_for


def engine(ops: Ops) -> NextBestAction:
    return engine_for(ops.store, ops.clock)


def next_best_action(
    caller: Caller,
    ops: Ops,
    customer_id: str,
    channel: str,
    *,
    context: Mapping[str, Any] | None = None,
    limit: int = 3,
    case_id: str | None = None,
) -> Decision:
    """The best actions for the customer on the channel, each recorded as presented (an action
    still presented comes back under its decision id)."""
    require(caller, Permission.DECISIONS_EVALUATE)
    return engine(ops).decide(
        customer_id, channel, context=context, limit=limit, case_id=case_id, actor=caller.username
    )


def record_outcome(caller: Caller, ops: Ops, decision_id: str, outcome: str) -> Outcome:
    """accepted or declined for a presented action; its model learns from it at once."""
    require(caller, Permission.DECISIONS_EVALUATE)
    return engine(ops).record_outcome(decision_id, outcome, actor=caller.username)


def actions(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    """The actions catalog: every action of the current bundles."""
    require(caller, Permission.MODELS_READ)
    return [a.to_dict() for a in sorted(engine(ops).catalog().values(), key=lambda a: a.id)]


def models(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    """Every adaptive model: version, evidence, AUC, calibration, predictor ranking."""
    require(caller, Permission.ANALYTICS_READ)
    return engine(ops).models()


def dashboard(caller: Caller, ops: Ops) -> dict[str, Any]:
    """Acceptance per action, channel, segment and arm, and each model's AUC over time."""
    require(caller, Permission.ANALYTICS_READ)
    nba = engine(ops)
    return {"acceptance": nba.acceptance(), "auc": nba.auc_history()}


def presented(caller: Caller, ops: Ops, customer_id: str) -> list[dict[str, Any]]:
    """The customer's latest presented actions and their outcomes (the case page's history)."""
    require(caller, Permission.DECISIONS_EVALUATE)
    return engine(ops).presented(customer_id)


def for_case(
    caller: Caller, ops: Ops, customer_id: str | None, case_id: str | None
) -> tuple[Decision | None, list[dict[str, Any]]]:
    """The case page's panel: the top three actions for the agent to say, and the outcomes
    recorded for the customer. None (and no history) without a customer or the permission;
    the page never fails for a suggestion."""
    if customer_id is None or not caller.can(Permission.DECISIONS_EVALUATE):
        return None, []
    try:
        decision = next_best_action(caller, ops, customer_id, "agent", case_id=case_id)
    except FlowdeskError:
        return None, []
    return decision, [h for h in presented(caller, ops, customer_id) if h["outcome"]]


def customer_scores(caller: Caller, ops: Ops, customer_id: str | None) -> dict[str, Any] | None:
    """The customer's value and churn risk with their inputs (the 360 view), or None."""
    if customer_id is None or not caller.can(Permission.WORK_READ):
        return None
    return scores_of(ops.store, customer_id)


def status_card(ops: Ops, customer_id: str | None) -> Suggestion | None:
    """The one action for the customer's status page (the `web` treatment: a card), decided
    for a customer the page has verified; None when there is none. Never fails the page."""
    if customer_id is None:
        return None
    try:
        found = engine(ops).decide(customer_id, "web", limit=1, actor="status page")
    except FlowdeskError:
        return None
    return found.suggestions[0] if found.suggestions else None


def customer_outcome(ops: Ops, customer_id: str | None, decision_id: str, outcome: str) -> Outcome:
    """The verified customer's own answer to a card: only a decision presented to them (none
    when their case names no customer)."""
    nba = engine(ops)
    if customer_id is None or nba.customer_of(decision_id) != customer_id:
        raise NotFoundError("no such offer for you")
    return nba.record_outcome(decision_id, outcome, actor="customer")
