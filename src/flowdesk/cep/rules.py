"""Pattern rules: the YAML rule language parsed into frozen, compiled rules.

A rules file (`patterns/*.yaml` in a bundle) holds a list under `patterns:`; each pattern has an
`id`, an optional `key` (FEEL over the event: the partition, e.g. `data.area`) and exactly one
operator under `match:` (`event`, `threshold`, `sequence` or `absence`), then what the situation
is (`situation:` title, clearing pattern, time-out) and what to do (`actions:`). Every FEEL text
is compiled here, once; a problem is reported with the path of the field it is about, which the
caller turns into file, line and column (the pure core reads no files). See docs/patterns.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flowdesk.feel import CompiledExpression, FeelLimitError, FeelSyntaxError, compile_expression
from flowdesk.feel.durations import parse_duration

Path = tuple[str | int, ...]
#: Names a situation's title and the customer queries may use besides the customer's fields.
SITUATION_NAMES = ("key", "count", "value", "rule", "situation")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NAMES = ("type", "source", "subject", "time", "data", "id") + (
    "case_id",
    "contact_id",
    "customer_id",
    "process_instance_id",
    "department",
    "channel",
    "extensions",
)
FUNCTIONS = ("count", "sum", "avg", "distinct")
WINDOWS = ("sliding", "tumbling")
ON = ("raised", "updated", "cleared")
ACTIONS = ("start_flow", "notify_customers", "correlate", "alert", "hold_contacts")


@dataclass(frozen=True, slots=True)
class RuleIssue:
    """One problem in a rules document: the path of the field and what is wrong."""

    path: Path
    message: str


class RuleError(Exception):
    """Rules that cannot be compiled; `issues` lists every problem found."""

    def __init__(self, issues: list[RuleIssue]):
        self.issues = issues
        super().__init__("; ".join(f"{_dotted(i.path)}: {i.message}" for i in issues))


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class Getter:
    """A FEEL expression over an event, compiled once. A plain dotted path (`data.area`) - the
    common case for keys - is read straight from the dictionaries, about twenty times faster
    than the general evaluation and with the same result for present and missing fields."""

    __slots__ = ("expression", "get", "path", "text")

    def __init__(self, text: str, names: tuple[str, ...] = _NAMES):
        self.text = text
        self.expression: CompiledExpression = compile_expression(text, names=names)
        self.get: Callable[[Mapping[str, Any]], Any]
        #: the names of a plain dotted path (the engine reads a two-name key inline)
        self.path: tuple[str, ...] | None = None
        compare = _COMPARE.match(text.strip())
        if _PATH.match(text) and text not in ("null", "true", "false"):
            self.path = tuple(text.split("."))
            self.get = _path_getter(self.path)
        elif compare and compare.group(1) not in ("null", "true", "false"):
            path, op, literal = compare.groups()
            self.get = _comparison(_path_getter(tuple(path.split("."))), op, literal)
        else:
            self.get = self.expression.evaluate


_COMPARE = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(!=|<=|>=|=|<|>)\s*"
    r'(-?[0-9]+(?:\.[0-9]+)?|"[^"\\]*"|true|false)$'
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def _comparison(
    get: Callable[[Mapping[str, Any]], Any], op: str, literal: str
) -> Callable[[Mapping[str, Any]], Any]:
    """`path op literal` (the usual filter) without the general evaluator, with FEEL's answer:
    a comparison of different types (or with a missing field) is null, not false."""
    test = _OPS[op]
    # FEEL: `=` and `!=` with null are false and true; other types mismatched are null.
    null: bool | None = (op == "!=") if op in ("=", "!=") else None

    def other(v: Any) -> bool | None:
        return null if v is None else None

    if literal.startswith('"'):
        text = literal[1:-1]
        return lambda c: test(v, text) if type(v := get(c)) is str else other(v)
    if literal in ("true", "false"):
        flag = literal == "true"
        if op not in ("=", "!="):
            return lambda c: None
        return lambda c: test(v, flag) if type(v := get(c)) is bool else other(v)
    number = Decimal(literal)
    # an integral literal compares with an int as an int (exact either way, and much cheaper)
    whole: int | Decimal = int(number) if number == number.to_integral_value() else number

    def numeric(c: Mapping[str, Any]) -> Any:
        v = get(c)
        if type(v) is int:
            return test(v, whole)
        if type(v) is Decimal:
            return test(v, number)
        if type(v) is float:
            return test(Decimal(repr(v)), number)
        return other(v)

    return numeric


def _path_getter(parts: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    if len(parts) == 1:
        (first,) = parts
        return lambda context: context.get(first)
    if len(parts) == 2:
        a, b = parts

        def two(context: Mapping[str, Any]) -> Any:
            inner = context.get(a)
            if type(inner) is dict or isinstance(inner, dict):  # the exact type: one test
                return inner.get(b)
            return None

        return two

    def walk(context: Mapping[str, Any]) -> Any:
        value: Any = context
        for part in parts:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    return walk


@dataclass(frozen=True, slots=True)
class EventSpec:
    """Which events a step takes: their types, an optional FEEL filter and an optional key
    (overriding the pattern's, when two event types name the partition differently)."""

    types: tuple[str, ...]
    where: Getter | None = None
    key: Getter | None = None


@dataclass(frozen=True, slots=True)
class Threshold:
    """Count or aggregate over a sliding or tumbling window, per key; matches when the value
    reaches `at_least` (or stays at or under `at_most`)."""

    spec: EventSpec
    within: float  # seconds
    window: str = "sliding"
    function: str = "count"
    of: Getter | None = None
    at_least: float | None = None
    at_most: float | None = None


@dataclass(frozen=True, slots=True)
class Sequence:
    """A then B (then C ...) within T, per key; every A starts a new partial match."""

    steps: tuple[EventSpec, ...]
    within: float


@dataclass(frozen=True, slots=True)
class Absence:
    """A not followed by B within T (on a named business calendar when `calendar` is set)."""

    first: EventSpec
    then_not: EventSpec
    within: float
    calendar: str | None = None


Operator = EventSpec | Threshold | Sequence | Absence


@dataclass(frozen=True, slots=True)
class Action:
    """What to do when a situation is raised, updated or cleared; interpreted at the edge."""

    kind: str
    on: str
    spec: dict[str, Any]
    customers: Getter | None = None  # FEEL query over a customer (with `key`, `situation`)
    text: Getter | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    match: Operator
    key: Getter | None = None
    title: Getter | None = None
    description: str | None = None
    clear: EventSpec | None = None
    timeout: float | None = None
    actions: tuple[Action, ...] = ()

    @property
    def types(self) -> set[str]:
        """Every event type the rule reads."""
        specs = _specs(self.match) + ([self.clear] if self.clear else [])
        return {t for s in specs for t in s.types}


def _specs(match: Operator) -> list[EventSpec]:
    if isinstance(match, EventSpec):
        return [match]
    if isinstance(match, Threshold):
        return [match.spec]
    if isinstance(match, Sequence):
        return list(match.steps)
    return [match.first, match.then_not]


@dataclass
class _Parser:
    issues: list[RuleIssue] = field(default_factory=list)

    def fail(self, path: Path, message: str) -> None:
        self.issues.append(RuleIssue(path, message))

    def mapping(self, value: Any, path: Path, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping")
            return None
        for name in value:
            if name not in allowed:
                self.fail((*path, str(name)), f"unknown field (allowed: {', '.join(allowed)})")
        return value

    def feel(self, value: Any, path: Path, names: tuple[str, ...] = _NAMES) -> Getter | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(path, "must be a FEEL expression (a string)")
            return None
        try:
            return Getter(str(value), names)
        except (FeelSyntaxError, FeelLimitError) as exc:
            self.fail(path, f"FEEL: {exc}")
            return None

    def seconds(self, value: Any, path: Path, *, required: bool = True) -> float | None:
        if value is None:
            if required:
                self.fail(path, "is required (an ISO 8601 duration such as PT10M)")
            return None
        try:
            parsed = parse_duration(str(value))
        except Exception:
            parsed = None
        if not isinstance(parsed, timedelta) or parsed <= timedelta(0):
            self.fail(path, f"{value!r} is not a positive duration such as PT10M or P2D")
            return None
        return parsed.total_seconds()

    def number(self, value: Any, path: Path) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, "must be a number")
            return None
        return float(value)

    def choice(self, value: Any, path: Path, options: tuple[str, ...], default: str) -> str:
        if value is None:
            return default
        if value not in options:
            self.fail(path, f"{value!r} is not one of {', '.join(options)}")
            return default
        return str(value)

    def event(self, value: Any, path: Path) -> EventSpec | None:
        if isinstance(value, str):
            value = {"event": value}
        raw = self.mapping(value, path, ("event", "where", "key"))
        if raw is None:
            return None
        types = raw.get("event")
        if isinstance(types, str):
            types = [types]
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            self.fail((*path, "event"), "must name an event type or a list of them")
            return None
        return EventSpec(
            tuple(types),
            self.feel(raw.get("where"), (*path, "where")),
            self.feel(raw.get("key"), (*path, "key")),
        )

    def operator(self, value: Any, path: Path) -> Operator | None:
        raw = self.mapping(value, path, ("event", "where", "key", *_OPERATORS))
        if raw is None:
            return None
        named = [name for name in _OPERATORS if name in raw]
        if "event" in raw and not named:
            return self.event(raw, path)
        if len(named) != 1 or "event" in raw:
            self.fail(path, f"needs exactly one of: event, {', '.join(_OPERATORS)}")
            return None
        kind = named[0]
        return _OPERATORS[kind](self, raw[kind], (*path, kind))

    def threshold(self, value: Any, path: Path) -> Threshold | None:
        fields = ("event", "where", "key", "within", "window", "function", "of")
        raw = self.mapping(value, path, (*fields, "at_least", "at_most"))
        if raw is None:
            return None
        spec = self.event({k: raw[k] for k in ("event", "where", "key") if k in raw}, path)
        within = self.seconds(raw.get("within"), (*path, "within"))
        function = self.choice(raw.get("function"), (*path, "function"), FUNCTIONS, "count")
        of = self.feel(raw.get("of"), (*path, "of"))
        if function in ("sum", "avg", "distinct") and of is None:
            self.fail(path, f"function {function} needs `of` (the FEEL value to aggregate)")
        at_least = self.number(raw.get("at_least"), (*path, "at_least"))
        at_most = self.number(raw.get("at_most"), (*path, "at_most"))
        if at_least is None and at_most is None:
            self.fail(path, "needs at_least or at_most (the threshold)")
        window = self.choice(raw.get("window"), (*path, "window"), WINDOWS, "sliding")
        if spec is None or within is None:
            return None
        return Threshold(spec, within, window, function, of, at_least, at_most)

    def sequence(self, value: Any, path: Path) -> Sequence | None:
        raw = self.mapping(value, path, ("steps", "within"))
        if raw is None:
            return None
        steps_raw = raw.get("steps")
        if not isinstance(steps_raw, list) or len(steps_raw) < 2:
            self.fail((*path, "steps"), "must list at least two steps")
            return None
        steps = [self.event(s, (*path, "steps", i)) for i, s in enumerate(steps_raw)]
        within = self.seconds(raw.get("within"), (*path, "within"))
        if within is None or any(s is None for s in steps):
            return None
        return Sequence(tuple(s for s in steps if s is not None), within)

    def absence(self, value: Any, path: Path) -> Absence | None:
        raw = self.mapping(value, path, ("first", "then_not", "within", "calendar"))
        if raw is None:
            return None
        first = self.event(raw.get("first"), (*path, "first"))
        then_not = self.event(raw.get("then_not"), (*path, "then_not"))
        within = self.seconds(raw.get("within"), (*path, "within"))
        calendar = raw.get("calendar")
        if calendar is not None and not isinstance(calendar, str):
            self.fail((*path, "calendar"), "must be a calendar name")
            calendar = None
        if first is None or then_not is None or within is None:
            return None
        return Absence(first, then_not, within, calendar)

    def action(self, value: Any, path: Path) -> Action | None:
        if isinstance(value, dict) and True in value:  # YAML 1.1 reads a bare `on:` as true
            value = {("on" if k is True else k): v for k, v in value.items()}
        raw = self.mapping(value, path, ("on", *ACTIONS))
        if raw is None:
            return None
        kinds = [k for k in ACTIONS if k in raw]
        if len(kinds) != 1:
            self.fail(path, f"needs exactly one of: {', '.join(ACTIONS)}")
            return None
        kind = kinds[0]
        here = (*path, kind)
        default_on = "cleared" if kind == "correlate" else "raised"
        on = self.choice(raw.get("on"), (*path, "on"), ON, default_on)
        spec = self.mapping(raw[kind] if raw[kind] is not None else {}, here, _ACTION_FIELDS[kind])
        if spec is None:
            return None
        for required in _ACTION_REQUIRED[kind]:
            if spec.get(required) in (None, ""):
                self.fail((*here, required), "is required")
        if kind == "start_flow":
            self.choice(spec.get("per"), (*here, "per"), ("situation", "customer"), "situation")
            if spec.get("per") == "customer" and "customers" not in spec:
                self.fail(here, "per: customer needs `customers` (the FEEL query)")
        names = (*SITUATION_NAMES, "customer")
        customers = self.feel(spec.get("customers"), (*here, "customers"), names)
        text = self.feel(spec.get("text"), (*here, "text"), names)
        self.feel(spec.get("key"), (*here, "key"), names)
        return Action(kind, on, dict(spec), customers, text)

    def rule(self, value: Any, path: Path, seen: set[str]) -> Rule | None:
        allowed = ("id", "description", "key", "match", "situation", "actions")
        raw = self.mapping(value, path, allowed)
        if raw is None:
            return None
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            self.fail((*path, "id"), "must be an id (letters, digits, _ . -; starting a letter)")
            rule_id = None
        elif rule_id in seen:
            self.fail((*path, "id"), f"pattern {rule_id!r} is defined twice")
        else:
            seen.add(rule_id)
        key = self.feel(raw.get("key"), (*path, "key"))
        if "match" not in raw:
            self.fail(path, "needs `match` (event, threshold, sequence or absence)")
            return None
        match = self.operator(raw["match"], (*path, "match"))
        situation = self.mapping(
            raw.get("situation") or {}, (*path, "situation"), ("title", "clear", "timeout")
        )
        situation = situation or {}
        title = self.feel(situation.get("title"), (*path, "situation", "title"), SITUATION_NAMES)
        clear = None
        if situation.get("clear") is not None:
            clear = self.event(situation["clear"], (*path, "situation", "clear"))
        timeout = self.seconds(
            situation.get("timeout"), (*path, "situation", "timeout"), required=False
        )
        actions_raw = raw.get("actions") or []
        if not isinstance(actions_raw, list):
            self.fail((*path, "actions"), "must be a list")
            actions_raw = []
        actions = [self.action(a, (*path, "actions", i)) for i, a in enumerate(actions_raw)]
        if match is None or rule_id is None:
            return None
        description = raw.get("description")
        return Rule(
            rule_id,
            match,
            key,
            title,
            None if description is None else str(description),
            clear,
            timeout,
            tuple(a for a in actions if a is not None),
        )


_OPERATORS: dict[str, Callable[[_Parser, Any, Path], Operator | None]] = {
    "threshold": _Parser.threshold,
    "sequence": _Parser.sequence,
    "absence": _Parser.absence,
}
_ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "start_flow": ("process", "per", "customers", "variables"),
    "notify_customers": ("customers", "text", "subject"),
    "correlate": ("message", "key", "variables"),
    "alert": ("department", "text"),
    "hold_contacts": ("customers", "text", "reasons"),
}
_ACTION_REQUIRED: dict[str, tuple[str, ...]] = {
    "start_flow": ("process",),
    "notify_customers": ("customers", "text"),
    "correlate": ("message",),
    "alert": ("department",),
    "hold_contacts": ("customers",),
}


def parse_rules(data: Any, *, seen: set[str] | None = None) -> tuple[list[Rule], list[RuleIssue]]:
    """Compile one rules document (`{"patterns": [...]}`); the rules and every problem found.
    `seen`: ids already taken by other files of the same bundle."""
    parser = _Parser()
    taken = set() if seen is None else seen
    doc = parser.mapping(data, (), ("patterns",))
    if doc is None:
        return [], parser.issues
    items = doc.get("patterns")
    if not isinstance(items, list) or not items:
        parser.fail(("patterns",), "must list at least one pattern")
        return [], parser.issues
    rules = [parser.rule(item, ("patterns", i), taken) for i, item in enumerate(items)]
    return [r for r in rules if r is not None], parser.issues


def compile_rules(data: Any) -> list[Rule]:
    """Like parse_rules, raising RuleError when anything is wrong."""
    rules, issues = parse_rules(data)
    if issues:
        raise RuleError(issues)
    return rules
