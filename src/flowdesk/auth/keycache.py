"""A short-lived cache of verified API keys, so that a request does not pay a database query
(and a join) for the key it presents when the same key was checked a moment ago.

Why it is safe enough:
- entries are keyed by the SHA-256 of the presented key (the same digest the database stores),
  never by the key itself, and only keys that verified are cached: a wrong key always reaches
  the database, so no negative answer can hide a key created since;
- revoking a key through `flowdesk.auth.service.revoke_api_key` drops its entries in this
  process at once; another process (a second server, the CLI) learns of a revocation when its
  entry expires, so `ttl` (default 30 s) bounds how long a revoked key keeps working there;
- the cache is bounded (least recently used entries leave first), so a flood of distinct keys
  costs memory only up to `max_entries`.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

DEFAULT_TTL_S = 30.0
DEFAULT_MAX_ENTRIES = 10_000

V = TypeVar("V")


class KeyCache(Generic[V]):
    """digest -> (key id, value, expiry) with a TTL and an LRU bound; thread-safe (the API
    verifies keys in a thread pool)."""

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s < 0 or max_entries < 1:
            raise ValueError("the key cache needs ttl_s >= 0 and max_entries >= 1")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._now = monotonic
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[str, V, float]] = OrderedDict()

    def get(self, digest: str) -> V | None:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[2] <= self._now():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry[1]

    def put(self, digest: str, key_id: str, value: V) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._entries[digest] = (key_id, value, self._now() + self.ttl_s)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget_key(self, key_id: str) -> None:
        """Drop every entry of one key (it was revoked)."""
        with self._lock:
            for digest in [d for d, e in self._entries.items() if e[0] == key_id]:
                del self._entries[digest]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_per_store: weakref.WeakKeyDictionary[object, KeyCache[object]] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def cache_for(store: object) -> KeyCache[object]:
    """The key cache of one store (one database): a key verified against one database is never
    answered from the cache of another."""
    with _registry_lock:
        cache = _per_store.get(store)
        if cache is None:
            cache = _per_store[store] = KeyCache()
        return cache


def configure(
    store: object,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    monotonic: Callable[[], float] = time.monotonic,
) -> KeyCache[object]:
    """Replace the store's cache (settings at server start, or a test's fake monotonic clock);
    ttl_s=0 turns caching off."""
    cache: KeyCache[object] = KeyCache(ttl_s=ttl_s, max_entries=max_entries, monotonic=monotonic)
    with _registry_lock:
        _per_store[store] = cache
    return cache
