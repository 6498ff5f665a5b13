"""The company's organisation file (the demo's is flowdesk/demo/company/company.yaml): departments
with OLAs, agents with skills, languages and shifts, SLA policies and business calendars, and
what a follow-up to a closed case does (`follow_up_policy`, `reopen_within`:
`flowdesk.contacts.follow_ups`).

Later seeding and routing read it through `load_company`, which checks the shape against
COMPANY_SCHEMA (its company.schema.json is the same schema for editors; a test keeps the two
equal) and the references between sections, and reports every problem with its line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema

from flowdesk.experience.errors import BundleError, Issue
from flowdesk.experience.yamldoc import YamlError, load_yaml

#: KPIs a scorecard measure can name (analytics.kpis computes them; the direction is fixed:
#: rates, CSAT and NPS are better higher, times, repeats and complaints better lower).
SCORECARD_METRICS = [
    "fcr_rate",
    "ftr_rate",
    "sla_compliance",
    "csat",
    "nps",
    "turnaround_hours_mean",
    "turnaround_hours_p90",
    "repeat_contacts",
    "complaint_rate",
    "handoffs",
]

#: What a macro's text may name between {{ and }}; anything else is refused when the file loads.
MACRO_PLACEHOLDERS = (
    "customer.name",
    "customer.first_name",
    "case.reference",
    "agent.name",
    "company.name",
)
MACRO_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

COMPANY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Flowdesk demo company",
    "type": "object",
    "required": ["company", "departments", "sla_policies", "calendars", "shifts", "agents"],
    "additionalProperties": False,
    "$defs": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "duration": {
            "type": "string",
            "pattern": "^P(\\d+D)?(T(\\d+H)?(\\d+M)?)?$",
            "minLength": 3,
        },
        "time": {"type": "string", "pattern": "^([01]\\d|2[0-4]):[0-5]\\d$"},
        "hours": {
            "type": "array",
            "items": {
                "type": "string",
                "pattern": "^([01]\\d|2[0-4]):[0-5]\\d-([01]\\d|2[0-4]):[0-5]\\d$",
            },
        },
        "channels": {
            "type": "array",
            "items": {
                "enum": ["phone", "email", "chat", "sms", "web", "social", "letter", "app", "store"]
            },
        },
        # one rung of an escalation ladder (flowdesk.sla.Escalation): at a fraction of the
        # target used, notify, raise the priority, move the work, or send the flow a message
        "escalation": {
            "type": "object",
            "required": ["at", "action"],
            "additionalProperties": False,
            "properties": {
                "at": {"type": "number", "minimum": 0, "maximum": 10},
                "action": {"enum": ["notify", "raise_priority", "reassign", "message"]},
                "by": {"type": "number"},
                "department": {"type": "string"},
                "message": {"type": "string", "minLength": 1},
            },
        },
        "ladder": {"type": "array", "items": {"$ref": "#/$defs/escalation"}},
    },
    "properties": {
        "company": {
            "type": "object",
            "required": ["name", "timezone"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "timezone": {"type": "string"},
                "locale": {"type": "string"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            },
        },
        "departments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "name", "ola"],
                "additionalProperties": False,
                "properties": {
                    "id": {"$ref": "#/$defs/id"},
                    "name": {"type": "string"},
                    "ola": {
                        "type": "object",
                        "required": ["pickup", "resolve"],
                        "additionalProperties": False,
                        "properties": {
                            "pickup": {"$ref": "#/$defs/duration"},
                            "resolve": {"$ref": "#/$defs/duration"},
                            "escalations": {"$ref": "#/$defs/ladder"},
                        },
                    },
                    "channels": {"$ref": "#/$defs/channels"},
                    # BPMN lane names (or lane ids) whose work this department does, where
                    # the lane's name is not the department's id or name
                    "lanes": {"type": "array", "items": {"type": "string", "minLength": 1}},
                },
            },
        },
        "sla_policies": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "calendar", "targets"],
                "additionalProperties": False,
                "properties": {
                    "id": {"$ref": "#/$defs/id"},
                    "name": {"type": "string"},
                    "calendar": {"type": "string"},
                    "segments": {"type": "array", "items": {"type": "string"}},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "escalations": {"$ref": "#/$defs/ladder"},
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["priority", "response", "resolution"],
                            "additionalProperties": False,
                            "properties": {
                                "priority": {"enum": ["low", "normal", "high"]},
                                "response": {"$ref": "#/$defs/duration"},
                                "resolution": {"$ref": "#/$defs/duration"},
                            },
                        },
                    },
                },
            },
        },
        "calendars": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "opening_hours", "holidays"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "opening_hours": {
                        "type": "object",
                        "required": [
                            "monday",
                            "tuesday",
                            "wednesday",
                            "thursday",
                            "friday",
                            "saturday",
                            "sunday",
                        ],
                        "additionalProperties": False,
                        "patternProperties": {"^[a-z]+day$": {"$ref": "#/$defs/hours"}},
                    },
                    "holidays": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["date", "name"],
                            "additionalProperties": False,
                            "properties": {
                                "date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
                                "name": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
        "shifts": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["start", "end"],
                "additionalProperties": False,
                "properties": {"start": {"$ref": "#/$defs/time"}, "end": {"$ref": "#/$defs/time"}},
            },
        },
        "follow_up_policy": {"enum": ["reopen", "link", "new_case"]},
        "reopen_within": {"$ref": "#/$defs/duration"},
        # how long each kind of personal data is kept (flowdesk.contacts.privacy.Retention)
        "retention": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "raw_contacts": {"$ref": "#/$defs/duration"},
                "failed_checks": {"$ref": "#/$defs/duration"},
                # how long the event log keeps each kind of event (flowdesk.store.archive):
                # type or glob pattern (or `default`) -> PnY / PnD
                "events": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "analytics": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "complaint_reasons": {"type": "array", "items": {"type": "string"}},
                "reopen_window": {"$ref": "#/$defs/duration"},
                "scorecard": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "name", "measures"],
                        "additionalProperties": False,
                        "properties": {
                            "id": {"$ref": "#/$defs/id"},
                            "name": {"type": "string"},
                            "description": {"type": "string"},
                            "flows": {"type": "array", "items": {"type": "string"}},
                            "measures": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "object",
                                    "required": ["metric", "target"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "metric": {"enum": SCORECARD_METRICS},
                                        "target": {"type": "number"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "routing": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                # customer value (EUR) per priority point: value 470 at 10 adds 47 points
                "value_per_point": {"type": "number", "exclusiveMinimum": 0},
                "max_value_points": {"type": "number", "minimum": 0},
                # churn risk (0-1) of work for a customer segment or of a flow (process key);
                # the larger of the two counts
                "segment_risk": {
                    "type": "object",
                    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "flow_risk": {
                    "type": "object",
                    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "capacity": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 50},
                },
            },
        },
        # canned replies the agent desktop offers in the reply box; the text may hold
        # placeholders such as {{ customer.name }} (MACRO_PLACEHOLDERS), filled as plain text
        "macros": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title", "text"],
                "additionalProperties": False,
                "properties": {
                    "id": {"$ref": "#/$defs/id"},
                    "title": {"type": "string", "minLength": 1, "maxLength": 120},
                    "text": {"type": "string", "minLength": 1, "maxLength": 4000},
                },
            },
        },
        "agents": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "username", "department", "skills", "languages", "shift"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "username": {"type": "string", "pattern": "^[a-z][a-z0-9._-]{1,49}$"},
                    "department": {"$ref": "#/$defs/id"},
                    "shift": {"type": "string"},
                    "supervisor": {"type": "boolean"},
                    "languages": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": "^[a-z]{2}$"},
                    },
                    "skills": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
                    },
                    # concurrent work per routing channel (chat, call, email, task ...)
                    "capacity": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 50},
                    },
                },
            },
        },
    },
}


def load_company(path: str | Path) -> dict[str, Any]:
    """The validated company data, or BundleError listing every problem with file and line."""
    path = Path(path)
    name = path.name
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except YamlError as exc:
        raise BundleError([Issue(name, exc.message, exc.line, exc.column)]) from None
    issues: list[Issue] = []

    def add(where: tuple[str | int, ...], message: str) -> None:
        line, column = doc.where(where)
        field = ".".join(str(p) for p in where) or None
        issues.append(Issue(name, message, line, column, field))

    validator = jsonschema.Draft202012Validator(COMPANY_SCHEMA)
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(e.absolute_path)):
        add(tuple(error.absolute_path), error.message)
    if issues:
        raise BundleError(issues)
    data: dict[str, Any] = doc.data
    departments = {d["id"] for d in data["departments"]}
    calendars = {c["id"] for c in data["calendars"]}
    seen: set[str] = set()
    for index, agent in enumerate(data["agents"]):
        if agent["department"] not in departments:
            add(("agents", index, "department"), f"unknown department {agent['department']!r}")
        if agent["shift"] not in data["shifts"]:
            add(("agents", index, "shift"), f"unknown shift {agent['shift']!r}")
        if agent["username"] in seen:
            add(("agents", index, "username"), f"username {agent['username']!r} is used twice")
        seen.add(agent["username"])
    for index, policy in enumerate(data["sla_policies"]):
        if policy["calendar"] not in calendars:
            add(("sla_policies", index, "calendar"), f"unknown calendar {policy['calendar']!r}")
        for n, rung in enumerate(policy.get("escalations") or ()):
            _check_rung(rung, ("sla_policies", index, "escalations", n), departments, add)
    macro_ids: set[str] = set()
    for index, macro in enumerate(data.get("macros") or ()):
        if macro["id"] in macro_ids:
            add(("macros", index, "id"), f"macro {macro['id']!r} is defined twice")
        macro_ids.add(macro["id"])
        for placeholder in MACRO_PLACEHOLDER.findall(macro["text"]):
            if placeholder not in MACRO_PLACEHOLDERS:
                add(
                    ("macros", index, "text"),
                    f"unknown placeholder {{{{ {placeholder} }}}}: use one of "
                    + ", ".join(MACRO_PLACEHOLDERS),
                )
    lanes: dict[str, str] = {}
    for index, department in enumerate(data["departments"]):
        ladder = (department["ola"].get("escalations")) or ()
        for n, rung in enumerate(ladder):
            _check_rung(rung, ("departments", index, "ola", "escalations", n), departments, add)
        for n, lane in enumerate(department.get("lanes") or ()):
            if lanes.setdefault(lane, department["id"]) != department["id"]:
                add(
                    ("departments", index, "lanes", n),
                    f"lane {lane!r} is already mapped to department {lanes[lane]!r}",
                )
    for kind, period in ((data.get("retention") or {}).get("events") or {}).items():
        where = ("retention", "events", kind)
        for problem in event_retention_problems(kind, period):
            add(where, problem)
    if issues:
        raise BundleError(issues)
    return data


_EVENT_KIND = re.compile(r"^(default|[a-z_]+(\.([a-z_]+|\*))*)$")


def event_retention_problems(kind: str, period: str) -> list[str]:
    """What is wrong with one `retention.events` entry (the schema only knows it is text)."""
    from flowdesk.store.archive import parse_period

    problems = []
    if not _EVENT_KIND.match(kind):
        problems.append(
            f"{kind!r} is not an event type or pattern: use `default`, a type such as "
            "`variables.changed` or a pattern such as `variables.*`"
        )
    try:
        parse_period(period)
    except ValueError as exc:
        problems.append(f"{exc} (years and days: P3Y, P90D, P1Y30D)")
    return problems


def _check_rung(
    rung: dict[str, Any],
    where: tuple[str | int, ...],
    departments: set[str],
    add: Any,
) -> None:
    """What the schema cannot say about one escalation: the parts its action needs."""
    if rung["action"] == "reassign":
        if "department" not in rung:
            add(where, "a 'reassign' escalation needs the department")
        elif rung["department"] not in departments:
            add((*where, "department"), f"unknown department {rung['department']!r}")
    if rung["action"] == "message" and "message" not in rung:
        add(where, "a 'message' escalation needs the message name")
