"""The event-type registry: every type written in src is registered, payloads are checked as
events are made (the suite runs strict, tests/conftest.py), and the docs table is generated."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowdesk.core import event_types
from flowdesk.core.cloudevents import to_cloudevent
from flowdesk.core.event_types import (
    REGISTRY,
    EventPayloadError,
    EventType,
    UnknownEventType,
    markdown,
)
from flowdesk.core.events import NewEvent, StoredEvent

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "flowdesk"
DOCS = ROOT / "docs" / "architecture.md"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DOTTED = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
#: The namespaces of Flowdesk's event types ("case" of "case.opened").
NAMESPACES = {name.split(".")[0] for name in REGISTRY}
#: Dotted literals in those namespaces that are not event types.
NOT_EVENTS = {"case.html", "knowledge.html"}  # page templates
# the placeholders of reply macros ({{ customer.name }} ...)
NOT_EVENTS |= {"customer.name", "customer.first_name", "case.reference", "agent.name"}
# the old CTI webhook's event name (flowdesk.channels.payloads), not one of the log's
NOT_EVENTS |= {"call.started"}


def _constants() -> dict[str, str]:
    return {k: v for k, v in vars(EventType).items() if k.isupper()}


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(SRC.rglob("*.py"))]


def _literal_types(kind: ast.expr | None) -> list[str]:
    """The string literals a NewEvent's type expression can be (`"a.b"`, `"a" if x else "b"`)."""
    if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
        return [kind.value]
    if isinstance(kind, ast.IfExp):
        return _literal_types(kind.body) + _literal_types(kind.orelse)
    return []


def test_every_constant_is_registered_once_and_every_registered_type_has_a_constant() -> None:
    constants = _constants()
    assert len(set(constants.values())) == len(constants)
    assert set(constants.values()) == set(REGISTRY)
    for name, spec in REGISTRY.items():
        assert spec.name == name
        assert dataclasses.is_dataclass(spec.payload), name
        assert spec.payload.__dataclass_params__.frozen, name
        assert spec.description and "\n" not in spec.description, name
        assert spec.cloudevent_type == "io.flowdesk." + name
        assert spec.required <= spec.allowed


def _scan(where: str, tree: ast.Module) -> tuple[int, list[str]]:
    """(NewEvent calls seen, problems): a literal type in a NewEvent call, or any literal in the
    event namespaces, that is not registered; a type built with an f-string (unverifiable)."""
    calls = 0
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "NewEvent":
            calls += 1
            kind = node.args[0] if node.args else None
            kind = kind or next((k.value for k in node.keywords if k.arg == "type"), None)
            if isinstance(kind, ast.JoinedStr):
                problems.append(f"{where}:{node.lineno} built with an f-string")
            for literal in _literal_types(kind):
                if literal not in REGISTRY:
                    problems.append(f"{where}:{node.lineno} {literal}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DOTTED.match(node.value)
            and node.value.split(".")[0] in NAMESPACES
            and node.value not in REGISTRY
            and node.value not in NOT_EVENTS
        ):
            problems.append(f"{where}:{node.lineno} {node.value}")
    return calls, sorted(set(problems))


def test_every_event_type_written_or_compared_in_src_is_registered() -> None:
    """A safety net beside the constants, for types that code still spells as strings."""
    calls = 0
    problems: list[str] = []
    for path, tree in _sources():
        seen, found = _scan(str(path.relative_to(ROOT)), tree)
        calls += seen
        problems += found
    assert calls > 50  # the scan sees the writers
    assert not problems, f"unregistered event types: {problems}"


def test_templates_name_no_event_types() -> None:
    """Templates show what the use cases made of the event log (the business timeline is built
    in `app.casework`), so a quoted event type in a template is a rule outside the registry."""
    quoted = re.compile(r"""['"]([a-z][a-z_]*(?:\.[a-z][a-z_]*)+)['"]""")
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(SRC.rglob("*.html"))
        for name in quoted.findall(path.read_text())
        if name.split(".")[0] in NAMESPACES and name not in NOT_EVENTS
    ]
    assert not found


def test_the_scan_finds_unregistered_and_built_types() -> None:
    source = """
NewEvent("case.opend", now, {})
NewEvent(type="case.opened" if a else "case.shut", time=now)
NewEvent(f"notification.{status}", now, {})
if event.type == "work_item.finished": pass
NewEvent(EventType.CASE_OPENED, now, {}); x = "bundle.zip"
"""
    calls, problems = _scan("m.py", ast.parse(source))
    assert calls == 4
    assert problems == [
        "m.py:2 case.opend",
        "m.py:3 case.shut",
        "m.py:4 built with an f-string",
        "m.py:5 work_item.finished",
    ]


