"""Experience use cases: deploy a bundle, the experience of a work item, the reason catalog.

`deploy_bundle` validates the whole bundle first, then deploys its BPMN and DMN through
`ProcessRuntime.deploy` and, in that same transaction, stores the bundle's experience for
every process definition version it produced, its contact reasons and its articles: a bundle
is deployed whole or not at all.

`experience_for` is what the agent desktop calls for a work item: the guided script with each
step's `when` condition evaluated against the instance variables (and the answers typed so far),
knowledge suggestions for the step, the 360 panels, the form, the customer-facing status text
and the SLA with its due time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, update

from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.engine.state import InstanceState, state_from_dict
from flowdesk.experience.bundle import (
    Bundle,
    Option,
    ScriptStep,
    TaskExperience,
    bundle_from_dict,
)
from flowdesk.experience.loader import PLACEHOLDER, load_bundle
from flowdesk.experience.models import (
    contact_reasons,
    experience_bundle_files,
    experience_bundles,
    experience_definitions,
)
from flowdesk.feel import ast as feel_ast
from flowdesk.feel import compile_expression
from flowdesk.feel.durations import parse_duration
from flowdesk.knowledge.service import Suggestion, suggest, upsert_articles
from flowdesk.runtime.processes import Deployment, ProcessRuntime
from flowdesk.store import Store, UnitOfWork
from flowdesk.store.processes import ProcessRepository

#: Process variables the desktop and the suggestions read for context.
REASON_VARIABLE = "contactReason"
SEGMENT_VARIABLES = ("customerSegment", "segment")


@dataclass(frozen=True, slots=True)
class BundleDeployment:
    bundle_id: str
    name: str
    deployment: Deployment
    reasons: list[str]
    articles: list[str]
    number: int = 0  # 1, 2, ... per bundle name: the version `versions` lists

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle_id,
            "name": self.name,
            "number": self.number,
            "deployment_id": self.deployment.id,
            "definitions": [
                {"id": d.id, "key": d.key, "version": d.version, "new": d.new}
                for d in self.deployment.definitions
            ],
            "reasons": self.reasons,
            "articles": self.articles,
        }


@dataclass(frozen=True, slots=True)
class StepView:
    """A script step as the desktop shows it: `state` is show, skipped or pending."""

    id: str
    question: str
    help: str | None
    variable: str | None
    type: str
    options: list[dict[str, str]]
    required: bool
    when: str | None
    state: str
    answered: bool
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "help": self.help,
            "variable": self.variable,
            "type": self.type,
            "options": self.options,
            "required": self.required,
            "when": self.when,
            "state": self.state,
            "answered": self.answered,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class WorkItemExperience:
    work_item_id: str
    task: str
    title: str | None
    process_key: str
    definition_id: str
    bundle: str | None
    reason: str | None
    segment: str | None
    script: list[StepView] = field(default_factory=list)
    next_step: str | None = None
    knowledge: list[Suggestion] = field(default_factory=list)
    panels: list[str] = field(default_factory=list)
    form: dict[str, Any] | None = None
    status_text: str | None = None
    sla: str | None = None
    due_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "work_item_id": self.work_item_id,
            "task": self.task,
            "title": self.title,
            "process_key": self.process_key,
            "definition_id": self.definition_id,
            "bundle": self.bundle,
            "reason": self.reason,
            "segment": self.segment,
            "script": [s.to_dict() for s in self.script],
            "next_step": self.next_step,
            "knowledge": [k.to_dict() for k in self.knowledge],
            "panels": self.panels,
            "form": self.form,
            "status_text": self.status_text,
            "sla": self.sla,
            "due_at": self.due_at.isoformat() if self.due_at else None,
        }


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    reason: str
    name: str
    description: str | None
    channels: list[str]
    process_key: str
    bundle: str
    owner: str | None = None  # the process owner of the flow serving the reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "name": self.name,
            "description": self.description,
            "channels": self.channels,
            "process_key": self.process_key,
            "bundle": self.bundle,
            "owner": self.owner,
        }


@dataclass(frozen=True, slots=True)
class FlowEntry:
    """A deployed experience flow (the bundle deployed last under its name)."""

    name: str
    title: str | None
    version: str | None
    process_key: str
    owner: str | None
    reasons: list[str]
    bundle_id: str
    deployed_at: datetime


# -- deployment ------------------------------------------------------------------------------
def bundle_sha(bundle: Bundle) -> str:
    """One digest over every file of a bundle: equal digests, equal bundles."""
    digest = hashlib.sha256()
    for name in sorted(bundle.files):
        digest.update(name.encode() + b"\0" + bundle.files[name] + b"\0")
    return digest.hexdigest()


def _upsert(conn: Connection, table: Any, key: str, key_value: str, values: dict[str, Any]) -> None:
    column = table.c[key]
    if conn.execute(select(column).where(column == key_value)).first() is None:
        conn.execute(table.insert().values({key: key_value, **values}))
    else:
        conn.execute(update(table).where(column == key_value).values(values))


def deploy_bundle(
    runtime: ProcessRuntime,
    store: Store,
    path_or_zip: str | Path | bytes | Bundle,
    actor: str | None = None,
    *,
    restores: int | None = None,
) -> BundleDeployment:
    """Validate and deploy a bundle (folder, flow.yaml, .zip path, zip bytes or a loaded
    Bundle). Raises BundleError listing every problem; writes nothing unless all is well.
    Its files are kept with the deployment (versions are diffed and restored from them);
    `restores` names the earlier version a rollback deploys again (recorded in the event)."""
    if runtime.store is not store:
        raise ValueError("deploy_bundle: the runtime must run on the given store")
    bundle = path_or_zip if isinstance(path_or_zip, Bundle) else load_bundle(path_or_zip)
    bundle_id = runtime.ids.new_id()
    stored: list[list[str]] = []
    numbers: list[int] = []

    def also(uow: UnitOfWork, deployment: Deployment) -> None:
        conn = uow.connection
        now = runtime.clock.now()
        b = experience_bundles.c
        last = conn.execute(select(func.max(b.number)).where(b.name == bundle.name)).scalar()
        number = int(last or 0) + 1
        numbers.append(number)
        conn.execute(
            experience_bundles.insert().values(
                id=bundle_id,
                name=bundle.name,
                version=bundle.version,
                title=bundle.title,
                process_key=bundle.process,
                deployment_id=deployment.id,
                sha256=bundle_sha(bundle),
                content=bundle.to_dict(),
                created_at=now,
                actor=actor,
                number=number,
                definitions=[d.id for d in deployment.definitions],
            )
        )
        for file_name in sorted(bundle.files):
            data = bundle.files[file_name]
            conn.execute(
                experience_bundle_files.insert().values(
                    bundle_id=bundle_id,
                    name=file_name,
                    sha256=hashlib.sha256(data).hexdigest(),
                    content=data,
                )
            )
        for definition in deployment.definitions:
            _upsert(
                conn,
                experience_definitions,
                "definition_id",
                definition.id,
                {"bundle_id": bundle_id, "process_key": definition.key, "updated_at": now},
            )
        for reason in bundle.reasons:
            _upsert(
                conn,
                contact_reasons,
                "id",
                reason.id,
                {
                    "name": reason.name,
                    "description": reason.description,
                    "channels": list(reason.channels),
                    "process_key": bundle.process,
                    "bundle_name": bundle.name,
                    "bundle_id": bundle_id,
                    "updated_at": now,
                },
            )
        slugs = upsert_articles(conn, bundle.articles, source=bundle.name, now=now, ids=runtime.ids)
        stored.append(slugs)
        uow.append(
            NewEvent(
                EventType.EXPERIENCE_BUNDLE_DEPLOYED,
                now,
                {
                    "bundle_id": bundle_id,
                    "name": bundle.name,
                    "number": number,
                    "version": bundle.version,
                    "owner": bundle.owner,
                    **({"restores": restores} if restores is not None else {}),
                    "deployment_id": deployment.id,
                    "definitions": [d.id for d in deployment.definitions],
                    "reasons": [r.id for r in bundle.reasons],
                    "articles": slugs,
                },
                actor=actor,
            )
        )

    deployment = runtime.deploy(bundle.name, bundle.resources(), actor=actor, also=also)
    return BundleDeployment(
        bundle_id,
        bundle.name,
        deployment,
        [r.id for r in bundle.reasons],
        stored[-1],
        numbers[-1],
    )


# -- reading ---------------------------------------------------------------------------------
def bundle_for_definition(store: Store, definition_id: str) -> Bundle | None:
    with store.reading() as conn:
        return _bundle_for(conn, definition_id)


def bundle_id_for_definition(store: Store, definition_id: str) -> str | None:
    """The id of the bundle a definition runs with (one indexed read; bundles are immutable, so
    callers may cache what they derive from a bundle by this id)."""
    with store.reading() as conn:
        found = conn.execute(
            select(experience_definitions.c.bundle_id).where(
                experience_definitions.c.definition_id == definition_id
            )
        ).scalar()
    return None if found is None else str(found)


def bundle_id_on(conn: Any, definition_id: str) -> str | None:
    """`bundle_id_for_definition` on a connection the caller already holds (a command's)."""
    found = conn.execute(
        select(experience_definitions.c.bundle_id).where(
            experience_definitions.c.definition_id == definition_id
        )
    ).scalar()
    return None if found is None else str(found)


def bundle_by_id(store: Store, bundle_id: str) -> Bundle | None:
    with store.reading() as conn:
        row = conn.execute(
            select(experience_bundles.c.content).where(experience_bundles.c.id == bundle_id)
        ).first()
    return None if row is None else bundle_from_dict(dict(row[0]))


def _bundle_for(conn: Connection, definition_id: str) -> Bundle | None:
    row = conn.execute(
        select(experience_bundles.c.content)
        .join(experience_definitions, experience_definitions.c.bundle_id == experience_bundles.c.id)
        .where(experience_definitions.c.definition_id == definition_id)
    ).first()
    return None if row is None else bundle_from_dict(dict(row[0]))


def catalog(store: Store) -> list[CatalogEntry]:
    """Contact reasons -> the flow that serves them (the bundle deployed last wins), with the
    flow's process owner (what analytics groups reasons and flows by)."""
    with store.reading() as conn:
        rows = conn.execute(
            select(contact_reasons, experience_bundles.c.content)
            .join(experience_bundles, experience_bundles.c.id == contact_reasons.c.bundle_id)
            .order_by(contact_reasons.c.id)
        ).all()
    return [
        CatalogEntry(
            r.id,
            r.name,
            r.description,
            list(r.channels),
            r.process_key,
            r.bundle_name,
            dict(r.content).get("owner"),
        )
        for r in rows
    ]


def flows(store: Store) -> list[FlowEntry]:
    """Every deployed experience flow (latest deployment per bundle name), by name."""
    b = experience_bundles.c
    with store.reading() as conn:
        rows = conn.execute(
            select(
                b.id, b.name, b.version, b.title, b.process_key, b.content, b.created_at
            ).order_by(b.created_at, b.number, b.id)
        ).all()
    latest = {r.name: r for r in rows}
    return [
        FlowEntry(
            name=r.name,
            title=r.title,
            version=r.version,
            process_key=r.process_key,
            owner=dict(r.content).get("owner"),
            reasons=[x["id"] for x in dict(r.content).get("reasons", ())],
            bundle_id=r.id,
            deployed_at=r.created_at,
        )
        for r in sorted(latest.values(), key=lambda r: r.name)
    ]


def bundles_by_process(store: Store) -> dict[str, Bundle]:
    """Process key -> its bundle deployed last (routing reads each step's SLA and skills)."""
    b = experience_bundles.c
    with store.reading() as conn:
        rows = conn.execute(select(b.process_key, b.content).order_by(b.created_at, b.id)).all()
    return {r.process_key: bundle_from_dict(dict(r.content)) for r in rows}


def owners(store: Store) -> dict[str, str]:
    """Process key -> owner, for pages and analytics that show work next to its flow."""
    return {f.process_key: f.owner for f in flows(store) if f.owner}


def reason_flow(store: Store, reason: str) -> str:
    """The process key that starts for a contact reason (NotFoundError when none serves it)."""
    with store.reading() as conn:
        key = conn.execute(
            select(contact_reasons.c.process_key).where(contact_reasons.c.id == reason)
        ).scalar()
    if key is None:
        raise NotFoundError(f"no flow serves the contact reason {reason!r}")
    return str(key)


def render_status(template: str | None, variables: Mapping[str, Any]) -> str | None:
    """Fill `{{ name }}` placeholders from the variables (a missing one leaves the name out)."""
    if template is None:
        return None

    def fill(match: re.Match[str]) -> str:
        value = variables.get(match.group(1))
        return "" if value is None else str(value)

    return re.sub(r"\s{2,}", " ", PLACEHOLDER.sub(fill, template)).strip()


def referenced_names(node: Any) -> set[str]:
    """The variable names a compiled FEEL expression reads (walks the syntax tree)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, feel_ast.Name):
            found.add(item.name)
        if isinstance(item, feel_ast.Node):
            stack.extend(getattr(item, f.name) for f in fields(item))
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def evaluate_script(
    steps: tuple[ScriptStep, ...], variables: Mapping[str, Any]
) -> tuple[list[StepView], str | None]:
    """Each step's state and the first shown, unanswered step. A condition that reads an
    answer of this script not given yet is pending (FEEL's `null = true` is false, which
    would wrongly skip it); otherwise it shows when true and is skipped when not. The answer
    of a skipped step never comes, so conditions on it are decided without it."""
    views: list[StepView] = []
    next_step: str | None = None
    asked = {s.variable for s in steps if s.variable}
    skipped: set[str] = set()  # variables of skipped steps: they will not be answered
    for step in steps:
        state = "show"
        if step.when is not None:
            compiled = compile_expression(step.when)
            waiting = {
                n
                for n in referenced_names(compiled.tree) & asked
                if variables.get(n) is None and n not in skipped
            }
            value = compiled.evaluate(dict(variables))
            state = "pending" if waiting else "show" if value is True else "skipped"
        if state == "skipped" and step.variable:
            skipped.add(step.variable)
        answer = variables.get(step.variable) if step.variable else None
        answered = step.variable is not None and answer is not None
        if state == "show" and not answered and step.type != "info" and next_step is None:
            next_step = step.id
        views.append(
            StepView(
                id=step.id,
                question=step.question,
                help=step.help,
                variable=step.variable,
                type=step.type,
                options=[{"value": o.value, "label": o.label} for o in step.options],
                required=step.required,
                when=step.when,
                state=state,
                answered=answered,
                value=answer,
            )
        )
    return views, next_step


def coerce_answers(
    steps: tuple[ScriptStep, ...] | list[StepView], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Turn answers as a browser form sends them (text) into typed process variables, by the
    type of the step that asks for each: booleans from true/false/yes/no/on, numbers as exact
    Decimals, dates as ISO dates. Raises ValueError naming the variable when one does not fit."""
    kinds = {s.variable: s for s in steps if s.variable}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        step = kinds.get(name)
        if step is None or not isinstance(value, str):
            out[name] = value
            continue
        text = value.strip()
        if text == "":
            out[name] = None
        elif step.type == "boolean":
            lowered = text.lower()
            if lowered not in ("true", "false", "yes", "no", "on", "off"):
                raise ValueError(f"{name}: {value!r} is not yes or no")
            out[name] = lowered in ("true", "yes", "on")
        elif step.type == "number":
            try:
                out[name] = Decimal(text)
            except InvalidOperation:
                raise ValueError(f"{name}: {value!r} is not a number") from None
            if not out[name].is_finite():
                raise ValueError(f"{name}: {value!r} is not a number")
        elif step.type == "date":
            try:
                out[name] = date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
        elif step.type == "choice" and step.options:
            allowed = [o.value if isinstance(o, Option) else o["value"] for o in step.options]
            if text not in allowed:
                raise ValueError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
            out[name] = text
        else:
            out[name] = value
    return out


def experience_for(
    store: Store,
    work_item_id: str,
    *,
    answers: Mapping[str, Any] | None = None,
    suggestions: int = 5,
) -> WorkItemExperience:
    """The experience of one work item (see the module docstring)."""
    with store.reading() as conn:
        repo = ProcessRepository(conn)
        item = repo.work_item(work_item_id)
        if item is None:
            raise NotFoundError(f"no work item {work_item_id!r}")
        loaded = repo.load(item["instance_id"])
        bundle = _bundle_for(conn, item["definition_id"])
    variables: dict[str, Any] = {}
    if loaded is not None:
        variables.update(state_from_dict(loaded.state).vars)
    variables.update(answers or {})
    task = bundle.tasks.get(item["element_id"]) if bundle else None
    if task is None:
        task = TaskExperience(task=item["element_id"], title=item["name"])
    reason = variables.get(REASON_VARIABLE)
    if not isinstance(reason, str):
        reason = bundle.reasons[0].id if bundle and bundle.reasons else None
    segment = next(
        (v for name in SEGMENT_VARIABLES if isinstance(v := variables.get(name), str)), None
    )
    script, next_step = evaluate_script(task.script, variables)
    due_at = None
    if task.sla is not None:
        duration = parse_duration(task.sla)
        if isinstance(duration, timedelta):
            due_at = item["created_at"] + duration
    knowledge = suggest(
        store,
        reason=reason,
        step=task.task,
        segment=segment,
        queries=[q.text for q in task.knowledge],
        tags=sorted({t for q in task.knowledge for t in q.tags}),
        limit=suggestions,
    )
    return WorkItemExperience(
        work_item_id=work_item_id,
        task=task.task,
        title=task.title or item["name"],
        process_key=item["process_key"],
        definition_id=item["definition_id"],
        bundle=bundle.name if bundle else None,
        reason=reason,
        segment=segment,
        script=script,
        next_step=next_step,
        knowledge=knowledge,
        panels=list(task.panels),
        form=task.form,
        status_text=render_status(task.status, variables),
        sla=task.sla,
        due_at=due_at,
    )


def instance_view(
    store: Store, instance_id: str
) -> tuple[InstanceState, list[dict[str, Any]], Bundle | None]:
    """An instance's state, its open work items and the experience bundle of its version: what
    the customer-facing views (status texts, self-service steps) are drawn from."""
    with store.reading() as conn:
        repo = ProcessRepository(conn)
        loaded = repo.load(instance_id)
        if loaded is None:
            raise NotFoundError(f"no process instance {instance_id!r}")
        items = repo.query_work_items(instance_id=instance_id)
        bundle = _bundle_for(conn, loaded.definition_id)
    return state_from_dict(loaded.state), items, bundle


def customer_status(store: Store, instance_id: str) -> list[str]:
    """The customer-facing status texts of an instance's open steps and of the events it waits
    for (what a status page shows)."""
    state, items, bundle = instance_view(store, instance_id)
    texts: list[str] = []
    for item in items:
        task = bundle.tasks.get(item["element_id"]) if bundle else None
        text = render_status(task.status if task else None, state.vars)
        if text and text not in texts:
            texts.append(text)
    if bundle is not None:  # where the flow waits for the customer or another team
        for token in state.tokens.values():
            text = render_status(bundle.waiting.get(token.el), state.vars)
            if text and text not in texts:
                texts.append(text)
    return texts
