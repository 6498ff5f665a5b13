"""Running the actions the consumer planned, once each.

Every action is a row with an idempotency key (situation id, action, customer). An action whose
effect is a row of ours (an alert) is marked done in the transaction that makes the effect. The
others check for their effect before acting: a flow is started with the key as business key and
not started when an instance with that key exists; a notification's contact id is derived from
the key, so one recorded already is not sent again; correlate-all only resumes instances still
waiting, so resuming again reaches no one. A restart after a crash between effect and mark
therefore finds the effect and only marks the row. (A crash between handing an email to the
SMTP server and recording it may send it twice: no mail protocol can tell.)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from flowdesk.channels.notify import notify
from flowdesk.channels.outbound import Sender
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.customers.models import customers
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.situations.models import situation_actions
from flowdesk.store import Store, UnitOfWork
from flowdesk.store.process_tables import process_instances

_NS = uuid.UUID("9a7c1e44-5b2f-4c8e-b1d3-7e6f0a2c4d58")
MAX_ATTEMPTS = 3
#: Service tasks of this topic (external) tell the instance's customer (`customerId`) the text
#: of variable `message` on their preferred channel; the situations worker runs them, so a flow
#: a situation starts (the demo's outage compensation) can tell the customer its outcome.
NOTIFY_TOPIC = "notify-customer"
WORKER = "flowdesk-situations"


def alert_of(spec: dict[str, Any], now: datetime) -> tuple[dict[str, Any], NewEvent]:
    """An alert action's result and its event: the effect is a row of ours, so the consumer
    raises it in the transaction that plans it (no second transaction, no wait for a round of
    the action runner)."""
    situation = spec.get("situation") or {}
    text = str(spec.get("text") or situation.get("title") or "")
    alert = NewEvent(
        EventType.SITUATION_ALERT,
        now,
        {"situation_id": situation.get("id"), "title": situation.get("title"), "text": text},
        department=str(spec["department"]),
    )
    return {"department": spec["department"]}, alert


def record_done(
    uow: UnitOfWork,
    key: str,
    kind: str,
    situation: dict[str, Any],
    result: dict[str, Any],
    now: datetime,
    *also: NewEvent,
) -> None:
    """The events of an action done (its own and `also`), in the transaction that marks it."""
    ActionRunner._events(uow, key, kind, situation, result, now, *also)


class _OneId:
    def __init__(self, value: str) -> None:
        self.value = value

    def new_id(self) -> str:
        return self.value


class ActionRunner:
    """`tick()` runs the pending actions; returns how many it finished."""

    def __init__(
        self,
        store: Store,
        runtime: ProcessRuntime,
        *,
        clock: Clock | None = None,
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.clock = clock or SystemClock()
        self.senders = senders or {}

    def tick(self, limit: int = 100) -> int:
        a = situation_actions.c
        with self.store.reading() as conn:
            rows = conn.execute(
                select(situation_actions)
                .where(a.status == "pending")
                .order_by(a.created_at, a.key)
                .limit(limit)
            ).all()
        done = 0
        for row in rows:
            try:
                self._run(row.key, row.kind, row.customer_id, dict(row.spec))
                done += 1
            except Exception as error:  # one failing action must not stop the others
                self._failed(row.key, row.attempts, error)
        return done + self.notify_tasks(limit)

    def notify_tasks(self, limit: int = 100) -> int:
        """Run the `notify-customer` service tasks that are due; returns how many finished.
        The contact id is derived from the task, so a task run again after a crash between
        sending and completing finds its contact and only completes."""
        if not self.runtime.external_due([NOTIFY_TOPIC]):
            return 0
        done = 0
        for task in self.runtime.fetch_and_lock(WORKER, [NOTIFY_TOPIC], max_tasks=limit):
            try:
                customer_id = task.variables.get("customerId")
                text = task.variables.get("message")
                if not isinstance(customer_id, str) or not isinstance(text, str) or not text:
                    raise ValueError("a notify-customer task needs variables customerId, message")
                contact_id = str(uuid.uuid5(_NS, f"task\n{task.id}"))
                with self.store.reading() as conn:
                    found = conn.execute(select(contacts.c.id).where(contacts.c.id == contact_id))
                    sent = found.first() is not None
                status = "sent before"
                if not sent:
                    outcome = notify(
                        self.store,
                        self.clock,
                        customer_id,
                        text,
                        senders=self.senders,
                        subject=task.variables.get("subject"),
                        ids=_OneId(contact_id),
                    )
                    status = outcome.status
                variables = {"notified": status, "notificationContactId": contact_id}
                self.runtime.complete_external_task(task.id, WORKER, variables)
                done += 1
            except Exception as error:  # the task shows the error; the others go on
                self.runtime.fail_external_task(task.id, WORKER, f"{type(error).__name__}: {error}")
        return done

    def _run(self, key: str, kind: str, customer_id: str | None, spec: dict[str, Any]) -> None:
        situation = spec.get("situation") or {}
        if kind == "alert":  # planned before alerts were raised in the planning transaction
            result, alert = alert_of(spec, self.clock.now())
            self._done(key, kind, situation, result, alert)
        elif kind in ("notify_customers", "hold_contacts"):
            self._notify(key, kind, customer_id, spec, situation)
        elif kind == "start_flow":
            self._start(key, customer_id, spec, situation)
        elif kind == "correlate":
            variables = dict(spec.get("variables") or {})
            variables.setdefault("situationId", situation.get("id"))
            ckey = spec.get("key") or situation.get("key")
            reached = self.runtime.correlate_all(str(spec["message"]), ckey, variables)
            self._done(key, kind, situation, {"instances": reached})
        else:
            raise ValueError(f"unknown action {kind!r}")

    def _notify(
        self,
        key: str,
        kind: str,
        customer_id: str | None,
        spec: dict[str, Any],
        situation: dict[str, Any],
    ) -> None:
        contact_id = str(uuid.uuid5(_NS, key))
        with self.store.reading() as conn:
            sent = conn.execute(select(contacts.c.id).where(contacts.c.id == contact_id)).first()
        if sent is None and customer_id is not None:
            outcome = notify(
                self.store,
                self.clock,
                customer_id,
                str(spec.get("text") or situation.get("title") or ""),
                senders=self.senders,
                subject=spec.get("subject") or situation.get("title"),
                ids=_OneId(contact_id),
            )
            result: dict[str, Any] = outcome.to_dict()
        else:
            result = {"status": "sent before", "contact_id": contact_id}
        self._done(key, kind, situation, result)

    def _start(
        self, key: str, customer_id: str | None, spec: dict[str, Any], situation: dict[str, Any]
    ) -> None:
        business_key = key[:200]
        with self.store.reading() as conn:
            found = conn.execute(
                select(process_instances.c.id).where(
                    process_instances.c.business_key == business_key
                )
            ).first()
        if found is not None:
            self._done(key, "start_flow", situation, {"instance": found.id})
            return
        variables = dict(spec.get("variables") or {})
        variables.update(
            situationId=situation.get("id"),
            situationKey=situation.get("key"),
            situationTitle=situation.get("title"),
        )
        raised = situation.get("raised_at")
        if isinstance(raised, int | float):  # how long it lasted (so far): what a credit reads
            cleared = situation.get("cleared_at")
            end = cleared if isinstance(cleared, int | float) else self.clock.now().timestamp()
            variables["situationHours"] = round(max(0.0, end - raised) / 3600, 2)
        if customer_id is not None:
            variables["customerId"] = customer_id
            with self.store.reading() as conn:  # what decisions about the customer read
                segment = conn.execute(
                    select(customers.c.segment).where(customers.c.id == customer_id)
                ).scalar()
            if segment is not None:
                variables.setdefault("customerSegment", segment)
        state = self.runtime.start(
            str(spec["process"]), variables, business_key=business_key, actor="situations"
        )
        self._done(key, "start_flow", situation, {"instance": state.id})

    def _done(
        self,
        key: str,
        kind: str,
        situation: dict[str, Any],
        result: dict[str, Any],
        *also: NewEvent,
    ) -> None:
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            marked = uow.connection.execute(
                update(situation_actions)
                .where(situation_actions.c.key == key, situation_actions.c.status == "pending")
                .values(status="done", result=result, done_at=now)
            )
            if marked.rowcount != 1:
                return  # another worker finished it (its events are written there)
            self._events(uow, key, kind, situation, result, now, *also)

    @staticmethod
    def _events(
        uow: UnitOfWork,
        key: str,
        kind: str,
        situation: dict[str, Any],
        result: dict[str, Any],
        now: datetime,
        *also: NewEvent,
    ) -> None:
        uow.append(*also)
        summary = result.get("status") or result.get("instance") or result.get("department")
        if "instances" in result:
            summary = f"{len(result['instances'])} instances"
        uow.append(
            NewEvent(
                EventType.SITUATION_ACTION_DONE,
                now,
                {
                    "situation_id": situation.get("id"),
                    "action": kind,
                    "key": key,
                    "result": str(summary),
                },
            )
        )

    def _failed(self, key: str, attempts: int, error: Exception) -> None:
        status = "failed" if attempts + 1 >= MAX_ATTEMPTS else "pending"
        with self.store.unit_of_work() as uow:
            uow.connection.execute(
                update(situation_actions)
                .where(situation_actions.c.key == key)
                .values(
                    attempts=attempts + 1,
                    status=status,
                    result={"error": f"{type(error).__name__}: {error}"[:500]},
                    done_at=self.clock.now() if status == "failed" else None,
                )
            )
