"""What customers were sent (replies, notifications, surveys), for the /outbox page.

Supervisors (and whoever may read all work) see every message. An agent sees the messages of
the cases they can see, by the rule of the work queue: a case is theirs when one of its work
items, open or done, is assigned or offered to them, to one of their groups or to their lane,
plus the replies they sent themselves (`flowdesk.app.processes.may_read`, the rule every door
uses for a case's data).
"""

from __future__ import annotations

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.processes import may_read
from flowdesk.auth.roles import Permission
from flowdesk.channels.sent import SentMessage, sent_messages

#: An agent's page is filtered from the newest messages in pages of PAGE, at most SCAN deep
#: (each case looked at costs one indexed query for its work items).
PAGE = 200
SCAN = 1000


def sent_to_customers(caller: Caller, ops: Ops, *, limit: int = 100) -> list[SentMessage]:
    """The newest `limit` messages sent to customers that the caller may see."""
    require(caller, Permission.CONTACTS_READ)
    limit = max(1, min(limit, 500))
    if caller.can(Permission.SUPERVISE) or caller.can(Permission.WORK_READ_ALL):
        return sent_messages(ops.store, limit=limit)
    cases_seen: dict[str, bool] = {}

    def visible(message: SentMessage) -> bool:
        if message.actor == caller.username:
            return True
        instance = message.instance_id
        if instance is None:
            return False
        if instance not in cases_seen:
            cases_seen[instance] = may_read(caller, ops, instance)
        return cases_seen[instance]

    shown: list[SentMessage] = []
    for offset in range(0, SCAN, PAGE):
        page = sent_messages(ops.store, limit=PAGE, offset=offset)
        shown.extend(m for m in page if visible(m))
        if len(shown) >= limit or len(page) < PAGE:
            break
    return shown[:limit]
