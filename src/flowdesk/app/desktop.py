"""The agent's main action, next best work, for both doors: whichever is due first of the
contact waiting longest for a first answer and the best item of the agent's queue; a work item
is claimed for the agent on the way (someone else may take it first: then the next one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowdesk.app import triage, work
from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import ConflictError, NotFoundError

ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Taken:
    """What the agent works on next: a work item (claimed for them), a contact to triage, or
    neither when there is nothing to do."""

    item: dict[str, Any] | None = None
    contact_id: str | None = None


def take_next(caller: Caller, ops: Ops) -> Taken:
    require(caller, Permission.WORK_ACT)
    for _ in range(ATTEMPTS):
        best = work.best_item(caller, ops)
        first = next(iter(triage.waiting(caller, ops, limit=1)), None)
        if first is not None and (best is None or best["due"] is None or first.due <= best["due"]):
            return Taken(contact_id=first.id)
        if best is None:
            return Taken()
        if best["assignee"] == caller.username:
            return Taken(item=best)
        try:
            ops.runtime.claim(best["id"], caller.username)
        except (ConflictError, NotFoundError):
            continue  # someone took it between the read and the claim
        return Taken(item={**best, "assignee": caller.username})
    raise ConflictError(
        "others took every item offered to you while you asked", hint="try again in a moment"
    )
