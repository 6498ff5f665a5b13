"""The process runtime: every engine command as one transaction against the store.

A command loads the instance row, applies the pure engine, and in the same unit of work writes
the new state (optimistic lock on the row version), the work items, jobs and subscriptions it
opened or closed, and its events to the event log; then it commits. Nothing about an instance
stays in memory between commands, so any number of server and worker processes can share one
PostgreSQL. Follow-ups the engine asks for (child instances of call activities, thrown messages
and signals, the outcome of a child for its parent, buffered messages for a new subscription)
run inside the same transaction.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from flowdesk.bpmn import timers
from flowdesk.bpmn.model import Definitions
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.errors import ConflictError, ModelError, NotFoundError, Position
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, TimeOrderedIds
from flowdesk.core.xmlsafe import xml_text
from flowdesk.engine import start_gather
from flowdesk.engine.engine import DecisionEvaluator, Engine, ServiceHandler
from flowdesk.engine.events import CommandResult, Event
from flowdesk.engine.state import InstanceState, state_from_dict
from flowdesk.runtime.decisions import DeployedDecisions
from flowdesk.runtime.handlers import installed_handlers
from flowdesk.runtime.registry import StoreRegistry
from flowdesk.store import Store, UnitOfWork
from flowdesk.store.eventlog import ACTIVATED_ID
from flowdesk.store.processes import JobRow, LoadedInstance, ProcessRepository

T = TypeVar("T")

#: Event ids of the runtime's commands: time-ordered, whatever ids the runtime was given (a test's
#: SequentialIds would collide in the log's unique index across runtimes sharing one store).
_EVENT_IDS = TimeOrderedIds()

EVENT_TYPES = {
    "process_started": EventType.PROCESS_STARTED,
    "process_completed": EventType.PROCESS_COMPLETED,
    "process_cancelled": EventType.PROCESS_CANCELLED,
    "element_activated": EventType.ELEMENT_ACTIVATED,
    "element_completed": EventType.ELEMENT_COMPLETED,
    "element_terminated": EventType.ELEMENT_TERMINATED,
    "variables_changed": EventType.VARIABLES_CHANGED,
    "incident_raised": EventType.INCIDENT_RAISED,
    "incident_resolved": EventType.INCIDENT_RESOLVED,
    "escalation_uncaught": EventType.ESCALATION_UNCAUGHT,
}

#: How much of an instance's history a command writes (Camunda's history levels): `full`
#: writes every element and variable event as its own row; `activity` writes an element that
#: is activated and completed in one command as one row carrying both (the event log reads it
#: back as the two events, so every reader and figure is the same); `none` writes no element
#: or variable events at all (the queue, cases and incidents keep theirs).
HISTORY_LEVELS = ("none", "activity", "full")
HISTORY_ENV = "FLOWDESK_HISTORY_LEVEL"
_ELEMENT_HISTORY = frozenset(
    {"element_activated", "element_completed", "element_terminated", "variables_changed"}
)


def history_level(value: str | None = None) -> str:
    """The history level given, else FLOWDESK_HISTORY_LEVEL, else `activity`."""
    level = (value or os.environ.get(HISTORY_ENV) or "activity").strip().lower()
    if level not in HISTORY_LEVELS:
        raise ValueError(
            f"{HISTORY_ENV}={level!r} is not a history level; use one of "
            f"{', '.join(HISTORY_LEVELS)}"
        )
    return level


def _merges(activated: NewEvent, completed: NewEvent) -> bool:
    """Whether one row can stand for both events: all that `_event` sets but the type and id
    is equal (field by field: dataclasses.replace cost more than the row it saves)."""
    return (
        activated.element_id == completed.element_id
        and activated.time == completed.time
        and activated.actor == completed.actor
        and activated.department == completed.department
        and activated.process_instance_id == completed.process_instance_id
        and activated.data == completed.data
    )


#: A caller's rule for completing a step: (connection, definition id, element id, the instance's
#: variables) -> None, raising to refuse.
StepCheck = Callable[[Any, str, str, Mapping[str, Any]], None]


class DeploymentError(ModelError):
    """A model that parses but that the runtime cannot run as deployed."""


@dataclass(frozen=True, slots=True)
class DeployedDefinition:
    id: str
    key: str
    version: int
    name: str | None
    new: bool


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str
    name: str
    definitions: list[DeployedDefinition]
    #: what deploys but is ignored or cannot run (descriptive pools, vendor extensions...)
    warnings: tuple[ModelError, ...] = ()


@dataclass(frozen=True, slots=True)
class ExternalTask:
    id: str
    topic: str
    instance_id: str
    element_id: str
    business_key: str | None
    variables: dict[str, Any]
    retries: int | None
    lock_expires_at: datetime
    definition_id: str | None = None  # process key:version, for workers that read the model


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class _Tx:
    """One unit of work: the repository and the instances this command has touched."""

    uow: UnitOfWork
    repo: ProcessRepository
    touched: dict[str, tuple[InstanceState, int, str]] = field(default_factory=dict)
    #: instance rows read along with something else this command (saves `_load` a statement)
    read: dict[str, LoadedInstance] = field(default_factory=dict)
    #: triggers of parallel multiple start events this command held (the others must come)
    held: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a message or signal went: the instances it reached or started, and whether it
    was buffered (no receiver yet) or held (one trigger of a parallel multiple start event)."""

    instances: list[str]
    held: bool = False


