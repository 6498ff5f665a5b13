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

import json
import time as _time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from flowdesk.cep import Change, Engine, Event, Rule
from flowdesk.cep.events import context_of
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.jsonutil import dumps
from flowdesk.experience.patterns import compile_deployed
from flowdesk.situations.actions import alert_of, record_done
from flowdesk.situations.customers import customer_contexts, select_customers, situation_scope
from flowdesk.situations.models import (
    cep_partitions,
    situation_actions,
    situation_contacts,
    situations,
)
from flowdesk.store import Store, UnitOfWork
from flowdesk.store.eventlog import ACTIVATED_ID, PG_HORIZON
from flowdesk.store.tables import event_consumers

CONSUMER = "situations"
#: Inbound contacts, recognised (customer and reason known): what holding contacts looks at.
HOLD_TYPES = frozenset({EventType.CONTACT_RECOGNISED})
_KIND_EVENT = {
    "raised": EventType.SITUATION_RAISED,
    "updated": EventType.SITUATION_UPDATED,
    "cleared": EventType.SITUATION_CLEARED,
}


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
        idle_round: float = 1.0,
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
        #: a tick reads the head of the log first (one indexed lookup) and does a full round
        #: only when it moved, or every `idle_round` seconds (time-outs, absences, and a
        #: PostgreSQL transaction that committed behind a later one): so a worker can tick
        #: every few milliseconds and see a commit within them
        self.idle_round = idle_round
        self._head: int | None = None
        self._wanted: frozenset[str] = frozenset()
        self._stored: frozenset[str] = frozenset()  # row types that hold wanted events
        #: `save_every` > 0 (the situations loop): a round whose changes plan no action and
        #: hold no contact is kept in memory and written with a later one, at most this many
        #: seconds later; a crash in between reads those events again (deterministic). 0: every
        #: round is written before `tick` returns.
        self.save_every = 0.0
        self._unsaved: tuple[list[Change], list[_Held], tuple[int, int] | None] | None = None
        self._unsaved_since = 0.0
        self._urgent = False
        self._read_at: tuple[int, int] | None = None
        self._read_sql: str | None = None
        self._round_at = 0.0

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
        self._unsaved = None  # what was kept unwritten is read again, under these rules
        self._urgent = False
        self._read_at = None
        engine.load(((r.rule, r.key, dict(r.state)) for r in rows), 0.0)
        self.engine = engine
        self.types = sorted(engine.types | HOLD_TYPES)
        self._wanted = frozenset(self.types)
        # an activation may be stored inside a completed row (history level `activity`)
        compact = {_COMPLETED} if _ACTIVATED in self._wanted else set()
        self._stored = self._wanted | compact

    def reload(self) -> None:
        """Forget the in-memory state; the next tick reads it back from the tables."""
        self.engine = None
        self._signature = None
        self._checked = 0.0
        self._head = None
        self._unsaved = None
        self._urgent = False
        self._read_at = None

    def _log_head(self) -> int | None:
        with self.store.reading() as conn:
            head = conn.exec_driver_sql("SELECT max(seq) FROM events").scalar()
        return None if head is None else int(head)

    def _read(self) -> Sequence[Any]:
        """The next `batch` log entries after the cursor, all types, as plain rows: one
        statement in the driver's SQL (the cursor is this consumer's own, kept in memory and
        checked when it moves), decoded by position; only the entries of the types the rules
        read have their data decoded (`_events_of`)."""
        txid, seq = self._read_at or self._cursor or (0, 0)
        with self.store.reading() as conn:
            if self._read_sql is None:
                self._read_sql = _read_sql(conn)
            return conn.exec_driver_sql(self._read_sql, (txid, txid, seq, self.batch)).fetchall()

    # -- the round ----------------------------------------------------------------------------
    def tick(self) -> int:
        """Process what is after the cursor, then let time pass; returns the changes."""
        head = self._log_head()
        now = self.clock.now().timestamp()  # the consumer's clock: tests and simulations move it
        if head == self._head and 0 <= now - self._round_at < self.idle_round:
            if self._unsaved is not None and self._due_to_save(now):
                self._save(now)
            return 0  # nothing was committed since the last full round
        engine = self._ensure()
        if engine is None:
            return 0
        self._round_at = now
        total = 0
        try:
            while True:
                rows = self._read()
                if not rows:
                    break
                changes: list[Change] = []
                held: list[_Held] = []
                wanted, stored = self._wanted, self._stored
                process = engine.process
                for row in rows:
                    event_type = row[2]
                    if event_type not in stored:
                        continue
                    decoded = _events_of(row)
                    for event, _data in decoded:
                        if event.type in wanted:
                            changes += process(event)
                    if event_type in HOLD_TYPES:
                        held.append(_Held(row[7], row[8], row[6], decoded[-1][1]))
                self._keep(changes, held, (int(rows[-1][0]), int(rows[-1][1])), now)
                total += len(changes)
                if len(rows) < self.batch:
                    break
                self._save(now)  # a full batch: written before the next is read
            changes = engine.advance(now)
            total += len(changes)
            self._keep(changes, [], None, now)
            if self._unsaved is not None and self._due_to_save(now):
                self._save(now)
            self._head = head
        except Conflict:
            self.reload()
        except Exception:
            self.reload()  # what was processed but not committed is read again
            raise
        return total

    def _keep(
        self, changes: list[Change], held: list[_Held], position: tuple[int, int] | None, now: float
    ) -> None:
        """Add a batch's outcome to what the next commit writes."""
        if self._unsaved is None:
            idle = not changes and not held and position is None
            if idle and (self.engine is None or not self.engine.dirty):
                return
            self._unsaved = ([], [], None)
            self._unsaved_since = now
        kept_changes, kept_held, kept_position = self._unsaved
        kept_changes += changes
        kept_held += held
        if position is not None:
            self._unsaved = (kept_changes, kept_held, position)
            self._read_at = position
        if held or any(self._acts(change) for change in changes):
            self._urgent = True

    def _acts(self, change: Change) -> bool:
        assert self.engine is not None
        return any(a.on == change.kind for a in self.engine.runners[change.rule].rule.actions)

    def _due_to_save(self, now: float) -> bool:
        return self._urgent or not 0 <= now - self._unsaved_since < self.save_every

    def _save(self, now: float) -> None:
        if self._unsaved is None or self.engine is None:
            return
        changes, held, position = self._unsaved
        self._commit(self.engine, changes, held, position)
        self._unsaved = None
        self._urgent = False

    def _commit(
        self,
        engine: Engine,
        changes: list[Change],
        held: list[_Held],
        position: tuple[int, int] | None,
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

    def _move(self, conn: Connection, position: tuple[int, int]) -> tuple[int, int]:
        txid, seq = position
        expected = self._cursor or (0, 0)
        c = event_consumers.c
        moved = conn.execute(
            update(event_consumers)
            .where(c.name == CONSUMER, c.position_txid == expected[0], c.position == expected[1])
            .values(position=seq, position_txid=txid, updated_at=self.clock.now())
        )
        if moved.rowcount != 1:
            raise Conflict()
        return position

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
        scope = {**situation_scope(s), "customer": {"id": customer_id}}
        for name in ("text", "key", "subject"):
            if isinstance(spec.get(name), str):
                rendered = _render(spec[name], scope)
                spec[name] = rendered
        spec["situation"] = {"id": s["id"], "key": s["key"], "title": s.get("title")}
        if action.kind == "start_flow":  # the flow reads how long it lasted (situationHours)
            spec["situation"].update(raised_at=s.get("raised_at"), cleared_at=s.get("cleared_at"))
        conn = uow.connection
        now = self.clock.now()
        row = {
            "key": key,
            "situation_id": s["id"],
            "kind": action.kind,
            "customer_id": customer_id,
            "attempts": 0,
            "spec": spec,
            "created_at": now,
        }
        if action.kind == "alert":  # its effect is a row of ours: done here, at once
            result, alert = alert_of(spec, now)
            planned = conn.execute(
                _insert(conn)(situation_actions)
                .values(**row, status="done", result=result, done_at=now)
                .on_conflict_do_nothing()
                .returning(situation_actions.c.key)
            ).first()
            if planned is not None:  # None: planned before, by a batch read again after a crash
                record_done(uow, key, action.kind, spec["situation"], result, now, alert)
            return
        pending = _insert(conn)(situation_actions).values(**row, status="pending")
        conn.execute(pending.on_conflict_do_nothing())

    def _hold(self, uow: UnitOfWork, engine: Engine, held: list[_Held]) -> None:
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
        pairs: list[tuple[_Held, dict[str, Any], dict[str, Any], int, Any]] = []
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
                if select_customers(action.customers, situation, [customer]):
                    pairs.append((stored, customer, situation, index, action))
        if not pairs:
            return
        h = situation_contacts.c
        contact_ids = sorted({stored.contact_id for stored, *_ in pairs if stored.contact_id})
        held_before = {  # one query for the batch: pairs attached by a batch read again
            (row.situation_id, row.contact_id)
            for start in range(0, len(contact_ids), 500)
            for row in conn.execute(
                select(h.situation_id, h.contact_id).where(
                    h.contact_id.in_(contact_ids[start : start + 500])
                )
            )
        }
        for stored, customer, situation, index, action in pairs:
            if (situation["id"], stored.contact_id) in held_before:
                continue
            held_before.add((situation["id"], stored.contact_id))
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


class _Held(NamedTuple):
    """An inbound contact to hold: what `_hold` needs of its log entry."""

    contact_id: str | None
    customer_id: str | None
    case_id: str | None
    data: Any


_READ = (
    "txid, seq, type, id, time, source, case_id, contact_id, customer_id, "
    "process_instance_id, department, channel"
)


def _read_sql(conn: Connection) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    if conn.dialect.name == "postgresql":  # only transactions that finished (see eventlog)
        data, finished = "data::text", f" AND txid < {PG_HORIZON}"
    else:
        data, finished = "data", ""
    return (
        f"SELECT {_READ}, {data} FROM events "
        f"WHERE (txid > {mark} OR (txid = {mark} AND seq > {mark})){finished} "
        f"ORDER BY txid, seq LIMIT {mark}"
    )


def _events_of(row: Any) -> list[tuple[Event, Any]]:
    """A row of `_read_sql` as the engine's events (and their decoded data): a compact element
    row (history level `activity`) is both events it stands for, as EventLog reads it back."""
    at = row[4]
    if type(at) is str:  # SQLite keeps UTC wall time as text
        at = datetime.fromisoformat(at).replace(tzinfo=UTC)
    elif at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    raw = row[12]
    data = json.loads(raw) if type(raw) is str else raw
    kinds = [(row[3], row[2])]
    if row[2] == _COMPLETED and type(data) is dict and ACTIVATED_ID in data:
        kinds.insert(0, (data[ACTIVATED_ID], _ACTIVATED))
        data = {k: v for k, v in data.items() if k != ACTIVATED_ID}
    return [
        (
            Event(
                id_,
                kind,
                at.timestamp(),
                context_of(
                    id_, kind, row[5], at, data, row[6], row[7], row[8], row[9], row[10], row[11]
                ),
            ),
            data,
        )
        for id_, kind in kinds
    ]


_ACTIVATED = EventType.ELEMENT_ACTIVATED
_COMPLETED = EventType.ELEMENT_COMPLETED


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
