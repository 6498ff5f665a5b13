"""User tasks: open a work item for the one queue and wait for complete_work_item."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node
from flowdesk.bpmn.timers import parse_date_time, parse_duration
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.errors import Incident
from flowdesk.engine.state import Token, WorkItem

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _moment(value: Any, now: datetime) -> str | None:
    """Due dates: an ISO date-time, or an ISO duration from now (PT4H)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value).strip()
    try:
        if text.startswith(("P", "-P")):
            return parse_duration(text).add_to(now).isoformat()
        return parse_date_time(text).isoformat()
    except ValueError as exc:
        raise Incident(f"due date '{text}': {exc}") from exc


class UserTask(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        spec = node.task
        scope = run.scope_of(token)
        token.wait = "task"
        groups: list[str] = []
        users: list[str] = []
        item = WorkItem(run.engine.new_id(), node.id, token.id, node.name, node.lane)
        if spec is not None:
            assignee = run.value(spec.assignee, scope)
            item.assignee = None if assignee is None else str(assignee)
            groups = _names(run.value(spec.candidate_groups, scope))
            users = _names(run.value(spec.candidate_users, scope))
            item.form_key = spec.form_key
            item.due = _moment(run.value(spec.due_date, scope), run.now)
            item.follow_up = _moment(run.value(spec.follow_up_date, scope), run.now)
            priority = run.value(spec.priority, scope)
            if priority is not None:
                try:
                    item.priority = int(priority)
                except (TypeError, ValueError) as exc:
                    raise Incident(f"priority '{priority}' is not a whole number") from exc
        if not groups and node.lane:
            groups = [node.lane]  # the lane is the department that owns the step
        item.candidate_groups = groups
        item.candidate_users = users
        item.created = run.now_text
        run.add_work_item(item)
