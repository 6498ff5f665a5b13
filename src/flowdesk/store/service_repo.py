"""Queries of the service layer: idempotency keys and CloudEvents appended from outside.

Kept in the store package because the API and CLI layers may not import SQLAlchemy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from flowdesk.core.errors import ConflictError, FlowdeskError
from flowdesk.core.events import NewEvent
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


def reserve_key(
    store: Store,
    *,
    principal: str,
    route: str,
    key: str,
    request_hash: str,
    now: datetime,
) -> Replay | None:
    """Reserve `key` for this request. Returns None when the caller should go ahead, the stored
    response when the same request was already answered; raises when the key was used for a
    different request (422) or the first request is still running (409)."""
    row_id = idempotency_id(principal, route, key)
    for _ in range(2):
        with store.reading() as conn:
            row = conn.execute(
                select(idempotency_keys).where(idempotency_keys.c.id == row_id)
            ).first()
        if row is not None:
            m = row._mapping
            if m["request_hash"] != request_hash:
                raise IdempotencyMismatch(
                    f"the Idempotency-Key {key!r} was already used with a different request",
                    hint="use a new key for a new request",
                )
            if m["status_code"] is None:
                raise ConflictError(
                    f"a request with the Idempotency-Key {key!r} is still being processed",
                    hint="retry in a moment",
                )
            return Replay(int(m["status_code"]), m["response"])
        try:
            with store.unit_of_work() as uow:
                uow.connection.execute(
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
            return None
        except IntegrityError:
            continue  # someone else reserved it just now: read their row
    raise ConflictError(f"the Idempotency-Key {key!r} is contended", hint="retry in a moment")


def finish_key(
    store: Store, *, principal: str, route: str, key: str, status_code: int, response: Any
) -> None:
    row_id = idempotency_id(principal, route, key)
    with store.unit_of_work() as uow:
        uow.connection.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.id == row_id)
            .values(status_code=status_code, response=response)
        )


def release_key(store: Store, *, principal: str, route: str, key: str) -> None:
    """Forget a reservation whose request failed, so that a retry can run it again."""
    row_id = idempotency_id(principal, route, key)
    with store.unit_of_work() as uow:
        uow.connection.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.id == row_id, idempotency_keys.c.status_code.is_(None)
            )
        )


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
