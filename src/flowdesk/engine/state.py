"""Instance state: a small, JSON-able snapshot of one running process instance.

Everything the engine needs to continue an instance lives here and nothing else does, so the
runtime can store it as one JSON column and any process can pick the instance up again. Keys are
short and empty fields are omitted: a waiting refund instance is a few hundred bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

SNAPSHOT_VERSION = 1


@dataclass(slots=True)
class Token:
    """One activity instance: where a token is, in which scope, and what it is waiting for."""

    id: str
    el: str
    scope: str  # "" is the process instance itself
    wait: str = ""  # "", task, join, ijoin, event, scope, mi, external, async, call, comp ...
    flow: str | None = None  # the sequence flow it arrived by (joins)
    data: dict[str, Any] | None = None  # behaviour data (multi-instance counters, loop count ...)


@dataclass(slots=True)
class Scope:
    """Variables of a subprocess, event subprocess, multi-instance iteration or mapped task."""

    id: str
    el: str
    parent: str
    kind: str  # sub, esp, mi, local
    vars: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None  # mi: the multi-instance body token


@dataclass(slots=True)
class WorkItem:
    id: str
    el: str
    token: str
    name: str | None = None
    lane: str | None = None
    assignee: str | None = None
    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    form_key: str | None = None
    due: str | None = None
    follow_up: str | None = None
    priority: int | None = None
    created: str | None = None


@dataclass(slots=True)
class Subscription:
    """A waiting trigger: message (name, key), signal (name), timer (due), conditional."""

    id: str
    kind: str
    el: str  # the catching element (catch event, boundary event, receive task, ESP start)
    owner: str  # token id (waiting token, boundary host, event gateway) or scope id (ESP)
    name: str | None = None
    key: str | None = None
    due: str | None = None
    cycle: str | None = None  # timer cycle text, to schedule the next repetition
    left: int | None = None  # cycle repetitions left (None: forever)


@dataclass(slots=True)
class Job:
    """Work for the runtime: a timer to fire, an async continuation, an external task."""

    id: str
    kind: str  # timer, async, external
    el: str
    token: str
    due: str | None = None
    topic: str | None = None
    retries: int | None = None
    error: str | None = None


@dataclass(slots=True)
class Incident:
    id: str
    el: str
    token: str
    message: str
    job: str | None = None


@dataclass(slots=True)
class InstanceState:
    id: str
    process: str
    business_key: str | None = None
    status: str = "active"  # active, completed, cancelled
    version: int = 0
    vars: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    scopes: dict[str, Scope] = field(default_factory=dict)
    work: dict[str, WorkItem] = field(default_factory=dict)
    subs: dict[str, Subscription] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    comp: list[list[str]] = field(default_factory=list)  # compensable [element, scope]
    seq: int = 0
    parent: list[str] | None = None  # [parent instance id, call activity token id]
    started: str | None = None
    ended: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def clone(self) -> InstanceState:
        """A copy the engine can change without touching the caller's state."""
        return InstanceState(
            id=self.id,
            process=self.process,
            business_key=self.business_key,
            status=self.status,
            version=self.version,
            vars=dict(self.vars),
            tokens={
                k: Token(t.id, t.el, t.scope, t.wait, t.flow, _copy_data(t.data))
                for k, t in self.tokens.items()
            },
            scopes={
                k: Scope(s.id, s.el, s.parent, s.kind, dict(s.vars), s.owner)
                for k, s in self.scopes.items()
            },
            work=dict(self.work),
            subs=dict(self.subs),
            jobs=dict(self.jobs),
            incidents=dict(self.incidents),
            comp=[list(c) for c in self.comp],
            seq=self.seq,
            parent=list(self.parent) if self.parent else None,
            started=self.started,
            ended=self.ended,
        )


def _copy_data(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: (list(v) if isinstance(v, list) else v) for k, v in data.items()}


# -- values -----------------------------------------------------------------------------------
_PLAIN = (str, int, float, bool, type(None))


