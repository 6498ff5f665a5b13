"""Compensation (BPMN 2.0 section 10.5.6): undoing work that already completed.

What can be compensated is recorded when it completes, in ``state.comp``, newest last:

- ``[activity, scope]``: the activity has a compensation boundary event whose associated
  handler (``isForCompensation="true"``) runs in ``scope`` when compensated;
- ``[activity, scope, snapshot]``: a completed container whose inside can be compensated: an
  embedded subprocess (``snapshot`` is its variable scope, kept as kind ``comp`` so handlers see
  the data it had when it completed) or one finished multi-instance iteration (kind ``comp-mi``,
  with its ``loopCounter`` and element variable). Records whose scope is ``snapshot`` are what
  completed inside it.

A throw (intermediate or end event, with or without ``activityRef``) compensates the records of
its scope (an event subprocess: of the scope it belongs to), newest first. A container record is
compensated by its compensation event subprocess if the subprocess has one, otherwise by
compensating what completed inside it, again newest first. The thrower waits while the handlers
run one after another, in that order, then continues; snapshots are dropped when it is done.
Records of a scope that ends without being compensated (completion of a subprocess without
anything to undo, termination, end of the instance) are discarded, so the state stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node, Process
from flowdesk.engine.state import Scope, Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run

#: Scope kinds of kept snapshots (a completed subprocess, a finished multi-instance iteration).
SNAPSHOT_KINDS = frozenset({"comp", "comp-mi"})


@dataclass(frozen=True, slots=True)
class Plan:
    """What a process can compensate, worked out once per definition (the engine caches it)."""

    handlers: dict[str, str]  # activity -> its compensation handler
    event_subprocesses: dict[str, tuple[str, str]]  # subprocess -> (compensation ESP, its start)
    tracked: frozenset[str]  # activities whose completion may have to be recorded


def plan_for(process: Process) -> Plan:
    nodes = process.nodes
    handlers: dict[str, str] = {}
    for node in nodes.values():
        if (
            node.type == "boundaryEvent"
            and node.event_kind == "compensate"
            and node.attached_to
            and node.compensation_handler
        ):
            handlers[node.attached_to] = node.compensation_handler
    esps: dict[str, tuple[str, str]] = {}
    for container, esp_ids in process.event_subprocesses.items():
        for esp in esp_ids:
            for start in process.start_events.get(esp, ()):
                if nodes[start].event_kind == "compensate":
                    esps[container] = (esp, start)
    tracked = set(handlers) | set(esps)
    pending = list(tracked)
    while pending:  # a subprocess is tracked when anything inside it is
        parent = nodes.get(nodes[pending.pop()].scope)
        if (
            parent is not None
            and parent.type == "subProcess"
            and not parent.triggered_by_event
            and not parent.for_compensation
            and parent.id not in tracked
        ):
            tracked.add(parent.id)
            pending.append(parent.id)
    return Plan(handlers, esps, frozenset(tracked))


# -- recording --------------------------------------------------------------------------------
def completed(run: Run, token: Token, node: Node, own: Scope | None) -> None:
    """``token`` completed at ``node``; ``own`` is the variable scope it owned (already removed
    from the state). Record what a later throw can compensate, discard what it cannot."""
    state = run.state
    data = token.data or {}
    loop = node.loop
    if "comp" in data or (loop is not None and loop.kind == "multi" and not data.get("inner")):
        # A handler is not compensated again; a multi-instance body was recorded per iteration.
        discard(run, token.id)
        return
    if node.id in run.comp.handlers:
        discard(run, token.id)
        state.comp.append([node.id, token.scope])
        return
    if (
        own is not None
        and own.kind == "sub"
        and node.id in run.comp.tracked
        and (node.id in run.comp.event_subprocesses or _has_records(run, token.id))
    ):
        own.kind = "comp"
        state.scopes[own.id] = own
        state.comp.append([node.id, token.scope, own.id])
        return
    discard(run, token.id)


def iteration_done(run: Run, body: Token, scope: Scope) -> None:
    """A multi-instance iteration finished: keep it when something inside it is compensable."""
    if _has_records(run, scope.id):
        scope.kind = "comp-mi"
        run.state.scopes[scope.id] = scope
        run.state.comp.append([body.el, body.scope, scope.id])


def _has_records(run: Run, scope_id: str) -> bool:
    return any(record[1] == scope_id for record in run.state.comp)


def discard(run: Run, scope_id: str) -> None:
    """Forget what completed in ``scope_id`` (and inside its snapshots): it can no longer be
    compensated. Snapshot scopes found on the way are removed."""
    state = run.state
    gone = {scope_id}
    if state.comp:
        pending = [scope_id]
        while pending:
            current = pending.pop()
            for record in state.comp:
                if record[1] == current and len(record) > 2 and record[2] not in gone:
                    gone.add(record[2])
                    pending.append(record[2])
        state.comp = [record for record in state.comp if record[1] not in gone]
    for sid in gone:
        scope = state.scopes.get(sid)
        if scope is not None and scope.kind in SNAPSHOT_KINDS:
            del state.scopes[sid]


def instance_ended(run: Run) -> None:
    """Nothing of an ended instance can be compensated any more."""
    state = run.state
    if state.comp or any(s.kind in SNAPSHOT_KINDS for s in state.scopes.values()):
        state.comp = []
        for sid in [s.id for s in state.scopes.values() if s.kind in SNAPSHOT_KINDS]:
            del state.scopes[sid]


# -- throwing ---------------------------------------------------------------------------------
def throw(run: Run, token: Token, node: Node, activity: str | None) -> bool:
    """Start compensating; True when there is nothing to wait for."""
    state = run.state
    target = token.scope
    enclosing = state.scopes.get(target)
    if enclosing is not None and enclosing.kind == "esp":
        target = enclosing.parent  # an event subprocess compensates the scope it belongs to
    chosen = [
        record
        for record in reversed(state.comp)
        if record[1] == target and (activity is None or record[0] == activity)
    ]
    if not chosen:
        return True
    state.comp = [record for record in state.comp if not any(record is c for c in chosen)]
    units: list[list[str]] = []
    snapshots: list[str] = []
    for record in chosen:
        _expand(run, record, units, snapshots)
    if not units:
        for snapshot in snapshots:
            discard(run, snapshot)
        return True
    token.wait = "comp"
    token.data = {**(token.data or {}), "queue": units[1:], "drop": snapshots}
    _start(run, token, units[0])
    return False


def _expand(run: Run, record: list[str], units: list[list[str]], snapshots: list[str]) -> None:
    """Turn one record into the handlers to run, in order: ``[handler, scope]`` or, for a
    compensation event subprocess, ``[event subprocess, scope, its start event]``."""
    if len(record) == 2:
        handler = run.comp.handlers.get(record[0])
        if handler is not None:
            units.append([handler, record[1]])
        return
    snapshot = record[2]
    snapshots.append(snapshot)
    scope = run.state.scopes.get(snapshot)
    esp = run.comp.event_subprocesses.get(record[0])
    if esp is not None and scope is not None and scope.kind == "comp":
        units.append([esp[0], snapshot, esp[1]])  # it throws compensation inside itself
        return
    inner = [r for r in reversed(run.state.comp) if r[1] == snapshot]
    run.state.comp = [r for r in run.state.comp if r[1] != snapshot]
    for record_inside in inner:
        _expand(run, record_inside, units, snapshots)


def _start(run: Run, thrower: Token, unit: list[str]) -> None:
    data: dict[str, Any] = {"comp": thrower.id}
    if len(unit) > 2:
        data["start"] = unit[2]
    run.enter(unit[0], unit[1], data=data)


def handler_done(run: Run, handler: Token) -> None:
    """A handler completed: start the next one, or let the thrower continue."""
    thrower_id = str((handler.data or {})["comp"])
    run.state.tokens.pop(handler.id, None)
    thrower = run.state.tokens.get(thrower_id)
    if thrower is None:
        return
    data = thrower.data or {}
    thrower.data = data
    if "pending" in data:  # a throw persisted before handlers ran one at a time
        data["pending"] = int(data["pending"]) - 1
        if data["pending"] > 0:
            return
        del data["pending"]
    queue = data.get("queue") or []
    if queue:
        data["queue"] = queue[1:]
        _start(run, thrower, list(queue[0]))
        return
    for snapshot in data.pop("drop", None) or []:
        discard(run, str(snapshot))
    data.pop("queue", None)
    thrower.wait = ""
    if data.get("cancel"):  # a cancel end event: the rollback is done, leave the transaction
        from flowdesk.engine.propagation import cancel_transaction

        run.guarded(thrower, lambda t: cancel_transaction(run, t))
        return
    run.guarded(thrower, run.complete)


def stop_handlers(run: Run, thrower: Token) -> None:
    """The thrower is terminated: its running handlers stop too (they may live in snapshots,
    which terminating the thrower's scope does not reach)."""
    for other in [
        t for t in run.state.tokens.values() if t.data and t.data.get("comp") == thrower.id
    ]:
        if other.id in run.state.tokens:
            run.terminate(other)
    for snapshot in (thrower.data or {}).get("drop") or []:
        discard(run, str(snapshot))
