"""Webhook deliveries signed as Standard Webhooks sign them: id, timestamp and body under one
HMAC, so a receiver that checks the time refuses a captured delivery sent again later; a retry
keeps its id and gets a fresh timestamp. Checked against the algorithm written out here (as the
Standard Webhooks specification states it), not only against our own verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.webhooks.test_delivery import SECRET, Receiver, _append

from flowdesk.core.clock import FixedClock
from flowdesk.store import Store
from flowdesk.webhooks import subscriptions
from flowdesk.webhooks.delivery import Deliverer, verify_webhook

pytestmark = pytest.mark.usefixtures("loose_events")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _spec_signature(key: bytes, headers: dict[str, str], body: bytes) -> str:
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("secret", [SECRET, "whsec_" + base64.b64encode(b"k" * 24).decode()])
def test_a_captured_delivery_is_refused_later(
    store: Store, clock: FixedClock, receiver: Receiver, secret: str
) -> None:
    subscriptions.create(store, clock, url=receiver.url, event_types=["*"], secret=secret)
    receiver.statuses = [500]  # the first attempt fails: the retry keeps its id
    _append(store, clock, "process.started")
    deliverer = Deliverer(store, clock=clock)
    deliverer.deliver_once()
    clock.advance(timedelta(minutes=1))
    deliverer.deliver_once()
    assert len(receiver.requests) >= 2
    first, headers, body = receiver.requests[0][0], *receiver.requests[-1]
    assert first["webhook-id"] == headers["webhook-id"]
    assert int(headers["webhook-timestamp"]) == int(first["webhook-timestamp"]) + 60
    key = base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()
    assert headers["webhook-signature"] == _spec_signature(key, headers, body)
    now = clock.now()
    assert verify_webhook(secret, headers, body, now=now)
    assert verify_webhook(secret, headers, body, now=now - timedelta(minutes=4))
    assert not verify_webhook(secret, headers, body, now=now + timedelta(minutes=6))  # replay
    assert not verify_webhook(secret, headers, body + b" ", now=now)
    assert not verify_webhook("another-secret-value!!!", headers, body, now=now)
    moved = {**headers, "webhook-timestamp": str(int(now.timestamp()) + 1)}
    assert not verify_webhook(secret, moved, body, now=now)  # the time is signed too
    assert not verify_webhook(secret, {}, body, now=datetime.now(UTC))
