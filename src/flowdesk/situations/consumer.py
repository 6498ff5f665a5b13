"""The durable, exactly-once pattern consumer: the event log in, situations and actions out.

Each batch runs in one transaction: the events after the cursor go through the engine, and the
changed partitions, the situations, the planned actions (rows keyed by situation id, action and
customer, inserted once) and the new cursor are written together. The cursor moves only if it
is still where this consumer last saw it, so two workers never both apply a batch; the loser
reloads from the tables. A crash before the commit loses nothing (the events are read again and,
the engine being deterministic, give the same situations with the same ids); after it, nothing
is done twice, because the actions are rows that run once (`actions.py`).
"""

from __future__ import annotations

import time as _time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from flowdesk.cep import Change, Engine, Rule
from flowdesk.cep.events import from_stored
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent, StoredEvent
from flowdesk.core.jsonutil import dumps
from flowdesk.experience.patterns import compile_deployed
from flowdesk.situations.customers import customer_contexts, select_customers
from flowdesk.situations.models import (
    cep_partitions,
    situation_actions,
    situation_contacts,
    situations,
)
from flowdesk.store import Store, UnitOfWork
from flowdesk.store.tables import event_consumers, events

CONSUMER = "situations"
#: Inbound contacts, recognised (customer and reason known): what holding contacts looks at.
HOLD_TYPES = frozenset({EventType.CONTACT_RECOGNISED})
_PER_CUSTOMER = ("notify_customers",)
_KIND_EVENT = {
    "raised": EventType.SITUATION_RAISED,
    "updated": EventType.SITUATION_UPDATED,
    "cleared": EventType.SITUATION_CLEARED,
}
_NS = uuid.UUID("5d0f8a3e-2b7c-4f4e-8a41-6c1d2e9b7f30")


class Conflict(Exception):
    """Another consumer moved the cursor first; reload and go on from there."""


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


