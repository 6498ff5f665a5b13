"""The parts of an experience bundle, as frozen dataclasses that round-trip through JSON.

A bundle is what `flow.yaml` describes: the contact reasons it serves, its BPMN and DMN files,
and for each user task the experience an agent gets at that step (guided script, knowledge
queries, 360 panels, form, customer-facing status text, SLA), plus its knowledge articles.
The stored form (`to_dict` / `bundle_from_dict`) is what the desktop reads at run time, so a
deployed experience never needs the original files again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: The 360 panels the agent desktop can show next to a step. A bundle naming any other panel
#: is refused at deploy, so a typo never silently hides customer context.
PANELS = frozenset(
    {
        "profile",
        "identities",
        "timeline",
        "cases",
        "products",
        "value",
        "risk",
        "billing",
        "payments",
        "usage",
        "network",
        "outages",
        "appointments",
        "devices",
        "addresses",
        "consents",
        "security",
        "offers",
        "notes",
    }
)

#: Answer types a script step can ask for (they decide the input widget and the coercion).
STEP_TYPES = frozenset({"text", "textarea", "number", "boolean", "choice", "date", "info"})


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class ScriptStep:
    """One guided question. `when` is a FEEL condition over the process variables and the
    answers so far: the step shows when it is true, is skipped when false, and stays pending
    while it cannot be decided yet (null)."""

    id: str
    question: str
    help: str | None = None
    variable: str | None = None
    type: str = "text"
    options: tuple[Option, ...] = ()
    required: bool = True
    when: str | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeQuery:
    """Free text searched in the knowledge base, and tags that narrow the suggestions."""

    text: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskExperience:
    """What the agent gets at one user task of the process."""

    task: str
    title: str | None = None
    script: tuple[ScriptStep, ...] = ()
    knowledge: tuple[KnowledgeQuery, ...] = ()
    panels: tuple[str, ...] = ()
    form: dict[str, Any] | None = None  # a JSON Schema
    status: str | None = None  # customer-facing; {{ variable }} placeholders are filled in
    sla: str | None = None  # ISO 8601 duration, e.g. PT4H
    skills: dict[str, int] = field(default_factory=dict)  # skill -> least level routing needs


@dataclass(frozen=True, slots=True)
class ContactReason:
    id: str
    name: str
    description: str | None = None
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    """A knowledge article: Markdown body plus the context it is suggested in."""

    slug: str
    title: str
    body: str
    file: str
    reasons: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Bundle:
    name: str
    process: str  # the BPMN process id the reasons start
    title: str | None = None
    version: str | None = None
    description: str | None = None
    owner: str | None = None  # process owner: a user name or a department id
    reasons: tuple[ContactReason, ...] = ()
    bpmn: tuple[str, ...] = ()
    dmn: tuple[str, ...] = ()
    tasks: dict[str, TaskExperience] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # catch event id -> status text
    articles: tuple[Article, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def resources(self) -> list[tuple[str, bytes]]:
        """The BPMN and DMN files, as ProcessRuntime.deploy takes them."""
        return [(name, self.files[name]) for name in (*self.bpmn, *self.dmn)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored per deployment (without file contents and article bodies)."""
        data = asdict(self)
        data.pop("files")
        data["articles"] = [a.slug for a in self.articles]
        return data


def bundle_from_dict(data: dict[str, Any]) -> Bundle:
    """Rebuild a stored bundle (articles are stored separately and come back empty)."""
    tasks = {
        key: TaskExperience(
            task=t["task"],
            title=t.get("title"),
            script=tuple(
                ScriptStep(
                    id=s["id"],
                    question=s["question"],
                    help=s.get("help"),
                    variable=s.get("variable"),
                    type=s.get("type", "text"),
                    options=tuple(Option(o["value"], o["label"]) for o in s.get("options", ())),
                    required=s.get("required", True),
                    when=s.get("when"),
                )
                for s in t.get("script", ())
            ),
            knowledge=tuple(
                KnowledgeQuery(q["text"], tuple(q.get("tags", ()))) for q in t.get("knowledge", ())
            ),
            panels=tuple(t.get("panels", ())),
            form=t.get("form"),
            status=t.get("status"),
            sla=t.get("sla"),
            skills={str(k): int(v) for k, v in (t.get("skills") or {}).items()},
        )
        for key, t in data.get("tasks", {}).items()
    }
    return Bundle(
        name=data["name"],
        process=data["process"],
        title=data.get("title"),
        version=data.get("version"),
        description=data.get("description"),
        owner=data.get("owner"),
        reasons=tuple(
            ContactReason(r["id"], r["name"], r.get("description"), tuple(r.get("channels", ())))
            for r in data.get("reasons", ())
        ),
        bpmn=tuple(data.get("bpmn", ())),
        dmn=tuple(data.get("dmn", ())),
        tasks=tasks,
        waiting=dict(data.get("waiting", {})),
    )