def encode_value(value: Any) -> Any:
    """Variables as JSON: plain values as they are, FEEL/temporal values as tagged objects."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode_value(v) for k, v in value.items()}
    ym = getattr(value, "months", None)
    if type(value).__name__ == "YearsMonthsDuration" and isinstance(ym, int):
        return {"$ym": ym}
    raise TypeError(f"variable value of type {type(value).__name__} cannot be stored")


def decode_value(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, raw),) = value.items()
            if tag == "$n":
                return Decimal(raw)
            if tag == "$dt":
                return datetime.fromisoformat(raw)
            if tag == "$d":
                return date.fromisoformat(raw)
            if tag == "$t":
                return time.fromisoformat(raw)
            if tag == "$td":
                return timedelta(days=raw[0], seconds=raw[1], microseconds=raw[2])
            if tag == "$ym":
                from flowdesk.feel.values import YearsMonthsDuration  # type: ignore[import-not-found,unused-ignore]

                return YearsMonthsDuration(raw)
        return {k: decode_value(v) for k, v in value.items()}
    return value


def _vars_out(variables: dict[str, Any]) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in variables.items()}


def _vars_in(variables: dict[str, Any]) -> dict[str, Any]:
    return {k: decode_value(v) for k, v in variables.items()}


def _compact(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in obj.__slots__:
        if name in skip:
            continue
        value = getattr(obj, name)
        if value is None or value == [] or value == {} or value == "":
            continue
        out[name] = value
    return out


# -- snapshot ---------------------------------------------------------------------------------
def state_to_dict(state: InstanceState) -> dict[str, Any]:
    """The compact JSON-able snapshot of ``state`` (restore it with :func:`state_from_dict`)."""
    out: dict[str, Any] = {"v": SNAPSHOT_VERSION, "id": state.id, "process": state.process}
    if state.business_key is not None:
        out["bk"] = state.business_key
    out["status"] = state.status
    out["ver"] = state.version
    out["seq"] = state.seq
    if state.vars:
        out["vars"] = _vars_out(state.vars)
    if state.tokens:
        out["tokens"] = [_token_out(t) for t in state.tokens.values()]
    if state.scopes:
        out["scopes"] = [
            {**_compact(s, ("vars",)), **({"vars": _vars_out(s.vars)} if s.vars else {})}
            for s in state.scopes.values()
        ]
    for key, table in (
        ("work", state.work),
        ("subs", state.subs),
        ("jobs", state.jobs),
        ("incidents", state.incidents),
    ):
        if table:
            out[key] = [_compact(item) for item in table.values()]
    if state.comp:
        out["comp"] = state.comp
    if state.parent:
        out["parent"] = state.parent
    if state.started:
        out["started"] = state.started
    if state.ended:
        out["ended"] = state.ended
    return out


def _token_out(t: Token) -> list[Any]:
    row: list[Any] = [t.id, t.el, t.scope, t.wait, t.flow, encode_value(t.data)]
    while row and row[-1] in (None, ""):
        row.pop()
    return row


def state_from_dict(data: dict[str, Any]) -> InstanceState:
    if data.get("v") != SNAPSHOT_VERSION:
        raise ValueError(f"unsupported snapshot version {data.get('v')!r}")
    state = InstanceState(
        id=data["id"],
        process=data["process"],
        business_key=data.get("bk"),
        status=data["status"],
        version=data["ver"],
        seq=data["seq"],
        vars=_vars_in(data.get("vars", {})),
        comp=[list(c) for c in data.get("comp", [])],
        parent=data.get("parent"),
        started=data.get("started"),
        ended=data.get("ended"),
    )
    for row in data.get("tokens", []):
        row = list(row) + [None] * (6 - len(row))
        state.tokens[row[0]] = Token(
            row[0], row[1], row[2] or "", row[3] or "", row[4], decode_value(row[5])
        )
    for s in data.get("scopes", []):
        scope = Scope(
            s["id"],
            s["el"],
            s.get("parent", ""),
            s["kind"],
            _vars_in(s.get("vars", {})),
            s.get("owner"),
        )
        state.scopes[scope.id] = scope
    for w in data.get("work", []):
        state.work[w["id"]] = WorkItem(**w)
    for sub in data.get("subs", []):
        state.subs[sub["id"]] = Subscription(**sub)
    for j in data.get("jobs", []):
        state.jobs[j["id"]] = Job(**j)
    for i in data.get("incidents", []):
        state.incidents[i["id"]] = Incident(**i)
    return state


def state_to_json(state: InstanceState) -> str:
    return json.dumps(state_to_dict(state), separators=(",", ":"))


def state_from_json(text: str) -> InstanceState:
    loaded: dict[str, Any] = json.loads(text)
    return state_from_dict(loaded)
