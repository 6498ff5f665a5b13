"""The knowledge base as agents use it beside their work: search, an article, and whether it
helped (feedback ranks the suggestions). Articles are markdown, shown as sanitised HTML."""

from __future__ import annotations

from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.knowledge import ArticleView, SearchHit, get_article, give_feedback, search
from flowdesk.knowledge.render import markdown_to_html

__all__ = ["ArticleView", "SearchHit"]


def to_html(text: str) -> str:
    """Markdown as HTML that is safe to show as is (nh3 removed scripts, handlers, styles)."""
    return markdown_to_html(text)


def find(caller: Caller, ops: Ops, query: str, limit: int = 10) -> list[SearchHit]:
    """Articles containing every word of the query, best first."""
    require(caller, Permission.WORK_READ)
    return search(ops.store, query, limit=limit)


def article(caller: Caller, ops: Ops, slug: str) -> ArticleView:
    require(caller, Permission.WORK_READ)
    return get_article(ops.store, slug)


def feedback(
    caller: Caller,
    ops: Ops,
    slug: str,
    helpful: bool,
    *,
    work_item_id: str | None = None,
    comment: str | None = None,
) -> None:
    """Whether the article helped, by whom and on which work item."""
    require(caller, Permission.WORK_READ)
    give_feedback(
        ops.store,
        slug,
        helpful,
        clock=ops.clock,
        actor=caller.username,
        work_item_id=work_item_id,
        comment=comment,
    )
