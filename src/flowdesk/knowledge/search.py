"""Full-text search behind one function: SQLite FTS5 on the embedded store, PostgreSQL
full-text search (to_tsvector / to_tsquery over a GIN index) in production.

Both stem English words (FTS5's porter tokenizer, PostgreSQL's 'english' configuration), so
"refunds" finds "refund" on either. `match="all"` needs every word (what a person typing a
search expects); `match="any"` ranks articles that share any word (what suggestions need).
Scores are normalised so that higher is better on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, text

from flowdesk.knowledge.text import terms

PG_TSVECTOR = "to_tsvector('english', a.title || ' ' || a.search_text)"


@dataclass(frozen=True, slots=True)
class TextHit:
    article_id: str
    score: float  # higher is better; comparable within one result list only


def sync_index(
    conn: Connection,
    article_id: str,
    title: str,
    tags: Sequence[str],
    body: str,
    *,
    new: bool = False,
) -> None:
    """Keep the SQLite FTS5 table in step with an article row (PostgreSQL indexes by itself).
    A new article has no entry to remove (the lookup by an unindexed column scans the table)."""
    if conn.dialect.name != "sqlite":
        return
    if not new:
        conn.execute(text("DELETE FROM knowledge_fts WHERE article_id = :id"), {"id": article_id})
    conn.execute(
        text(
            "INSERT INTO knowledge_fts (article_id, title, tags, body) "
            "VALUES (:id, :title, :tags, :body)"
        ),
        {"id": article_id, "title": title, "tags": " ".join(tags), "body": body},
    )


def full_text(
    conn: Connection, query: str, *, match: Literal["all", "any"] = "all", limit: int = 20
) -> list[TextHit]:
    words = terms(query)
    if not words:
        return []
    if conn.dialect.name == "sqlite":
        joiner = " " if match == "all" else " OR "
        fts_query = joiner.join(f'"{w}"' for w in words)
        rows = conn.execute(
            text(
                "SELECT f.article_id, bm25(knowledge_fts, 0.0, 5.0, 3.0, 1.0) AS rank "
                "FROM knowledge_fts f JOIN knowledge_articles a ON a.id = f.article_id "
                "WHERE knowledge_fts MATCH :q AND a.active "
                "ORDER BY rank LIMIT :n"
            ),
            {"q": fts_query, "n": limit},
        ).all()
        return [TextHit(str(r[0]), -float(r[1])) for r in rows]  # bm25: lower is better
    joiner = " & " if match == "all" else " | "
    ts_query = joiner.join(words)
    rows = conn.execute(
        text(
            f"SELECT a.id, ts_rank({PG_TSVECTOR}, q) AS rank "
            "FROM knowledge_articles a, to_tsquery('english', :q) q "
            f"WHERE a.active AND {PG_TSVECTOR} @@ q "
            "ORDER BY rank DESC, a.slug LIMIT :n"
        ),
        {"q": ts_query, "n": limit},
    ).all()
    return [TextHit(str(r[0]), float(r[1])) for r in rows]
