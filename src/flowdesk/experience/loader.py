"""Load and validate an experience bundle: every problem is collected, each with file, line, field.

Order of checks: read the files safely (files.py), parse `flow.yaml` with positions, check its
shape against the manifest schema, then the meaning: referenced files exist, the BPMN and DMN
files load, the process and every task id exist as user tasks in the BPMN, script conditions are
FEEL, forms are valid JSON Schemas, panels are known, SLAs are durations, articles have valid
front matter. Nothing is deployed unless the whole list is empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from flowdesk.bpmn.errors import BpmnModelError
from flowdesk.bpmn.model import Definitions
from flowdesk.bpmn.parser import parse_bpmn
from flowdesk.core.errors import ModelError
from flowdesk.dmn import load_model
from flowdesk.experience.bundle import (
    PANELS,
    Article,
    Bundle,
    ContactReason,
    KnowledgeQuery,
    Option,
    ScriptStep,
    TaskExperience,
)
from flowdesk.experience.errors import BundleError, Issue
from flowdesk.experience.files import DEFAULT_LIMITS, Limits, read_bundle_files
from flowdesk.experience.manifest import ARTICLE_SCHEMA, FLOW_SCHEMA
from flowdesk.experience.patterns import check_patterns
from flowdesk.experience.yamldoc import Located, Path_, YamlError, load_yaml
from flowdesk.feel import compile_expression
from flowdesk.feel.durations import parse_duration
from flowdesk.feel.errors import FeelLimitError, FeelSyntaxError

MANIFEST = "flow.yaml"
PLACEHOLDER = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Checker:
    """Collects issues for one bundle."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.issues: list[Issue] = []
        self.doc = Located(None)

    def at(self, path: Path_, message: str, *, file: str = MANIFEST) -> None:
        line, column = self.doc.where(path) if file == MANIFEST else (None, None)
        self.issues.append(Issue(file, message, line, column, _dotted(path) or None))

    def text(self, name: str, path: Path_) -> str | None:
        data = self.files.get(name)
        if data is None:
            self.at(path, f"file {name!r} is not in the bundle")
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.issues.append(Issue(name, f"not UTF-8 text (byte {exc.start})"))
            return None

    # -- flow.yaml ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        if MANIFEST not in self.files:
            self.issues.append(Issue(MANIFEST, "the bundle has no flow.yaml at its root"))
            return None
        text = self.text(MANIFEST, ())
        if text is None:
            return None
        try:
            self.doc = load_yaml(text)
        except YamlError as exc:
            self.issues.append(Issue(MANIFEST, exc.message, exc.line, exc.column))
            return None
        validator = jsonschema.Draft202012Validator(FLOW_SCHEMA)
        errors = sorted(validator.iter_errors(self.doc.data), key=lambda e: list(e.absolute_path))
        for error in errors:
            self.at(_error_path(error), _schema_message(error))
        # A task with a malformed field is left out of the semantic checks; any other shape
        # error stops here (the rest of the checks need name, process, files and reasons).
        paths = [list(e.absolute_path) for e in errors]
        if any(len(p) < 2 or p[0] != "tasks" for p in paths):
            return None
        manifest = dict(self.doc.data)
        broken = {p[1] for p in paths}
        if broken:
            manifest["tasks"] = {k: v for k, v in manifest["tasks"].items() if k not in broken}
        return manifest

    # -- models ------------------------------------------------------------------------------
    def bpmn(self, names: list[str]) -> list[Definitions]:
        loaded = []
        for index, name in enumerate(names):
            text = self.text(name, ("files", "bpmn", index))
            if text is None:
                continue
            try:
                loaded.append(parse_bpmn(text, filename=name))
            except BpmnModelError as exc:
                self.issues.extend(_from_model_error(e, name) for e in exc.errors)
            except ModelError as exc:
                self.issues.append(_from_model_error(exc, name))
        return loaded

    def dmn(self, names: list[str]) -> set[str] | None:
        """Load the DMN files; the ids and names of their decisions (None if one failed)."""
        decisions: set[str] | None = set()
        for index, name in enumerate(names):
            text = self.text(name, ("files", "dmn", index))
            if text is None:
                decisions = None
                continue
            try:
                model = load_model(text)
            except ModelError as exc:
                self.issues.append(_from_model_error(exc, name))
                decisions = None
                continue
            if decisions is not None:
                for key, decision in model.decisions.items():
                    decisions.update((key, decision.id, decision.name))
        return decisions

    def decision_refs(self, definitions: list[Definitions], decisions: set[str]) -> None:
        """Every business rule task must call a decision of the bundle's DMN files."""
        for d in definitions:
            for process in d.processes.values():
                for node in process.nodes.values():
                    ref = node.task.decision_ref if node.task else None
                    if ref is None or ref.startswith("=") or ref in decisions:
                        continue
                    known = ", ".join(sorted(decisions)) or "no DMN file in files.dmn"
                    self.issues.append(
                        Issue(
                            d.file or "bpmn",
                            f"business rule task calls decision {ref!r}, not in the bundle "
                            f"(decisions: {known})",
                            node.line,
                            None,
                            node.id,
                        )
                    )

    # -- tasks -------------------------------------------------------------------------------
    def task(
        self, task_id: str, spec: dict[str, Any], user_tasks: dict[str, str]
    ) -> TaskExperience:
        base: Path_ = ("tasks", task_id)
        if user_tasks and task_id not in user_tasks:
            known = ", ".join(sorted(user_tasks)) or "none"
            self.at(base, f"no user task {task_id!r} in the BPMN (user tasks: {known})")
        steps = self.script(base, spec.get("script", []))
        for index, panel in enumerate(spec.get("panels", [])):
            if panel not in PANELS:
                self.at(
                    (*base, "panels", index),
                    f"unknown panel {panel!r} (known: {', '.join(sorted(PANELS))})",
                )
        status = spec.get("status")
        if status is not None:
            self.placeholders((*base, "status"), status)
        sla = spec.get("sla")
        if sla is not None:
            self.duration((*base, "sla"), sla)
        queries = []
        for item in spec.get("knowledge", []):
            if isinstance(item, str):
                queries.append(KnowledgeQuery(item))
            else:
                queries.append(KnowledgeQuery(item["query"], tuple(item.get("tags", ()))))
        form = self.form((*base, "form"), spec.get("form"))
        if form is not None:
            # the script and the form fill the same variables (one step, several renderings)
            fields = form.get("properties", {})
            for index, step in enumerate(steps):
                if step.variable is not None and step.variable not in fields:
                    self.at(
                        (*base, "script", index, "variable"),
                        f"the script asks for {step.variable!r} but the form has no such property",
                    )
        return TaskExperience(
            task=task_id,
            title=spec.get("title"),
            script=steps,
            knowledge=tuple(queries),
            panels=tuple(spec.get("panels", ())),
            form=form,
            status=status,
            sla=sla,
            skills={str(k): int(v) for k, v in (spec.get("skills") or {}).items()},
        )

    def placeholders(self, path: Path_, text: str) -> None:
        for match in PLACEHOLDER.finditer(text):
            if not _IDENTIFIER.match(match.group(1)):
                self.at(path, f"placeholder {match.group(0)!r} is not a name")

    def script(self, base: Path_, steps: list[dict[str, Any]]) -> tuple[ScriptStep, ...]:
        out: list[ScriptStep] = []
        seen_ids: set[str] = set()
        seen_vars: set[str] = set()
        for index, raw in enumerate(steps):
            path = (*base, "script", index)
            if raw["id"] in seen_ids:
                self.at((*path, "id"), f"step id {raw['id']!r} is used twice in this script")
            seen_ids.add(raw["id"])
            variable = raw.get("variable")
            if variable is not None and variable in seen_vars:
                self.at((*path, "variable"), f"variable {variable!r} is asked twice")
            if variable is not None:
                seen_vars.add(variable)
            kind = raw.get("type", "choice" if raw.get("options") else "text")
            if kind == "choice" and not raw.get("options"):
                self.at((*path, "type"), "a choice step needs options")
            if kind not in ("info",) and variable is None:
                self.at(path, f"a {kind} step needs a variable to store the answer in")
            when = raw.get("when")
            if when is not None:
                self.condition((*path, "when"), when)
            out.append(
                ScriptStep(
                    id=raw["id"],
                    question=raw["question"],
                    help=raw.get("help"),
                    variable=variable,
                    type=kind,
                    options=tuple(_option(o) for o in raw.get("options", ())),
                    required=raw.get("required", kind != "info"),
                    when=when,
                )
            )
        return tuple(out)

    def condition(self, path: Path_, text: str) -> None:
        try:
            compile_expression(text)
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
            self.issues.append(Issue(MANIFEST, detail, line, column, _dotted(path)))
        except FeelLimitError as exc:
            self.at(path, f"FEEL condition too complex: {exc.message}")

    def duration(self, path: Path_, text: str) -> timedelta | None:
        try:
            value = parse_duration(text)
        except Exception:
            value = None
        if not isinstance(value, timedelta) or value <= timedelta(0):
            self.at(path, f"{text!r} is not a positive ISO 8601 duration such as PT4H or P2D")
            return None
        return value

    def form(self, path: Path_, form: str | dict[str, Any] | None) -> dict[str, Any] | None:
        if form is None:
            return None
        if isinstance(form, dict):
            return self.schema(form, path, MANIFEST, self.doc)
        text = self.text(form, path)
        if text is None:
            return None
        try:
            doc = load_yaml(text)
        except YamlError:
            try:
                doc = Located(json.loads(text))
            except json.JSONDecodeError as exc:
                self.issues.append(Issue(form, exc.msg, exc.lineno, exc.colno))
                return None
        if not isinstance(doc.data, dict):
            self.issues.append(Issue(form, "a form must be a JSON Schema object", 1, 1))
            return None
        return self.schema(doc.data, (), form, doc)

    def schema(
        self, schema: dict[str, Any], base: Path_, file: str, doc: Located
    ) -> dict[str, Any] | None:
        try:
            json.dumps(schema)
        except (TypeError, ValueError) as exc:
            line, column = doc.where(base)
            self.issues.append(
                Issue(file, f"a form must be plain JSON ({exc}; quote dates)", line, column)
            )
            return None
        checker = validator_for(schema, default=jsonschema.Draft202012Validator)
        problems = list(checker(checker.META_SCHEMA).iter_errors(schema))
        for problem in problems:
            path = (*base, *problem.absolute_path)
            line, column = doc.where(path)
            detail = f"invalid JSON Schema: {_schema_message(problem)}"
            self.issues.append(Issue(file, detail, line, column, _dotted(path) or None))
        if not problems and schema.get("type", "object") != "object":
            line, column = doc.where((*base, "type"))
            self.issues.append(Issue(file, "a form schema must be of type object", line, column))
        return None if problems else schema

    # -- knowledge ---------------------------------------------------------------------------
    def articles(self, entries: list[str], user_tasks: dict[str, str]) -> list[Article]:
        names: list[str] = []
        for index, entry in enumerate(entries):
            prefix = entry.rstrip("/") + "/"
            inside = sorted(n for n in self.files if n.startswith(prefix) and n.endswith(".md"))
            if entry in self.files:
                names.append(entry)
            elif inside:
                names.extend(inside)
            else:
                self.at(("files", "knowledge", index), f"file {entry!r} is not in the bundle")
        out: list[Article] = []
        slugs: dict[str, str] = {}
        for name in names:
            article = self.article(name, user_tasks)
            if article is None:
                continue
            if article.slug in slugs:
                self.issues.append(
                    Issue(name, f"slug {article.slug!r} also used by {slugs[article.slug]}", 1, 1)
                )
            slugs[article.slug] = name
            out.append(article)
        return out

    def article(self, name: str, user_tasks: dict[str, str]) -> Article | None:
        raw = self.files[name]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.issues.append(Issue(name, "not UTF-8 text"))
            return None
        match = _FRONT.match(text)
        if match is None:
            self.issues.append(Issue(name, "no front matter (a --- block with title)", 1, 1))
            return None
        try:
            front = load_yaml(match.group(1))
        except YamlError as exc:
            line = exc.line + 1 if exc.line is not None else None
            self.issues.append(Issue(name, exc.message, line, exc.column))
            return None

        def here(path: Path_, message: str) -> None:
            line, column = front.where(path)
            self.issues.append(
                Issue(name, message, None if line is None else line + 1, column, _dotted(path))
            )

        validator = jsonschema.Draft202012Validator(ARTICLE_SCHEMA)
        errors = list(validator.iter_errors(front.data))
        for error in errors:
            here(_error_path(error), _schema_message(error))
        if errors:
            return None
        data: dict[str, Any] = front.data
        for index, step in enumerate(data.get("steps", [])):
            if user_tasks and step not in user_tasks:
                here(("steps", index), f"no user task {step!r} in the bundle's BPMN")
        body = text[match.end() :].strip()
        if not body:
            self.issues.append(Issue(name, "the article has no text", None, None, "body"))
        return Article(
            slug=data.get("slug") or Path(name).stem,
            title=data["title"],
            body=body,
            file=name,
            reasons=tuple(data.get("reasons", ())),
            steps=tuple(data.get("steps", ())),
            segments=tuple(data.get("segments", ())),
            tags=tuple(data.get("tags", ())),
        )