class ProcessRuntime:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        handlers: Mapping[str, ServiceHandler] | None = None,
        decisions: DecisionEvaluator | None = None,
        worker_id: str = "flowdesk",
        message_ttl: timedelta = timedelta(hours=1),
        job_retries: int = 3,
        retry_backoff: timedelta = timedelta(seconds=10),
        job_lock: timedelta = timedelta(minutes=5),
        history: str | None = None,
    ) -> None:
        self.store = store
        self.history_level = history_level(history)
        self.clock = clock or SystemClock()
        # Time-ordered ids keep index inserts on the rightmost B-tree pages (see TimeOrderedIds).
        self.ids = ids or TimeOrderedIds()
        self.registry = StoreRegistry(store)
        # Business rule tasks use the DMN deployed next to the processes unless told otherwise,
        # so every runtime (API, worker, web, CLI, intake) evaluates the same decisions.
        self.decisions = decisions or DeployedDecisions(store, clock=self.clock)
        self.engine = Engine(
            self.registry,
            clock=self.clock,
            ids=self.ids,
            # Without explicit handlers, those installed as `flowdesk.handlers` entry points.
            handlers=installed_handlers() if handlers is None else handlers,
            decisions=self.decisions,
        )
        self.worker_id = worker_id
        self.message_ttl = message_ttl
        self.job_retries = job_retries
        self.retry_backoff = retry_backoff
        self.job_lock = job_lock

    # -- plumbing ----------------------------------------------------------------------------
    def _run(self, body: Callable[[_Tx], T], *, attempts: int = 3) -> T:
        """Run `body` in one transaction; retry on an optimistic-lock conflict."""
        for attempt in range(attempts):
            try:
                return self.store.run_unit(partial(self._in_unit, body))
            except ConflictError as exc:
                if attempt == attempts - 1 or "changed by another command" not in exc.message:
                    raise
        raise AssertionError("unreachable")

    def _in_unit(self, body: Callable[[_Tx], T], uow: UnitOfWork) -> T:
        tx = _Tx(uow, ProcessRepository(uow.connection))
        if isinstance(self.decisions, DeployedDecisions):
            with self.decisions.within(uow.connection):
                return body(tx)
        return body(tx)

    def _load(self, tx: _Tx, instance_id: str) -> tuple[InstanceState, int, str]:
        if instance_id in tx.touched:
            return tx.touched[instance_id]
        loaded = tx.read.pop(instance_id, None) or tx.repo.load(instance_id)
        if loaded is None:
            raise NotFoundError(f"no process instance {instance_id!r}")
        state = state_from_dict(loaded.state)
        self.registry.ensure(tx.repo, loaded.definition_id)
        return state, loaded.version, loaded.definition_id

    def _latest_id(self, repo: ProcessRepository, key: str) -> str:
        definition_id = repo.latest_definition_id(key)
        if definition_id is None:
            raise NotFoundError(
                f"no process '{key}' is deployed", hint="deploy its BPMN file first"
            )
        self.registry.ensure(repo, definition_id)
        return definition_id

    def _absorb(
        self,
        tx: _Tx,
        result: CommandResult,
        *,
        before: tuple[InstanceState, int, str] | None,
        definition_id: str,
        completed_item: str | None = None,
        actor: str | None = None,
        waiting_since: datetime | None = None,
    ) -> InstanceState:
        state = result.state
        now = self.clock.now()
        snapshot = result.snapshot()
        ended = now if state.status != "active" else None
        repo = tx.repo
        if before is None:
            parent: list[str | None] = list(state.parent) if state.parent else [None, None]
            repo.insert_instance(
                {
                    "id": state.id,
                    "definition_id": definition_id,
                    "process_key": definition_id.rsplit(":", 1)[0],
                    "business_key": state.business_key,
                    "status": state.status,
                    "version": 1,
                    "state": snapshot,
                    "parent_id": parent[0],
                    "parent_token": parent[1],
                    "started_at": now,
                    "ended_at": ended,
                }
            )
            version = 1
            old_subs: set[tuple[Any, ...]] = set()
        else:
            version = repo.save(state.id, before[1], snapshot, state.status, ended)
            old_subs = _sub_keys(before[0])
        tx.touched[state.id] = (state, version, definition_id)
        key = definition_id.rsplit(":", 1)[0]

        repo.insert_work_items(
            [
                {
                    "id": w.id,
                    "instance_id": state.id,
                    "definition_id": definition_id,
                    "process_key": key,
                    "element_id": w.el,
                    "name": w.name,
                    "lane": w.lane,
                    "assignee": w.assignee,
                    "candidate_groups": list(w.candidate_groups),
                    "candidate_users": list(w.candidate_users),
                    "form_key": w.form_key,
                    "due_at": _parse_time(w.due),
                    "priority": w.priority,
                    "status": "open",
                    "created_at": now,
                }
                for w in result.work_items_created
            ]
        )
        closed = [i for i in result.work_items_closed if i != completed_item]
        if completed_item is not None and completed_item in result.work_items_closed:
            repo.close_work_items([completed_item], "completed", now, actor)
        repo.close_work_items(closed, "cancelled", now, None)
        # Work-item facts for the queue, routing and analytics consumers of the event log.
        # Closures first, then what the engine did, then the new items: reads in causal order.
        created_items: list[NewEvent] = [
            NewEvent(
                EventType.WORK_ITEM_CREATED,
                now,
                {
                    "work_item_id": w.id,
                    "name": w.name,
                    "candidate_groups": list(w.candidate_groups),
                    "candidate_users": list(w.candidate_users),
                    "assignee": w.assignee,
                    "form_key": w.form_key,
                    "due": w.due,
                    "priority": w.priority,
                    "process_key": key,
                    "business_key": state.business_key,
                    **(
                        {"waiting_since": waiting_since.isoformat()}
                        if waiting_since is not None and waiting_since < now
                        else {}
                    ),
                },
                process_instance_id=state.id,
                element_id=w.el,
                department=w.lane,
                id=_EVENT_IDS.new_id(),
            )
            for w in result.work_items_created
        ]
        closed_items = [
            NewEvent(
                EventType.WORK_ITEM_COMPLETED
                if item_id == completed_item
                else EventType.WORK_ITEM_CANCELLED,
                now,
                {"work_item_id": item_id},
                process_instance_id=state.id,
                actor=actor if item_id == completed_item else None,
                id=_EVENT_IDS.new_id(),
            )
            for item_id in result.work_items_closed
        ]
        created_ids = {j.id for j in result.jobs_created}
        repo.insert_jobs(
            [
                {
                    "id": j.id,
                    "instance_id": state.id,
                    "definition_id": definition_id,
                    "kind": j.kind,
                    "element_id": j.el,
                    "topic": j.topic,
                    "due_at": _parse_time(j.due) or (now if j.kind == "async" else None),
                    "retries": j.retries,
                    "attempts": 0,
                    "status": "ready",
                    "created_at": now,
                }
                for j in result.jobs_created
                if j.id not in result.jobs_removed
            ]
        )
        repo.delete_jobs(j for j in result.jobs_removed if j not in created_ids)
        new_subs = _sub_keys(state)
        if new_subs != old_subs:
            repo.replace_subscriptions(
                state.id,
                [
                    {
                        "id": f"{state.id}:{sid}",
                        "instance_id": state.id,
                        "definition_id": definition_id,
                        "kind": kind,
                        "name": name,
                        "correlation_key": ckey,
                        "element_id": el,
                    }
                    for sid, kind, name, ckey, el in sorted(new_subs)
                ],
            )
        tx.uow.append(
            *closed_items,
            *self._history(result.events, definition_id, state),
            *created_items,
        )

        # Follow-ups, in the same transaction.
        for token_id in result.calls_cancelled:
            child = repo.child_of(state.id, token_id)
            if child is not None:
                self._apply(tx, child, lambda s: self.engine.cancel(s, "parent ended"))
        for call in result.calls:
            child_def = self._latest_id(repo, call.process_key)
            child_result = self.engine.start(
                child_def,
                call.variables,
                call.business_key,
                parent=(call.parent_instance, call.parent_token),
            )
            self._absorb(tx, child_result, before=None, definition_id=child_def)
        # An escalation the child did not catch reaches the call activity's boundaries before
        # the child's end completes the call (an escalation end event does both).
        for escalation in result.escalations:
            self._escalate(
                tx, escalation.parent_instance, escalation.parent_token, escalation.error_code
            )
        outcome = result.call_outcome
        if outcome is not None and not self._still_calling(
            tx, outcome.parent_instance, outcome.parent_token
        ):
            outcome = None  # an interrupting escalation boundary already ended the call
        if outcome is not None:
            parent_id, token = outcome.parent_instance, outcome.parent_token
            if outcome.error_code is not None:
                code, message = outcome.error_code, outcome.error_message
                self._apply(tx, parent_id, lambda s: self.engine.fail_call(s, token, code, message))
            else:
                variables = outcome.variables
                self._apply(tx, parent_id, lambda s: self.engine.complete_call(s, token, variables))
        for thrown in result.messages:
            self._correlate(tx, thrown.name, thrown.correlation_key, thrown.variables)
        for signal in result.signals:  # the thrower's own catchers already had it
            self._broadcast(tx, signal.name, signal.variables, skip=signal.source_instance)
        # A message that arrived before this instance could receive it was buffered: deliver it.
        for _sid, kind, name, ckey, _el in sorted(new_subs - old_subs):
            if kind != "message" or tx.touched[state.id][0].status != "active":
                continue
            buffered = repo.take_buffered(name, ckey, now)
            if buffered is None and ckey is not None:
                buffered = self._take_by_message_path(repo, definition_id, name, ckey, now)
            if buffered is not None:
                self._deliver(tx, state.id, name, ckey, buffered["variables"])
        return tx.touched[state.id][0]

    def _take_by_message_path(
        self, repo: ProcessRepository, definition_id: str, name: str, key: str, now: datetime
    ) -> dict[str, Any] | None:
        """A message sent with no key before any instance waited for it was buffered keyless;
        where this process declares a correlationProperty for it (BPMN 8.3.2), its key is the
        payload read through the messagePath, so it belongs to the instance whose key matches."""
        if name not in self.registry.ensure(repo, definition_id).message_paths:
            return None

        def matches(variables: Mapping[str, Any]) -> bool:
            return self.engine.message_key(definition_id, name, None, variables)[1] == key

        return repo.take_buffered_matching(name, now, matches)

    def _still_calling(self, tx: _Tx, parent_id: str, token_id: str) -> bool:
        state = self._load(tx, parent_id)[0]
        token = state.tokens.get(token_id)
        return state.status == "active" and token is not None and token.wait == "call"

    def _escalate(self, tx: _Tx, parent_id: str, token: str, code: str | None) -> None:
        if not self._still_calling(tx, parent_id, token):
            return

        def command(s: InstanceState) -> CommandResult:
            return self.engine.escalate_call(s, token, code)

        self._apply(tx, parent_id, command)

    def _deliver(
        self, tx: _Tx, instance_id: str, name: str, key: str | None, variables: dict[str, Any]
    ) -> None:
        def command(s: InstanceState) -> CommandResult:
            return self.engine.correlate_message(s, name, key, variables)

        self._apply(tx, instance_id, command)

    def _apply(
        self,
        tx: _Tx,
        instance_id: str,
        command: Callable[[InstanceState], CommandResult],
        *,
        completed_item: str | None = None,
        actor: str | None = None,
    ) -> InstanceState:
        before = self._load(tx, instance_id)
        result = command(before[0])
        return self._absorb(
            tx,
            result,
            before=before,
            definition_id=before[2],
            completed_item=completed_item,
            actor=actor,
        )

    def _history(
        self, found: Sequence[Event], definition_id: str, state: InstanceState
    ) -> list[NewEvent]:
        """The log events of a command's engine events, at the runtime's history level."""
        level = self.history_level
        if level == "full":
            return [self._event(e, definition_id, state) for e in found]
        out: list[NewEvent] = []
        pending: NewEvent | None = None  # an activation the next event may complete
        for e in found:
            if level == "none" and e.type in _ELEMENT_HISTORY:
                continue
            event = self._event(e, definition_id, state)
            if pending is not None:
                if e.type == "element_completed" and _merges(pending, event):
                    event.data[ACTIVATED_ID] = pending.id  # a dict of its own (`_event`)
                    out.append(event)
                    pending = None
                    continue
                out.append(pending)
                pending = None
            if e.type == "element_activated":
                pending = event
            else:
                out.append(event)
        if pending is not None:
            out.append(pending)
        return out

    def _event(self, e: Event, definition_id: str, state: InstanceState) -> NewEvent:
        data: dict[str, Any] = {"definition_id": definition_id}
        if e.element_type:
            data["element_type"] = e.element_type
            name = self.registry.element_name(definition_id, e.element_id)
            if name:
                data["element_name"] = name
        if e.token:
            data["token"] = e.token
        if e.data:
            data.update(e.data)
        if e.type == "process_started" and state.business_key:
            data["business_key"] = state.business_key
        return NewEvent(
            EVENT_TYPES.get(e.type) or e.type.replace("_", "."),
            e.time,
            data,
            process_instance_id=e.instance,
            element_id=e.element_id,
            actor=e.actor,
            department=e.lane,
            id=_EVENT_IDS.new_id(),
        )

    # -- deployment -------------------------------------------------------------------------
    def deploy(
        self,
        name: str,
        resources: Sequence[tuple[str, bytes]],
        *,
        actor: str | None = None,
        also: Callable[[UnitOfWork, Deployment], None] | None = None,
    ) -> Deployment:
        """Deploy BPMN (and DMN) files. A changed process becomes a new version; an unchanged
        one keeps its version. Every file is validated before anything is written. `also` runs
        inside the same transaction once the definitions are written (an experience bundle
        stores its experience there), so a failure in it leaves nothing deployed."""
        parsed: list[tuple[str, str, str, str, Definitions | None]] = []
        warnings: list[ModelError] = []
        for filename, content in resources:
            text = xml_text(content)
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if filename.lower().endswith(".dmn"):
                from flowdesk.dmn import load_model

                load_model(text)  # validate; raises ModelError with positions
                parsed.append((filename, text, sha, "dmn", None))
            else:
                imported = self.registry.imported(text, filename, sha)
                parsed.append((filename, text, sha, "bpmn", imported.executable()))
                warnings.extend(imported.warnings)

        def body(tx: _Tx) -> Deployment:
            now = self.clock.now()
            deployment_id = self.ids.new_id()
            tx.repo.insert_deployment(
                {"id": deployment_id, "name": name, "created_at": now, "actor": actor}
            )
            deployed: list[DeployedDefinition] = []
            for filename, text, sha, kind, definitions in parsed:
                resource_id = self.ids.new_id()
                tx.repo.insert_resource(
                    {
                        "id": resource_id,
                        "deployment_id": deployment_id,
                        "name": filename,
                        "kind": kind,
                        "sha256": sha,
                        "content": text,
                    }
                )
                if definitions is None:
                    continue
                # A descriptive model (no executable pool) deploys its pools for diagrams and
                # conformance checking; beside an executable one they are documentation only.
                descriptive = not any(p.executable for p in definitions.processes.values())
                for key, process in definitions.processes.items():
                    if not process.executable and not descriptive:
                        continue
                    latest = tx.repo.latest_definition(key)
                    if latest is not None and latest["sha256"] == sha:
                        deployed.append(
                            DeployedDefinition(
                                latest["id"], key, latest["version"], latest["name"], False
                            )
                        )
                        continue
                    version = (latest["version"] + 1) if latest else 1
                    definition_id = f"{key}:{version}"
                    tx.repo.insert_definition(
                        {
                            "id": definition_id,
                            "key": key,
                            "version": version,
                            "name": process.name,
                            "deployment_id": deployment_id,
                            "resource_id": resource_id,
                            "sha256": sha,
                            "created_at": now,
                        }
                    )
                    if process.executable:
                        self._register_starts(tx, key, definition_id, process, now)
                    deployed.append(
                        DeployedDefinition(definition_id, key, version, process.name, True)
                    )
                    tx.uow.append(
                        NewEvent(
                            EventType.PROCESS_DEFINITION_DEPLOYED,
                            now,
                            {"definition_id": definition_id, "key": key, "version": version},
                            actor=actor,
                        )
                    )
            tx.uow.append(
                NewEvent(
                    EventType.DEPLOYMENT_CREATED,
                    now,
                    {"deployment_id": deployment_id, "name": name, "files": [p[0] for p in parsed]},
                    actor=actor,
                )
            )
            deployment = Deployment(deployment_id, name, deployed, tuple(warnings))
            if also is not None:
                also(tx.uow, deployment)
            return deployment

        return self._run(body, attempts=1)

    def _register_starts(
        self, tx: _Tx, key: str, definition_id: str, process: Any, now: datetime
    ) -> None:
        """Message and signal start events become subscriptions; timer starts become jobs.
        Only the newest version of a process listens for its start events."""
        rows = []
        tx.repo.delete_start_timers(f"{key}:%")
        for start_id, index, event in (
            (sid, i, e)  # a multiple start event: each trigger on its own
            for sid in process.start_events.get(process.id, ())
            for i, e in enumerate(process.nodes[sid].events)
        ):
            if event.kind in ("message", "signal") and event.ref:
                rows.append(
                    {
                        "id": f"{definition_id}:{start_id}" + (f":{index}" if index else ""),
                        "instance_id": None,
                        "definition_id": definition_id,
                        "kind": event.kind,
                        "name": event.ref,
                        "correlation_key": None,
                        "element_id": start_id,
                    }
                )
            elif event.kind == "conditional":
                raise DeploymentError(
                    f"conditional start event '{start_id}' of process '{key}' is not supported",
                    position=Position(line=process.nodes[start_id].line, element_id=start_id),
                    hint="start the process with a message or signal start event instead",
                )
            elif event.kind == "timer" and event.value:
                text = _timer_text(event.value, start_id, process.nodes[start_id].line)
                try:
                    due, remaining = timers.first_due(event.timer or "date", text, now)
                except ValueError as exc:
                    raise DeploymentError(
                        f"timer start event '{start_id}': {exc}",
                        position=Position(line=process.nodes[start_id].line, element_id=start_id),
                    ) from None
                tx.repo.insert_jobs(
                    [
                        {
                            "id": self.ids.new_id(),
                            "instance_id": None,
                            "definition_id": definition_id,
                            "kind": "start-timer",
                            "element_id": start_id,
                            "due_at": due,
                            "attempts": 0,
                            "status": "ready",
                            "payload": {"remaining": remaining, "timer": text},
                            "created_at": now,
                        }
                    ]
                )
        tx.repo.replace_start_subscriptions(key, rows)

    # -- instance commands ------------------------------------------------------------------
    def start(
        self,
        process_key: str,
        variables: Mapping[str, Any] | None = None,
        *,
        business_key: str | None = None,
        actor: str | None = None,
        waiting_since: datetime | None = None,
    ) -> InstanceState:
        """Start a flow. `waiting_since`: when the customer's contact arrived, if earlier (a
        contact that waited in triage): its first work items' SLA clocks start then."""

        def body(tx: _Tx) -> InstanceState:
            definition_id = self._latest_id(tx.repo, process_key)
            result = self.engine.start(definition_id, variables, business_key, actor=actor)
            return self._absorb(
                tx, result, before=None, definition_id=definition_id, waiting_since=waiting_since
            )

        return self._run(body)

    def complete_work_item(
        self,
        item_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
        check: StepCheck | None = None,
    ) -> InstanceState:
        """Complete the item with `variables`. `check(connection, definition_id, element_id,
        variables)` runs first inside the command's transaction with the instance's current
        variables, and may refuse (raise): the caller's rules for the step (its form) without a
        read of their own."""

        def command(s: InstanceState, element_id: str, conn: Any) -> CommandResult:
            if check is not None:
                check(conn, s.process, element_id, s.vars)
            return self.engine.complete_work_item(s, item_id, variables, actor=actor)

        def body(tx: _Tx) -> InstanceState:
            found = tx.repo.work_item_with_instance(item_id)
            if found is None:
                raise NotFoundError(f"no work item {item_id!r}")
            row, loaded = found
            if loaded is not None:
                tx.read[row["instance_id"]] = loaded
            if row["status"] != "open":
                raise ConflictError(f"work item {item_id} is already {row['status']}")
            if actor is not None and row["assignee"] not in (None, actor):
                raise ConflictError(
                    f"work item {item_id} is claimed by {row['assignee']}",
                    hint="ask them to unclaim it, or have it delegated to you",
                )
            return self._apply(
                tx,
                row["instance_id"],
                lambda s: command(s, row["element_id"], tx.repo.c),
                completed_item=item_id,
                actor=actor,
            )

        return self._run(body)

    def claim(self, item_id: str, user: str) -> None:
        self._assign(
            item_id, user, expect="unassigned", event=EventType.WORK_ITEM_CLAIMED, actor=user
        )

    def unclaim(self, item_id: str, user: str) -> None:
        self._assign(item_id, None, expect=None, event=EventType.WORK_ITEM_UNCLAIMED, actor=user)

    def delegate(self, item_id: str, to_user: str, *, actor: str) -> None:
        self._assign(
            item_id, to_user, expect=None, event=EventType.WORK_ITEM_DELEGATED, actor=actor
        )

    def set_priority(self, item_id: str, priority: int, *, actor: str) -> None:
        """A person changes how urgent an open item is (the queue orders by it, highest first);
        the event keeps the previous value."""

        def body(tx: _Tx) -> None:
            row = tx.repo.work_item(item_id)
            if (
                row is None
                or row["status"] != "open"
                or not tx.repo.set_priority(item_id, priority)
            ):
                raise NotFoundError(f"no open work item {item_id!r}")
            tx.uow.append(
                NewEvent(
                    EventType.WORK_ITEM_PRIORITY_CHANGED,
                    self.clock.now(),
                    {"work_item_id": item_id, "priority": priority, "previous": row["priority"]},
                    process_instance_id=row["instance_id"],
                    element_id=row["element_id"],
                    actor=actor,
                    department=row["lane"],
                )
            )

        self._run(body, attempts=1)

    def _assign(
        self, item_id: str, assignee: str | None, *, expect: str | None, event: str, actor: str
    ) -> None:
        def body(tx: _Tx) -> None:
            row = tx.repo.work_item(item_id)
            if row is None or row["status"] != "open":
                raise NotFoundError(f"no open work item {item_id!r}")
            if not tx.repo.set_assignee(item_id, assignee, expect=expect):
                raise ConflictError(f"work item {item_id} is already claimed by {row['assignee']}")
            tx.uow.append(
                NewEvent(
                    event,
                    self.clock.now(),
                    {"work_item_id": item_id, "assignee": assignee, "previous": row["assignee"]},
                    process_instance_id=row["instance_id"],
                    element_id=row["element_id"],
                    actor=actor,
                    department=row["lane"],
                )
            )

        self._run(body, attempts=1)

    def correlate_message(
        self,
        name: str,
        correlation_key: Any = None,
        variables: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Deliver to waiting instances (or start a process with that message start event);
        with no receiver the message is buffered for `message_ttl`. Returns the instance ids."""
        return self.deliver_message(name, correlation_key, variables).instances

    def deliver_message(
        self,
        name: str,
        correlation_key: Any = None,
        variables: Mapping[str, Any] | None = None,
    ) -> Delivery:
        """As `correlate_message`, telling a held start trigger from a buffered message."""

        def body(tx: _Tx) -> Delivery:
            reached = self._correlate(tx, name, correlation_key, variables)
            return Delivery(reached, held=tx.held > 0)

        return self._run(body)

    def correlate_all(
        self,
        name: str,
        correlation_key: Any = None,
        variables: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Deliver to every instance waiting for the message and key, in one transaction (an
        area restored resumes all the cases of that area, not the first). Starts nothing and
        buffers nothing, so delivering the same message again reaches no one twice."""

        def body(tx: _Tx) -> list[str]:
            key = None if correlation_key is None else str(correlation_key)
            reached: list[str] = []
            for sub in tx.repo.find_subscribers("message", name, key):
                instance_id = sub["instance_id"]
                if instance_id is None or instance_id in reached:
                    continue
                state = self._apply(
                    tx,
                    instance_id,
                    lambda s: self.engine.correlate_message(s, name, correlation_key, variables),
                )
                reached.append(state.id)
            return reached

        return self._run(body)

    def _correlate(
        self, tx: _Tx, name: str, correlation_key: Any, variables: Mapping[str, Any] | None
    ) -> list[str]:
        key = None if correlation_key is None else str(correlation_key)
        for sub in tx.repo.find_subscribers("message", name, key):
            if sub["instance_id"] is None:
                continue
            self.registry.ensure(tx.repo, sub["definition_id"])
            strict, derived = self.engine.message_key(
                sub["definition_id"], name, correlation_key, variables
            )
            if strict and sub["correlation_key"] not in (None, derived):
                continue  # standard correlation: the payload's key is not this instance's
            state = self._apply(
                tx,
                sub["instance_id"],
                lambda s: self.engine.correlate_message(s, name, correlation_key, variables),
            )
            return [state.id]
        for sub in tx.repo.find_subscribers("message", name, None):
            if sub["instance_id"] is None:
                self.registry.ensure(tx.repo, sub["definition_id"])
                if self._parallel_start(sub["definition_id"], sub["element_id"]):
                    _strict, derived = self.engine.message_key(
                        sub["definition_id"], name, correlation_key, variables
                    )
                    started = self._gather_start(
                        tx,
                        sub["definition_id"],
                        sub["element_id"],
                        f"message:{name}",
                        derived,
                        variables,
                    )
                    return [] if started is None else [started]
                result = self.engine.start(
                    sub["definition_id"], variables, key, start_event=sub["element_id"]
                )
                return [
                    self._absorb(tx, result, before=None, definition_id=sub["definition_id"]).id
                ]
        now = self.clock.now()
        tx.repo.buffer_message(
            {
                "id": self.ids.new_id(),
                "name": name,
                "correlation_key": key,
                "variables": dict(variables or {}),
                "created_at": now,
                "expires_at": now + self.message_ttl,
            }
        )
        tx.uow.append(
            NewEvent(EventType.MESSAGE_BUFFERED, now, {"name": name, "correlation_key": key})
        )
        return []

    def _parallel_start(self, definition_id: str, element_id: str) -> bool:
        node = self.registry.get(definition_id).nodes.get(element_id)
        return node is not None and node.parallel_multiple

    def _gather_start(
        self,
        tx: _Tx,
        definition_id: str,
        element_id: str,
        trigger: str,
        key: str | None,
        variables: Mapping[str, Any] | None,
    ) -> str | None:
        """BPMN 10.5.2: a parallel multiple start event instantiates its process only after
        all of its triggers occurred. Hold this trigger durably (per correlation key); once
        the set is complete, consume one trigger of each kind and start one instance with all
        their payloads, the key as business key. Returns the started instance's id."""
        node = self.registry.get(definition_id).nodes[element_id]
        now = self.clock.now()
        row = {
            "id": self.ids.new_id(),
            "definition_id": definition_id,
            "element_id": element_id,
            "trigger": trigger,
            "correlation_key": key,
            "variables": dict(variables or {}),
            "created_at": now,
        }
        held = [*tx.repo.held_start_triggers(definition_id, element_id, lock=True), row]
        found = start_gather.complete_set(node, held, key)
        if found is None:
            tx.repo.hold_start_trigger(row)
            tx.held += 1
            data = {
                "definition_id": definition_id,
                "element_id": element_id,
                "trigger": trigger,
                "correlation_key": key,
                "missing": start_gather.missing(node, held, key),
            }
            tx.uow.append(NewEvent(EventType.START_TRIGGER_HELD, now, data, element_id=element_id))
            return None
        business_key, rows = found
        tx.repo.consume_start_triggers(r["id"] for r in rows if r is not row)
        result = self.engine.start(
            definition_id,
            start_gather.merged_variables(rows),
            business_key,
            start_event=element_id,
        )
        return self._absorb(tx, result, before=None, definition_id=definition_id).id

    def broadcast_signal(self, name: str, variables: Mapping[str, Any] | None = None) -> list[str]:
        return self.deliver_signal(name, variables).instances

    def deliver_signal(self, name: str, variables: Mapping[str, Any] | None = None) -> Delivery:
        """As `broadcast_signal`, also telling whether a parallel multiple start held it."""

        def body(tx: _Tx) -> Delivery:
            reached = self._broadcast(tx, name, variables)
            return Delivery(reached, held=tx.held > 0)

        return self._run(body)

    def _broadcast(
        self,
        tx: _Tx,
        name: str,
        variables: Mapping[str, Any] | None,
        *,
        skip: str | None = None,
    ) -> list[str]:
        reached: list[str] = [] if skip is None else [skip]
        for sub in tx.repo.find_subscribers("signal", name, None):
            if sub["instance_id"] is None:
                self.registry.ensure(tx.repo, sub["definition_id"])
                if self._parallel_start(sub["definition_id"], sub["element_id"]):
                    started = self._gather_start(
                        tx,
                        sub["definition_id"],
                        sub["element_id"],
                        f"signal:{name}",
                        None,
                        variables,
                    )
                    reached.extend([] if started is None else [started])
                    continue
                result = self.engine.start(
                    sub["definition_id"], variables, start_event=sub["element_id"]
                )
                reached.append(
                    self._absorb(tx, result, before=None, definition_id=sub["definition_id"]).id
                )
            elif sub["instance_id"] not in reached:
                state = self._apply(
                    tx,
                    sub["instance_id"],
                    lambda s: self.engine.broadcast_signal(s, name, variables),
                )
                reached.append(state.id)
        return [r for r in reached if r != skip]

    def set_variables(
        self,
        instance_id: str,
        variables: Mapping[str, Any],
        *,
        actor: str | None = None,
        events: Sequence[NewEvent] = (),
    ) -> InstanceState:
        """Set variables; `events` (what the caller records about it) commit with them."""

        def body(tx: _Tx) -> InstanceState:
            state = self._apply(tx, instance_id, lambda s: self.engine.set_variables(s, variables))
            for event in events:
                tx.uow.append(event)
            return state

        return self._run(body)

    def cancel(self, instance_id: str, reason: str | None = None) -> InstanceState:
        return self._run(
            lambda tx: self._apply(tx, instance_id, lambda s: self.engine.cancel(s, reason))
        )

    def resolve_incident(
        self, instance_id: str, incident_id: str, *, retries: int | None = None
    ) -> InstanceState:
        def body(tx: _Tx) -> InstanceState:
            state = self._apply(
                tx,
                instance_id,
                lambda s: self.engine.resolve_incident(s, incident_id, retries=retries),
            )
            for job in tx.repo.jobs_of(instance_id):
                if job.status == "incident":
                    # an external task gets the retries the engine gave it back (the row kept 0)
                    again = {"retries": retries or 1} if job.kind == "external" else {}
                    tx.repo.update_job(
                        job.id,
                        status="ready",
                        attempts=0,
                        locked_by=None,
                        lock_expires_at=None,
                        due_at=self.clock.now(),
                        **again,
                    )
            return state

        return self._run(body)

    # -- jobs: timers and async continuations -------------------------------------------------
    def run_due_jobs(self, *, limit: int = 100, worker: str | None = None) -> int:
        """Acquire due timers / continuations (SKIP LOCKED on PostgreSQL), run each in its own
        transaction. A job that fails is retried with backoff, then becomes an incident."""
        worker = worker or self.worker_id
        now = self.clock.now()
        acquired = self._run(
            lambda tx: tx.repo.acquire(
                kinds=("timer", "async", "start-timer"),
                now=now,
                worker=worker,
                lock_until=now + self.job_lock,
                limit=limit,
            ),
            attempts=1,
        )
        done = 0
        for job in acquired:
            try:
                self._run(partial(self._execute_job, job=job, worker=worker))
                done += 1
            except Exception as exc:  # the job failed: record it, never lose it
                self._job_failed(job, exc)
        return done

    def _execute_job(self, tx: _Tx, *, job: JobRow, worker: str) -> None:
        current = tx.repo.job(job.id)
        if current is None or current.locked_by != worker:
            return  # already done by someone else, or the lock expired and was taken over
        if job.kind == "start-timer":
            self._fire_start_timer(tx, current)
            return
        assert job.instance_id is not None
        if job.kind == "timer":
            self._apply(tx, job.instance_id, lambda s: self.engine.fire_timer(s, job.id))
        else:
            self._apply(tx, job.instance_id, lambda s: self.engine.execute_job(s, job.id))
        # The job row goes with the command: the engine reports it in jobs_removed.

    def _fire_start_timer(self, tx: _Tx, job: JobRow) -> None:
        assert job.definition_id is not None
        self.registry.ensure(tx.repo, job.definition_id)
        if self._parallel_start(job.definition_id, job.element_id):
            self._gather_start(tx, job.definition_id, job.element_id, "timer", None, None)
        else:
            result = self.engine.start(job.definition_id, start_event=job.element_id)
            self._absorb(tx, result, before=None, definition_id=job.definition_id)
        payload = job.payload or {}
        remaining = payload.get("remaining")
        process = self.registry.get(job.definition_id)
        event = next((e for e in process.nodes[job.element_id].events if e.kind == "timer"), None)
        if event is not None and event.timer == "cycle" and remaining != 0:
            cycle = timers.parse_cycle(payload.get("timer") or event.value or "")
            assert job.due_at is not None
            tx.repo.update_job(
                job.id,
                due_at=cycle.interval.add_to(job.due_at),
                locked_by=None,
                lock_expires_at=None,
                attempts=0,
                payload={
                    "remaining": None if remaining is None else remaining - 1,
                    "timer": payload.get("timer"),
                },
            )
        else:
            tx.repo.delete_jobs([job.id])

    def _job_failed(self, job: JobRow, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"

        def body(tx: _Tx) -> None:
            now = self.clock.now()
            if job.attempts >= self.job_retries:
                tx.repo.update_job(
                    job.id,
                    status="incident",
                    last_error=message,
                    locked_by=None,
                    lock_expires_at=None,
                )
                tx.uow.append(
                    NewEvent(
                        EventType.INCIDENT_RAISED,
                        now,
                        {"job_id": job.id, "message": message, "kind": job.kind},
                        process_instance_id=job.instance_id,
                        element_id=job.element_id,
                    )
                )
            else:
                tx.repo.update_job(
                    job.id,
                    last_error=message,
                    locked_by=None,
                    lock_expires_at=None,
                    due_at=now + self.retry_backoff * (2 ** (job.attempts - 1)),
                )

        self._run(body, attempts=1)

    # -- external tasks ----------------------------------------------------------------------
    def fetch_and_lock(
        self,
        worker: str,
        topics: Sequence[str],
        *,
        max_tasks: int = 10,
        lock_duration: timedelta = timedelta(minutes=5),
    ) -> list[ExternalTask]:
        def body(tx: _Tx) -> list[ExternalTask]:
            now = self.clock.now()
            until = now + lock_duration
            jobs = tx.repo.acquire(
                kinds=("external",),
                now=now,
                worker=worker,
                lock_until=until,
                limit=max_tasks,
                topics=list(topics),
            )
            tasks = []
            for job in jobs:
                assert job.instance_id is not None
                state, _, _ = self._load(tx, job.instance_id)
                tasks.append(
                    ExternalTask(
                        job.id,
                        job.topic or "",
                        job.instance_id,
                        job.element_id,
                        state.business_key,
                        _task_variables(state, job.id),
                        job.retries,
                        until,
                        job.definition_id,
                    )
                )
            return tasks

        return self._run(body, attempts=1)

    def external_due(self, topics: Sequence[str]) -> bool:
        """Whether an external task of `topics` is ready to fetch (a read-only check, for
        pollers that run every round)."""
        with self.store.reading() as conn:
            return ProcessRepository(conn).any_due(
                kinds=("external",), now=self.clock.now(), topics=list(topics)
            )

    def _locked_job(self, tx: _Tx, job_id: str, worker: str) -> JobRow:
        job = tx.repo.job(job_id)
        if job is None or job.kind != "external":
            raise NotFoundError(f"no external task {job_id!r}")
        if job.locked_by != worker or (
            job.lock_expires_at is not None and job.lock_expires_at < self.clock.now()
        ):
            raise ConflictError(
                f"external task {job_id} is not locked by worker {worker!r}",
                hint="fetch and lock it again; its lock may have expired",
            )
        return job

    def complete_external_task(
        self, job_id: str, worker: str, variables: Mapping[str, Any] | None = None
    ) -> InstanceState:
        def body(tx: _Tx) -> InstanceState:
            job = self._locked_job(tx, job_id, worker)
            assert job.instance_id is not None
            state = self._apply(
                tx,
                job.instance_id,
                lambda s: self.engine.complete_external_task(s, job_id, variables),
            )
            return state

        return self._run(body)

    def fail_external_task(
        self,
        job_id: str,
        worker: str,
        message: str,
        *,
        retries: int | None = None,
        retry_timeout: timedelta = timedelta(0),
    ) -> InstanceState:
        def body(tx: _Tx) -> InstanceState:
            job = self._locked_job(tx, job_id, worker)
            assert job.instance_id is not None
            state = self._apply(
                tx,
                job.instance_id,
                lambda s: self.engine.fail_external_task(s, job_id, message, retries),
            )
            left = retries if retries is not None else max((job.retries or 1) - 1, 0)
            tx.repo.update_job(
                job_id,
                retries=left,
                last_error=message,
                locked_by=None,
                lock_expires_at=None,
                status="ready" if left > 0 else "incident",
                due_at=self.clock.now() + retry_timeout,
            )
            return state

        return self._run(body)

    def external_bpmn_error(
        self,
        job_id: str,
        worker: str,
        code: str,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> InstanceState:
        def body(tx: _Tx) -> InstanceState:
            job = self._locked_job(tx, job_id, worker)
            assert job.instance_id is not None
            state = self._apply(
                tx,
                job.instance_id,
                lambda s: self.engine.external_bpmn_error(s, job_id, code, message, variables),
            )
            return state

        return self._run(body)

    def extend_lock(self, job_id: str, worker: str, duration: timedelta) -> datetime:
        def body(tx: _Tx) -> datetime:
            self._locked_job(tx, job_id, worker)
            until = self.clock.now() + duration
            tx.repo.update_job(job_id, lock_expires_at=until)
            return until

        return self._run(body, attempts=1)

    # -- queries ----------------------------------------------------------------------------
    def instance(self, instance_id: str) -> InstanceState:
        with self.store.reading() as conn:
            loaded = ProcessRepository(conn).load(instance_id)
        if loaded is None:
            raise NotFoundError(f"no process instance {instance_id!r}")
        return state_from_dict(loaded.state)

    def work_items(self, **filters: Any) -> list[dict[str, Any]]:
        with self.store.reading() as conn:
            return ProcessRepository(conn).query_work_items(**filters)

    def history(self, instance_id: str) -> list[Any]:
        return self.store.events.where(process_instance_id=instance_id)

    def has_instances(self) -> bool:
        with self.store.reading() as conn:
            return ProcessRepository(conn).count_instances() > 0

    def definitions(self) -> list[dict[str, Any]]:
        with self.store.reading() as conn:
            return ProcessRepository(conn).definitions()


def _timer_text(value: str, element_id: str, line: int | None) -> str:
    """A start timer's ISO 8601 text; a Zeebe `=expression` is evaluated once, at deploy."""
    if not value.startswith("="):
        return value
    from flowdesk.core.jsonutil import iso_duration
    from flowdesk.feel import evaluate

    result = evaluate(value[1:], {})
    if isinstance(result, str):
        return result
    if isinstance(result, datetime):
        return result.isoformat()
    if isinstance(result, timedelta):
        return iso_duration(result)
    raise DeploymentError(
        f"timer start event '{element_id}': the expression {value[1:]!r} gives no date, "
        "duration or cycle",
        position=Position(line=line, element_id=element_id),
        hint="use an ISO 8601 literal such as R/PT1H or an expression that yields one",
    )


def _task_variables(state: InstanceState, job_id: str) -> dict[str, Any]:
    """What an external task sees: the instance's variables overlaid by those of the scopes
    around the task, its own input mappings innermost (as Camunda's fetch-and-lock gives them)."""
    out = dict(state.vars)
    job = state.jobs.get(job_id)
    token = state.tokens.get(job.token) if job is not None else None
    if token is None:
        return out
    chain: list[dict[str, Any]] = []
    scope_id = token.id if token.id in state.scopes else token.scope
    while scope_id:
        scope = state.scopes.get(scope_id)
        if scope is None:
            break
        chain.append(scope.vars)
        scope_id = scope.parent
    for table in reversed(chain):
        out.update(table)
    return out


def _sub_keys(state: InstanceState) -> set[tuple[Any, ...]]:
    return {
        (s.id, s.kind, s.name, s.key, s.el)
        for s in state.subs.values()
        if s.kind in ("message", "signal") and s.name
    }
