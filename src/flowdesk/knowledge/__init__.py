"""The knowledge base: articles, full-text search on both backends, contextual suggestions
and feedback (see service.py for the ranking)."""

from flowdesk.knowledge.service import (
    ArticleView,
    SearchHit,
    Suggestion,
    get_article,
    give_feedback,
    list_articles,
    record_feedback,
    search,
    suggest,
    upsert_articles,
)

__all__ = [
    "ArticleView",
    "SearchHit",
    "Suggestion",
    "get_article",
    "give_feedback",
    "list_articles",
    "record_feedback",
    "search",
    "suggest",
    "upsert_articles",
]
