"""Webhook receivers in these tests listen on 127.0.0.1, which the SSRF guard refuses unless
the allow-list names it (tests of the guard itself clear or replace it)."""

from __future__ import annotations

import pytest

from flowdesk.webhooks.ssrf import ALLOW_ENV


@pytest.fixture(autouse=True)
def _local_webhook_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
