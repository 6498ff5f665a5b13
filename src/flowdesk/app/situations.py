"""Situations through the front doors: what the event patterns found (REST, wallboard, CLI).

Listing needs `events:read` (supervisors, integrations, administrators): a situation names
customers and what was sent to them. `replay_patterns` replays a file of events through a rules
file with no store at all, for rule authors (`flowdesk patterns test`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import InvalidInput
from flowdesk.auth.roles import Permission
from flowdesk.cep import Change, Engine, Event
from flowdesk.cep.events import context_of
from flowdesk.experience.errors import BundleError
from flowdesk.experience.patterns import check_rules
from flowdesk.situations.service import list_situations

STATUSES = ("active", "cleared")


def situations(
    caller: Caller, ops: Ops, *, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Active situations first, then recent ones, with affected customers and actions."""
    require(caller, Permission.EVENTS_READ)
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    if not 1 <= limit <= 500:
        raise InvalidInput(f"limit must be 1 to 500, got {limit}")
    return list_situations(ops.store, status=status, limit=limit)


@dataclass(frozen=True, slots=True)
class Replay:
    changes: list[Change]
    events: int
    active: list[dict[str, Any]]


def _time(value: Any, line: int) -> datetime:
    if value is None:
        raise InvalidInput(f"line {line}: the event has no time")
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"line {line}: time {value!r} is not an RFC 3339 timestamp") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def replay_patterns(rules_name: str, rules_text: str, events_text: str) -> Replay:
    """Replay JSON lines (CloudEvents: type, time, data, subject) through a rules file; the
    situation changes in order, and what is still active at the end (time stops at the last
    event). BundleError names the rules' problems with line and column."""
    rules, issues = check_rules(rules_name, rules_text, set())
    if issues:
        raise BundleError(issues)
    engine = Engine(rules)
    changes: list[Change] = []
    count = 0
    for number, line in enumerate(events_text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise InvalidInput(f"line {number}: not JSON ({exc})") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise InvalidInput(f"line {number}: an event is a JSON object with a type")
        event_id = str(raw.get("id", number))
        at = _time(raw.get("time"), number)
        # the log entry's shape (app.events), so a rule sees what the live consumer gives it
        stored = {"cloudevent_id": event_id, "subject": raw.get("subject"), "data": raw.get("data")}
        context = context_of(event_id, raw["type"], raw.get("source"), at, stored, *(None,) * 6)
        event = Event(event_id, raw["type"], at.timestamp(), context)
        changes += engine.process(event)
        count += 1
    return Replay(changes, count, engine.situations())
