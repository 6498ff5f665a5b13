"""Id generation as an injected dependency: random UUIDs in production, counters in tests."""

from __future__ import annotations

import itertools
import uuid
from typing import Protocol


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class UuidIds:
    """Random UUID4 strings (36 characters); unique across processes and machines."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


class SequentialIds:
    """Predictable ids (``prefix-1``, ``prefix-2`` ...) so tests can name what they expect."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"