class SituationConsumer:
    """`tick()` once per worker round: read, match, commit; the actions run separately."""

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        *,
        batch: int = 1000,
        calendars: dict[str, Callable[[float, float], float]] | None = None,
        rules: list[tuple[str, Rule]] | None = None,
        recheck: float = 5.0,
    ) -> None:
        """`rules`: fixed rules (benchmarks, tests); otherwise those of the deployed bundles,
        looked up again every `recheck` seconds."""
        self.store = store
        self.clock = clock or SystemClock()
        self.batch = batch
        self.calendars = calendars or {}
        self._fixed = rules
        self._recheck = recheck
        self._checked = 0.0
        self._signature: str | None = None
        self.engine: Engine | None = None
        self.bundles: dict[str, str] = {}  # rule id -> bundle name
        self.types: list[str] = []
        self._cursor: tuple[int, int] | None = None

    # -- loading ------------------------------------------------------------------------------
    def _rules(self) -> tuple[str, list[tuple[str, Rule]]]:
        if self._fixed is not None:
            return "fixed", self._fixed
        return compile_deployed(self.store)

    def _ensure(self) -> Engine | None:
        now = _time.monotonic()
        if self.engine is not None and now - self._checked < self._recheck:
            return self.engine
        self._checked = now
        signature, rules = self._rules()
        if self.engine is not None and signature == self._signature:
            return self.engine
        self._signature = signature
        if not rules:
            self.engine = None
            return None
        self.store.events.register(CONSUMER)
        self.bundles = {rule.id: bundle for bundle, rule in rules}
        self._load([rule for _bundle, rule in rules])
        return self.engine

    def _load(self, rules: list[Rule]) -> None:
        engine = Engine(rules, calendars=self.calendars)
        with self.store.reading() as conn:
            rows = conn.execute(select(cep_partitions)).all()
            self._cursor = _cursor(conn)
        engine.load(((r.rule, r.key, dict(r.state)) for r in rows), 0.0)
        self.engine = engine
        self.types = sorted(engine.types | HOLD_TYPES)

    def reload(self) -> None:
        """Forget the in-memory state; the next tick reads it back from the tables."""
        self.engine = None
        self._signature = None
        self._checked = 0.0

    # -- the round ----------------------------------------------------------------------------
    def tick(self) -> int:
        """Process what is after the cursor, then let time pass; returns the changes."""
        engine = self._ensure()
        if engine is None:
            return 0
        total = 0
        log = self.store.events
        try:
            while True:
                window = log.read_types(CONSUMER, self.types, self.batch)
                if window.position is None:
                    break
                changes: list[Change] = []
                held: list[StoredEvent] = []
                for stored in window.events:
                    changes += engine.process(from_stored(stored))
                    if stored.type in HOLD_TYPES:
                        held.append(stored)
                self._commit(engine, changes, held, window.position)
                total += len(changes)
                if window.scanned < self.batch:
                    break
            changes = engine.advance(self.clock.now().timestamp())
            if changes or engine.dirty:
                self._commit(engine, changes, [], None)
                total += len(changes)
        except Conflict:
            self.reload()
        except Exception:
            self.reload()  # what was processed but not committed is read again
            raise
        return total

    def _commit(
        self,
        engine: Engine,
        changes: list[Change],
        held: list[StoredEvent],
        position: int | None,
    ) -> None:
        dirty = engine.take_dirty()
        moved: tuple[int, int] | None = None
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            if position is not None:
                moved = self._move(conn, position)
            self._partitions(conn, dirty)
            contexts: list[dict[str, Any]] | None = None
            changes = _coalesce(changes)
            self._situations(uow, changes)
            for change in changes:
                rule = engine.runners[change.rule].rule
                for index, action in enumerate(rule.actions):
                    if action.on != change.kind or action.kind == "hold_contacts":
                        continue
                    if action.customers is not None:
                        if contexts is None:
                            contexts = customer_contexts(conn)
                        customers = select_customers(action.customers, change.situation, contexts)
                        for customer_id in customers:
                            self._plan(uow, change, index, action, customer_id)
                    else:
                        self._plan(uow, change, index, action, None)
            if held:
                self._hold(uow, engine, held)
        if moved is not None:
            self._cursor = moved

    @staticmethod
    def _partitions(conn: Connection, dirty: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        """Write the changed partitions: one statement for the upserts, one per rule for the
        deletes (executemany; a statement per partition cost more than the matching). Each
        state is encoded once, here, and handed to the driver as text: SQLAlchemy's per-row
        parameter processing and JSON type cost a third of the consumer's time."""
        rows = [(r, k, dumps(state)) for r, k, state in dirty if state is not None]
        if rows:
            conn.exec_driver_sql(_upsert_partitions(conn), rows)
        gone: dict[str, list[str]] = {}
        for rule_id, key, state in dirty:
            if state is None:
                gone.setdefault(rule_id, []).append(key)
        for rule_id, keys in gone.items():
            for start in range(0, len(keys), 500):
                conn.execute(
                    delete(cep_partitions).where(
                        cep_partitions.c.rule == rule_id,
                        cep_partitions.c.key.in_(keys[start : start + 500]),
                    )
                )

    def _move(self, conn: Connection, position: int) -> tuple[int, int]:
        txid = conn.execute(select(events.c.txid).where(events.c.seq == position)).scalar_one()
        expected = self._cursor or (0, 0)
        c = event_consumers.c
        moved = conn.execute(
            update(event_consumers)
            .where(c.name == CONSUMER, c.position_txid == expected[0], c.position == expected[1])
            .values(position=position, position_txid=txid, updated_at=self.clock.now())
        )
        if moved.rowcount != 1:
            raise Conflict()
        return int(txid), position

    def _situations(self, uow: UnitOfWork, changes: list[Change]) -> None:
        """Upsert the situations of a batch in one statement; one log event per change."""
        rows = []
        now = self.clock.now()
        for change in changes:
            s = change.situation
            row = {
                "id": s["id"],
                "rule": s["rule"],
                "bundle": self.bundles.get(s["rule"]),
                "key": s["key"],
                "title": str(s.get("title") or s["rule"])[:500],
                "status": s["status"],
                "count": int(s["count"]),
                "raised_at": _at(s["raised_at"]),
                "updated_at": _at(s["updated_at"]),
                "cleared_at": _at(s["cleared_at"]) if s.get("cleared_at") is not None else None,
                "cleared_by": s.get("cleared_by"),
                "data": s,
            }
            rows.append(row)
            uow.append(
                NewEvent(
                    _KIND_EVENT[change.kind],
                    now,
                    {
                        "situation_id": s["id"],
                        "rule": s["rule"],
                        "key": s["key"],
                        "title": row["title"],
                        "count": row["count"],
                        **({"cleared_by": s["cleared_by"]} if s.get("cleared_by") else {}),
                    },
                )
            )
        if not rows:
            return
        last = {row["id"]: row for row in rows}  # a batch may raise and clear one situation
        conn = uow.connection
        statement = _insert(conn)(situations)
        kept = ("title", "status", "count", "updated_at", "cleared_at", "cleared_by", "data")
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["id"], set_={k: statement.excluded[k] for k in kept}
            ),
            list(last.values()),
        )

    def _plan(
        self,
        uow: UnitOfWork,
        change: Change,
        index: int,
        action: Any,
        customer_id: str | None,
        suffix: str | None = None,
    ) -> None:
        """One action row; its key makes the plan idempotent (a batch read again after a crash
        plans the same rows, which are already there)."""
        s = change.situation
        key = f"{s['id']}:{index}:{action.kind}"
        if customer_id is not None:
            key += f":{customer_id}"
        if suffix is not None:
            key += f":{suffix}"
        spec = dict(action.spec)
        spec.pop("customers", None)
        scope = {
            "key": s["key"],
            "count": s["count"],
            "value": s.get("value"),
            "rule": s["rule"],
            "situation": {"id": s["id"], "title": s.get("title")},
            "customer": {"id": customer_id},
        }
        for name in ("text", "key", "subject"):
            if isinstance(spec.get(name), str):
                rendered = _render(spec[name], scope)
                spec[name] = rendered
        spec["situation"] = {"id": s["id"], "key": s["key"], "title": s.get("title")}
        conn = uow.connection
        conn.execute(
            _insert(conn)(situation_actions)
            .values(
                key=key,
                situation_id=s["id"],
                kind=action.kind,
                customer_id=customer_id,
                status="pending",
                attempts=0,
                spec=spec,
                created_at=self.clock.now(),
            )
            .on_conflict_do_nothing()
        )

    def _hold(self, uow: UnitOfWork, engine: Engine, held: list[StoredEvent]) -> None:
        """Attach each recognised inbound contact to the active situations that cover its
        customer, and plan one status reply per contact."""
        holding = [
            (situation, index, action)
            for situation in engine.situations()
            for index, action in enumerate(engine.runners[situation["rule"]].rule.actions)
            if action.kind == "hold_contacts"
        ]
        if not holding:
            return
        conn = uow.connection
        wanted = {e.customer_id for e in held if e.customer_id}
        contexts = {c["id"]: c for c in customer_contexts(conn, wanted)} if wanted else {}
        for stored in held:
            customer = contexts.get(stored.customer_id or "")
            if customer is None or stored.contact_id is None:
                continue
            reason = (stored.data or {}).get("reason")
            for situation, index, action in holding:
                reasons = action.spec.get("reasons")
                if reasons and reason not in reasons:
                    continue
                assert action.customers is not None
                if not select_customers(action.customers, situation, [customer]):
                    continue
                h = situation_contacts.c
                held_before = conn.execute(
                    select(h.contact_id).where(
                        h.situation_id == situation["id"], h.contact_id == stored.contact_id
                    )
                ).first()
                if held_before is not None:
                    continue  # a batch read again after a crash
                conn.execute(
                    situation_contacts.insert().values(
                        situation_id=situation["id"],
                        contact_id=stored.contact_id,
                        customer_id=customer["id"],
                        attached_at=self.clock.now(),
                    )
                )
                uow.append(
                    NewEvent(
                        EventType.SITUATION_CONTACT_HELD,
                        self.clock.now(),
                        {"situation_id": situation["id"], "title": situation.get("title", "")},
                        contact_id=stored.contact_id,
                        customer_id=customer["id"],
                        case_id=stored.case_id,
                    )
                )
                text = action.spec.get("text") or (
                    '"We know about it: " + situation.title + ". We will keep you posted."'
                )
                change = Change("raised", situation["rule"], situation)
                hold = type(action)(
                    "hold_contacts", "raised", {"text": text, "contact_id": stored.contact_id}
                )
                self._plan(uow, change, index, hold, customer["id"], stored.contact_id)


