"""Named crash points for the fault-injection tests: the process kills itself (SIGKILL, as
`kill -9` would) when it reaches the point named by FLOWDESK_CRASH_POINT.

Inert in production: the variable is read once, at import; with it unset `crash_point` is one
comparison with None. The points: `after-raw-store` (a contact stored raw, not yet handled),
`after-reservation` (an Idempotency-Key claimed, before the effect), `after-effect` (the
effect done, its answer not yet recorded), `mid-commit` (every row written, COMMIT not yet
sent), `before-answer` (committed, the HTTP answer not yet sent) and `archive-written` (a
month's Parquet file in place, its live rows not yet deleted).
"""

from __future__ import annotations

import os
import signal

ENV = "FLOWDESK_CRASH_POINT"
POINTS = (
    "after-raw-store",
    "after-reservation",
    "after-effect",
    "mid-commit",
    "before-answer",
    "archive-written",
)
_ARMED: str | None = os.environ.get(ENV) or None


def crash_point(name: str) -> None:
    if _ARMED is not None and name == _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
