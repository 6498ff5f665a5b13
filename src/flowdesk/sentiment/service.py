"""Scoring customer words as they arrive, and reading the scores back.

`SentimentScorer` follows the log (one tick per worker round, like the next-best-action
scores): a contact once its text is parsed (recognised, attached to a case or sent to triage),
a survey answer with its comment. Each text is scored once per event that names it (an upsert,
so replays are harmless); later events of the same contact only bring its case and reason up
to date. Inbound contacts of the social channel are stored as source "social".

Readers: `case_sentiment` (routing and the case page), `overview` (per reason over time, the
driving words, topics; the API, CLI and dashboard all call it through the app layer).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from flowdesk.cases.models import cases
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import Clock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent
from flowdesk.sentiment.models import sentiment_scores
from flowdesk.sentiment.score import STRONGLY_NEGATIVE, Sentiment, score
from flowdesk.sentiment.topics import topics
from flowdesk.store import Store

CONSUMER = "sentiment"
CONTACT_EVENTS = (
    EventType.CONTACT_RECOGNISED,
    EventType.CASE_CONTACT_ATTACHED,
    EventType.CONTACT_TRIAGE_REQUIRED,
)
WATCHED = (*CONTACT_EVENTS, EventType.SURVEY_ANSWERED)
#: Priority points a strongly negative text adds to its case's work (as much as three steps of
#: reason priority in the default formula: reason priority * 10 + value + churn risk * 20).
SENTIMENT_BOOST = 30.0


def _row(
    key: str,
    source: str,
    text: str,
    at: datetime,
    *,
    channel: str | None,
    customer_id: str | None,
    case_id: str | None,
    reason: str | None,
) -> dict[str, Any]:
    found: Sentiment = score(text)
    return {
        "id": key,
        "source": source,
        "channel": channel,
        "customer_id": customer_id,
        "case_id": case_id,
        "reason": reason,
        "at": at,
        "compound": found.compound,
        "label": found.label,
        "drivers": [[w, v] for w, v in found.drivers],
        "excerpt": " ".join(text.split())[:200],
    }


def _upsert(conn: Connection, row: dict[str, Any]) -> None:
    t = sentiment_scores
    if conn.execute(select(t.c.id).where(t.c.id == row["id"])).first() is None:
        conn.execute(t.insert().values(row))
    else:
        conn.execute(t.update().where(t.c.id == row["id"]).values(row))


def _case_reasons(conn: Connection, case_ids: set[str]) -> dict[str, str]:
    if not case_ids:
        return {}
    q = select(cases.c.id, cases.c.reason).where(cases.c.id.in_(sorted(case_ids)))
    return {r.id: r.reason for r in conn.execute(q)}


def score_events(conn: Connection, batch: list[StoredEvent]) -> int:
    """Score the texts a batch of events names; returns the rows written."""
    contact_ids = {e.contact_id for e in batch if e.type in CONTACT_EVENTS and e.contact_id}
    surveys = [e for e in batch if e.type == EventType.SURVEY_ANSWERED]
    c = contacts.c
    rows = (
        conn.execute(
            select(
                c.id,
                c.channel,
                c.direction,
                c.received_at,
                c.subject,
                c.text,
                c.customer_id,
                c.case_id,
                c.reason,
            ).where(c.id.in_(sorted(contact_ids)))
        ).all()
        if contact_ids
        else []
    )
    surveyed = {e.contact_id for e in surveys if e.contact_id}
    case_ids = {r.case_id for r in rows if r.case_id} | {e.case_id for e in surveys if e.case_id}
    reasons = _case_reasons(conn, case_ids)
    t = sentiment_scores.c
    already_survey = (
        set(
            conn.execute(
                select(t.id).where(t.id.in_(sorted(contact_ids)), t.source == "survey")
            ).scalars()
        )
        if contact_ids
        else set()
    )
    written = 0
    for r in rows:
        if r.direction != "in" or r.id in surveyed or r.id in already_survey:
            continue
        text = " ".join(p for p in (r.subject, r.text) if p)
        if not text.strip():
            continue
        source = "social" if r.channel == "social" else "contact"
        reason = reasons.get(r.case_id) if r.case_id else None
        _upsert(
            conn,
            _row(
                r.id,
                source,
                text,
                r.received_at,
                channel=r.channel,
                customer_id=r.customer_id,
                case_id=r.case_id,
                reason=reason or r.reason,
            ),
        )
        written += 1
    for e in surveys:
        comment = str(e.data.get("comment") or "")
        if not comment.strip():
            continue
        _upsert(
            conn,
            _row(
                e.contact_id or f"survey:{e.id}",
                "survey",
                comment,
                e.time,
                channel=e.channel,
                customer_id=e.customer_id,
                case_id=e.case_id,
                reason=reasons.get(e.case_id) if e.case_id else None,
            ),
        )
        written += 1
    return written


class SentimentScorer:
    """Follows the log and scores the customer texts its events name; `tick()` once per worker
    round (at-least-once: scoring again writes the same row)."""

    def __init__(self, store: Store, clock: Clock | None = None, *, batch: int = 500) -> None:
        self.store = store
        self.batch = batch
        self._registered = False

    def tick(self) -> int:
        log = self.store.events
        if not self._registered:
            log.register(CONSUMER)
            self._registered = True
        done = 0
        while True:
            window = log.read_types(CONSUMER, WATCHED, self.batch)
            if window.position is None:
                return done
            if window.events:
                with self.store.unit_of_work() as uow:
                    done += score_events(uow.connection, list(window.events))
            log.ack(CONSUMER, window.position)
            if window.scanned < self.batch:
                return done


def case_sentiment(conn: Connection, case_id: str) -> float | None:
    """The most negative compound among the case's stored texts; where none is stored yet (the
    scorer runs after routing in a worker round), the case's inbound contact texts scored now."""
    t = sentiment_scores.c
    stored = [
        float(v) for v in conn.execute(select(t.compound).where(t.case_id == case_id)).scalars()
    ]
    if stored:
        return min(stored)
    c = contacts.c
    texts = conn.execute(
        select(c.subject, c.text)
        .where(c.case_id == case_id, c.direction == "in")
        .order_by(c.received_at.desc())
        .limit(3)
    ).all()
    found = [score(" ".join(p for p in (r.subject, r.text) if p)) for r in texts]
    found = [s for s in found if s.drivers or s.compound]
    return min(s.compound for s in found) if found else None


