"""The pattern engine: compiled rules applied to a stream of events, one at a time.

Semantics follow what Esper and Flink CEP users expect: event time (each event's own time moves
the engine's clock, `advance` moves it for time-outs when no event arrives), keyed partitions
(each rule's state is kept per key), `every A -> B` sequences (each A starts its own partial
match), `A -> not B` absence (a B cancels the As before it), sliding windows evicted by time and
tumbling windows aligned to the epoch. A match raises a situation for the rule and key, or
updates the one already active; a clearing event of the same key or the time-out clears it.

All state lives in plain JSON-able dictionaries, one per (rule, key) partition: `dirty` says
which changed, so a durable consumer writes only those, and `load` puts them back after a
restart. Memory is bounded by what the windows hold: a partition with nothing left is dropped.
"""

from __future__ import annotations

import hashlib
import heapq
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from flowdesk.cep.rules import Absence, EventSpec, Getter, Rule, Sequence, Threshold

_NAMESPACE = uuid.UUID("0b8c3f52-7d7e-4a5f-9a51-3c1f0c6de5a1")
#: Adds a duration (seconds) to an instant (epoch seconds) on a business calendar.
CalendarAdd = Callable[[float, float], float]
NO_KEY = "*"
_NS_BYTES = _NAMESPACE.bytes


