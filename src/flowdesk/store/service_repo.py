"""Queries of the service layer: idempotency keys and CloudEvents appended from outside.

Kept in the store package because the API and CLI layers may not import SQLAlchemy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from flowdesk.core.errors import ConflictError, FlowdeskError
from flowdesk.core.events import NewEvent
from flowdesk.store.crashpoints import crash_point
from flowdesk.store.service_tables import idempotency_keys
from flowdesk.store.store import Store
from flowdesk.store.tables import events


class IdempotencyMismatch(FlowdeskError):
    code = "invalid-input"


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored outcome of the first request made with an idempotency key."""

    status_code: int
    response: Any


def idempotency_id(principal: str, route: str, key: str) -> str:
    return hashlib.sha256(f"{principal}\n{route}\n{key}".encode()).hexdigest()


class _Taken(Exception):
    """Another request with the same key committed first (raised to roll back, then replay)."""


def run_once(
    store: Store,
    *,
    principal: str,
    route: str,
    key: str,
    request_hash: str,
    now: datetime,
    produce: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Status and body of the request under `key`, and whether they replay the first answer.

    The claim of the key, everything `produce` writes and the record of its answer are one
    transaction (`Store.one_transaction`): a process that dies anywhere before COMMIT leaves
    nothing (a retry runs the request afresh), one that dies after it leaves the effect and its
    answer (a retry gets that answer). A concurrent request with the same key waits for the
    first (SQLite's writer gate, PostgreSQL's unique index) and then replays its answer.
    """
    row_id = idempotency_id(principal, route, key)
    for _ in range(3):
        replay = _answered(store, row_id, key, request_hash)
        if replay is not None:
            return replay.status_code, replay.response, True
        try:
            with store.one_transaction() as uow:
                conn = uow.connection
                # a row without an answer is a claim an older version left behind: stale
                conn.execute(
                    delete(idempotency_keys).where(
                        idempotency_keys.c.id == row_id, idempotency_keys.c.status_code.is_(None)
                    )
                )
                try:
                    with conn.begin_nested():
                        conn.execute(
                            idempotency_keys.insert().values(
                                id=row_id,
                                principal=principal,
                                route=route,
                                key=key,
                                request_hash=request_hash,
                                status_code=None,
                                response=None,
                                created_at=now,
                            )
                        )
                except IntegrityError:
                    raise _Taken from None
                crash_point("after-reservation")
                status, body = produce()
                crash_point("after-effect")
                conn.execute(
                    update(idempotency_keys)
                    .where(idempotency_keys.c.id == row_id)
                    .values(status_code=status, response=body)
                )
            return status, body, False
        except _Taken:
            continue
    raise ConflictError(f"the Idempotency-Key {key!r} is contended", hint="retry in a moment")


def _answered(store: Store, row_id: str, key: str, request_hash: str) -> Replay | None:
    with store.reading() as conn:
        row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.id == row_id)).first()
    if row is None or row._mapping["status_code"] is None:
        return None
    m = row._mapping
    if m["request_hash"] != request_hash:
        raise IdempotencyMismatch(
            f"the Idempotency-Key {key!r} was already used with a different request",
            hint="use a new key for a new request",
        )
    return Replay(int(m["status_code"]), m["response"])


def purge_keys(store: Store, *, before: datetime) -> int:
    with store.unit_of_work() as uow:
        result = uow.connection.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
        )
    return int(result.rowcount)


def append_new_events(store: Store, new_events: Sequence[NewEvent]) -> list[bool]:
    """Append events whose ids are not in the log yet; returns, per event, whether it was
    appended (False: a duplicate, already in the log or earlier in the same batch)."""
    for _ in range(3):
        ids = [e.id for e in new_events if e.id]
        with store.reading() as conn:
            existing = set(conn.execute(select(events.c.id).where(events.c.id.in_(ids))).scalars())
        added: list[bool] = []
        fresh: list[NewEvent] = []
        for event in new_events:
            if event.id in existing:
                added.append(False)
                continue
            existing.add(event.id)
            fresh.append(event)
            added.append(True)
        if not fresh:
            return added
        try:
            with store.unit_of_work() as uow:
                uow.append(*fresh)
            return added
        except IntegrityError:
            continue  # a concurrent request appended one of them: look again
    raise ConflictError("the events are being appended concurrently", hint="retry the request")


@dataclass(frozen=True, slots=True)
class DmnResource:
    id: str
    name: str
    sha256: str


def dmn_resources(store: Store, conn: Connection | None = None) -> list[DmnResource]:
    """Every deployed DMN resource, newest deployment first (through `conn`, the caller's
    transaction, when given: an in-memory SQLite has one connection, which a second
    transaction cannot begin on)."""
    from flowdesk.store.process_tables import deployment_resources, deployments

    query = (
        select(
            deployment_resources.c.id, deployment_resources.c.name, deployment_resources.c.sha256
        )
        .join(deployments, deployments.c.id == deployment_resources.c.deployment_id)
        .where(deployment_resources.c.kind == "dmn")
        .order_by(deployments.c.created_at.desc(), deployment_resources.c.id.desc())
    )
    if conn is not None:
        return [DmnResource(r[0], r[1], r[2]) for r in conn.execute(query)]
    with store.reading() as reading:
        return [DmnResource(r[0], r[1], r[2]) for r in reading.execute(query)]


def resource_content(store: Store, resource_id: str, conn: Connection | None = None) -> str | None:
    from flowdesk.store.process_tables import deployment_resources

    query = select(deployment_resources.c.content).where(deployment_resources.c.id == resource_id)
    if conn is not None:
        value = conn.execute(query).scalar_one_or_none()
    else:
        with store.reading() as reading:
            value = reading.execute(query).scalar_one_or_none()
    return None if value is None else str(value)


def deployments_with_resources(store: Store) -> list[dict[str, Any]]:
    """Deployments, newest first, each with its resources (without their content)."""
    from flowdesk.store.process_tables import deployment_resources, deployments

    with store.reading() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(deployments).order_by(deployments.c.created_at.desc(), deployments.c.id)
            )
        ]
        resources = conn.execute(
            select(
                deployment_resources.c.id,
                deployment_resources.c.deployment_id,
                deployment_resources.c.name,
                deployment_resources.c.kind,
                deployment_resources.c.sha256,
            ).order_by(deployment_resources.c.name)
        )
        by_deployment: dict[str, list[dict[str, Any]]] = {}
        for r in resources:
            by_deployment.setdefault(r.deployment_id, []).append(
                {"id": r.id, "name": r.name, "kind": r.kind, "sha256": r.sha256}
            )
    for row in rows:
        row["resources"] = by_deployment.get(row["id"], [])
    return rows