def instance_sentiment(conn: Connection, instance_id: str) -> float | None:
    """`case_sentiment` of the case a flow instance serves (None: no case or no words)."""
    case_id = _case_of_instance(conn, instance_id)
    return None if case_id is None else case_sentiment(conn, case_id)


def _case_of_instance(conn: Connection, instance_id: str) -> str | None:
    """The id of the case a flow instance serves, if any."""
    found: str | None = conn.execute(
        select(cases.c.id).where(cases.c.instance_id == instance_id).limit(1)
    ).scalar()
    return found


def strongly_negative(compound: float | None) -> bool:
    return compound is not None and compound <= STRONGLY_NEGATIVE


def _out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "channel": row.channel,
        "customer_id": row.customer_id,
        "case_id": row.case_id,
        "reason": row.reason,
        "at": row.at.isoformat(),
        "compound": float(row.compound),
        "label": row.label,
        "drivers": [{"word": w, "weight": v} for w, v in row.drivers],
        "excerpt": row.excerpt,
    }


def of_case(store: Store, case_id: str) -> list[dict[str, Any]]:
    """Every scored text of a case, oldest first."""
    t = sentiment_scores
    with store.reading() as conn:
        rows = conn.execute(select(t).where(t.c.case_id == case_id).order_by(t.c.at)).all()
    return [_out(r) for r in rows]


def find_case(store: Store, case: str) -> tuple[str, str] | None:
    """(id, reference) of a case given either."""
    c = cases.c
    with store.reading() as conn:
        row = conn.execute(
            select(c.id, c.reference).where((c.id == case) | (c.reference == case)).limit(1)
        ).first()
    return None if row is None else (row.id, row.reference)


def of_instance(store: Store, instance_id: str) -> list[dict[str, Any]]:
    """Every scored text of the case a flow instance serves, oldest first."""
    with store.reading() as conn:
        case_id = _case_of_instance(conn, instance_id)
    return of_case(store, case_id) if case_id is not None else []


def _drivers(rows: list[Any], limit: int = 8) -> list[dict[str, Any]]:
    """Words that drive a group: summed contributions, the strongest either way first."""
    total: dict[str, float] = defaultdict(float)
    count: Counter[str] = Counter()
    for r in rows:
        for word, weight in r.drivers:
            total[word] += float(weight)
            count[word] += 1
    top = sorted(total.items(), key=lambda kv: -abs(kv[1]))[:limit]
    return [{"word": w, "weight": round(v, 3), "texts": count[w]} for w, v in top]


def overview(
    store: Store,
    *,
    now: datetime,
    days: int = 30,
    bucket: str = "day",
    reason: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Sentiment per reason over time (mean compound per day or week), the driving words per
    reason and overall, the topics (key terms) per reason, and the most negative texts."""
    if bucket not in ("day", "week"):
        raise ValueError("bucket must be day or week")
    t = sentiment_scores
    since = now - timedelta(days=days)
    q = select(t).where(t.c.at >= since)
    if reason:
        q = q.where(t.c.reason == reason)
    if source:
        q = q.where(t.c.source == source)
    with store.reading() as conn:
        rows = conn.execute(q.order_by(t.c.at)).all()
    by_reason: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_reason[r.reason or "(none)"].append(r)

    def period(at: datetime) -> str:
        day = at.date()
        if bucket == "week":
            day = day - timedelta(days=day.weekday())
        return day.isoformat()

    reasons = []
    for name, group in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        series: dict[str, list[float]] = defaultdict(list)
        for r in group:
            series[period(r.at)].append(float(r.compound))
        labels = Counter(r.label for r in group)
        reasons.append(
            {
                "reason": name,
                "texts": len(group),
                "mean": round(sum(float(r.compound) for r in group) / len(group), 4),
                "negative": labels["negative"],
                "neutral": labels["neutral"],
                "positive": labels["positive"],
                "series": [
                    {"period": p, "mean": round(sum(v) / len(v), 4), "texts": len(v)}
                    for p, v in sorted(series.items())
                ],
                "drivers": _drivers(group),
            }
        )
    texts = {r.id: r.excerpt for r in rows}
    reason_of = {r.id: r.reason or "(none)" for r in rows}
    groups: dict[str, list[str]] = defaultdict(list)
    for key, text in texts.items():
        groups[reason_of[key]].append(text)
    worst = sorted(rows, key=lambda r: float(r.compound))[:10]
    labels_all = Counter(r.label for r in rows)
    return {
        "since": since.isoformat(),
        "bucket": bucket,
        "texts": len(rows),
        "mean": round(sum(float(r.compound) for r in rows) / len(rows), 4) if rows else None,
        "negative": labels_all["negative"],
        "neutral": labels_all["neutral"],
        "positive": labels_all["positive"],
        "by_source": dict(Counter(r.source for r in rows)),
        "reasons": reasons,
        "drivers": _drivers(list(rows), limit=12),
        "topics": topics(groups),
        "most_negative": [_out(r) for r in worst if float(r.compound) < 0],
    }