def test_every_event_type_attribute_used_in_src_exists() -> None:
    constants = _constants()
    missing = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}"
        for path, tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "EventType"
        and node.attr not in constants
    ]
    assert not missing


def test_the_suite_checks_events_as_they_are_made() -> None:
    assert event_types.STRICT  # tests/conftest.py
    with pytest.raises(UnknownEventType, match="'case.opend' is not registered"):
        NewEvent("case.opend", NOW, {"reference": "C-1"})
    with pytest.raises(EventPayloadError, match=r"case.opened data misses process_key, reason"):
        NewEvent(EventType.CASE_OPENED, NOW, {"reference": "C-1"})
    with pytest.raises(EventPayloadError, match="has unknown colour"):
        NewEvent(EventType.API_KEY_REVOKED, NOW, {"key_id": "k1", "colour": "red"})
    # optional fields may be left out
    NewEvent(EventType.NOTIFICATION_SENT, NOW, {"to": "ann@example.com"})
    NewEvent(EventType.NOTIFICATION_DEFERRED, NOW, {"to": "ann@example.com", "send_at": "x"})
    NewEvent(EventType.SURVEY_ANSWERED, NOW, {"csat": 5, "nps": 9})


def test_an_open_payload_may_carry_more_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = REGISTRY[EventType.SURVEY_ANSWERED]
    with pytest.raises(EventPayloadError, match="has unknown channel"):
        NewEvent(EventType.SURVEY_ANSWERED, NOW, {"csat": 5, "nps": 9, "channel": "email"})
    monkeypatch.setitem(REGISTRY, spec.name, dataclasses.replace(spec, open=True))
    NewEvent(EventType.SURVEY_ANSWERED, NOW, {"csat": 5, "nps": 9, "channel": "email"})
    with pytest.raises(EventPayloadError, match="misses nps"):
        NewEvent(EventType.SURVEY_ANSWERED, NOW, {"csat": 5, "channel": "email"})


def test_events_other_systems_post_keep_their_own_types() -> None:
    event = NewEvent("com.example.order.placed", NOW, {"data": {}}, source="/crm")
    assert event.type == "com.example.order.placed"


def test_outside_strict_mode_nothing_is_checked(loose_events: None) -> None:
    assert NewEvent("made.up", NOW, {"x": 1}).type == "made.up"


def test_cloudevents_export_takes_the_registered_type() -> None:
    stored = StoredEvent(
        7, "e1", EventType.CASE_OPENED, NOW, {}, "c1", *([None] * 7), 1, "/flowdesk"
    )
    assert to_cloudevent(stored)["type"] == REGISTRY[EventType.CASE_OPENED].cloudevent_type
    other = dataclasses.replace(stored, type="com.example.order.placed", source="/crm")
    assert to_cloudevent(other)["type"] == "io.flowdesk.com.example.order.placed"


def _documented() -> str:
    text = DOCS.read_text()
    start, end = "<!-- event-types:start -->\n", "<!-- event-types:end -->"
    assert start in text and end in text, f"{DOCS} lacks the event-types markers"
    return text.split(start, 1)[1].split(end, 1)[0]


def test_the_docs_table_is_generated_from_the_registry_and_up_to_date() -> None:
    assert _documented() == markdown(), (
        "docs/architecture.md is out of date: paste the output of "
        "`python -m flowdesk.core.event_types --markdown` between the event-types markers"
    )


def test_the_generator_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk.core.event_types", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src")},
    )
    assert done.stdout == markdown()
    assert f"| `{EventType.WORK_ITEM_CREATED}` | `io.flowdesk.work_item.created` |" in done.stdout
    wrong = subprocess.run(
        [sys.executable, "-m", "flowdesk.core.event_types"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src")},
    )
    assert wrong.returncode == 2 and "usage" in wrong.stderr


def test_every_engine_event_kind_maps_to_a_registered_type() -> None:
    """The engine names its events in its own words; the runtime maps them onto the registry."""
    from flowdesk.engine import events as engine_events
    from flowdesk.runtime.processes import EVENT_TYPES

    kinds = {v for k, v in vars(engine_events).items() if k.isupper() and isinstance(v, str)}
    assert kinds == set(EVENT_TYPES)
    assert set(EVENT_TYPES.values()) <= set(REGISTRY)
