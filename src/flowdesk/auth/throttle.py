"""Failed checks counted per key in the database: logins (per user and per client address)
and the status page (per address and per case reference).

A key with `limit` failures inside the sliding `window` is blocked until its oldest counted
failure leaves the window. The rows live in the database, so every `flowdesk serve` process
behind a load balancer counts the same failures (per-process counts multiplied the limit by
the number of processes). Old rows are deleted as keys fail again and by `purge`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from flowdesk.auth.models import failures
from flowdesk.store import Store


class FailureLimiter:
    def __init__(self, store: Store, limit: int, window: timedelta) -> None:
        self.store = store
        self.limit = limit
        self.window = window

    def retry_after(self, keys: Sequence[str], now: datetime) -> int | None:
        """Seconds until every key may try again, or None when none of them is blocked."""
        wait = 0.0
        with self.store.reading() as conn:
            for key in keys:
                times = list(
                    conn.execute(
                        select(failures.c.at)
                        .where(failures.c.key == key[:300], failures.c.at > now - self.window)
                        .order_by(failures.c.at.desc())
                        .limit(self.limit)
                    ).scalars()
                )
                if len(times) >= self.limit:
                    oldest = times[-1] if times[-1].tzinfo else times[-1].replace(tzinfo=now.tzinfo)
                    wait = max(wait, (oldest + self.window - now).total_seconds())
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, keys: Sequence[str], now: datetime) -> int:
        """Count a failure for each key; returns the highest count inside the window."""
        highest = 0
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            for key in keys:
                conn.execute(
                    delete(failures).where(
                        failures.c.key == key[:300], failures.c.at <= now - self.window
                    )
                )
                conn.execute(failures.insert().values(id=str(uuid.uuid4()), key=key[:300], at=now))
                count = conn.execute(
                    select(func.count())
                    .select_from(failures)
                    .where(failures.c.key == key[:300], failures.c.at > now - self.window)
                ).scalar_one()
                highest = max(highest, count)
        return highest

    def clear(self, keys: Sequence[str]) -> None:
        with self.store.unit_of_work() as uow:
            uow.connection.execute(
                delete(failures).where(failures.c.key.in_([k[:300] for k in keys]))
            )


def purge(store: Store, *, before: datetime) -> int:
    """Forget failures older than `before` (every limiter's window is shorter)."""
    with store.unit_of_work() as uow:
        result = uow.connection.execute(delete(failures).where(failures.c.at < before))
    return int(result.rowcount)
