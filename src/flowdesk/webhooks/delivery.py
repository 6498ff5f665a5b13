"""Delivering event-log entries to webhook subscribers, at least once.

Two steps, each safe to crash in:
1. enqueue: read the events after the `webhooks` consumer cursor, insert one delivery row per
   (matching subscription, event) - unique, so a re-read after a crash adds nothing - then ack.
   A subscription gets the events from its creation on, not the history before it.
2. send: POST each due delivery as a CloudEvent (structured JSON) signed as Standard Webhooks
   sign (https://www.standardwebhooks.com): `webhook-id` (the delivery, the same on every
   retry), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
   (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`), so a receiver that refuses
   timestamps outside a tolerance (`verify_webhook`, 5 minutes) cannot be fed a captured
   delivery again later. The key is the subscription secret's bytes (for a `whsec_` secret,
   its base64-decoded rest, as the Standard Webhooks libraries take it). The older
   `X-Flowdesk-Signature: sha256=<hex HMAC of the body>` is still sent; it does not cover the
   time, so receivers should move to the new headers.
   A 2xx marks it delivered; anything else retries with exponential backoff until
   `max_attempts`, then it is marked failed. A crash after the POST and before recording the
   outcome sends it again: receivers deduplicate on the CloudEvent id.
A delivery is leased (its next attempt moved past the send timeout) before it is sent, so several
server processes sharing one database do not send the same delivery at the same time.
Before every attempt the URL is checked again by the SSRF guard (flowdesk.webhooks.ssrf) and the
POST goes to the address that passed, so a host name that now resolves to a private address
(DNS rebinding) is refused; that attempt counts as failed with the reason in the delivery log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.cloudevents import to_cloudevent
from flowdesk.core.jsonutil import json_default
from flowdesk.store import Store
from flowdesk.store.service_tables import webhook_deliveries, webhook_subscriptions
from flowdesk.webhooks import subscriptions
from flowdesk.webhooks.ssrf import Guard, UnsafeUrl

CONSUMER = "webhooks"
SIGNATURE_HEADER = "X-Flowdesk-Signature"
log = logging.getLogger("flowdesk.webhooks")


def sign(secret: str, body: bytes) -> str:
    """The value of the signature header for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """For receivers (and tests): constant-time check of a signature header."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
#: How far a delivery's timestamp may be from the receiver's clock (either way).
TOLERANCE = timedelta(minutes=5)


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except (ValueError, binascii.Error):
            pass
    return secret.encode()


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one attempt (Standard Webhooks, version 1)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> bool:
    """For receivers (and tests): the signature matches the id, timestamp and body, and the
    timestamp is within `tolerance` of `now` (a replayed capture is refused)."""
    lower = {k.lower(): v for k, v in headers.items()}
    webhook_id = lower.get(WEBHOOK_ID)
    stamp = lower.get(WEBHOOK_TIMESTAMP, "")
    if not webhook_id or not stamp.isdigit():
        return False
    if abs(now.timestamp() - int(stamp)) > tolerance.total_seconds():
        return False
    expected = sign_webhook(secret, webhook_id, int(stamp), body)
    offered = lower.get(WEBHOOK_SIGNATURE, "").split()
    return any(hmac.compare_digest(expected, s) for s in offered)


@dataclass(frozen=True, slots=True)
class Report:
    enqueued: int
    delivered: int
    retried: int
    failed: int


class Deliverer:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        http: httpx.Client | None = None,
        consumer: str = CONSUMER,
        batch: int = 500,
        max_attempts: int = 8,
        backoff: timedelta = timedelta(seconds=5),
        max_backoff: timedelta = timedelta(hours=1),
        timeout_s: float = 10.0,
        guard: Guard | None = None,
    ) -> None:
        self.store = store
        self.guard = guard or Guard()
        self.clock = clock or SystemClock()
        self.http = http or httpx.Client(timeout=timeout_s, follow_redirects=False)
        self.consumer = consumer
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease = timedelta(seconds=timeout_s + 5)
        self._registered = False

    def close(self) -> None:
        self.http.close()

    # -- step 1: event log -> delivery rows -----------------------------------------------------
    def enqueue(self) -> int:
        """Fan the events after the cursor out to the matching subscriptions."""
        if not self._registered:
            self.store.events.register(self.consumer, from_start=True)
            self._registered = True
        subs = subscriptions.active(self.store)
        added = 0
        while True:
            if not subs:
                head = self.store.events.head()
                if head > self.store.events.position(self.consumer):
                    self.store.events.ack(self.consumer, head)
                return added
            batch = self.store.events.read(self.consumer, self.batch)
            if not batch:
                return added
            rows = []
            now = self.clock.now()
            for event in batch:
                payload: str | None = None
                for sub in subs:
                    if not sub.wants(event.type) or event.time < sub.created_at:
                        continue
                    if payload is None:
                        payload = json.dumps(
                            to_cloudevent(event), default=json_default, separators=(",", ":")
                        )
                    rows.append(
                        {
                            "id": self.store.ids.new_id(),
                            "subscription_id": sub.id,
                            "event_id": event.id,
                            "event_seq": event.seq,
                            "event_type": event.type,
                            "payload": payload,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                    )
            if rows:
                with self.store.unit_of_work() as uow:
                    dialect = postgresql if self.store.dialect == "postgresql" else sqlite
                    insert = (
                        dialect.insert(webhook_deliveries)
                        .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
                        .returning(webhook_deliveries.c.id)
                    )
                    added += len(uow.connection.execute(insert, rows).all())
            self.store.events.ack(self.consumer, batch[-1].seq)
            if len(batch) < self.batch:
                return added

    # -- step 2: delivery rows -> HTTP ------------------------------------------------------------
    def _lease_due(self, limit: int) -> list[tuple[str, str, str, str, int]]:
        now = self.clock.now()
        query = (
            select(
                webhook_deliveries.c.id,
                webhook_deliveries.c.next_attempt_at,
                webhook_deliveries.c.payload,
                webhook_deliveries.c.attempts,
                webhook_subscriptions.c.url,
                webhook_subscriptions.c.secret,
            )
            .join(
                webhook_subscriptions,
                webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
            )
            .where(webhook_deliveries.c.status == "pending")
            .where(
                or_(
                    webhook_deliveries.c.next_attempt_at.is_(None),
                    webhook_deliveries.c.next_attempt_at <= now,
                )
            )
            .order_by(webhook_deliveries.c.event_seq, webhook_deliveries.c.id)
            .limit(limit)
        )
        leased = []
        with self.store.unit_of_work() as uow:
            for row in uow.connection.execute(query).all():
                taken = uow.connection.execute(
                    update(webhook_deliveries)
                    .where(
                        webhook_deliveries.c.id == row.id,
                        webhook_deliveries.c.status == "pending",
                        webhook_deliveries.c.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=now + self.lease)
                )
                if taken.rowcount == 1:
                    leased.append((row.id, row.url, row.secret, row.payload, row.attempts))
        return leased

    def send_due(self, limit: int = 100) -> tuple[int, int, int]:
        delivered = retried = failed = 0
        for delivery_id, url, secret, payload, attempts in self._lease_due(limit):
            body = payload.encode()
            event = json.loads(payload)
            stamp = int(self.clock.now().timestamp())
            headers = {
                "Content-Type": "application/cloudevents+json",
                WEBHOOK_ID: delivery_id,
                WEBHOOK_TIMESTAMP: str(stamp),
                WEBHOOK_SIGNATURE: sign_webhook(secret, delivery_id, stamp, body),
                SIGNATURE_HEADER: sign(secret, body),
                "X-Flowdesk-Delivery": delivery_id,
                "X-Flowdesk-Event-Id": str(event.get("id", "")),
                "User-Agent": "flowdesk-webhooks",
            }
            status_code: int | None = None
            error: str | None = None
            try:
                target = self.guard.check(url)
                headers["Host"] = target.host
                response = self.http.post(
                    target.url,
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": target.server_name},
                )
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}: {response.text[:200]}"
            except UnsafeUrl as exc:
                error = f"refused: {exc.message}"[:1000]
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:1000]
            outcome = self._record(delivery_id, attempts + 1, status_code, error)
            if outcome == "delivered":
                delivered += 1
            elif outcome == "failed":
                failed += 1
            else:
                retried += 1
        return delivered, retried, failed

    def _record(
        self, delivery_id: str, attempts: int, status_code: int | None, error: str | None
    ) -> str:
        now = self.clock.now()
        values: dict[str, object] = {
            "attempts": attempts,
            "last_status_code": status_code,
            "last_error": error,
        }
        if error is None:
            values.update(status="delivered", delivered_at=now, next_attempt_at=None)
        elif attempts >= self.max_attempts:
            values.update(status="failed", next_attempt_at=None)
        else:
            delay = min(self.backoff * (2 ** (attempts - 1)), self.max_backoff)
            values.update(status="pending", next_attempt_at=now + delay)
        with self.store.unit_of_work() as uow:
            uow.connection.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id)
                .values(**values)
            )
        return str(values["status"])

    def deliver_once(self) -> Report:
        enqueued = self.enqueue()
        delivered, retried, failed = self.send_due()
        return Report(enqueued, delivered, retried, failed)


class DeliveryLoop:
    """Runs `Deliverer.deliver_once` every `interval` seconds in a daemon thread (the server's
    background delivery). FLOWDESK_WEBHOOK_INTERVAL sets the interval; 0 turns it off."""

    def __init__(self, store: Store, *, clock: Clock | None = None, interval: float | None = None):
        if interval is None:
            interval = float(os.environ.get("FLOWDESK_WEBHOOK_INTERVAL", "1.0"))
        self.interval = interval
        self.deliverer = Deliverer(store, clock=clock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="flowdesk-webhooks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.deliverer.deliver_once()
                busy = report.delivered + report.retried + report.failed > 0
            except Exception:  # a database hiccup must not end background delivery
                log.exception("webhook delivery failed; will retry")
                busy = False
            if not busy:
                self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self.deliverer.close()
