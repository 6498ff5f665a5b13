"""Text helpers for the knowledge base: Markdown to plain text, search terms, excerpts.

Search terms are words only (letters and digits): whatever a user types, the full-text query
built from it is a list of quoted words, so no query syntax of FTS5 or tsquery can be injected.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MARKUP = [
    (re.compile(r"```.*?```", re.S), " "),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),
    (re.compile(r"^\s*[-*+>]\s+", re.M), ""),
    (re.compile(r"^\s*\d+\.\s+", re.M), ""),
    (re.compile(r"[*_`~|]+"), ""),
]
MAX_TERMS = 16


def plain_text(markdown: str) -> str:
    text = markdown
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", text).strip()


def terms(text: str) -> list[str]:
    """Lower-cased words of `text`, de-duplicated in order, at most MAX_TERMS."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        seen.setdefault(word, None)
        if len(seen) >= MAX_TERMS:
            break
    return list(seen)


def excerpt(text: str, words: list[str], width: int = 180) -> str:
    """A window of `text` around the first query word found (the start when none is)."""
    lower = text.lower()
    hits = [i for w in words if (i := lower.find(w)) >= 0]
    start = max(0, min(hits) - width // 3) if hits else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    piece = text[start : start + width].strip()
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(text) else ""
    return f"{prefix}{piece}{suffix}"
