"""Knowledge base use cases: store articles, search them, suggest them in context, take feedback.

Suggestions are ranked by a transparent score (each suggestion says why it was chosen):

    score = 3·reason + 2·step + segment + 1.5·text + 2·(helpfulness − ½)

- reason / step: 1 when the article lists the contact reason / the current step, else 0;
- segment: +1 when the article lists the customer's segment, −1 when it lists segments and not
  this one (a business-only procedure is wrong for a residential customer), 0 when it lists none;
- text: 1 for articles found by full text for the step's knowledge queries (scaled down the
  further down the result list they are);
- helpfulness: (helpful + 1) / (helpful + not helpful + 2), so feedback moves an article up or
  down smoothly and one vote never dominates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Text, cast, or_, select, update

from flowdesk.core.clock import Clock
from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.knowledge.models import knowledge_articles, knowledge_feedback
from flowdesk.knowledge.search import full_text, sync_index
from flowdesk.knowledge.text import excerpt, plain_text, terms
from flowdesk.store import Store, UnitOfWork

WEIGHTS = {"reason": 3.0, "step": 2.0, "segment": 1.0, "text": 1.5, "feedback": 2.0}


class ArticleSource(Protocol):
    """What an article needs to be stored (flowdesk.experience.bundle.Article has it)."""

    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def steps(self) -> tuple[str, ...]: ...
    @property
    def segments(self) -> tuple[str, ...]: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class ArticleView:
    id: str
    slug: str
    title: str
    body: str
    reasons: list[str]
    steps: list[str]
    segments: list[str]
    tags: list[str]
    source: str | None
    helpful: int
    not_helpful: int
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "slug": self.slug,
            "title": self.title,
            "body": self.body,
            "reasons": self.reasons,
            "steps": self.steps,
            "segments": self.segments,
            "tags": self.tags,
            "source": self.source,
            "helpful": self.helpful,
            "not_helpful": self.not_helpful,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    title: str
    excerpt: str
    score: float
    tags: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "excerpt": self.excerpt,
            "score": self.score,
            "tags": self.tags,
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    slug: str
    title: str
    excerpt: str
    score: float
    why: list[str]  # which of reason, step, segment, text, feedback contributed

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "excerpt": self.excerpt,
            "score": round(self.score, 4),
            "why": self.why,
        }


def _view(row: Any) -> ArticleView:
    m = row._mapping
    return ArticleView(
        id=m["id"],
        slug=m["slug"],
        title=m["title"],
        body=m["body"],
        reasons=list(m["reasons"]),
        steps=list(m["steps"]),
        segments=list(m["segments"]),
        tags=list(m["tags"]),
        source=m["source"],
        helpful=m["helpful"],
        not_helpful=m["not_helpful"],
        updated_at=m["updated_at"],
    )


def upsert_articles(
    conn: Connection,
    articles: Iterable[ArticleSource],
    *,
    source: str | None,
    now: datetime,
    ids: IdGenerator | None = None,
) -> list[str]:
    """Insert or update articles by slug (feedback counts are kept). Returns the slugs."""
    ids = ids or UuidIds()
    slugs = []
    for article in articles:
        flat = plain_text(article.body)
        search_text = " ".join([*article.tags, *article.reasons, flat])
        values = {
            "title": article.title,
            "body": article.body,
            "search_text": search_text,
            "reasons": list(article.reasons),
            "steps": list(article.steps),
            "segments": list(article.segments),
            "tags": list(article.tags),
            "source": source,
            "file": article.file,
            "active": True,
            "updated_at": now,
        }
        existing = conn.execute(
            select(knowledge_articles.c.id).where(knowledge_articles.c.slug == article.slug)
        ).scalar()
        if existing is None:
            article_id = ids.new_id()
            conn.execute(
                knowledge_articles.insert().values(
                    id=article_id,
                    slug=article.slug,
                    helpful=0,
                    not_helpful=0,
                    created_at=now,
                    **values,
                )
            )
        else:
            article_id = str(existing)
            conn.execute(
                update(knowledge_articles)
                .where(knowledge_articles.c.id == article_id)
                .values(**values)
            )
        sync_index(conn, article_id, article.title, article.tags, flat, new=existing is None)
        slugs.append(article.slug)
    return slugs


def get_article(store: Store, slug: str) -> ArticleView:
    with store.reading() as conn:
        row = conn.execute(
            select(knowledge_articles).where(knowledge_articles.c.slug == slug)
        ).first()
    if row is None:
        raise NotFoundError(f"no knowledge article {slug!r}")
    return _view(row)


def list_articles(store: Store) -> list[ArticleView]:
    with store.reading() as conn:
        rows = conn.execute(
            select(knowledge_articles)
            .where(knowledge_articles.c.active.is_(True))
            .order_by(knowledge_articles.c.slug)
        ).all()
    return [_view(r) for r in rows]


def search(store: Store, query: str, *, limit: int = 10) -> list[SearchHit]:
    """Articles containing every word of `query` (stemmed), best first."""
    words = terms(query)
    with store.reading() as conn:
        hits = full_text(conn, query, match="all", limit=limit)
        views = _by_id(conn, [h.article_id for h in hits])
    return [
        SearchHit(
            v.slug,
            v.title,
            excerpt(plain_text(v.body), words),
            round(h.score, 6),
            v.tags,
        )
        for h in hits
        if (v := views.get(h.article_id)) is not None
    ]


def _by_id(conn: Connection, article_ids: Sequence[str]) -> dict[str, ArticleView]:
    if not article_ids:
        return {}
    rows = conn.execute(
        select(knowledge_articles).where(knowledge_articles.c.id.in_(list(article_ids)))
    ).all()
    return {r._mapping["id"]: _view(r) for r in rows}


def _listed(column: Any, value: str) -> Any:
    """`value` is an element of the JSON list in `column`: a LIKE on its JSON text, which works
    the same on SQLite and PostgreSQL and narrows the rows before they are scored in Python."""
    pattern = json.dumps(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, Text).like(f"%{pattern}%", escape="\\")


def _candidates(
    conn: Connection,
    reason: str | None,
    step: str | None,
    tags: Sequence[str],
    text_ids: Sequence[str],
) -> list[ArticleView]:
    """The articles that can score: listed for the reason or step, tagged, or found by text."""
    table = knowledge_articles
    tests = [table.c.id.in_(list(text_ids))] if text_ids else []
    if reason is not None:
        tests.append(_listed(table.c.reasons, reason))
    if step is not None:
        tests.append(_listed(table.c.steps, step))
    tests.extend(_listed(table.c.tags, tag) for tag in tags)
    if not tests:
        return []
    rows = conn.execute(select(table).where(table.c.active.is_(True), or_(*tests))).all()
    return [_view(r) for r in rows]


def suggest(
    store: Store,
    *,
    reason: str | None = None,
    step: str | None = None,
    segment: str | None = None,
    queries: Sequence[str] = (),
    tags: Sequence[str] = (),
    limit: int = 5,
) -> list[Suggestion]:
    """Articles for an agent at one step, ranked by the score in the module docstring."""
    with store.reading() as conn:
        text_scores: dict[str, float] = {}
        for query in queries:
            hits = full_text(conn, query, match="any", limit=20)
            for position, hit in enumerate(hits):
                value = 1.0 - position / (2 * len(hits))
                text_scores[hit.article_id] = max(text_scores.get(hit.article_id, 0.0), value)
        rows = _candidates(conn, reason, step, tags, list(text_scores))
    words = [w for q in queries for w in terms(q)]
    wanted_tags = set(tags)
    ranked: list[tuple[float, ArticleView, list[str]]] = []
    for article in rows:
        why: list[str] = []
        score = 0.0
        if reason is not None and reason in article.reasons:
            score += WEIGHTS["reason"]
            why.append("reason")
        if step is not None and step in article.steps:
            score += WEIGHTS["step"]
            why.append("step")
        text_score = text_scores.get(article.id, 0.0)
        if wanted_tags & set(article.tags):
            text_score = max(text_score, 1.0)
        if text_score:
            score += WEIGHTS["text"] * text_score
            why.append("text")
        if not why:
            continue  # nothing ties the article to this step
        if article.segments:
            if segment is not None and segment in article.segments:
                score += WEIGHTS["segment"]
                why.append("segment")
            else:
                score -= WEIGHTS["segment"]
        votes = article.helpful + article.not_helpful
        if votes:
            helpfulness = (article.helpful + 1) / (votes + 2)
            score += WEIGHTS["feedback"] * (helpfulness - 0.5)
            why.append("feedback")
        ranked.append((score, article, why))
    ranked.sort(key=lambda r: (-r[0], r[1].slug))
    return [  # excerpts only for what is shown
        Suggestion(a.slug, a.title, excerpt(plain_text(a.body), words), score, why)
        for score, a, why in ranked[:limit]
    ]


def record_feedback(
    uow: UnitOfWork,
    *,
    slug: str,
    helpful: bool,
    clock: Clock,
    actor: str | None = None,
    work_item_id: str | None = None,
    comment: str | None = None,
    ids: IdGenerator | None = None,
) -> None:
    """Count one helpful / not helpful vote (and log it as an event for analytics)."""
    conn = uow.connection
    article_id = conn.execute(
        select(knowledge_articles.c.id).where(knowledge_articles.c.slug == slug)
    ).scalar()
    if article_id is None:
        raise NotFoundError(f"no knowledge article {slug!r}")
    now = clock.now()
    conn.execute(
        knowledge_feedback.insert().values(
            id=(ids or UuidIds()).new_id(),
            article_id=article_id,
            helpful=helpful,
            actor=actor,
            work_item_id=work_item_id,
            comment=comment,
            created_at=now,
        )
    )
    column = knowledge_articles.c.helpful if helpful else knowledge_articles.c.not_helpful
    conn.execute(
        update(knowledge_articles)
        .where(knowledge_articles.c.id == article_id)
        .values({column.name: column + 1})
    )
    uow.append(
        NewEvent(
            EventType.KNOWLEDGE_FEEDBACK,
            now,
            {"slug": slug, "helpful": helpful, "work_item_id": work_item_id},
            actor=actor,
        )
    )


def give_feedback(
    store: Store,
    slug: str,
    helpful: bool,
    *,
    clock: Clock,
    actor: str | None = None,
    work_item_id: str | None = None,
    comment: str | None = None,
) -> None:
    """record_feedback in its own transaction (what a desktop button calls)."""
    with store.unit_of_work() as uow:
        record_feedback(
            uow,
            slug=slug,
            helpful=helpful,
            clock=clock,
            actor=actor,
            work_item_id=work_item_id,
            comment=comment,
        )