def _upsert_partitions(conn: Connection) -> str:
    """The partition upsert in the driver's own SQL (SQLite and PostgreSQL share it)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    state = mark if conn.dialect.name == "sqlite" else f"CAST({mark} AS JSON)"
    return (
        f'INSERT INTO {cep_partitions.name} ("rule", "key", "state") '
        f"VALUES ({mark}, {mark}, {state}) "
        'ON CONFLICT ("rule", "key") DO UPDATE SET "state" = excluded."state"'
    )


def _coalesce(changes: list[Change]) -> list[Change]:
    """The changes of one batch with the updates of a situation folded into its last one: a
    busy situation is written (row, event, actions) once per batch, not once per event."""
    last: dict[str, int] = {}
    for index, change in enumerate(changes):
        if change.kind == "updated":
            last[change.situation["id"]] = index
    return [c for i, c in enumerate(changes) if c.kind != "updated" or last[c.situation["id"]] == i]


def _render(text: str, scope: dict[str, Any]) -> str:
    from flowdesk.feel import compile_expression

    names = tuple(scope)
    value = compile_expression(text, names=names).evaluate(scope)
    return text if value is None else str(value)


def _cursor(conn: Connection) -> tuple[int, int]:
    c = event_consumers.c
    row = conn.execute(select(c.position_txid, c.position).where(c.name == CONSUMER)).first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))
