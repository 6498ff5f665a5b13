"""Back-office connectors for the customer 360: CRM (products, contracts), billing (invoices,
balance, payment status) and orders, fetched over HTTP.

Back-office systems are slower and less available than Flowdesk, and an agent with a customer
on the line cannot wait for them. So every call has a short deadline (connect, read and the
whole body), answers are cached in process for a time to live, and each system has a circuit
breaker: after N failures in a row it is not called at all for a cool-down, then one trial call
decides whether it is back. A failed or skipped call never raises: it gives a `Panel` that says
the system is unavailable, with the last known answer and its time when there is one. The case
page loads these panels separately (htmx), so even the deadline never delays the page.

A system is an URL template with `{key}`: the customer's account number when they have one,
else their Flowdesk customer id. `systems_from(settings)` reads FLOWDESK_BACKOFFICE_URL (one
base URL serving /crm, /billing and /orders, like the demo back-office) and
FLOWDESK_BACKOFFICE_SYSTEMS (name -> template).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.errors import FlowdeskError
from flowdesk.customers.views import Customer
from flowdesk.settings import Settings

#: The systems a FLOWDESK_BACKOFFICE_URL serves, in the order the panel shows them.
DEFAULT_SYSTEMS = ("crm", "billing", "orders")
LABELS = {"crm": "CRM", "billing": "Billing", "orders": "Orders"}
#: A back-office answer larger than this is refused (a 360 panel needs a few kilobytes).
MAX_RESPONSE_BYTES = 512 * 1024
MAX_KEY_LENGTH = 200

Status = Literal["ok", "stale", "unavailable", "not-found"]


class BackofficeConfigError(FlowdeskError):
    """A back-office system is configured with an unusable URL."""

    code = "invalid-configuration"


@dataclass(frozen=True, slots=True)
class System:
    name: str
    url_template: str

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name.replace("-", " ").replace("_", " ").title())

    def url(self, key: str) -> str:
        # The key goes into the path escaped: an account number with '/' or '?' must not
        # reach another resource of the back-office.
        return self.url_template.replace("{key}", quote(key, safe=""))


def system(name: str, url_template: str) -> System:
    """A checked system: http(s) URL with a host and exactly one {key}."""
    parts = urlsplit(url_template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BackofficeConfigError(
            f"back-office system {name!r}: {url_template!r} is not an http(s) URL"
        )
    if url_template.count("{key}") != 1:
        raise BackofficeConfigError(
            f"back-office system {name!r}: {url_template!r} needs one {{key}} placeholder"
        )
    return System(name, url_template)


def systems_from(settings: Settings) -> list[System]:
    templates: dict[str, str] = {}
    if settings.backoffice_url:
        base = settings.backoffice_url.rstrip("/")
        templates = {name: f"{base}/{name}/customers/{{key}}" for name in DEFAULT_SYSTEMS}
    templates.update(settings.backoffice_systems)
    return [system(name, template) for name, template in templates.items()]


def backoffice_key(customer: Customer | None, customer_id: str) -> str:
    """What back-office systems know the customer by: the account number, else the id."""
    if customer is not None:
        accounts = sorted(i.value for i in customer.identities if i.kind == "account")
        if accounts:
            return accounts[0]
        return customer.id
    return customer_id


# -- cache and circuit breaker -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Cached:
    value: dict[str, Any] | None  # None: the system does not know this key
    fetched_at: datetime


class TtlCache:
    """Answers by (system, key), fresh for `ttl`. Expired entries stay (the last known data
    shown while a system is down) until the least recently used ones make room."""

    def __init__(self, ttl: timedelta, max_size: int, clock: Clock) -> None:
        if max_size < 1:
            raise ValueError("the cache needs room for at least one entry")
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Cached | None:
        """The entry whatever its age (None when never fetched or evicted)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def is_fresh(self, entry: Cached) -> bool:
        return self.clock.now() - entry.fetched_at < self.ttl

    def put(self, key: tuple[str, str], value: dict[str, Any] | None) -> Cached:
        entry = Cached(value, self.clock.now())
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)
        return entry

    def __len__(self) -> int:
        return len(self._entries)


class CircuitBreaker:
    """Closed: calls go through. After `failures_to_open` failures in a row: open, calls are
    skipped until the cool-down is over. Then one trial call at a time (half-open): a success
    closes the breaker, a failure opens it for another cool-down."""

    def __init__(self, failures_to_open: int, cooldown: timedelta, clock: Clock) -> None:
        self.failures_to_open = failures_to_open
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.open_until: datetime | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> Literal["closed", "open", "half-open"]:
        if self.open_until is None:
            return "closed"
        return "open" if self.clock.now() < self.open_until else "half-open"

    def allow(self) -> bool:
        with self._lock:
            state = self.state
            if state == "closed":
                return True
            if state == "open" or self._trial:
                return False
            self._trial = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0
            self.open_until = None
            self._trial = False

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            if self._trial or self.failures >= self.failures_to_open:
                self.open_until = self.clock.now() + self.cooldown
            self._trial = False