def _option(raw: str | dict[str, Any]) -> Option:
    if isinstance(raw, str):
        return Option(raw, raw)
    value = raw["value"]
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return Option(text, str(raw["label"]))


def _error_path(error: jsonschema.ValidationError) -> Path_:
    """Where an error is: an unknown field's own key rather than the mapping around it."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(k for k in error.instance if k not in allowed)
        if len(extra) == 1:
            return (*path, extra[0])
    return path


def _schema_message(error: jsonschema.ValidationError | SchemaError) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(k for k in error.instance if k not in allowed)
        return f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "pattern" and list(error.absolute_path) == ["owner"]:
        return (
            f"owner {error.instance!r} is not a user name or department id "
            "(2-100 lower-case letters, digits, '.', '_' or '-')"
        )
    if error.validator == "oneOf" and isinstance(error.schema, dict):
        return f"{error.instance!r} is neither a text nor a mapping of the allowed fields"
    return error.message


def _from_model_error(exc: ModelError, file: str) -> Issue:
    pos = exc.position
    if pos is None:
        return Issue(file, exc.message)
    return Issue(pos.file or file, exc.message, pos.line, pos.column, pos.element_id)


def _user_tasks(definitions: list[Definitions]) -> dict[str, str]:
    return {
        node.id: key
        for d in definitions
        for key, process in d.processes.items()
        for node in process.nodes.values()
        if node.type == "userTask"
    }


def _wait_nodes(definitions: list[Definitions]) -> set[str]:
    """Nodes where an instance waits for the outside world (the customer, another team)."""
    kinds = ("intermediateCatchEvent", "receiveTask", "eventBasedGateway")
    return {
        node.id
        for d in definitions
        for process in d.processes.values()
        for node in process.nodes.values()
        if node.type in kinds
    }


def validate_files(name: str, files: dict[str, bytes]) -> Bundle:
    """Validate the files of a bundle; a Bundle, or BundleError with every issue found."""
    checker = _Checker(files)
    manifest = checker.manifest()
    if manifest is None:
        raise BundleError(checker.issues)
    spec_files: dict[str, list[str]] = manifest["files"]
    definitions = checker.bpmn(spec_files["bpmn"])
    decisions = checker.dmn(spec_files.get("dmn", []))
    if decisions is not None:
        checker.decision_refs(definitions, decisions)
    bpmn_failed = len(definitions) < len(spec_files["bpmn"])
    user_tasks = {} if bpmn_failed else _user_tasks(definitions)
    processes = {key for d in definitions for key, p in d.processes.items() if p.executable}
    if not bpmn_failed and manifest["process"] not in processes:
        checker.at(
            ("process",),
            f"no executable process {manifest['process']!r} in the BPMN files "
            f"(found: {', '.join(sorted(processes)) or 'none'})",
        )
    tasks = {
        task_id: checker.task(task_id, spec, user_tasks)
        for task_id, spec in manifest.get("tasks", {}).items()
    }
    waits = _wait_nodes(definitions)
    for node_id, text in manifest.get("waiting", {}).items():
        if not bpmn_failed and node_id not in waits:
            known = ", ".join(sorted(waits)) or "none"
            checker.at(
                ("waiting", node_id),
                f"no catch event, receive task or event gateway {node_id!r} in the BPMN "
                f"(waiting points: {known})",
            )
        checker.placeholders(("waiting", node_id), text)
    reason_ids: set[str] = set()
    for index, reason in enumerate(manifest["reasons"]):
        if reason["id"] in reason_ids:
            checker.at(("reasons", index, "id"), f"reason {reason['id']!r} is listed twice")
        reason_ids.add(reason["id"])
    articles = checker.articles(spec_files.get("knowledge", []), user_tasks)
    checker.issues += check_patterns(files)[1]  # event patterns (patterns/*.yaml)
    if checker.issues:
        raise BundleError(checker.issues)
    version = manifest.get("version")
    return Bundle(
        name=manifest["name"],
        process=manifest["process"],
        title=manifest.get("title"),
        version=None if version is None else str(version),
        description=manifest.get("description"),
        owner=manifest.get("owner"),
        reasons=tuple(
            ContactReason(r["id"], r["name"], r.get("description"), tuple(r.get("channels", ())))
            for r in manifest["reasons"]
        ),
        bpmn=tuple(spec_files["bpmn"]),
        dmn=tuple(spec_files.get("dmn", ())),
        tasks=tasks,
        waiting=dict(manifest.get("waiting", {})),
        articles=tuple(articles),
        files=files,
    )


def load_bundle(source: str | Path | bytes, *, limits: Limits = DEFAULT_LIMITS) -> Bundle:
    """Read (folder, flow.yaml path, .zip path or zip bytes) and validate a bundle."""
    name, files = read_bundle_files(source, limits=limits)
    return validate_files(name, files)
