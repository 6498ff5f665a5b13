"""A knowledge article page shows the article's Markdown as HTML (headings, lists), not as raw
Markdown text (issue 17)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient


def test_article_page_shows_rendered_markdown(
    client: TestClient, login: Callable[..., str]
) -> None:
    login(client, "bokafor")
    page = client.get("/knowledge/moving-tariffs")  # demo/moving-house/knowledge/moving-tariffs.md
    assert page.status_code == 200
    assert "<h1>Tariffs and regions after a move</h1>" in page.text  # the body's `# ...` heading
    assert "# Tariffs" not in page.text
