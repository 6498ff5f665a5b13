"""Routing against the store: the one queue, agents, offers, pulls, transfers and SLA clocks.

Work items of every flow reach the queue through the event-log consumer "routing"
(`sync`, idempotent on the work item id, at-least-once); so do contacts waiting for a first
answer (`contact.triage_required`, see triage.py), and other work is queued with `enqueue`.
Every command is one unit of work whose facts are appended to the event log in the same
transaction. Decisions use the pure engine and priority policy; the
store only keeps each entry's class, rank and clocks, indexed so that a decision probes one
index range per routing class instead of reading the queue.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.errors import ConflictError, FlowdeskError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent, StoredEvent
from flowdesk.routing import sla_state, triage
from flowdesk.routing.domain import DEFAULT_CAPACITY, Agent, ClassKey, Item, Presence, RoutingError
from flowdesk.routing.engine import RoutingEngine
from flowdesk.routing.models import routing_agents, routing_classes, routing_queue
from flowdesk.routing.organisation import WorkProfiler
from flowdesk.routing.priority import PriorityPolicy
from flowdesk.routing.triage import TriageSettings
from flowdesk.sla import SlaCatalog, SlaPolicy, due_escalations, predict
from flowdesk.store import Store, UnitOfWork

CONSUMER = "routing"
OPEN = ("queued", "offered", "assigned")
#: How many entries of one class a decision looks at (skipping ones the agent declined).
PEEK = 8

# Statements of the event-log consumer, built once: every synced work item runs a few of them,
# and building them per call (.values(), cache keys) cost more than executing them.
_q = routing_queue.c
_EXISTS = select(_q.id).where(_q.id == bindparam("id"))
_INSERT = insert(routing_queue)
#: What closing an entry and recording a hand-off read of it (not the whole row).
_CLOSE_COLUMNS = (
    _q.id,
    _q.status,
    _q.instance_id,
    _q.element_id,
    _q.department,
    _q.channel,
    _q.agent_id,
    _q.enqueued_at,
    _q.assigned_at,
    _q.closed_at,
    _q.sla,
)
_READ_FOR_CLOSE = select(*_CLOSE_COLUMNS).where(_q.id.in_(bindparam("ids", expanding=True)))
_CLOSED_OF_INSTANCES = select(*_CLOSE_COLUMNS).where(
    _q.instance_id.in_(bindparam("ids", expanding=True)), _q.status == "closed"
)
_LAST_CLOSED = (
    select(*_CLOSE_COLUMNS)
    .where(_q.instance_id == bindparam("instance"), _q.status == "closed", _q.id != bindparam("id"))
    .order_by(_q.closed_at.desc())
    .limit(1)
)
_CLOSE = (
    update(routing_queue)
    .where(_q.id == bindparam("_id"))
    .values(
        status="closed",
        closed_at=bindparam("_closed_at"),
        close_reason=bindparam("_reason"),
        offer_id=None,
        offer_expires_at=None,
        sla=bindparam("_sla"),
        sla_next_at=None,
    )
)
_CREATED_OR_CLOSED = (
    EventType.WORK_ITEM_CREATED,
    EventType.WORK_ITEM_COMPLETED,
    EventType.WORK_ITEM_CANCELLED,
)
# What the queue follows (`_apply`); the consumer reads only these from the log.
ROUTED_EVENTS = frozenset(
    {
        *_CREATED_OR_CLOSED,
        EventType.WORK_ITEM_CLAIMED,
        EventType.WORK_ITEM_DELEGATED,
        EventType.WORK_ITEM_UNCLAIMED,
        EventType.CONTACT_TRIAGE_REQUIRED,
        *triage.SETTLED,
    }
)


def _chunks(values: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    return (values[start : start + size] for start in range(0, len(values), size))


#: Columns an enqueued row leaves empty; given explicitly so that rows of one batch (some
#: closed before they were inserted) share one INSERT.
_UNSET = {"closed_at": None, "close_reason": None, "offer_id": None, "offer_expires_at": None}


def departments_of(store: Store, item_ids: Sequence[str]) -> dict[str, str]:
    """The department routing has put each work item in (after a transfer), by item id."""
    q = routing_queue.c
    out: dict[str, str] = {}
    ids = list(item_ids)
    with store.reading() as conn:
        for start in range(0, len(ids), 500):
            query = select(q.id, q.department).where(
                q.id.in_(ids[start : start + 500]),
                q.source == "work_item",
                q.department.is_not(None),
            )
            out.update({r[0]: r[1] for r in conn.execute(query)})
    return out


def class_key(key: ClassKey) -> str:
    channel, skills, language, department, groups, users = key
    text = json.dumps(
        [channel, skills, language, department, sorted(groups), sorted(users)], sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _key_from_class_row(row: Row[Any]) -> ClassKey:
    m = row._mapping
    return (
        m["channel"],
        tuple((str(s), int(lvl)) for s, lvl in m["skills"]),
        m["language"],
        m["department"],
        frozenset(m["candidate_groups"]),
        frozenset(m["candidate_users"]),
    )


def _agent(row: Row[Any]) -> Agent:
    m = row._mapping
    return Agent(
        m["id"],
        skills={str(k): int(v) for k, v in m["skills"].items()},
        languages=frozenset(m["languages"]),
        departments=frozenset(m["departments"]),
        capacity={str(k): int(v) for k, v in m["capacity"].items()},
        presence=Presence(m["presence"]),
        idle_since=m["idle_since"],
    )


def _item(row: Row[Any] | Mapping[str, Any]) -> Item:
    m = row._mapping if isinstance(row, Row) else row
    return Item(
        m["id"],
        m["channel"],
        m["enqueued_at"],
        department=m["department"],
        skills={str(k): int(v) for k, v in m["skills"].items()},
        language=m["language"],
        candidate_groups=frozenset(m["candidate_groups"]),
        candidate_users=frozenset(m["candidate_users"]),
        due_at=m["due_at"],
        customer_value=m["customer_value"],
        churn_risk=m["churn_risk"],
        reason=m["reason"],
        reason_priority=m["reason_priority"],
        boost=m["boost"],
        attributes=dict(m["attributes"]),
        excluded=set(m["excluded"]),
    )


@dataclass
class WorkRef:
    """Where queued work comes from (a user task of a flow, or a contact)."""

    source: str = "contact"
    instance_id: str | None = None
    process_key: str | None = None
    business_key: str | None = None
    element_id: str | None = None
    name: str | None = None
    step: str | None = None


@dataclass
class _After:
    """Calls into the process runtime, made once our transaction committed."""

    calls: list[Callable[[], Any]] = field(default_factory=list)

    def run(self) -> None:
        for call in self.calls:
            # the flow may have moved on (completed, claimed elsewhere): nothing to undo then
            with suppress(FlowdeskError):
                call()


@dataclass
class _Batch:
    """What one batch of the event-log consumer knows of the queue, so that each work item
    costs no statement of its own: entries read once for the whole batch (only the columns a
    close needs) or written in it, entries to insert and closes to write at the end (many rows
    per statement), and the newest closed entry of each flow instance that gets new work.
    Events are still applied one by one, in order, against this view."""

    rows: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # None: not queued
    last_closed: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    inserting: set[str] = field(default_factory=set)  # ids of `inserts`
    closes: list[dict[str, Any]] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)

    def row(self, conn: Connection, item_id: str) -> dict[str, Any] | None:
        if item_id not in self.rows:  # not read ahead, or changed by a statement since
            found = conn.execute(_READ_FOR_CLOSE, {"ids": [item_id]}).first()
            self.rows[item_id] = dict(found._mapping) if found else None
        return self.rows[item_id]

    def closed(self, row: Mapping[str, Any]) -> None:
        """Keep `row` as its instance's newest closed entry (ties: the later fact wins)."""
        instance = row["instance_id"]
        if instance in self.last_closed:
            last = self.last_closed[instance]
            if last is None or last["closed_at"] <= row["closed_at"]:
                self.last_closed[instance] = dict(row)

    def flush(self, conn: Connection) -> None:
        if self.inserts:
            conn.execute(_INSERT, self.inserts)
            self.inserts, self.inserting = [], set()
        if self.closes:
            conn.execute(_CLOSE, self.closes)
            self.closes = []


