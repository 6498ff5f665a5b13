"""/docs and /redoc name only this server's URLs (the assets come from node_modules, mounted
under /static), and without the npm packages they say how to install them instead of showing
a blank page. The browser side (rendering with every other host blocked) is in
tests/web/test_demo_outbox_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from flowdesk.api import docs
from flowdesk.api.app import create_app
from flowdesk.settings import Settings
from flowdesk.store import Store


def _client(store: Store, database_url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url), store))


@pytest.mark.skipif(not docs.swagger_available(), reason="npm ci has not run")
def test_docs_pages_and_assets_come_from_this_server(store: Store, database_url: str) -> None:
    client = _client(store, database_url)
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text)
        urls += re.findall(r"""url: ?["']([^"']+)""", page.text)
        assert urls and all(u.startswith("/") for u in urls), urls
        assert "cdn." not in page.text and "fonts.googleapis" not in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
    bundle = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert client.get("/static/redoc/redoc.standalone.js").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_without_the_npm_packages_the_page_says_what_to_install(
    store: Store, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs, "SWAGGER_DIST", tmp_path / "swagger-ui-dist")
    monkeypatch.setattr(docs, "REDOC_DIST", tmp_path / "redoc" / "bundles")
    client = _client(store, database_url)
    for path, package in (("/docs", "swagger-ui-dist"), ("/redoc", "redoc")):
        page = client.get(path)
        assert page.status_code == 503
        assert package in page.text and "npm ci" in page.text
        assert "href='/openapi.json'" in page.text
