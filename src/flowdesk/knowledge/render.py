"""Knowledge articles as HTML: Markdown rendered by markdown-it-py (CommonMark with tables and
strikethrough), then sanitised by nh3 (the Ammonia HTML sanitiser).

Authors may write inline HTML in an article (a `<kbd>`, a `<br>`), so the rendered HTML is not
trusted as it is: nh3 keeps an allow-list of tags and attributes only, so `<script>`, `<style>`,
`<iframe>`, every `on*` attribute and `style` are removed, and links and images keep only http,
https and mailto URLs (a `javascript:` link loses its href). Links get rel="noopener noreferrer
nofollow". The result is safe to insert into a page unescaped.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

TAGS = frozenset(
    {
        *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code"),
        *("em", "strong", "s", "del", "kbd", "sub", "sup", "a", "img"),
        *("ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td"),
    }
)
ATTRIBUTES = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title"}),
    "ol": frozenset({"start"}),
    "th": frozenset({"align"}),
    "td": frozenset({"align"}),
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_CHARS = 200_000


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def markdown_to_html(markdown: str) -> str:
    """Sanitised HTML of a Markdown text (see the module's doc for what is removed)."""
    html = _parser().render((markdown or "")[:MAX_CHARS])
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
