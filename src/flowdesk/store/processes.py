"""Repository of the process runtime, on the connection of one unit of work.

Hot statements (load and save an instance, open and close work items, add and remove jobs) are
built once at import and executed with parameters. Job acquisition uses
`FOR UPDATE SKIP LOCKED` on PostgreSQL so several workers take disjoint jobs; on SQLite the
writer lock (`BEGIN IMMEDIATE`) already serialises acquirers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    false,
    func,
    or_,
    select,
    update,
)

from flowdesk.core.errors import ConflictError
from flowdesk.store.hotpath import driver_io
from flowdesk.store.jsonsql import json_list_has
from flowdesk.store.process_tables import (
    buffered_messages,
    deployment_resources,
    deployments,
    jobs,
    process_definitions,
    process_instances,
    start_triggers,
    subscriptions,
    work_items,
)

_LOAD = select(
    process_instances.c.state, process_instances.c.version, process_instances.c.definition_id
).where(process_instances.c.id == bindparam("iid"))
_INSERT_JOB = jobs.insert()
_INSERT_SUB = subscriptions.insert()
_DELETE_SUBS = delete(subscriptions).where(subscriptions.c.instance_id == bindparam("iid"))


@dataclass(frozen=True, slots=True)
class LoadedInstance:
    state: dict[str, Any]
    version: int
    definition_id: str


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    instance_id: str | None
    definition_id: str | None
    kind: str
    element_id: str
    topic: str | None
    due_at: datetime | None
    retries: int | None
    attempts: int
    locked_by: str | None
    lock_expires_at: datetime | None
    last_error: str | None
    status: str
    payload: dict[str, Any] | None


def _job(row: Any) -> JobRow:
    m = row._mapping
    return JobRow(**{k: m[k] for k in JobRow.__slots__})


class ProcessRepository:
    def __init__(self, connection: Connection):
        self.c = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.io = driver_io(connection)

    # -- deployments ------------------------------------------------------------------------
    def insert_deployment(self, row: dict[str, Any]) -> None:
        self.c.execute(deployments.insert().values(**row))

    def insert_resource(self, row: dict[str, Any]) -> None:
        self.c.execute(deployment_resources.insert().values(**row))

    def insert_definition(self, row: dict[str, Any]) -> None:
        self.c.execute(process_definitions.insert().values(**row))

    def latest_definition(self, key: str) -> dict[str, Any] | None:
        row = self.c.execute(
            select(process_definitions)
            .where(process_definitions.c.key == key)
            .order_by(process_definitions.c.version.desc())
            .limit(1)
        ).first()
        return dict(row._mapping) if row else None

    def latest_definition_id(self, key: str) -> str | None:
        row = self.io.one(self.c, self.io.latest_sql, (key,))
        return None if row is None else str(row[0])

    def definition(self, definition_id: str) -> dict[str, Any] | None:
        row = self.c.execute(
            select(process_definitions).where(process_definitions.c.id == definition_id)
        ).first()
        return dict(row._mapping) if row else None

    def definitions(self) -> list[dict[str, Any]]:
        rows = self.c.execute(
            select(process_definitions).order_by(
                process_definitions.c.key, process_definitions.c.version
            )
        )
        return [dict(r._mapping) for r in rows]

    def resource(self, resource_id: str) -> dict[str, Any] | None:
        row = self.c.execute(
            select(deployment_resources).where(deployment_resources.c.id == resource_id)
        ).first()
        return dict(row._mapping) if row else None

    def deployment_list(self) -> list[dict[str, Any]]:
        rows = self.c.execute(select(deployments).order_by(deployments.c.created_at))
        return [dict(r._mapping) for r in rows]

    # -- instances --------------------------------------------------------------------------
    def insert_instance(self, row: dict[str, Any]) -> None:
        io = self.io
        io.run(
            self.c,
            io.insert_instance_sql,
            (
                row["id"],
                row["definition_id"],
                row["process_key"],
                row["business_key"],
                row["status"],
                row["version"],
                io.json_in(row["state"]),
                row["parent_id"],
                row["parent_token"],
                io.time(row["started_at"]),
                io.time(row["ended_at"]),
            ),
        )

    def load(self, instance_id: str, *, for_update: bool = False) -> LoadedInstance | None:
        if for_update and self.postgres:
            found = self.c.execute(_LOAD.with_for_update(), {"iid": instance_id}).first()
            return None if found is None else LoadedInstance(found[0], found[1], found[2])
        row = self.io.one(self.c, self.io.load_sql, (instance_id,))
        if row is None:
            return None
        return LoadedInstance(self.io.json_out(row[0]), int(row[1]), str(row[2]))

    def save(
        self,
        instance_id: str,
        expected_version: int,
        state: dict[str, Any],
        status: str,
        ended_at: datetime | None,
    ) -> int:
        io = self.io
        changed = io.run(
            self.c,
            io.save_sql,
            (
                io.json_in(state),
                expected_version + 1,
                status,
                io.time(ended_at),
                instance_id,
                expected_version,
            ),
        )
        if changed != 1:
            raise ConflictError(
                f"process instance {instance_id} was changed by another command",
                hint="reload it and try again",
            )
        return expected_version + 1

    def instance_row(self, instance_id: str) -> dict[str, Any] | None:
        row = self.c.execute(
            select(process_instances).where(process_instances.c.id == instance_id)
        ).first()
        return dict(row._mapping) if row else None

    def instances(
        self,
        *,
        process_key: str | None = None,
        business_key: str | None = None,
        status: str | None = None,
        worked_by: ColumnElement[bool] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Instances, newest first; `worked_by` (a condition on work items, see `offered_to`)
        keeps those with at least one such work item, open or closed."""
        query = select(process_instances).order_by(process_instances.c.started_at.desc())
        if worked_by is not None:
            query = query.where(
                select(work_items.c.id)
                .where(work_items.c.instance_id == process_instances.c.id, worked_by)
                .exists()
            )
        if process_key:
            query = query.where(process_instances.c.process_key == process_key)
        if business_key:
            query = query.where(process_instances.c.business_key == business_key)
        if status:
            query = query.where(process_instances.c.status == status)
        rows = self.c.execute(query.limit(limit).offset(offset))
        return [dict(r._mapping) for r in rows]

    def business_keys(self, instance_ids: Sequence[str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        table = process_instances.c
        ids = list(instance_ids)
        for start in range(0, len(ids), 500):
            rows = self.c.execute(
                select(table.id, table.business_key).where(table.id.in_(ids[start : start + 500]))
            )
            out.update({r[0]: r[1] for r in rows})
        return out

    def cases_mentioning(
        self, customer_id: str | None, instance_id: str, *, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Instances whose state names this customer id (or just `instance_id`), newest first."""
        table = process_instances.c
        query = select(
            table.id, table.process_key, table.business_key, table.status, table.started_at
        ).order_by(table.started_at.desc())
        if customer_id:
            needle = f'"{customer_id}"'.replace("\\", "\\\\")
            needle = needle.replace("%", "\\%").replace("_", "\\_")
            query = query.where(cast(table.state, Text).like(f"%{needle}%", escape="\\"))
        else:
            query = query.where(table.id == instance_id)
        return [dict(r._mapping) for r in self.c.execute(query.limit(limit))]

    def newest_root_with_business_key(self, business_key: str) -> str | None:
        table = process_instances.c
        row = self.c.execute(
            select(table.id)
            .where(table.business_key == business_key, table.parent_id.is_(None))
            .order_by(table.started_at.desc())
            .limit(1)
        ).first()
        return None if row is None else str(row[0])

    def child_of(self, parent_id: str, parent_token: str) -> str | None:
        return self.c.execute(
            select(process_instances.c.id).where(
                process_instances.c.parent_id == parent_id,
                process_instances.c.parent_token == parent_token,
                process_instances.c.status == "active",
            )
        ).scalar_one_or_none()

    # -- work items -------------------------------------------------------------------------
    def insert_work_items(self, rows: list[dict[str, Any]]) -> None:
        io = self.io
        io.many(
            self.c,
            io.insert_work_sql,
            [
                (
                    r["id"],
                    r["instance_id"],
                    r["definition_id"],
                    r["process_key"],
                    r["element_id"],
                    r["name"],
                    r["lane"],
                    r["assignee"],
                    io.json_in(r["candidate_groups"]),
                    io.json_in(r["candidate_users"]),
                    r["form_key"],
                    io.time(r["due_at"]),
                    r["priority"],
                    r["status"],
                    io.time(r["created_at"]),
                )
                for r in rows
            ],
        )

    def close_work_items(
        self, ids: Iterable[str], status: str, at: datetime, by: str | None
    ) -> None:
        io = self.io
        when = io.time(at)
        io.many(self.c, io.close_work_sql, [(status, when, by, i) for i in ids])

    def work_item_for_command(self, item_id: str) -> dict[str, Any] | None:
        """The few columns a command on a work item needs, by primary key."""
        row = self.io.one(self.c, self.io.work_lookup_sql, (item_id,))
        if row is None:
            return None
        keys = ("instance_id", "status", "assignee", "element_id", "lane")
        return dict(zip(keys, row, strict=True))

    def work_item_with_instance(
        self, item_id: str
    ) -> tuple[dict[str, Any], LoadedInstance | None] | None:
        """`work_item_for_command` and the `load` of its instance, in one statement."""
        row = self.io.one(self.c, self.io.work_command_sql, (item_id,))
        if row is None:
            return None
        keys = ("instance_id", "status", "assignee", "element_id", "lane")
        item = dict(zip(keys, row[:5], strict=True))
        if row[5] is None:
            return item, None
        return item, LoadedInstance(self.io.json_out(row[5]), int(row[6]), str(row[7]))

    def work_item(self, item_id: str) -> dict[str, Any] | None:
        row = self.c.execute(select(work_items).where(work_items.c.id == item_id)).first()
        return dict(row._mapping) if row else None

    def set_assignee(self, item_id: str, assignee: str | None, *, expect: str | None) -> bool:
        query = update(work_items).where(work_items.c.id == item_id, work_items.c.status == "open")
        if expect == "unassigned":
            query = query.where(work_items.c.assignee.is_(None))
        result = self.c.execute(query.values(assignee=assignee))
        return result.rowcount == 1

    def set_priority(self, item_id: str, priority: int) -> bool:
        query = update(work_items).where(work_items.c.id == item_id, work_items.c.status == "open")
        return self.c.execute(query.values(priority=priority)).rowcount == 1

    def offered_to(
        self,
        groups_visible: Sequence[str],
        user: str | None,
        department: ColumnElement[Any] | None = None,
    ) -> ColumnElement[bool]:
        """Work items offered to the user or one of the groups, by candidate group or lane;
        `department` (routing's transfer target per item) replaces the groups and lane where it
        is set and neither of them."""
        w = work_items.c
        dialect = self.c.dialect.name
        groups = list(groups_visible)
        by_groups = or_(json_list_has(w.candidate_groups, groups, dialect), w.lane.in_(groups))
        if department is not None:
            moved = and_(
                department.is_not(None),
                or_(w.lane.is_(None), department != w.lane),
                ~json_list_has(w.candidate_groups, department, dialect),
            )
            by_groups = or_(and_(moved, department.in_(groups)), and_(~moved, by_groups))
        by_user = (
            or_(w.assignee == user, json_list_has(w.candidate_users, [user], dialect))
            if user is not None
            else false()
        )
        return or_(by_user, by_groups)

    def query_work_items(
        self,
        *,
        status: str | None = "open",
        assignee: str | None = None,
        candidate_group: str | None = None,
        groups_visible: Sequence[str] | None = None,
        user: str | None = None,
        process_key: str | None = None,
        instance_id: str | None = None,
        due_before: datetime | None = None,
        claimable_by: str | None = None,
        department: ColumnElement[Any] | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Work items, highest priority first, then oldest; one page, filtered in SQL.

        `groups_visible` (with `user`) keeps the items offered to that user or to one of the
        groups, by candidate group or lane; `claimable_by` keeps the unassigned ones and the
        user's own. `department` is an optional SQL expression per item (routing's transfer
        target): where it is set and neither the lane nor a candidate group, it replaces the
        groups and lane (the same rule as `flowdesk.app.work.routed`)."""
        w = work_items.c
        dialect = self.c.dialect.name
        query = select(work_items)
        if status:
            query = query.where(w.status == status)
        if assignee:
            query = query.where(w.assignee == assignee)
        if claimable_by:
            query = query.where(or_(w.assignee.is_(None), w.assignee == claimable_by))
        if process_key:
            query = query.where(w.process_key == process_key)
        if instance_id:
            query = query.where(w.instance_id == instance_id)
        if due_before:
            query = query.where(w.due_at <= due_before)
        if candidate_group:
            query = query.where(json_list_has(w.candidate_groups, [candidate_group], dialect))
        if groups_visible is not None:
            query = query.where(self.offered_to(groups_visible, user, department))
        query = query.order_by(w.priority.desc().nulls_last(), w.created_at, w.id)
        query = query.limit(limit).offset(offset)
        return [dict(r._mapping) for r in self.c.execute(query)]

    # -- jobs -------------------------------------------------------------------------------
    def insert_jobs(self, rows: list[dict[str, Any]]) -> None:
        if rows and any(r.get("payload") is not None or "locked_by" in r for r in rows):
            self.c.execute(_INSERT_JOB, rows)  # the rare shapes (start timers) go the long way
            return
        io = self.io
        io.many(
            self.c,
            io.insert_job_sql,
            [
                (
                    r["id"],
                    r["instance_id"],
                    r["definition_id"],
                    r["kind"],
                    r["element_id"],
                    r.get("topic"),
                    io.time(r.get("due_at")),
                    r.get("retries"),
                    r["attempts"],
                    r["status"],
                    io.time(r["created_at"]),
                )
                for r in rows
            ],
        )

    def delete_jobs(self, ids: Iterable[str]) -> None:
        self.io.many(self.c, self.io.delete_job_sql, [(i,) for i in ids])

    def job(self, job_id: str) -> JobRow | None:
        row = self.c.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return _job(row) if row else None

    def acquire(
        self,
        *,
        kinds: Sequence[str],
        now: datetime,
        worker: str,
        lock_until: datetime,
        limit: int,
        topics: Sequence[str] | None = None,
    ) -> list[JobRow]:
        """Lock up to `limit` due, unlocked jobs for `worker` and return them."""
        query = (
            select(jobs.c.id)
            .where(jobs.c.kind.in_(kinds), jobs.c.status == "ready")
            .where(or_(jobs.c.due_at.is_(None), jobs.c.due_at <= now))
            .where(or_(jobs.c.locked_by.is_(None), jobs.c.lock_expires_at < now))
            .order_by(jobs.c.due_at.nulls_first(), jobs.c.created_at, jobs.c.id)
            .limit(limit)
        )
        if topics is not None:
            query = query.where(jobs.c.topic.in_(topics))
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        ids = list(self.c.execute(query).scalars())
        if not ids:
            return []
        self.c.execute(
            update(jobs)
            .where(jobs.c.id.in_(ids))
            .values(locked_by=worker, lock_expires_at=lock_until, attempts=jobs.c.attempts + 1)
        )
        rows = self.c.execute(select(jobs).where(jobs.c.id.in_(ids)))
        by_id = {r.id: _job(r) for r in rows}
        return [by_id[i] for i in ids]

    def any_due(self, *, kinds: Sequence[str], now: datetime, topics: Sequence[str]) -> bool:
        """Whether `acquire` would find a job: a read, so an idle poller takes no write lock."""
        query = (
            select(jobs.c.id)
            .where(jobs.c.kind.in_(kinds), jobs.c.status == "ready", jobs.c.topic.in_(topics))
            .where(or_(jobs.c.due_at.is_(None), jobs.c.due_at <= now))
            .where(or_(jobs.c.locked_by.is_(None), jobs.c.lock_expires_at < now))
            .limit(1)
        )
        return self.c.execute(query).first() is not None

    def update_job(self, job_id: str, **values: Any) -> None:
        self.c.execute(update(jobs).where(jobs.c.id == job_id).values(**values))

    def jobs_of(self, instance_id: str) -> list[JobRow]:
        rows = self.c.execute(select(jobs).where(jobs.c.instance_id == instance_id))
        return [_job(r) for r in rows]

    def job_counts(self) -> dict[tuple[str, str], int]:
        rows = self.c.execute(
            select(jobs.c.kind, jobs.c.status, func.count()).group_by(jobs.c.kind, jobs.c.status)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def incident_jobs(self) -> list[JobRow]:
        return [_job(r) for r in self.c.execute(select(jobs).where(jobs.c.status == "incident"))]

    def delete_start_timers(self, definition_key_prefix: str) -> None:
        self.c.execute(
            delete(jobs).where(
                jobs.c.kind == "start-timer", jobs.c.definition_id.like(definition_key_prefix)
            )
        )

    # -- subscriptions and buffered messages --------------------------------------------------
    def replace_subscriptions(self, instance_id: str, rows: list[dict[str, Any]]) -> None:
        self.c.execute(_DELETE_SUBS, {"iid": instance_id})
        if rows:
            self.c.execute(_INSERT_SUB, rows)

    def replace_start_subscriptions(self, key: str, rows: list[dict[str, Any]]) -> None:
        self.c.execute(
            delete(subscriptions).where(
                subscriptions.c.instance_id.is_(None),
                subscriptions.c.definition_id.like(f"{key}:%"),
            )
        )
        if rows:
            self.c.execute(_INSERT_SUB, rows)

    def find_subscribers(self, kind: str, name: str, key: str | None) -> list[dict[str, Any]]:
        query = select(subscriptions).where(
            subscriptions.c.kind == kind, subscriptions.c.name == name
        )
        if kind == "message" and key is not None:
            # As the engine matches: a subscription without a key accepts any key.
            query = query.where(
                or_(
                    subscriptions.c.correlation_key == key,
                    subscriptions.c.correlation_key.is_(None),
                )
            )
        rows = self.c.execute(query.order_by(subscriptions.c.id))
        return [dict(r._mapping) for r in rows]

    def instance_subscriptions(self, instance_id: str) -> list[dict[str, Any]]:
        rows = self.c.execute(
            select(subscriptions).where(subscriptions.c.instance_id == instance_id)
        )
        return [dict(r._mapping) for r in rows]

    def count_instances(self) -> int:
        return int(self.c.execute(select(func.count()).select_from(process_instances)).scalar_one())

    def buffer_message(self, row: dict[str, Any]) -> None:
        self.c.execute(buffered_messages.insert().values(**row))

    def take_buffered(self, name: str, key: str | None, now: datetime) -> dict[str, Any] | None:
        key_test = (
            buffered_messages.c.correlation_key.is_(None)
            if key is None
            else buffered_messages.c.correlation_key == key
        )
        row = self.c.execute(
            select(buffered_messages)
            .where(buffered_messages.c.name == name, key_test, buffered_messages.c.expires_at > now)
            .order_by(buffered_messages.c.created_at)
            .limit(1)
        ).first()
        if row is None:
            return None
        self.c.execute(delete(buffered_messages).where(buffered_messages.c.id == row.id))
        return dict(row._mapping)

    def take_buffered_matching(
        self, name: str, now: datetime, matches: Callable[[Mapping[str, Any]], bool]
    ) -> dict[str, Any] | None:
        """The oldest keyless buffered message of `name` whose payload `matches` (removed)."""
        rows = self.c.execute(
            select(buffered_messages)
            .where(
                buffered_messages.c.name == name,
                buffered_messages.c.correlation_key.is_(None),
                buffered_messages.c.expires_at > now,
            )
            .order_by(buffered_messages.c.created_at)
        )
        for row in rows.fetchall():
            if matches(row.variables or {}):
                self.c.execute(delete(buffered_messages).where(buffered_messages.c.id == row.id))
                return dict(row._mapping)
        return None

    def purge_expired_messages(self, now: datetime) -> int:
        result = self.c.execute(
            delete(buffered_messages).where(and_(buffered_messages.c.expires_at <= now))
        )
        return int(result.rowcount)

    # -- triggers of parallel multiple start events -----------------------------------------
    def held_start_triggers(
        self, definition_id: str, element_id: str, *, lock: bool
    ) -> list[dict[str, Any]]:
        """The triggers held for one start event, oldest first. With `lock`, the definition
        row is locked first (PostgreSQL), so two triggers arriving together are counted one
        after the other and the set they complete starts exactly one instance."""
        if lock and self.postgres:
            self.c.execute(
                select(process_definitions.c.id)
                .where(process_definitions.c.id == definition_id)
                .with_for_update()
            )
        rows = self.c.execute(
            select(start_triggers)
            .where(
                start_triggers.c.definition_id == definition_id,
                start_triggers.c.element_id == element_id,
            )
            .order_by(start_triggers.c.created_at, start_triggers.c.id)
        )
        return [dict(r._mapping) for r in rows]

    def hold_start_trigger(self, row: dict[str, Any]) -> None:
        self.c.execute(start_triggers.insert().values(**row))

    def consume_start_triggers(self, ids: Iterable[str]) -> None:
        self.c.execute(delete(start_triggers).where(start_triggers.c.id.in_(list(ids))))
