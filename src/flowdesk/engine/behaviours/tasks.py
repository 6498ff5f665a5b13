"""Plain and manual tasks: nothing to do, the token passes through."""

from __future__ import annotations

from flowdesk.engine.behaviours.base import Behaviour


class PassThroughTask(Behaviour):
    """``task`` and ``manualTask``: recorded in the log, no wait state."""