def _situation_id(name: str) -> str:
    """`str(uuid.uuid5(_NAMESPACE, name))` without building a UUID object (a third of the
    cost of raising a situation): the same SHA-1, version and variant bits, same text."""
    h = bytearray(hashlib.sha1(_NS_BYTES + name.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


class Event(NamedTuple):
    """One event as the engine sees it: `context` is what FEEL reads (type, source, subject,
    data, case_id, customer_id, ...); `time` is epoch seconds. A named tuple: built once per
    event, about three times cheaper than a frozen dataclass."""

    id: str
    type: str
    time: float
    context: Mapping[str, Any]


class Change(NamedTuple):
    """A situation was raised, updated or cleared; `situation` is a copy of its state."""

    kind: str  # raised | updated | cleared
    rule: str
    situation: dict[str, Any]


#: What a rule does with an event of its key: (key, event, changes out).
Handler = Callable[[str, Event, list[Change]], None]
#: The handlers that share a key expression (its compiled function, None: no key; the two
#: names of a `a.b` path, read inline).
_Group = tuple[Callable[[Any], Any] | None, tuple[str, str] | None, tuple[Handler, ...]]


def _pair(getter: Getter | None) -> tuple[str, str] | None:
    path = None if getter is None else getter.path
    return (path[0], path[1]) if path is not None and len(path) == 2 else None


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral_value() else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


class _Runner:
    """One rule: routes the events it reads to its operator, keeps its partitions."""

    def __init__(self, rule: Rule, engine: Engine) -> None:
        self.rule = rule
        self.engine = engine
        self.parts: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()  # keys of the partitions changed since take_dirty
        match = rule.match
        self.match = match
        self.rule_id = rule.id
        self.timeout = rule.timeout
        self.title = rule.title
        text = rule.title.text if rule.title is not None else ""
        # a title that does not read count or value is the same for every update
        self.title_varies = "count" in text or "value" in text
        self.specs: list[EventSpec] = _specs_of(match)
        #: one handler per role (step), filter and operator bound once: the per-event path
        #: does no lookups of what the rule is; the key is computed by the engine, once per
        #: event for the rules that share its expression
        self.handlers = [
            self.handler(spec, self.operator(role)) for role, spec in enumerate(self.specs)
        ]
        self.clearer = None if rule.clear is None else self.handler(rule.clear, self.on_clear)

    def key_getter(self, spec: EventSpec) -> Getter | None:
        return spec.key or self.rule.key

    @staticmethod
    def handler(spec: EventSpec, operate: Handler) -> Handler:
        if spec.where is None:
            return operate
        where = spec.where.get

        def filtered(key: str, event: Event, out: list[Change]) -> None:
            if where(event.context) is True:
                operate(key, event, out)

        return filtered

    def operator(self, role: int) -> Handler:
        match = self.match
        if isinstance(match, Threshold):
            if match.window == "sliding":
                return self.sliding(match)
            return self.tumbling(match)
        if isinstance(match, EventSpec):

            def single(key: str, event: Event, out: list[Change]) -> None:
                part = self.part(key)
                self.matched(key, part, event.time, event.id, None, out)
                self.tidy(key, part)

            return single
        if isinstance(match, Sequence):
            if role == 0:
                return self.sequence_starter()
            return self.sequence_step(match, role)
        if role == 0:
            name = match.calendar
            add: CalendarAdd = _wall_clock
            if name is not None:  # looked up when used: a missing calendar fails then

                def add(start: float, seconds: float) -> float:
                    return self.engine.calendar(name)(start, seconds)

            return self.absence_starter(add, match)
        return self.absence_cancel

    def sliding(self, match: Threshold) -> Handler:
        """A sliding window with its running aggregate (sum, distinct counts) kept beside the
        entries, one closure per aggregate function: adding an event and evicting the old
        ones never recomputes the window, and the per-event path tests nothing about the rule
        (the window is usually two or three entries: a list and a slice delete beat a deque)."""
        parts = self.parts
        mark = self.dirty.add
        within = match.within
        function = match.function
        of = match.of.get if match.of is not None else None
        # `of: data.amount` is read inline (a call per event less); anything else through `of`
        pair = _pair(match.of)
        first, second = pair if pair is not None else ("", "")
        at_least = match.at_least
        at_most = match.at_most
        matched = self.matched
        tidy = self.tidy

        def value_of(context: Mapping[str, Any]) -> Any:
            if pair is not None:
                inner = context.get(first)
                if type(inner) is dict:
                    return inner.get(second)
            return of(context) if of is not None else None

        if function == "count":

            def count(key: str, event: Event, out: list[Change]) -> None:
                part = parts.get(key)
                window: list[Any] | None
                if part is None:
                    window = []
                    part = parts[key] = {"w": window}
                else:
                    window = part.get("w")
                    if window is None:
                        window = part["w"] = []
                mark(key)
                now = event.time
                window.append((now, None))
                horizon = now - within
                if window[0][0] <= horizon:
                    drop = 1
                    while window[drop][0] <= horizon:
                        drop += 1
                    del window[:drop]
                result = len(window)
                reached = at_least is not None and result >= at_least
                if reached and (at_most is None or result <= at_most):
                    matched(key, part, now, event.id, float(result), out)
                    if "due" in part["s"]:
                        tidy(key, part)

            return count
        if function == "distinct":

            def distinct(key: str, event: Event, out: list[Change]) -> None:
                context = event.context
                value: Any
                if pair is not None and type(inner := context.get(first)) is dict:
                    value = inner.get(second)
                else:
                    value = value_of(context)
                if type(value) is not str:
                    value = _key(value)
                part = parts.get(key)
                window: list[Any] | None
                if part is None:
                    window = []
                    part = parts[key] = {"w": window}
                else:
                    window = part.get("w")
                    if window is None:
                        window = part["w"] = []
                mark(key)
                now = event.time
                window.append((now, value))
                seen = part.get("d")
                if seen is None:
                    seen = part["d"] = {}
                seen[value] = seen.get(value, 0) + 1
                horizon = now - within
                if window[0][0] <= horizon:
                    drop = 0
                    while window[drop][0] <= horizon:
                        old = window[drop][1]
                        left = seen[old] - 1
                        if left:
                            seen[old] = left
                        else:
                            del seen[old]
                        drop += 1
                    del window[:drop]
                result = len(seen)
                reached = at_least is not None and result >= at_least
                if reached and (at_most is None or result <= at_most):
                    matched(key, part, now, event.id, float(result), out)
                    if "due" in part["s"]:
                        tidy(key, part)

            return distinct
        average = function == "avg"

        def numeric(key: str, event: Event, out: list[Change]) -> None:
            context = event.context
            value: Any
            if pair is not None and type(inner := context.get(first)) is dict:
                value = inner.get(second)
            else:
                value = value_of(context)
            if type(value) is not int and type(value) is not float:
                value = _number(value)
                if value is None:
                    return
            part = parts.get(key)
            window: list[Any] | None
            if part is None:
                window = []
                part = parts[key] = {"w": window}
            else:
                window = part.get("w")
                if window is None:
                    window = part["w"] = []
            mark(key)
            now = event.time
            window.append((now, value))
            total = part.get("sum", 0.0) + value
            horizon = now - within
            if window[0][0] <= horizon:
                drop = 0
                while window[drop][0] <= horizon:
                    total -= window[drop][1]
                    drop += 1
                del window[:drop]
            part["sum"] = total
            result = total / len(window) if average else total
            reached = at_least is not None and result >= at_least
            if reached and (at_most is None or result <= at_most):
                matched(key, part, now, event.id, float(result), out)
                if "due" in part["s"]:
                    tidy(key, part)

        return numeric

    # -- helpers ------------------------------------------------------------------------------
    def part(self, key: str) -> dict[str, Any]:
        part = self.parts.get(key)
        if part is None:
            part = self.parts[key] = {}
        self.dirty.add(key)
        return part

    def tidy(self, key: str, part: dict[str, Any]) -> None:
        """Drop what is empty; the partition itself when nothing is left."""
        if "w" in part and not part["w"]:
            del part["w"]
        if "p" in part and not part["p"]:
            del part["p"]
        if "a" in part and not part["a"]:
            del part["a"]
        if not part:
            self.parts.pop(key, None)
        self.dirty.add(key)
        situation = part.get("s")
        if "a" in part or "b" in part or (situation is not None and "due" in situation):
            due = self.due(part)
            if due is not None:
                self.engine.schedule(due, self, key)

    def due(self, part: dict[str, Any]) -> float | None:
        """The earliest time this partition needs `expire`: a time-out, an absence deadline or
        the end of a tumbling window."""
        dues: list[float] = []
        situation = part.get("s")
        if situation is not None and situation.get("due") is not None:
            dues.append(situation["due"])
        if part.get("a"):
            dues.append(min(item[0] for item in part["a"]))
        bucket = part.get("b")
        if bucket is not None and isinstance(self.match, Threshold):
            dues.append(bucket["start"] + self.match.within)
        return min(dues) if dues else None

    # -- situations ---------------------------------------------------------------------------
    def matched(
        self, key: str, part: dict[str, Any], at: float, trigger: str, value: Any, out: list[Change]
    ) -> None:
        situation = part.get("s")
        if situation is not None:  # the common case: more events match an active situation
            situation["count"] += 1
            situation["updated_at"] = at
            situation["value"] = value
            situation["last_event"] = trigger
            if self.timeout is not None:
                situation["due"] = at + self.timeout
            if self.title_varies:
                situation["title"] = self.title_of(situation)
            out.append(Change("updated", self.rule_id, situation.copy()))
            return
        rule = self.rule
        situation = {
            "id": _situation_id(f"{rule.id}\n{key}\n{trigger}"),
            "rule": rule.id,
            "key": key,
            "status": "active",
            "raised_at": at,
            "updated_at": at,
            "count": 1,
            "value": value,
            "first_event": trigger,
            "last_event": trigger,
        }
        part["s"] = situation
        if rule.timeout is not None:
            situation["due"] = at + rule.timeout
        situation["title"] = self.title_of(situation)
        out.append(Change("raised", rule.id, dict(situation)))

    def title_of(self, situation: dict[str, Any]) -> str:
        if self.title is None:
            key = situation["key"]
            return self.rule.id if key == NO_KEY else f"{self.rule.id}: {key}"
        context = {
            "key": situation["key"],
            "count": situation["count"],
            "value": situation["value"],
            "rule": self.rule.id,
        }
        text = self.title.expression.evaluate(context)
        return str(text) if text is not None else self.rule.id

    def cleared(
        self, key: str, part: dict[str, Any], at: float, how: str, out: list[Change]
    ) -> None:
        situation = part.pop("s")
        situation["status"] = "cleared"
        situation["cleared_at"] = at
        situation["cleared_by"] = how
        situation.pop("due", None)
        out.append(Change("cleared", self.rule.id, situation))

    # -- events -------------------------------------------------------------------------------
    def on_clear(self, key: str, event: Event, out: list[Change]) -> None:
        part = self.parts.get(key)
        if part is None or "s" not in part:
            return
        self.cleared(key, part, event.time, event.id, out)
        self.tidy(key, part)

    def tumbling(self, match: Threshold) -> Handler:
        """A tumbling window aligned to the epoch: one running bucket per key; the timer is
        set when a bucket opens (its end) or a situation changes, not for every event."""
        function = match.function
        numeric = function == "sum" or function == "avg"
        distinct = function == "distinct"
        of = match.of.get if match.of is not None else None
        parts = self.parts
        mark = self.dirty.add
        within = match.within
        at_least = match.at_least
        at_most = match.at_most
        close = self.close_bucket
        matched = self.matched
        tidy = self.tidy

        def tumble(key: str, event: Event, out: list[Change]) -> None:
            value: Any = None
            if of is not None:
                value = of(event.context)
                if numeric:
                    if type(value) is not int and type(value) is not float:
                        value = _number(value)
                        if value is None:
                            return
                elif type(value) is not str:
                    value = _key(value)
            part = parts.get(key)
            if part is None:
                part = parts[key] = {}
            mark(key)
            now = event.time
            start = (now // within) * within
            bucket = part.get("b")
            fresh = bucket is None or bucket["start"] != start
            if fresh:
                if bucket is not None:
                    close(match, key, part, out)
                bucket = part["b"] = {"start": start, "n": 0, "sum": 0.0, "d": {}}
            assert bucket is not None
            n = bucket["n"] = bucket["n"] + 1
            result: float
            if numeric:
                total = bucket["sum"] = bucket["sum"] + value
                result = total if function == "sum" else total / n
            elif distinct:
                seen = bucket["d"]
                seen[value] = 1
                result = len(seen)
            else:
                result = n
            reached = at_least is not None and result >= at_least
            if reached and (at_most is None or result <= at_most):
                matched(key, part, now, event.id, float(result), out)
                fresh = True
            if fresh:
                tidy(key, part)

        return tumble

    @staticmethod
    def bucket_value(match: Threshold, bucket: dict[str, Any]) -> float:
        if match.function == "count":
            return float(bucket["n"])
        if match.function == "sum":
            return float(bucket["sum"])
        if match.function == "avg":
            return float(bucket["sum"]) / bucket["n"] if bucket["n"] else 0.0
        return float(len(bucket["d"]))

    def close_bucket(
        self, match: Threshold, key: str, part: dict[str, Any], out: list[Change]
    ) -> None:
        """A tumbling window ends: an `at_most` threshold is judged on the whole window."""
        bucket = part.pop("b")
        if match.at_least is None and match.at_most is not None:
            result = self.bucket_value(match, bucket)
            if result <= match.at_most:
                end = bucket["start"] + match.within
                self.matched(key, part, end, f"window:{bucket['start']}", result, out)

    def evict(self, match: Threshold, part: dict[str, Any], now: float) -> None:
        """Drop the entries that left the sliding window, taking them off the running sum or
        the distinct counts (never recomputed over the window)."""
        window = part.get("w")
        if not window:
            return
        horizon = now - match.within
        drop = 0
        size = len(window)
        function = match.function
        if function == "count":
            while drop < size and window[drop][0] <= horizon:
                drop += 1
        elif function == "distinct":
            seen = part["d"]
            while drop < size and window[drop][0] <= horizon:
                old = window[drop][1]
                left = seen[old] - 1
                if left:
                    seen[old] = left
                else:
                    del seen[old]
                drop += 1
        else:
            total = part["sum"]
            while drop < size and window[drop][0] <= horizon:
                total -= window[drop][1]
                drop += 1
            part["sum"] = total
        if drop:
            del window[:drop]
        if not window:
            part.pop("sum", None)
            part.pop("d", None)

    def sequence_starter(self) -> Handler:
        """Every A starts its own partial match."""
        parts = self.parts
        mark = self.dirty.add
        tidy = self.tidy

        def start(key: str, event: Event, _out: list[Change]) -> None:
            part = parts.get(key)
            if part is None:
                parts[key] = {"p": [(1, event.time, event.id)]}
                mark(key)
                return
            mark(key)
            partials = part.get("p")
            if partials is None:
                part["p"] = [(1, event.time, event.id)]
            else:
                partials.append((1, event.time, event.id))
            situation = part.get("s")
            if situation is not None and "due" in situation:
                tidy(key, part)

        return start

    def sequence_step(self, match: Sequence, role: int) -> Handler:
        """A later step: advances the partial matches waiting for it, completes the last."""
        parts = self.parts
        mark = self.dirty.add
        matched = self.matched
        tidy = self.tidy
        last = len(match.steps) - 1
        within = match.within
        following = role + 1

        def step(key: str, event: Event, out: list[Change]) -> None:
            part = parts.get(key)
            if part is None:
                return
            partials = part.get("p")
            if not partials:
                return
            now = event.time
            horizon = now - within
            kept: list[Any] = []
            done: list[Any] = []
            for partial in partials:
                if partial[1] <= horizon:
                    continue  # too old (Flink's `within`: B exactly T after A is too late)
                if partial[0] == role:
                    if role == last:
                        done.append(partial)
                        continue
                    partial = (following, partial[1], partial[2])
                kept.append(partial)
            part["p"] = kept
            mark(key)
            for partial in done:
                matched(key, part, now, partial[2], None, out)
            tidy(key, part)

        return step

    def absence_starter(self, add: CalendarAdd, match: Absence) -> Handler:
        """An A: its deadline joins the pending ones (the timer moves only when it is the
        earliest: deadlines arrive in time order, so usually it does not)."""
        parts = self.parts
        mark = self.dirty.add
        within = match.within
        scheduled = self.engine._scheduled
        schedule = self.engine.schedule
        rule_id = self.rule_id
        tidy = self.tidy

        def start(key: str, event: Event, _out: list[Change]) -> None:
            now = event.time
            deadline = add(now, within)
            mark(key)
            part = parts.get(key)
            if part is None:  # nothing else pending for the key: its deadline is the timer
                parts[key] = {"a": [(deadline, now, event.id)]}
                schedule(deadline, self, key)
                return
            pending = part.get("a")
            if pending:
                pending.append((deadline, now, event.id))
                timer = scheduled.get((rule_id, key))
                if timer is not None and timer <= deadline:
                    return  # the timer fires first; `expire` schedules what follows
            else:
                part["a"] = [(deadline, now, event.id)]
            tidy(key, part)

        return start

    def absence_cancel(self, key: str, event: Event, _out: list[Change]) -> None:
        """A B cancels the As before it."""
        part = self.parts.get(key)
        if part is None:
            return
        pending = part.get("a")
        if pending:
            at = event.time
            part["a"] = [item for item in pending if item[1] > at]
            self.tidy(key, part)

    def expire(self, key: str, now: float, out: list[Change]) -> None:
        """Time passed: absence deadlines, tumbling window ends and situation time-outs."""
        part = self.parts.get(key)
        if part is None:
            return
        match = self.match
        if isinstance(match, Absence) and part.get("a"):
            pending = part["a"]
            for item in sorted((i for i in pending if i[0] <= now), key=tuple):
                self.matched(key, part, item[0], item[2], None, out)
            part["a"] = [i for i in pending if i[0] > now]
        ended = isinstance(match, Threshold) and "b" in part
        if ended and part["b"]["start"] + match.within <= now:  # type: ignore[union-attr]
            self.close_bucket(match, key, part, out)  # type: ignore[arg-type]
        situation = part.get("s")
        if situation is not None and situation.get("due") is not None and situation["due"] <= now:
            self.cleared(key, part, situation["due"], "timeout", out)
        self.tidy(key, part)

    def sweep(self, now: float) -> None:
        """Drop window entries and partial matches that fell out of their windows, for keys
        that went quiet (an event of the key would have done it otherwise)."""
        match = self.match
        for key in list(self.parts):
            part = self.parts[key]
            before = len(part.get("w", ())) + len(part.get("p", ()))
            if isinstance(match, Threshold):
                self.evict(match, part, now)
            elif isinstance(match, Sequence) and part.get("p"):
                part["p"] = [p for p in part["p"] if p[1] > now - match.within]
            if before != len(part.get("w", ())) + len(part.get("p", ())):
                self.tidy(key, part)


def _wall_clock(start: float, seconds: float) -> float:
    return start + seconds


class Engine:
    """Rules applied to events; `process` and `advance` return the situation changes."""

    def __init__(
        self, rules: Iterable[Rule], *, calendars: Mapping[str, CalendarAdd] | None = None
    ) -> None:
        self.rules = list(rules)
        self.calendars = dict(calendars or {})
        self._timers: list[tuple[float, str, str]] = []
        self._scheduled: dict[tuple[str, str], float] = {}
        self.runners = {rule.id: _Runner(rule, self) for rule in self.rules}
        #: event type -> the handlers of the rules (and steps) that read it, nothing else;
        #: consecutive handlers with the same key expression share one evaluation of it
        self.routes: dict[str, list[tuple[Getter | None, list[Handler]]]] = {}
        for runner in self.runners.values():
            rule = runner.rule
            if rule.clear is not None and runner.clearer is not None:
                # clearing first: an event may clear and start again
                for t in rule.clear.types:
                    self._route(t, runner.key_getter(rule.clear), runner.clearer)
            specs = runner.specs
            for role in sorted(range(len(specs)), reverse=True):  # later steps first
                for t in specs[role].types:
                    self._route(t, runner.key_getter(specs[role]), runner.handlers[role])
        #: the same, flattened for the per-event path: (key function or None, handlers)
        self._dispatch: dict[str, tuple[_Group, ...]] = {
            t: tuple((None if g is None else g.get, _pair(g), tuple(hs)) for g, hs in groups)
            for t, groups in self.routes.items()
        }
        self.now = 0.0
        self._swept = 0.0
        windows = [_window(r) for r in self.rules]
        self._sweep_every = max(60.0, min((w for w in windows if w), default=3600.0))

    def _route(self, event_type: str, getter: Getter | None, handler: Handler) -> None:
        groups = self.routes.setdefault(event_type, [])
        text = None if getter is None else getter.text
        if groups and (
            groups[-1][0] is None
            if text is None
            else groups[-1][0] is not None and groups[-1][0].text == text
        ):
            groups[-1][1].append(handler)
        else:
            groups.append((getter, [handler]))

    @property
    def types(self) -> set[str]:
        """Every event type some rule reads (a consumer reads only these from the log)."""
        return set(self.routes)

    def calendar(self, name: str | None) -> CalendarAdd:
        if name is None:
            return _wall_clock
        try:
            return self.calendars[name]
        except KeyError:
            raise KeyError(f"no business calendar {name!r} was given to the engine") from None

    def schedule(self, due: float, runner: _Runner, key: str) -> None:
        slot = (runner.rule.id, key)
        if self._scheduled.get(slot) == due:
            return  # already on the heap: one entry per partition and due time
        self._scheduled[slot] = due
        heapq.heappush(self._timers, (due, runner.rule.id, key))

    def process(self, event: Event) -> list[Change]:
        """Apply one event (its time moves the engine's clock forward, never back)."""
        out: list[Change] = []
        at = event.time
        if at > self.now:
            if self._timers and self._timers[0][0] <= at:
                self._fire(at, out)
            self.now = at
        groups = self._dispatch.get(event.type)
        if groups is not None:
            context = event.context
            for get, path, handlers in groups:
                key: Any
                if path is not None:  # `data.area`: read here, not through a call
                    inner = context.get(path[0])
                    key = inner.get(path[1]) if type(inner) is dict else get(context)  # type: ignore[misc]
                else:
                    key = NO_KEY if get is None else get(context)
                if type(key) is not str:
                    key = _key(key)
                    if key is None:
                        continue
                for handle in handlers:
                    handle(key, event, out)
        return out

    def advance(self, now: float) -> list[Change]:
        """Move the clock to `now` (when no event did): time-outs and absences fire."""
        out: list[Change] = []
        if now > self.now:
            self._fire(now, out)
            self.now = now
        if now - self._swept >= self._sweep_every:
            self._swept = now
            for runner in self.runners.values():
                runner.sweep(now)
        return out

    def _fire(self, now: float, out: list[Change]) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            due, rule_id, key = heapq.heappop(timers)
            if self._scheduled.get((rule_id, key)) == due:
                del self._scheduled[(rule_id, key)]
            runner = self.runners.get(rule_id)
            if runner is None:
                continue
            part = runner.parts.get(key)
            if part is None:
                continue
            current = runner.due(part)
            if current is None or current > due:
                continue  # stale timer: the partition moved on
            runner.expire(key, max(due, self.now), out)

    # -- state --------------------------------------------------------------------------------
    def situations(self) -> list[dict[str, Any]]:
        """The active situations, as copies."""
        return [
            dict(part["s"])
            for runner in self.runners.values()
            for part in runner.parts.values()
            if "s" in part
        ]

    @property
    def dirty(self) -> bool:
        """Whether some partition changed since the last take_dirty."""
        return any(runner.dirty for runner in self.runners.values())

    def take_dirty(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        """The partitions changed since the last call, with their state (None: delete)."""
        out = []
        for rule_id, runner in self.runners.items():
            parts = runner.parts
            out += [(rule_id, key, parts.get(key)) for key in runner.dirty]
            runner.dirty.clear()  # cleared in place: the handlers hold this set
        return out

    def load(self, rows: Iterable[tuple[str, str, dict[str, Any]]], now: float) -> None:
        """Put stored partitions back (after a restart); rules no longer deployed are skipped."""
        for rule_id, key, part in rows:
            runner = self.runners.get(rule_id)
            if runner is None:
                continue
            runner.parts[key] = part
            due = runner.due(part)
            if due is not None:
                self.schedule(due, runner, key)
        self.now = max(self.now, now)
        self._swept = self.now

    def snapshot(self) -> dict[str, Any]:
        """Every partition and the clock, as JSON-able data."""
        return {
            "now": self.now,
            "parts": [
                [rule_id, key, part]
                for rule_id, runner in self.runners.items()
                for key, part in runner.parts.items()
            ],
        }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        self.load(((r, k, p) for r, k, p in snapshot.get("parts", [])), snapshot.get("now", 0.0))

    def size(self) -> int:
        """How many window entries, partial matches and pending absences are held."""
        return sum(
            len(part.get("w", ())) + len(part.get("p", ())) + len(part.get("a", ())) + 1
            for runner in self.runners.values()
            for part in runner.parts.values()
        )


def _specs_of(match: Any) -> list[EventSpec]:
    if isinstance(match, EventSpec):
        return [match]
    if isinstance(match, Threshold):
        return [match.spec]
    if isinstance(match, Sequence):
        return list(match.steps)
    return [match.first, match.then_not]


def _window(rule: Rule) -> float | None:
    match = rule.match
    if isinstance(match, Threshold | Sequence | Absence):
        return match.within
    return None
