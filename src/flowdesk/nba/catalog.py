"""The actions catalog: offers and service actions from the `actions/*.yaml` files of bundles.

Why in bundles: an offer is versioned, diffed and rolled back with the flows that present it,
and it is checked on deploy with file, line and column like the rest of a bundle. One file
holds a list of actions; each has a treatment per channel (`agent` script line, `email`,
`sms`, `web` status-page card), validity dates, value and cost, a cold-start prior, an
eligibility expression in FEEL (compiled once, here) and a contact policy.

The catalog of a store is the union of the actions of the current version of every bundle
(see service.py); an action id must be unique within one bundle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import jsonschema

from flowdesk.experience.errors import Issue
from flowdesk.experience.yamldoc import Located, YamlError, load_yaml
from flowdesk.feel import CompiledExpression, Env, compile_expression
from flowdesk.feel.durations import parse_duration
from flowdesk.feel.errors import FeelLimitError, FeelSyntaxError

#: The channels a decision is asked for; each is served by the treatment of the same name.
CHANNELS = ("agent", "email", "sms", "web")
FOLDER = "actions/"

_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
_DURATION = {"type": "string", "minLength": 2, "maxLength": 40}
_POLICY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "max_per_customer": {"type": "integer", "minimum": 1},
        "max_per_channel": {"type": "integer", "minimum": 1},
        "window": _DURATION,
        "cooldown_after_decline": _DURATION,
        "suppress_while_open": {"type": "array", "items": {"type": "string"}},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["actions"],
    "properties": {
        "policy": _POLICY,  # the default contact policy of the file's actions
        "actions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name", "kind", "treatments"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,99}$"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "kind": {"enum": ["offer", "service"]},
                    "group": {"type": "string", "maxLength": 100},
                    "description": {"type": "string"},
                    "value": {"type": "number", "minimum": 0},
                    "cost": {"type": "number", "minimum": 0},
                    "lever": {"type": "number", "exclusiveMinimum": 0},
                    "prior": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                    "valid_from": {"type": "string", "format": "date"},
                    "valid_until": {"type": "string", "format": "date"},
                    "eligible": {"type": "string", "minLength": 1},
                    "timeout": _DURATION,
                    "policy": _POLICY,
                    "treatments": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {
                            "agent": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["script"],
                                "properties": {"script": _TEXT},
                            },
                            "email": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["subject", "text"],
                                "properties": {"subject": _TEXT, "text": _TEXT},
                            },
                            "sms": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["text"],
                                "properties": {"text": {**_TEXT, "maxLength": 480}},
                            },
                            "web": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["title", "text"],
                                "properties": {"title": _TEXT, "text": _TEXT},
                            },
                        },
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """How often an action may be presented: at most `max_per_customer` times to one customer
    (all channels) and `max_per_channel` times on one channel within `window`; not again for
    `cooldown_after_decline` after a decline; never while a case whose reason or process is in
    `suppress_while_open` is open (a complaint, an outage)."""

    max_per_customer: int = 3
    max_per_channel: int = 2
    window: timedelta = timedelta(days=30)
    cooldown_after_decline: timedelta = timedelta(days=14)
    suppress_while_open: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    name: str
    kind: str  # offer | service
    treatments: Mapping[str, Mapping[str, str]]  # channel -> fields (script, subject, text ...)
    group: str | None = None
    description: str | None = None
    value: float = 1.0
    cost: float = 0.0
    lever: float = 1.0
    prior: float = 0.05
    valid_from: date | None = None
    valid_until: date | None = None
    eligible: CompiledExpression | None = field(default=None, compare=False)
    eligible_text: str | None = None
    timeout: timedelta = timedelta(days=3)
    policy: ContactPolicy = ContactPolicy()
    source: str = ""  # bundle/file the action came from

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day <= self.valid_until
        )

    @property
    def net_value(self) -> float:
        """What presenting it is worth when accepted (a floor keeps free service actions in)."""
        return max(self.value - self.cost, 0.01)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "group": self.group,
            "description": self.description,
            "value": self.value,
            "cost": self.cost,
            "lever": self.lever,
            "prior": self.prior,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "eligible": self.eligible_text,
            "channels": sorted(self.treatments),
            "treatments": {k: dict(v) for k, v in self.treatments.items()},
            "source": self.source,
        }


class EligibilityRules:
    """The eligibility expressions of a catalog, evaluated together: one FEEL list of every
    distinct rule, compiled once per catalog, so a decision prepares its context once and
    evaluates fifty rules in one call (rather than fifty calls that each check the context).
    Each rule is its own list item in parentheses on lines of its own (a `//` comment in a rule
    ends at its line): a runtime problem in one rule makes that item null (not eligible) and
    leaves the others alone, as evaluating it alone would. Should the combined expression not
    compile or not give one value per rule, the rules are evaluated one by one."""

    __slots__ = ("_combined", "_rules")

    def __init__(self, actions: Iterable[Action]) -> None:
        rules: dict[str, CompiledExpression] = {}
        for action in actions:
            if action.eligible is not None and action.eligible.text not in rules:
                rules[action.eligible.text] = action.eligible
        self._rules = list(rules.values())
        combined: CompiledExpression | None = None
        if len(self._rules) > 1:
            text = "[" + ",".join(f"(\n{r.text}\n)" for r in self._rules) + "]"
            try:
                combined = compile_expression(text)
            except (FeelSyntaxError, FeelLimitError):
                combined = None
        self._combined = combined

    def evaluate(self, context: Mapping[str, Any], env: Env) -> dict[str, bool]:
        """Rule text -> whether it holds (is `true`) in the context."""
        rules = self._rules
        if self._combined is not None:
            try:
                found = self._combined.evaluate(context, env)
            except FeelLimitError:
                found = None
            if type(found) is list and len(found) == len(rules):
                return {r.text: v is True for r, v in zip(rules, found, strict=True)}
        out = {}
        for rule in rules:
            try:
                out[rule.text] = rule.evaluate(context, env) is True
            except FeelLimitError:
                out[rule.text] = False
        return out


def action_files(files: Mapping[str, bytes]) -> list[str]:
    """The actions files of a bundle, in name order."""
    return sorted(
        n
        for n in files
        if n.startswith(FOLDER) and n.endswith((".yaml", ".yml")) and "/" not in n[len(FOLDER) :]
    )


class _File:
    """Collects issues for one actions file, each with its line and column."""

    def __init__(self, name: str, doc: Located, issues: list[Issue]):
        self.name = name
        self.doc = doc
        self.issues = issues

    def at(self, path: tuple[str | int, ...], message: str) -> None:
        line, column = self.doc.where(path)
        self.issues.append(Issue(self.name, message, line, column, _dotted(path) or None))

    def duration(self, path: tuple[str | int, ...], text: str | None) -> timedelta | None:
        if text is None:
            return None
        try:
            value = parse_duration(text)
        except Exception:
            value = None
        if not isinstance(value, timedelta) or value <= timedelta(0):
            self.at(path, f"{text!r} is not a positive ISO 8601 duration such as P14D or PT4H")
            return None
        return value

    def date(self, path: tuple[str | int, ...], text: str | None) -> date | None:
        if text is None:
            return None
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            self.at(path, f"{text!r} is not a date such as 2026-12-31")
            return None

    def feel(self, path: tuple[str | int, ...], text: str) -> CompiledExpression | None:
        try:
            return compile_expression(text)
        except FeelSyntaxError as exc:
            line, column = self.doc.values.get(path, self.doc.where(path))
            block = path in self.doc.block
            if line is not None:
                line += exc.line - 1 + (1 if block else 0)
            if column is not None and not block and exc.line == 1:
                column += exc.column - 1
            else:
                column = exc.column
            detail = str(exc).split("\n", 1)[0]
            self.issues.append(Issue(self.name, detail, line, column, _dotted(path)))
        except FeelLimitError as exc:
            self.at(path, f"FEEL expression too complex: {exc.message}")
        return None

    def policy(
        self, path: tuple[str | int, ...], raw: Mapping[str, Any], base: ContactPolicy
    ) -> ContactPolicy:
        window = self.duration((*path, "window"), raw.get("window"))
        cooldown = self.duration(
            (*path, "cooldown_after_decline"), raw.get("cooldown_after_decline")
        )
        return ContactPolicy(
            max_per_customer=int(raw.get("max_per_customer", base.max_per_customer)),
            max_per_channel=int(raw.get("max_per_channel", base.max_per_channel)),
            window=window or base.window,
            cooldown_after_decline=cooldown or base.cooldown_after_decline,
            suppress_while_open=tuple(raw.get("suppress_while_open", base.suppress_while_open)),
        )


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_actions(name: str, data: bytes, issues: list[Issue], *, source: str = "") -> list[Action]:
    """The actions of one file; problems are added to `issues` (the file's actions are then
    incomplete and must not be used)."""
    try:
        doc = load_yaml(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        issues.append(Issue(name, f"not UTF-8 text (byte {exc.start})"))
        return []
    except YamlError as exc:
        issues.append(Issue(name, exc.message, exc.line, exc.column))
        return []
    file = _File(name, doc, issues)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: list(e.absolute_path))
    for error in errors:
        path = tuple(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            extra = sorted(k for k in error.instance if k not in allowed)
            message = f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}"
            if len(extra) == 1:
                path = (*path, extra[0])
        elif error.validator == "required":
            message = message.replace("is a required property", "is required")
        file.at(path, message)
    if errors:
        return []
    base = file.policy(("policy",), doc.data.get("policy", {}), ContactPolicy())
    out: list[Action] = []
    seen: set[str] = set()
    for index, raw in enumerate(doc.data["actions"]):
        at = ("actions", index)
        if raw["id"] in seen:
            file.at((*at, "id"), f"action {raw['id']!r} is listed twice")
        seen.add(raw["id"])
        eligible = file.feel((*at, "eligible"), raw["eligible"]) if "eligible" in raw else None
        valid_from = file.date((*at, "valid_from"), raw.get("valid_from"))
        valid_until = file.date((*at, "valid_until"), raw.get("valid_until"))
        if valid_from and valid_until and valid_until < valid_from:
            file.at((*at, "valid_until"), "valid_until is before valid_from")
        out.append(
            Action(
                id=raw["id"],
                name=raw["name"],
                kind=raw["kind"],
                treatments={k: dict(v) for k, v in raw["treatments"].items()},
                group=raw.get("group"),
                description=raw.get("description"),
                value=float(raw.get("value", 1.0)),
                cost=float(raw.get("cost", 0.0)),
                lever=float(raw.get("lever", 1.0)),
                prior=float(raw.get("prior", 0.05)),
                valid_from=valid_from,
                valid_until=valid_until,
                eligible=eligible,
                eligible_text=raw.get("eligible"),
                timeout=file.duration((*at, "timeout"), raw.get("timeout")) or timedelta(days=3),
                policy=file.policy((*at, "policy"), raw.get("policy", {}), base),
                source=f"{source}/{name}" if source else name,
            )
        )
    return out


def check_bundle_actions(files: Mapping[str, bytes]) -> list[Issue]:
    """Every problem of a bundle's actions files (empty when they are all valid)."""
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for name in action_files(files):
        for action in parse_actions(name, files[name], issues):
            if action.id in seen and seen[action.id] != name:
                issues.append(
                    Issue(name, f"action {action.id!r} is also defined in {seen[action.id]}")
                )
            seen.setdefault(action.id, name)
    return issues


def load_bundle_actions(bundle: str, files: Mapping[str, bytes]) -> list[Action]:
    """The actions of a bundle's files; a file with problems contributes none (deploy refused
    it already; a bundle deployed around the app's check is skipped, not half-read)."""
    out: list[Action] = []
    for name in action_files(files):
        issues: list[Issue] = []
        actions = parse_actions(name, files[name], issues, source=bundle)
        if not issues:
            out.extend(actions)
    return out