class RoutingService:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        policy: PriorityPolicy | None = None,
        catalog: SlaCatalog | None = None,
        runtime: Any | None = None,
        accept_timeout: timedelta = timedelta(seconds=30),
        triage: TriageSettings | None = None,
        profiler: WorkProfiler | None = None,
    ) -> None:
        """`runtime` (a ProcessRuntime) lets routing claim the flow's work item for the agent
        it assigns, and lets SLA escalations correlate BPMN messages. `triage` says which
        queue contacts waiting for triage go to and their default first-response target.
        `profiler` (the company file's organisation) maps lanes to departments and gives flow
        work its required skills, customer value and risk, and the step's SLA policy; its
        catalog is the SLA catalog unless `catalog` is given."""
        self.store = store
        self.clock = clock or SystemClock()
        self.policy = policy or PriorityPolicy()
        self.profiler = profiler
        self.catalog = catalog or (profiler.catalog if profiler is not None else SlaCatalog())
        self.runtime = runtime
        self.accept_timeout = accept_timeout
        self.triage = triage or TriageSettings()
        self._registered = False
        # Routing classes are only ever added: cached, refreshed when the count changes.
        self._class_cache: dict[str, ClassKey] = {}
        self._eligible_cache: dict[str, tuple[tuple[Any, ...], list[tuple[str, str]]]] = {}
        self._by_department: dict[str | None, list[tuple[str, ClassKey]]] = {}
        mark = "?" if store.engine.dialect.paramstyle == "qmark" else "%s"
        self._probe_sql = (
            "SELECT rank, id, excluded FROM routing_queue WHERE status = 'queued' "
            f"AND class_key = {mark} ORDER BY rank, id LIMIT {mark}"
        )

    # -- agents -------------------------------------------------------------------------------
    def upsert_agent(
        self,
        agent_id: str,
        *,
        skills: Mapping[str, int] | None = None,
        languages: Iterable[str] = (),
        departments: Iterable[str] = (),
        capacity: Mapping[str, int] | None = None,
        display_name: str | None = None,
    ) -> dict[str, Any]:
        agent = Agent(agent_id, capacity=dict(capacity or DEFAULT_CAPACITY))  # validates
        now = self.clock.now()
        values = {
            "display_name": display_name or agent_id,
            "skills": dict(skills or {}),
            "languages": sorted(set(languages)),
            "departments": sorted(set(departments)),
            "capacity": dict(agent.capacity),
            "updated_at": now,
        }
        with self.store.unit_of_work() as uow:
            exists = uow.connection.execute(
                select(routing_agents.c.id).where(routing_agents.c.id == agent_id)
            ).first()
            if exists:
                uow.connection.execute(
                    update(routing_agents).where(routing_agents.c.id == agent_id).values(**values)
                )
            else:
                uow.connection.execute(
                    insert(routing_agents).values(
                        id=agent_id, presence="offline", presence_since=now, **values
                    )
                )
            uow.append(
                NewEvent(
                    EventType.AGENT_UPDATED, now, {"agent": agent_id, **values}, actor=agent_id
                )
            )
        return self.agent(agent_id)

    def agent(self, agent_id: str) -> dict[str, Any]:
        with self.store.reading() as conn:
            row = conn.execute(
                select(routing_agents).where(routing_agents.c.id == agent_id)
            ).first()
            if row is None:
                raise NotFoundError(f"no agent {agent_id!r}", hint="register the agent first")
            load = self._loads(conn, [agent_id]).get(agent_id, {})
        return self._agent_out(row, load)

    def _agent_out(self, row: Row[Any], load: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
        agent = _agent(row)
        agent.load = dict(load.get("assigned", {}))
        for channel, n in load.get("offered", {}).items():
            agent.load[channel] = agent.load.get(channel, 0) + n
        m = row._mapping
        return {
            "id": agent.id,
            "display_name": m["display_name"],
            "presence": agent.presence.value,
            "presence_since": m["presence_since"],
            "skills": dict(agent.skills),
            "languages": sorted(agent.languages),
            "departments": sorted(agent.departments),
            "capacity": dict(agent.capacity),
            "load": {c: n for c, n in agent.load.items() if n},
            "utilisation": round(agent.utilisation(), 4),
            "offers": sum(load.get("offered", {}).values()),
        }

    def set_presence(
        self, agent_id: str, presence: Presence | str, *, actor: str | None = None
    ) -> dict[str, Any]:
        """`actor`: who changed it (a supervisor), when not the agent themselves."""
        p = Presence(presence)
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            row = uow.connection.execute(
                select(routing_agents).where(routing_agents.c.id == agent_id)
            ).first()
            if row is None:
                raise NotFoundError(f"no agent {agent_id!r}", hint="register the agent first")
            values: dict[str, Any] = {"presence": p.value, "presence_since": now}
            if p is Presence.AVAILABLE and row._mapping["presence"] != p.value:
                values["idle_since"] = now
            uow.connection.execute(
                update(routing_agents).where(routing_agents.c.id == agent_id).values(**values)
            )
            uow.append(
                NewEvent(
                    EventType.AGENT_PRESENCE_CHANGED,
                    now,
                    {"agent": agent_id, "presence": p.value, "previous": row._mapping["presence"]},
                    actor=actor or agent_id,
                )
            )
        return self.agent(agent_id)

    def agents(self) -> list[dict[str, Any]]:
        with self.store.reading() as conn:
            rows = list(conn.execute(select(routing_agents).order_by(routing_agents.c.id)))
            loads = self._loads(conn, [r._mapping["id"] for r in rows])
        return [self._agent_out(r, loads.get(r._mapping["id"], {})) for r in rows]

    def _loads(
        self, conn: Connection, agent_ids: list[str]
    ) -> dict[str, dict[str, dict[str, int]]]:
        """agent -> status (offered/assigned) -> channel -> count."""
        q = routing_queue.c
        out: dict[str, dict[str, dict[str, int]]] = {}
        if not agent_ids:
            return out
        for chunk in range(0, len(agent_ids), 500):
            ids = agent_ids[chunk : chunk + 500]
            rows = conn.execute(
                select(q.agent_id, q.status, q.channel, func.count())
                .where(q.agent_id.in_(ids), q.status.in_(("offered", "assigned")))
                .group_by(q.agent_id, q.status, q.channel)
            )
            for agent_id, status, channel, n in rows:
                out.setdefault(agent_id, {}).setdefault(status, {})[channel] = int(n)
        return out

    def _live_agent(self, conn: Connection, agent_id: str) -> Agent:
        row = conn.execute(select(routing_agents).where(routing_agents.c.id == agent_id)).first()
        if row is None:
            raise NotFoundError(f"no agent {agent_id!r}", hint="register the agent first")
        agent = _agent(row)
        load = self._loads(conn, [agent_id]).get(agent_id, {})
        for status in ("assigned", "offered"):
            for channel, n in load.get(status, {}).items():
                agent.load[channel] = agent.load.get(channel, 0) + n
        if load.get("offered"):
            agent.pending_offer = "pending"
        return agent

    # -- queue --------------------------------------------------------------------------------
    def enqueue(self, item: Item, ref: WorkRef | None = None) -> bool:
        """Queue work (a contact waiting for a first answer, or any task). False if the id is
        already known (idempotent)."""
        with self.store.unit_of_work() as uow:
            return self._enqueue(uow, item, ref or WorkRef())

    def enqueue_many(self, work: Iterable[tuple[Item, WorkRef]], *, batch: int = 1000) -> int:
        """Queue many pieces of work in one transaction (imports, migrations, benchmarks);
        ids already known are skipped. Returns how many were queued."""
        q = routing_queue.c
        added = 0
        pending = list(work)
        seen: set[str] = set()
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            for start in range(0, len(pending), batch):
                chunk = pending[start : start + batch]
                known = set(
                    conn.execute(select(q.id).where(q.id.in_([i.id for i, _ in chunk]))).scalars()
                )
                rows: list[dict[str, Any]] = []
                for item, ref in chunk:
                    if item.id not in known:
                        known.add(item.id)
                        added += self._enqueue(uow, item, ref, checked=True, seen=seen, sink=rows)
                if rows:
                    conn.execute(insert(routing_queue), rows)
        return added

    def _ensure_class(self, conn: Connection, item: Item, seen: set[str] | None = None) -> str:
        key = class_key(item.key)
        if key in self._class_cache or (seen is not None and key in seen):
            return key
        if seen is not None:
            seen.add(key)
        if conn.execute(select(routing_classes.c.key).where(routing_classes.c.key == key)).first():
            return key
        values = {
            "key": key,
            "channel": item.channel,
            "skills": [list(p) for p in sorted(item.skills.items())],
            "language": item.language,
            "department": item.department,
            "candidate_groups": sorted(item.candidate_groups),
            "candidate_users": sorted(item.candidate_users),
        }
        # Another process may add the same class between the look and the insert (two
        # workers on one PostgreSQL): the class is the same either way, so a conflict is fine.
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(dialect_insert(routing_classes).values(**values).on_conflict_do_nothing())
        return key

    def _enqueue(
        self,
        uow: UnitOfWork,
        item: Item,
        ref: WorkRef,
        *,
        assignee: str | None = None,
        checked: bool = False,
        seen: set[str] | None = None,
        sink: list[dict[str, Any]] | None = None,
        batch: _Batch | None = None,
        policy: SlaPolicy | None = None,
    ) -> bool:
        conn = uow.connection
        if batch is not None:
            if batch.row(conn, item.id) is not None:
                return False
            seen = batch.classes
        elif not checked and conn.execute(_EXISTS, {"id": item.id}).first():
            return False
        now = self.clock.now()
        clocks: list[sla_state.TrackedClock] = []
        policy = policy or self.catalog.policy_for(item.reason, ref.step or ref.element_id)
        if policy is None and ref.source == "contact" and ref.step == triage.STEP:
            policy = self.triage.policy()
        if policy is not None:
            for kind in ("first_response", "resolution"):
                tracked = sla_state.from_policy(policy, kind, item.created_at)
                if tracked is not None:
                    clocks.append(tracked)
        handoff = (
            self._handoff(uow, item, ref, self._last_closed(conn, item, ref, batch))
            if ref.instance_id
            else None
        )
        if handoff is not None:
            clocks.append(sla_state.from_ola(handoff, item.created_at))
        if assignee:  # created already assigned: the first response is given
            for c in clocks:
                if c.clock.kind == "first_response":
                    c.clock.stop(now)
        due = sla_state.deadline(clocks)
        item.due_at = (
            min(d for d in (due, item.due_at) if d is not None) if (due or item.due_at) else None
        )
        base = self.policy.base(item, now)
        values = {
            "id": item.id,
            "source": ref.source,
            "instance_id": ref.instance_id,
            "process_key": ref.process_key,
            "business_key": ref.business_key,
            "element_id": ref.element_id,
            "name": ref.name,
            "channel": item.channel,
            "department": item.department,
            "class_key": self._ensure_class(conn, item, seen),
            "skills": dict(item.skills),
            "language": item.language,
            "candidate_groups": sorted(item.candidate_groups),
            "candidate_users": sorted(item.candidate_users),
            "customer_value": float(item.customer_value),
            "churn_risk": float(item.churn_risk),
            "reason": item.reason,
            "reason_priority": float(item.reason_priority),
            "boost": float(item.boost),
            "attributes": dict(item.attributes),
            "base": base,
            "rank": self.policy.rank(base, item),
            "review_at": self.policy.next_review(item, now),
            "due_at": item.due_at,
            "status": "assigned" if assignee else "queued",
            "agent_id": assignee,
            "excluded": [],
            "created_at": now,
            "enqueued_at": item.created_at,
            "assigned_at": now if assignee else None,
            "sla": sla_state.dump(clocks),
            "sla_next_at": sla_state.next_check(clocks),
            **_UNSET,
        }
        if batch is not None:  # inserted with the batch's other new entries
            batch.inserts.append(values)
            batch.inserting.add(item.id)
            batch.rows[item.id] = values
        elif sink is None:
            conn.execute(_INSERT, values)
        else:
            sink.append(values)  # inserted by the caller, many rows at once
        uow.append(
            NewEvent(
                EventType.WORK_ITEM_QUEUED,
                now,
                {
                    "work_item_id": item.id,
                    "channel": item.channel,
                    "priority": base,
                    "due": item.due_at.isoformat() if item.due_at else None,
                    "sla_policy": policy.name if policy else None,
                    "assignee": assignee,
                },
                process_instance_id=ref.instance_id,
                element_id=ref.element_id,
                department=item.department,
                channel=item.channel,
            )
        )
        return True

    def _last_closed(
        self, conn: Connection, item: Item, ref: WorkRef, batch: _Batch | None
    ) -> dict[str, Any] | None:
        """The flow's previous step in the queue: its newest closed entry."""
        if batch is not None:
            if ref.instance_id in batch.last_closed:
                return batch.last_closed[ref.instance_id]
            batch.flush(conn)  # not read ahead: the store must see the batch's closes
        row = conn.execute(_LAST_CLOSED, {"instance": ref.instance_id, "id": item.id}).first()
        prev = dict(row._mapping) if row else None
        if batch is not None:
            batch.last_closed[str(ref.instance_id)] = prev
        return prev

    def _handoff(
        self, uow: UnitOfWork, item: Item, ref: WorkRef, p: Mapping[str, Any] | None
    ) -> Any:
        """Record a hand-off when the flow's previous step (`p`) was in another department."""
        if p is None:
            return None
        if p["department"] is None or item.department is None or p["department"] == item.department:
            return None
        ola = self.catalog.ola_for(p["department"], item.department)
        uow.append(
            NewEvent(
                EventType.DEPARTMENT_HANDOFF,
                self.clock.now(),
                {
                    "from_department": p["department"],
                    "to_department": item.department,
                    "from_work_item": p["id"],
                    "to_work_item": item.id,
                    **_times(dict(p)),
                    "ola_minutes": ola.target.total_seconds() / 60 if ola else None,
                },
                process_instance_id=ref.instance_id,
                department=item.department,
            )
        )
        return ola

    def close(self, item_id: str, reason: str = "completed", *, actor: str | None = None) -> bool:
        with self.store.unit_of_work() as uow:
            return self._close(uow, item_id, reason, actor)

    def _close(
        self,
        uow: UnitOfWork,
        item_id: str,
        reason: str,
        actor: str | None,
        at: datetime | None = None,
        batch: _Batch | None = None,
    ) -> bool:
        conn = uow.connection
        if batch is None:
            row = conn.execute(_READ_FOR_CLOSE, {"ids": [item_id]}).first()
            m = dict(row._mapping) if row is not None else None
        else:
            m = batch.row(conn, item_id)
        if m is None or m["status"] == "closed":
            return False
        now = at or self.clock.now()  # when the flow closed it, even if we read it later
        clocks = sla_state.load(m["sla"], self.catalog)
        for c in clocks:
            c.clock.stop(now)
        sla = sla_state.dump(clocks)
        closing = {"_id": item_id, "_closed_at": now, "_reason": reason, "_sla": sla}
        if batch is None:
            conn.execute(_CLOSE, closing)
        elif item_id not in batch.inserting:
            batch.closes.append(closing)
        # an entry not inserted yet is inserted closed (it is the very row of the batch)
        m.update(status="closed", closed_at=now, close_reason=reason, sla=sla, sla_next_at=None)
        m.update(offer_id=None, offer_expires_at=None)
        if batch is not None:
            batch.closed(m)
        uow.append(
            NewEvent(
                EventType.WORK_ITEM_LEFT_QUEUE,
                now,
                {
                    "work_item_id": item_id,
                    "reason": reason,
                    "agent": m["agent_id"],
                    **_times(m),
                    "sla": [
                        {"kind": c.clock.kind, "status": c.clock.status(c.calendar, now)}
                        for c in clocks
                    ],
                },
                process_instance_id=m["instance_id"],
                element_id=m["element_id"],
                department=m["department"],
                channel=m["channel"],
                actor=actor,
            )
        )
        return True

    # -- the event-log consumer ---------------------------------------------------------------
    def sync(self, limit: int = 2000) -> int:
        """Pull work-item facts of every flow into the queue; returns events processed."""
        if not self._registered:
            self.store.events.register(CONSUMER)
            self._registered = True
        done = 0
        while True:
            window = self.store.events.read_types(CONSUMER, ROUTED_EVENTS, limit)
            if window.position is None:
                return done
            batch = window.events
            if batch:
                with self.store.unit_of_work() as uow:
                    known = self._read_ahead(uow.connection, batch)
                    for event in batch:
                        self._apply(uow, event, known)
                    known.flush(uow.connection)
            self.store.events.ack(CONSUMER, window.position)
            done += len(batch)
            if window.scanned < limit:
                return done

    def _read_ahead(self, conn: Connection, events: Sequence[StoredEvent]) -> _Batch:
        """Read, for a batch of events, the entries they close or create and the newest
        closed entry of each flow that gets new work: a few statements for the whole batch."""
        known = _Batch()
        ids: set[str] = set()
        instances: set[str] = set()
        for e in events:
            if e.type in _CREATED_OR_CLOSED:
                ids.add(e.data["work_item_id"])
                if e.type == EventType.WORK_ITEM_CREATED and e.process_instance_id:
                    instances.add(e.process_instance_id)
            elif e.type in triage.SETTLED and e.contact_id:
                ids.add(e.contact_id)
        known.rows = dict.fromkeys(ids)
        for chunk in _chunks(sorted(ids)):
            for row in conn.execute(_READ_FOR_CLOSE, {"ids": chunk}):
                known.rows[row.id] = dict(row._mapping)
        known.last_closed = dict.fromkeys(instances)
        for chunk in _chunks(sorted(instances)):
            for row in conn.execute(_CLOSED_OF_INSTANCES, {"ids": chunk}):
                known.closed(dict(row._mapping))
        return known

    def _apply(self, uow: UnitOfWork, e: StoredEvent, batch: _Batch) -> None:
        d = e.data
        if e.type == EventType.WORK_ITEM_CREATED:
            item = Item(
                d["work_item_id"],
                "task",
                # the first step of a flow a contact started waits since the contact arrived
                _time(d.get("waiting_since")) or e.time,
                department=e.department,
                candidate_groups=frozenset(d.get("candidate_groups") or ()),
                candidate_users=frozenset(d.get("candidate_users") or ()),
                due_at=_time(d.get("due")),
                reason=d.get("process_key"),
                reason_priority=float(d.get("priority") or 0),
                attributes={"process key": d.get("process_key")},
            )
            ref = WorkRef(
                "work_item",
                e.process_instance_id,
                d.get("process_key"),
                d.get("business_key"),
                e.element_id,
                d.get("name"),
            )
            step_policy = None
            if self.profiler is not None:
                found = self.profiler.profile(
                    uow.connection,
                    process_key=d.get("process_key"),
                    element_id=e.element_id,
                    instance_id=e.process_instance_id,
                    lane=e.department,
                    candidate_groups=item.candidate_groups,
                )
                item.department = found.department
                item.candidate_groups = found.candidate_groups
                item.skills = dict(found.skills)
                item.customer_value = found.customer_value
                item.churn_risk = found.churn_risk
                item.attributes = {**item.attributes, **found.attributes}
                item.boost += found.boost  # strongly negative customer words
                step_policy = found.policy
            self._enqueue(
                uow, item, ref, assignee=d.get("assignee"), batch=batch, policy=step_policy
            )
        elif e.type in (EventType.WORK_ITEM_COMPLETED, EventType.WORK_ITEM_CANCELLED):
            self._close(uow, d["work_item_id"], e.type.split(".")[1], e.actor, e.time, batch)
        elif e.type in (
            EventType.WORK_ITEM_CLAIMED,
            EventType.WORK_ITEM_DELEGATED,
            EventType.WORK_ITEM_UNCLAIMED,
        ):
            batch.flush(uow.connection)  # these read and write the store itself
            batch.rows.pop(d["work_item_id"], None)
            self._follow_claim(uow, e)
        elif e.type == EventType.CONTACT_TRIAGE_REQUIRED and e.contact_id:
            # a contact back in triage (it failed after a decision and was replayed) is queued
            # again: its old, closed entry gives way to the new one
            batch.flush(uow.connection)
            batch.rows.pop(e.contact_id, None)
            q = routing_queue.c
            uow.connection.execute(
                routing_queue.delete().where(q.id == e.contact_id, q.status == "closed")
            )
            ref = WorkRef("contact", name=f"Triage: {e.channel or 'contact'}", step=triage.STEP)
            self._enqueue(uow, triage.triage_item(e, self.triage), ref, batch=batch)
        elif e.type in triage.SETTLED and e.contact_id:
            self._close(uow, e.contact_id, triage.SETTLED[e.type], e.actor, e.time, batch)

    def _follow_claim(self, uow: UnitOfWork, e: StoredEvent) -> None:
        """Claims made in the flow itself: the queue follows (unless routing moved on since)."""
        conn = uow.connection
        q = routing_queue.c
        row = conn.execute(select(routing_queue).where(q.id == e.data["work_item_id"])).first()
        if row is None or row._mapping["status"] == "closed":
            return
        m = row._mapping
        assignee = e.data.get("assignee")
        if assignee is None:
            if m["status"] == "assigned" and m["agent_id"] == e.data.get("previous"):
                self._requeue(conn, dict(m), exclude=None)
            return
        if m["agent_id"] == assignee and m["status"] == "assigned":
            return
        if m["assigned_at"] is not None and m["assigned_at"] > e.time:
            return  # an older fact; routing assigned it since
        self._set_assigned(conn, dict(m), assignee, "claim")

    # -- decisions ----------------------------------------------------------------------------
    def _classes(self, conn: Connection) -> list[tuple[str, ClassKey]]:
        count = conn.execute(select(func.count()).select_from(routing_classes)).scalar_one()
        if count != len(self._class_cache):
            self._class_cache = {
                r._mapping["key"]: _key_from_class_row(r)
                for r in conn.execute(select(routing_classes))
            }
            self._by_department = {}
            for key, cls in self._class_cache.items():
                self._by_department.setdefault(cls[3], []).append((key, cls))
        return list(self._class_cache.items())

    def _top(self, conn: Connection, key: str, limit: int = PEEK) -> list[Row[Any]]:
        q = routing_queue.c
        return list(
            conn.execute(
                select(routing_queue)
                .where(q.status == "queued", q.class_key == key)
                .order_by(q.rank, q.id)
                .limit(limit)
            )
        )

    def _eligible(self, conn: Connection, agent: Agent) -> list[tuple[str, str]]:
        """(class key, channel) of every class the agent serves; cached per agent profile."""
        classes = self._classes(conn)
        profile = (
            agent.id,
            tuple(sorted(agent.skills.items())),
            agent.languages,
            agent.departments,
            tuple(sorted(agent.capacity)),
            len(classes),
        )
        cached = self._eligible_cache.get(agent.id)
        if cached is not None and cached[0] == profile:
            return cached[1]
        # a class with a department is only for that department's agents: look at those only
        candidates = list(self._by_department.get(None, ()))
        for department in agent.departments:
            candidates.extend(self._by_department.get(department, ()))
        keys = [(key, cls[0]) for key, cls in candidates if agent.serves(cls)]
        if len(self._eligible_cache) > 10_000:
            self._eligible_cache.clear()
        self._eligible_cache[agent.id] = (profile, keys)
        return keys

    def _best_for(self, conn: Connection, agent: Agent) -> Row[Any] | None:
        """One index probe per class the agent serves; the best top not declined by them."""
        if agent.presence is not Presence.AVAILABLE:
            return None
        q = routing_queue.c
        best: tuple[float, str] | None = None
        # The hottest statement of a decision: pre-rendered, on the driver's cursor of this
        # very transaction (SQLAlchemy's per-execution overhead was 3x the probe itself).
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for key, channel in self._eligible(conn, agent):
                if not agent.fits(channel):
                    continue
                cursor.execute(self._probe_sql, (key, 1))
                rows = cursor.fetchall()
                if rows and agent.id in _json_list(rows[0][2]):  # declined: look deeper
                    cursor.execute(self._probe_sql, (key, PEEK))
                    rows = cursor.fetchall()
                for rank, item_id, excluded in rows:
                    if agent.id not in _json_list(excluded):
                        if best is None or (rank, item_id) < best:
                            best = (rank, item_id)
                        break
        finally:
            cursor.close()
        if best is None:
            return None
        return conn.execute(select(routing_queue).where(q.id == best[1])).first()

    def next_for(self, agent_id: str) -> dict[str, Any] | None:
        """The agent's next best work item, without taking it."""
        with self.store.unit_of_work() as uow:
            self._review(uow)
            row = self._best_for(uow.connection, self._live_agent(uow.connection, agent_id))
            return None if row is None else self._entry(dict(row._mapping))

    def pull(self, agent_id: str) -> dict[str, Any] | None:
        """Assign the agent's next best work item to them (and claim it in its flow)."""
        after = _After()
        with self.store.unit_of_work() as uow:
            self._review(uow)
            conn = uow.connection
            row = self._best_for(conn, self._live_agent(conn, agent_id))
            if row is None:
                return None
            m = dict(row._mapping)
            stored = self._set_assigned(conn, m, agent_id, "pull")
            self._claim_later(after, m, agent_id)
            uow.append(self._assigned_event(m, agent_id, "pull"))
        after.run()
        return self._entry(stored)

    def _claim_later(self, after: _After, m: Mapping[str, Any], agent_id: str) -> None:
        runtime = self.runtime
        if runtime is not None and m["source"] == "work_item":
            after.calls.append(lambda: runtime.claim(m["id"], agent_id))

    def _assigned_event(self, m: Mapping[str, Any], agent_id: str, via: str) -> NewEvent:
        now = self.clock.now()
        return NewEvent(
            EventType.WORK_ITEM_ASSIGNED,
            now,
            {
                "work_item_id": m["id"],
                "agent": agent_id,
                "via": via,
                "waiting_seconds": (now - m["enqueued_at"]).total_seconds(),
            },
            process_instance_id=m["instance_id"],
            element_id=m["element_id"],
            department=m["department"],
            channel=m["channel"],
            actor=agent_id,
        )

    def _set_assigned(
        self, conn: Connection, m: dict[str, Any], agent_id: str, via: str
    ) -> dict[str, Any]:
        """Assign (first response given: that clock stops); returns the row as now stored."""
        now = self.clock.now()
        clocks = sla_state.load(m["sla"], self.catalog)
        for c in clocks:
            if c.clock.kind == "first_response":
                c.clock.stop(now)
        values = {
            "status": "assigned",
            "agent_id": agent_id,
            "assigned_at": now,
            "offer_id": None,
            "offer_expires_at": None,
            "sla": sla_state.dump(clocks),
            "sla_next_at": sla_state.next_check(clocks),
        }
        result = conn.execute(
            update(routing_queue)
            .where(routing_queue.c.id == m["id"], routing_queue.c.status == m["status"])
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConflictError(f"work item {m['id']} was taken by another decision; try again")
        conn.execute(
            update(routing_agents).where(routing_agents.c.id == agent_id).values(idle_since=now)
        )
        return {**m, **values}

    def _requeue(self, conn: Connection, m: dict[str, Any], *, exclude: str | None) -> None:
        excluded = sorted(set(m["excluded"]) | ({exclude} if exclude else set()))
        conn.execute(
            update(routing_queue)
            .where(routing_queue.c.id == m["id"])
            .values(
                status="queued",
                agent_id=None,
                offer_id=None,
                offer_expires_at=None,
                excluded=excluded,
            )
        )

    # -- push: offers -------------------------------------------------------------------------
    def dispatch(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Offer the most urgent work to the best ready agents (one open offer per agent)."""
        self.expire()
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            self._review(uow)
            conn = uow.connection
            engine = RoutingEngine(
                self.policy, accept_timeout=self.accept_timeout, new_id=self.store.ids.new_id
            )
            rows = list(
                conn.execute(select(routing_agents).where(routing_agents.c.presence == "available"))
            )
            loads = self._loads(conn, [r._mapping["id"] for r in rows])
            for r in rows:
                agent = engine.upsert_agent(_agent(r))
                load = loads.get(agent.id, {})
                for status in ("assigned", "offered"):
                    for channel, n in load.get(status, {}).items():
                        agent.load[channel] = agent.load.get(channel, 0) + n
                if load.get("offered"):
                    agent.pending_offer = "pending"
            if not engine.agents:
                return []
            entries: dict[str, dict[str, Any]] = {}
            for key, cls in self._classes(conn):
                if not any(a.serves(cls) for a in engine.agents.values()):
                    continue
                for row in self._top(conn, key):
                    m = dict(row._mapping)
                    entries[m["id"]] = m
                    engine.enqueue(_item(m), now, base=m["base"])
            offers = engine.dispatch(now, limit)
            for offer in offers:
                m = entries[offer.item_id]
                result = conn.execute(
                    update(routing_queue)
                    .where(routing_queue.c.id == offer.item_id, routing_queue.c.status == "queued")
                    .values(
                        status="offered",
                        agent_id=offer.agent_id,
                        offer_id=offer.id,
                        offer_expires_at=offer.expires_at,
                    )
                )
                if result.rowcount != 1:
                    raise ConflictError("the queue changed during dispatch; try again")
                uow.append(
                    NewEvent(
                        EventType.WORK_ITEM_OFFERED,
                        now,
                        {
                            "work_item_id": offer.item_id,
                            "offer_id": offer.id,
                            "agent": offer.agent_id,
                            "expires_at": offer.expires_at.isoformat(),
                        },
                        process_instance_id=m["instance_id"],
                        department=m["department"],
                        channel=m["channel"],
                    )
                )
        return [
            {
                "offer_id": o.id,
                "work_item_id": o.item_id,
                "agent": o.agent_id,
                "expires_at": o.expires_at,
            }
            for o in offers
        ]

    def _offer_row(self, conn: Connection, offer_id: str, agent_id: str) -> dict[str, Any]:
        q = routing_queue.c
        row = conn.execute(
            select(routing_queue).where(q.offer_id == offer_id, q.status == "offered")
        ).first()
        if row is None or row._mapping["agent_id"] != agent_id:
            raise NotFoundError(
                f"no open offer {offer_id!r} for {agent_id}", hint="it may have expired"
            )
        return dict(row._mapping)

    def accept(self, offer_id: str, agent_id: str) -> dict[str, Any]:
        after = _After()
        now = self.clock.now()
        expired = False
        with self.store.unit_of_work() as uow:
            m = self._offer_row(uow.connection, offer_id, agent_id)
            if now >= m["offer_expires_at"]:
                self._requeue(uow.connection, m, exclude=agent_id)
                uow.append(self._offer_event(EventType.WORK_ITEM_OFFER_EXPIRED, m, agent_id))
                expired = True
            else:
                self._set_assigned(uow.connection, m, agent_id, "offer")
                uow.append(self._assigned_event(m, agent_id, "offer"))
                self._claim_later(after, m, agent_id)
        if expired:
            raise ConflictError(
                f"offer {offer_id} expired at {m['offer_expires_at'].isoformat()}",
                hint="the work went back to the queue",
            )
        after.run()
        return self.entry(m["id"])

    def decline(self, offer_id: str, agent_id: str, reason: str | None = None) -> dict[str, Any]:
        with self.store.unit_of_work() as uow:
            m = self._offer_row(uow.connection, offer_id, agent_id)
            self._requeue(uow.connection, m, exclude=agent_id)
            uow.append(self._offer_event(EventType.WORK_ITEM_DECLINED, m, agent_id, reason))
        return self.entry(m["id"])

    def expire(self) -> int:
        """Offers not accepted in time go back to the queue; the agent is not asked again."""
        now = self.clock.now()
        q = routing_queue.c
        with self.store.unit_of_work() as uow:
            rows = list(
                uow.connection.execute(
                    select(routing_queue).where(q.status == "offered", q.offer_expires_at <= now)
                )
            )
            for row in rows:
                m = dict(row._mapping)
                self._requeue(uow.connection, m, exclude=m["agent_id"])
                uow.append(self._offer_event(EventType.WORK_ITEM_OFFER_EXPIRED, m, m["agent_id"]))
        return len(rows)

    def _offer_event(
        self, kind: str, m: Mapping[str, Any], agent_id: str, reason: str | None = None
    ) -> NewEvent:
        return NewEvent(
            kind,
            self.clock.now(),
            {
                "work_item_id": m["id"],
                "offer_id": m["offer_id"],
                "agent": agent_id,
                "reason": reason,
            },
            process_instance_id=m["instance_id"],
            department=m["department"],
            channel=m["channel"],
            actor=agent_id,
        )

    # -- transfers ----------------------------------------------------------------------------
    def transfer(
        self,
        item_id: str,
        *,
        reason: str,
        department: str | None,
        skills: Mapping[str, int] | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Move work to another queue/department; it is queued again, unassigned."""
        if not reason or not reason.strip():
            raise RoutingError("a transfer needs a reason")
        if self.profiler is not None:  # "Billing" is department "billing", as lanes are
            department = self.profiler.organisation.department_for(department)
        after = _After()
        with self.store.unit_of_work() as uow:
            row = uow.connection.execute(
                select(routing_queue).where(routing_queue.c.id == item_id)
            ).first()
            if row is None or row._mapping["status"] == "closed":
                raise NotFoundError(f"no open work item {item_id!r} in the queue")
            m = dict(row._mapping)
            self._transfer(uow, m, department, reason, skills, actor)
            runtime = self.runtime
            if runtime is not None and m["source"] == "work_item" and m["agent_id"]:
                previous = m["agent_id"]
                after.calls.append(lambda: runtime.unclaim(item_id, previous))
        after.run()
        return self.entry(item_id)

    def _transfer(
        self,
        uow: UnitOfWork,
        m: dict[str, Any],
        department: str | None,
        reason: str,
        skills: Mapping[str, int] | None,
        actor: str | None,
    ) -> None:
        now = self.clock.now()
        item = _item(m)
        item.department = department
        # the flow's candidate groups/users named who could take it where it was; after a
        # transfer the target department decides
        item.candidate_groups = item.candidate_users = frozenset()
        if skills is not None:
            item.skills = dict(skills)
        base = self.policy.base(item, now)
        uow.connection.execute(
            update(routing_queue)
            .where(routing_queue.c.id == m["id"])
            .values(
                status="queued",
                agent_id=None,
                offer_id=None,
                offer_expires_at=None,
                excluded=[],
                department=department,
                skills=dict(item.skills),
                candidate_groups=[],
                candidate_users=[],
                class_key=self._ensure_class(uow.connection, item),
                base=base,
                rank=self.policy.rank(base, item),
            )
        )
        uow.append(
            NewEvent(
                EventType.WORK_ITEM_TRANSFERRED,
                now,
                {
                    "work_item_id": m["id"],
                    "from_department": m["department"],
                    "to_department": department,
                    "from_agent": m["agent_id"],
                    "reason": reason,
                },
                process_instance_id=m["instance_id"],
                element_id=m["element_id"],
                department=department,
                channel=m["channel"],
                actor=actor,
            )
        )

    # -- priorities and SLAs ------------------------------------------------------------------
    def _review(self, uow: UnitOfWork, limit: int = 1000) -> int:
        """Re-score queued entries whose SLA time left crossed a review point."""
        now = self.clock.now()
        q = routing_queue.c
        rows = list(
            uow.connection.execute(
                select(routing_queue)
                .where(q.status == "queued", q.review_at <= now)
                .order_by(q.review_at)
                .limit(limit)
            )
        )
        for row in rows:
            self._rescore(uow.connection, dict(row._mapping), now)
        return len(rows)

    def _rescore(self, conn: Connection, m: dict[str, Any], now: datetime) -> None:
        item = _item(m)
        base = self.policy.base(item, now)
        conn.execute(
            update(routing_queue)
            .where(routing_queue.c.id == m["id"])
            .values(
                base=base,
                rank=self.policy.rank(base, item),
                review_at=self.policy.next_review(item, now),
                due_at=item.due_at,
                boost=item.boost,
            )
        )

    def adjust_boost(self, item_id: str, by: float, *, actor: str | None = None) -> dict[str, Any]:
        """A person raises (or lowers) the entry's priority by `by` on top of what the policy
        and escalations give it; queued work is re-ranked at once."""
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            row = uow.connection.execute(
                select(routing_queue).where(routing_queue.c.id == item_id)
            ).first()
            if row is None:
                raise NotFoundError(f"no work item {item_id!r} in the queue")
            m = dict(row._mapping)
            if m["status"] not in OPEN:
                raise ConflictError(f"work item {item_id} is already {m['status']}")
            previous = float(m["boost"])
            m["boost"] = previous + by
            if m["status"] == "queued":
                self._rescore(uow.connection, m, now)
            else:
                uow.connection.execute(
                    update(routing_queue)
                    .where(routing_queue.c.id == item_id)
                    .values(boost=m["boost"])
                )
            uow.append(
                NewEvent(
                    EventType.ROUTING_BOOSTED,
                    now,
                    {"work_item_id": item_id, "by": by, "boost": m["boost"], "previous": previous},
                    process_instance_id=m["instance_id"],
                    department=m["department"],
                    channel=m["channel"],
                    actor=actor,
                )
            )
        return self.entry(item_id)

    def pause_sla(self, item_id: str, *, actor: str | None = None) -> dict[str, Any]:
        """Waiting on the customer: the entry's SLA clocks stop counting."""
        return self._sla_switch(item_id, True, actor)

    def resume_sla(self, item_id: str, *, actor: str | None = None) -> dict[str, Any]:
        return self._sla_switch(item_id, False, actor)

    def _sla_switch(self, item_id: str, pause: bool, actor: str | None) -> dict[str, Any]:
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            row = uow.connection.execute(
                select(routing_queue).where(routing_queue.c.id == item_id)
            ).first()
            if row is None or row._mapping["status"] == "closed":
                raise NotFoundError(f"no open work item {item_id!r} in the queue")
            m = dict(row._mapping)
            clocks = sla_state.load(m["sla"], self.catalog)
            for c in clocks:
                c.clock.pause(now) if pause else c.clock.resume(now)
            m["due_at"] = sla_state.deadline(clocks)
            m["sla"] = sla_state.dump(clocks)
            uow.connection.execute(
                update(routing_queue)
                .where(routing_queue.c.id == item_id)
                .values(sla=m["sla"], sla_next_at=sla_state.next_check(clocks))
            )
            self._rescore(uow.connection, m, now)
            uow.append(
                NewEvent(
                    EventType.SLA_PAUSED if pause else EventType.SLA_RESUMED,
                    now,
                    {
                        "work_item_id": item_id,
                        "due": m["due_at"].isoformat() if m["due_at"] else None,
                    },
                    process_instance_id=m["instance_id"],
                    department=m["department"],
                    actor=actor,
                )
            )
        return self.entry(item_id)

    def escalate(self) -> int:
        """Fire due SLA escalations and report breaches; returns the actions taken."""
        now = self.clock.now()
        q = routing_queue.c
        after = _After()
        taken = 0
        with self.store.unit_of_work() as uow:
            rows = list(
                uow.connection.execute(
                    select(routing_queue).where(q.status.in_(OPEN), q.sla_next_at <= now)
                )
            )
            for row in rows:
                taken += self._escalate_one(uow, dict(row._mapping), now, after)
        after.run()
        return taken

    def _escalate_one(
        self, uow: UnitOfWork, m: dict[str, Any], now: datetime, after: _After
    ) -> int:
        clocks = sla_state.load(m["sla"], self.catalog)
        taken = 0
        transfer_to: tuple[str, str] | None = None
        for c in clocks:
            where = {
                "process_instance_id": m["instance_id"],
                "department": m["department"],
                "channel": m["channel"],
            }
            base = {
                "work_item_id": m["id"],
                "kind": c.clock.kind,
                "policy": c.policy,
                "agent": m["agent_id"],
                "deadline": _iso(c.clock.deadline(c.calendar)),
            }
            if not c.breached and c.clock.status(c.calendar, now) == "breached":
                c.breached = True
                uow.append(NewEvent(EventType.SLA_BREACHED, now, base, **where))
            for n, esc in due_escalations(c.clock, c.calendar, c.escalations, now, c.fired):
                c.fired.add(n)
                taken += 1
                data = {**base, "action": esc.action, "at": esc.at}
                if esc.action == "raise_priority":
                    m["boost"] = float(m["boost"]) + esc.by
                    data["by"] = esc.by
                elif esc.action == "reassign" and esc.department:
                    transfer_to = (esc.department, f"SLA escalation ({c.clock.kind})")
                    data["department_to"] = esc.department
                elif esc.action == "message" and esc.message:
                    data["message"] = esc.message
                    self._message_later(after, esc.message, m)
                uow.append(NewEvent(EventType.SLA_ESCALATED, now, data, actor="sla", **where))
        m["sla"] = sla_state.dump(clocks)
        m["due_at"] = sla_state.deadline(clocks) or m["due_at"]
        uow.connection.execute(
            update(routing_queue)
            .where(routing_queue.c.id == m["id"])
            .values(sla=m["sla"], sla_next_at=sla_state.next_check(clocks))
        )
        if m["status"] == "queued":
            self._rescore(uow.connection, m, now)
        else:
            uow.connection.execute(
                update(routing_queue).where(routing_queue.c.id == m["id"]).values(boost=m["boost"])
            )
        if transfer_to is not None:
            self._transfer(uow, m, transfer_to[0], transfer_to[1], None, "sla")
        return taken

    def _message_later(self, after: _After, message: str, m: Mapping[str, Any]) -> None:
        runtime = self.runtime
        if runtime is None:
            return
        key = m["business_key"]
        variables = {"escalated_work_item": m["id"]}
        after.calls.append(lambda: runtime.correlate_message(message, key, variables))

    def tick(self, *, push: bool = True) -> dict[str, int]:
        """One round of the routing worker: sync flows, expire offers, escalate, offer work."""
        synced = self.sync()
        expired = self.expire()
        escalated = self.escalate()
        offered = len(self.dispatch()) if push else 0
        return {"synced": synced, "expired": expired, "escalated": escalated, "offered": offered}

    # -- reading ------------------------------------------------------------------------------
    def scores(self, item_ids: Iterable[str]) -> dict[str, tuple[float, datetime | None]]:
        """Per queued item: its priority now (SLA urgency x value x risk, with aging) and its SLA
        due time, for lists that show the queue's view of many items at once."""
        ids = list(item_ids)
        if not ids:
            return {}
        now = self.clock.now()
        with self.store.reading() as conn:
            rows = conn.execute(select(routing_queue).where(routing_queue.c.id.in_(ids))).all()
        out: dict[str, tuple[float, datetime | None]] = {}
        for row in rows:
            m = row._mapping
            out[m["id"]] = (self.policy.score(_item(dict(m)), now, m["base"]), m["due_at"])
        return out

    def entry(self, item_id: str) -> dict[str, Any]:
        with self.store.reading() as conn:
            row = conn.execute(select(routing_queue).where(routing_queue.c.id == item_id)).first()
        if row is None:
            raise NotFoundError(f"no work item {item_id!r} in the queue")
        return self._entry(dict(row._mapping))

    def _entry(self, m: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        clocks = sla_state.load(m["sla"], self.catalog)
        return {
            "id": m["id"],
            "source": m["source"],
            "name": m["name"],
            "channel": m["channel"],
            "department": m["department"],
            "status": m["status"],
            "agent": m["agent_id"],
            "offer_id": m["offer_id"],
            "offer_expires_at": m["offer_expires_at"],
            "priority": self.policy.score(_item(m), now, m["base"]),
            "due_at": m["due_at"],
            "waiting_seconds": (((m["assigned_at"] or now) - m["enqueued_at"]).total_seconds()),
            "instance_id": m["instance_id"],
            "process_key": m["process_key"],
            "business_key": m["business_key"],
            "element_id": m["element_id"],
            "sla": [
                {
                    "kind": c.clock.kind,
                    "status": c.clock.status(c.calendar, now),
                    "deadline": c.clock.deadline(c.calendar),
                    "remaining_seconds": c.clock.remaining(c.calendar, now).total_seconds(),
                }
                for c in clocks
            ],
        }

    def offers_for(self, agent_id: str) -> list[dict[str, Any]]:
        """Work offered to the agent and not yet accepted or declined."""
        q = routing_queue.c
        with self.store.reading() as conn:
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    select(routing_queue).where(q.agent_id == agent_id, q.status == "offered")
                )
            ]
        return [self._entry(m) for m in rows]

    def queue(self, *, department: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Queued work, most urgent first."""
        q = routing_queue.c
        query = select(routing_queue).where(q.status == "queued")
        if department is not None:
            query = query.where(q.department == department)
        with self.store.reading() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query.order_by(q.rank).limit(limit))]
        return [self._entry(m) for m in rows]

    def supervisor(self, *, risk_horizon: timedelta = timedelta(hours=1)) -> dict[str, Any]:
        """Queue sizes and waiting times per department and channel, SLAs at risk, agents' load."""
        now = self.clock.now()
        q = routing_queue.c
        with self.store.reading() as conn:
            groups = list(
                conn.execute(
                    select(q.department, q.channel, func.count(), func.min(q.enqueued_at))
                    .where(q.status == "queued")
                    .group_by(q.department, q.channel)
                )
            )
            waits = self._avg_wait(conn)
            risky = [
                dict(r._mapping)
                for r in conn.execute(
                    select(routing_queue)
                    .where(
                        q.status.in_(OPEN),
                        q.due_at.is_not(None),
                        q.due_at <= now + risk_horizon,
                    )
                    .order_by(q.due_at)
                    .limit(200)
                )
            ]
        queues = []
        for department, channel, count, oldest in groups:
            oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            queues.append(
                {
                    "department": department,
                    "channel": channel,
                    "size": int(count),
                    "oldest_wait_seconds": max(0.0, (now - oldest_at).total_seconds()),
                    "average_wait_seconds": waits.get((department, channel), 0.0),
                }
            )
        at_risk = []
        for m in risky:
            for c in sla_state.load(m["sla"], self.catalog):
                forecast = predict(c.clock, c.calendar, now, warn_at=c.warn_at)
                if forecast.at_risk:
                    at_risk.append(
                        {
                            "work_item_id": m["id"],
                            "department": m["department"],
                            "agent": m["agent_id"],
                            "status": m["status"],
                            "kind": c.clock.kind,
                            "sla_status": forecast.status,
                            "deadline": forecast.deadline,
                            "remaining_seconds": forecast.remaining.total_seconds(),
                            "why": forecast.why,
                        }
                    )
        return {
            "at": now,
            "queues": queues,
            "queued": sum(x["size"] for x in queues),
            "slas_at_risk": at_risk,
            "agents": self.agents(),
            "triage": [
                asdict(w) for _, w in sorted(triage.waiting_by_department(self.store, now).items())
            ],
        }

    def _avg_wait(self, conn: Connection) -> dict[tuple[str | None, str], float]:
        """Average seconds waited so far by queued work, per department and channel."""
        q = routing_queue.c
        now = self.clock.now()
        if self.store.dialect == "sqlite":
            # enqueued_at is stored as UTC wall time text; julianday reads it
            age = (
                func.julianday(now.replace(tzinfo=None).isoformat(sep=" "))
                - func.julianday(q.enqueued_at)
            ) * 86400.0
        else:
            age = func.extract("epoch", now - q.enqueued_at)
        rows = conn.execute(
            select(q.department, q.channel, func.avg(age))
            .where(q.status == "queued")
            .group_by(q.department, q.channel)
        )
        return {(d, c): round(float(a or 0.0), 3) for d, c, a in rows}


def _json_list(value: Any) -> list[Any]:
    """A JSON column read through the raw driver: text on SQLite, decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else list(value or ())


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _times(m: Mapping[str, Any]) -> dict[str, float | None]:
    """Waiting (queued until taken) and working (taken until closed) seconds of an entry."""
    enqueued, assigned, closed = m["enqueued_at"], m["assigned_at"], m["closed_at"]
    waiting = ((assigned or closed) - enqueued).total_seconds() if (assigned or closed) else None
    working = (closed - assigned).total_seconds() if (assigned and closed) else None
    return {"waiting_seconds": waiting, "working_seconds": working}


__all__ = ["CONSUMER", "RoutingService", "WorkRef", "class_key"]
