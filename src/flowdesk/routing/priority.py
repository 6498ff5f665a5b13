"""Priority of queued work: a configurable FEEL expression or DMN decision, plus aging.

The expression sees `sla minutes left` (null without a deadline), `customer value`,
`churn risk`, `reason priority`, `reason`, `channel`, `waiting minutes` and the item's
attributes. Its value is the *base*; the effective score at time t is

    score(t) = base + aging_per_minute * minutes waited at t

so old low-priority work always rises and nothing starves. Because aging grows at the same
rate for every item, the order of two items only changes when a base changes; the queue can
therefore keep items in heaps keyed by ``base - aging * created_minute`` and needs to re-score
an item only when its SLA time left crosses a review point (e.g. 60, 30, 15 minutes left).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flowdesk.feel import compile_expression
from flowdesk.routing.domain import Item, RoutingError

if TYPE_CHECKING:
    from flowdesk.dmn.model import DmnModel

NAMES = (
    "sla minutes left",
    "customer value",
    "churn risk",
    "reason priority",
    "waiting minutes",
)

#: Reason priority counts most; SLA urgency rises in steps as the deadline nears.
DEFAULT_EXPRESSION = (
    "reason priority * 10 + customer value + churn risk * 20 + boost + "
    "(if sla minutes left = null then 0 "
    "else if sla minutes left <= 0 then 200 "
    "else if sla minutes left <= 15 then 120 "
    "else if sla minutes left <= 30 then 80 "
    "else if sla minutes left <= 60 then 40 "
    "else if sla minutes left <= 240 then 10 else 0)"
)

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def minutes(at: datetime) -> float:
    return (at - EPOCH).total_seconds() / 60.0


@dataclass
class PriorityPolicy:
    """How urgent queued work is. Give `expression` (FEEL) or `decision` (a loaded DMN model and
    the decision's name); the result must be a number (null counts as 0). With neither, the
    default formula (DEFAULT_EXPRESSION, computed natively) applies."""

    expression: str | None = None
    decision: tuple[DmnModel, str] | None = None
    aging_per_minute: float = 0.5
    #: Minutes of SLA time left at which an item is re-scored.
    review_points: Sequence[int] = (240, 60, 30, 15, 0)
    _compiled: Any = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.expression is not None and self.decision is not None:
            raise RoutingError("give a priority expression or a decision, not both")
        if self.expression is not None:
            self._compiled = compile_expression(self.expression, names=(*NAMES, "boost"))
        if self.aging_per_minute < 0:
            raise RoutingError("aging cannot be negative")
        self.review_points = tuple(sorted(set(self.review_points), reverse=True))

    def context(self, item: Item, now: datetime) -> dict[str, Any]:
        left = None if item.due_at is None else (item.due_at - now).total_seconds() / 60.0
        ctx: dict[str, Any] = dict(item.attributes)
        ctx.update(
            {
                "sla minutes left": left,
                "customer value": item.customer_value,
                "churn risk": item.churn_risk,
                "reason priority": item.reason_priority,
                "waiting minutes": (now - item.created_at).total_seconds() / 60.0,
                "reason": item.reason,
                "channel": item.channel,
                "boost": item.boost,
            }
        )
        return ctx

    def base(self, item: Item, now: datetime) -> float:
        if self.expression is None and self.decision is None:
            return default_base(item, now)
        ctx = self.context(item, now)
        if self.decision is not None:
            model, name = self.decision
            value = model.evaluate(name, ctx).value
            if isinstance(value, dict) and len(value) == 1:
                value = next(iter(value.values()))
            value = _number(value) + item.boost
        else:
            value = _number(self._compiled.evaluate(ctx))
        return value

    def score(self, item: Item, now: datetime, base: float | None = None) -> float:
        """The effective priority now (higher is more urgent)."""
        b = self.base(item, now) if base is None else base
        return b + self.aging_per_minute * max(0.0, (now - item.created_at).total_seconds() / 60)

    def rank(self, base: float, item: Item) -> float:
        """Heap key (smaller first) that orders items by score at any common instant."""
        return -(base - self.aging_per_minute * minutes(item.created_at))

    def next_review(self, item: Item, now: datetime) -> datetime | None:
        """When the SLA time left next crosses a review point (None: never again)."""
        if item.due_at is None:
            return None
        for point in self.review_points:
            at = item.due_at - timedelta(minutes=point)
            if at > now:
                return at
        return None


def default_base(item: Item, now: datetime) -> float:
    """DEFAULT_EXPRESSION computed natively: the same value (a test checks it), without the
    cost of FEEL decimal arithmetic on the hot path of every enqueue and review."""
    value = item.reason_priority * 10 + item.customer_value + item.churn_risk * 20 + item.boost
    if item.due_at is None:
        return float(value)
    left = (item.due_at - now).total_seconds() / 60.0
    for limit, points in ((0, 200), (15, 120), (30, 80), (60, 40), (240, 10)):
        if left <= limit:
            return float(value + points)
    return float(value)


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise RoutingError(f"the priority must be a number, not {type(value).__name__}")
