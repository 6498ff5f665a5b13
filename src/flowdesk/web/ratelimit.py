"""Failed status checks counted per client address and per case reference, so case references
cannot be enumerated and one case's identity answer cannot be guessed.

A key (an address or a reference) that has had `limit` failures inside the sliding `window` is
blocked until its oldest counted failure leaves the window; while blocked, nothing is checked
at all (so a right guess tells nothing either). Counting both keys matters: per address alone
lets a botnet spread guesses over one reference; per reference alone lets one client walk
through references. Time comes from the app's clock, so tests move it instead of sleeping.

The counts live in this process (one `flowdesk serve`); with several server processes each
counts its own, so the effective limit is multiplied by their number. Memory is bounded: at
most `max_keys` keys, the least recently failed dropped first.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta


class FailureLimiter:
    def __init__(self, limit: int, window: timedelta, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys: list[str], now: datetime) -> int | None:
        """Seconds until every key may try again, or None when none of them is blocked."""
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.limit:
                    free_at = times[len(times) - self.limit] + self.window
                    wait = max(wait, (free_at - now).total_seconds())
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            for key in keys:
                times = self._recent(key, now) or deque()
                times.append(now)
                self._failures[key] = times
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
