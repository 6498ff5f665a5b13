"""Commands that run a server in the background (`flowdesk smtp`, `flowdesk demo backoffice`)
wait in the foreground until Ctrl-C, or for `--seconds` when a script or a test runs them."""

from __future__ import annotations

import time


def wait_for_interrupt(seconds: float | None = None) -> None:
    """Return after `seconds` (None: never) or when the user presses Ctrl-C."""
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
