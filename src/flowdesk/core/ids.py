"""Id generation as an injected dependency: random UUIDs in production, counters in tests."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from typing import Protocol


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class UuidIds:
    """Random UUID4 strings (36 characters); unique across processes and machines."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


class TimeOrderedIds:
    """UUIDv7 strings (RFC 9562): a millisecond timestamp, then 74 random bits.

    Unique like UUID4, but ids made close in time sort close together, so inserting them into a
    B-tree index (primary keys, the event log's id and instance columns) touches the rightmost
    pages instead of a random page per row. On SQLite that halved the bytes written per
    persisted refund instance (benchmarks/engine_refund.py --mode persisted, docs/performance.md).
    """

    def new_id(self) -> str:
        rand = int.from_bytes(os.urandom(10), "big")
        value = (
            (time.time_ns() // 1_000_000) << 80
            | 0x7 << 76  # version 7
            | (rand >> 64 & 0xFFF) << 64
            | 0b10 << 62  # RFC 9562 variant
            | rand & 0x3FFF_FFFF_FFFF_FFFF
        )
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class SequentialIds:
    """Predictable ids (``prefix-1``, ``prefix-2`` ...) so tests can name what they expect."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"