# -- fetching ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Panel:
    """What one system says about a customer, or why it says nothing right now."""

    system: str
    label: str
    status: Status
    data: dict[str, Any] | None = None
    fetched_at: datetime | None = None
    reason: str | None = None

    @property
    def message(self) -> str | None:
        if self.status == "stale" and self.fetched_at is not None:
            return f"{self.label} unavailable right now - last known data from {self._when()}"
        if self.status == "unavailable":
            return f"{self.label} unavailable right now"
        if self.status == "not-found":
            return f"No {self.label} record for this customer"
        return None

    def _when(self) -> str:
        assert self.fetched_at is not None
        return self.fetched_at.strftime("%H:%M UTC")


class FetchError(Exception):
    """One failed call: timeout, refused connection, error status or an unreadable body."""


class Backoffice:
    """The configured systems with their cache and breakers; one per application."""

    def __init__(
        self,
        systems: Iterable[System],
        *,
        timeout_s: float = 1.5,
        cache_ttl: timedelta = timedelta(minutes=5),
        cache_size: int = 2000,
        failures_to_open: int = 3,
        cooldown: timedelta = timedelta(seconds=30),
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.systems = {s.name: s for s in systems}
        self.timeout_s = timeout_s
        self.clock = clock or SystemClock()
        self.cache = TtlCache(cache_ttl, cache_size, self.clock)
        self.breakers = {
            name: CircuitBreaker(failures_to_open, cooldown, self.clock) for name in self.systems
        }
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "flowdesk-connectors"},
        )
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, min(8, len(self.systems)) * 4), thread_name_prefix="backoffice"
        )

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Backoffice:
        return cls(
            systems_from(settings),
            timeout_s=settings.backoffice_timeout_s,
            cache_ttl=timedelta(seconds=settings.backoffice_cache_ttl_s),
            cache_size=settings.backoffice_cache_size,
            failures_to_open=settings.backoffice_failures_to_open,
            cooldown=timedelta(seconds=settings.backoffice_cooldown_s),
            clock=clock,
        )

    @property
    def configured(self) -> bool:
        return bool(self.systems)

    def panels(self, key: str) -> list[Panel]:
        """Every system's panel for the key, fetched in parallel (so the slowest system, not
        the sum of them, bounds the wait)."""
        futures = [self._pool.submit(self.fetch, name, key) for name in self.systems]
        return [f.result() for f in futures]

    def fetch(self, name: str, key: str) -> Panel:
        sys_ = self.systems[name]
        if not key or len(key) > MAX_KEY_LENGTH:
            return Panel(name, sys_.label, "not-found", reason="no usable customer key")
        cached = self.cache.get((name, key))
        if cached is not None and self.cache.is_fresh(cached):
            return self._from_cache(sys_, cached, "ok")
        breaker = self.breakers[name]
        if not breaker.allow():
            return self._degraded(sys_, cached, "circuit open: calls paused after failures")
        try:
            value = self._get(sys_.url(key))
        except FetchError as exc:
            breaker.failed()
            return self._degraded(sys_, cached, str(exc))
        breaker.succeeded()
        return self._from_cache(sys_, self.cache.put((name, key), value), "ok")

    def _from_cache(self, sys_: System, entry: Cached, status: Status) -> Panel:
        if entry.value is None:
            return Panel(sys_.name, sys_.label, "not-found", None, entry.fetched_at)
        return Panel(sys_.name, sys_.label, status, entry.value, entry.fetched_at)

    def _degraded(self, sys_: System, cached: Cached | None, reason: str) -> Panel:
        if cached is not None and cached.value is not None:
            return Panel(sys_.name, sys_.label, "stale", cached.value, cached.fetched_at, reason)
        return Panel(sys_.name, sys_.label, "unavailable", reason=reason)

    def _get(self, url: str) -> dict[str, Any] | None:
        """The JSON object at the URL; None on 404. The deadline covers the whole answer, so a
        server trickling bytes cannot hold the panel longer than the timeout."""
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise FetchError(f"answered HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise FetchError(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
                    if time.monotonic() > deadline:
                        raise FetchError(f"no complete answer within {self.timeout_s:g} s")
        except httpx.TimeoutException:
            raise FetchError(f"no answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"unreachable ({type(exc).__name__})") from None
        try:
            value = json.loads(bytes(body))
        except ValueError:
            raise FetchError("answered with something that is not JSON") from None
        if not isinstance(value, dict):
            raise FetchError("answered JSON that is not an object")
        return value

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
