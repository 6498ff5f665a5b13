"""Process and decision models: deploy BPMN and DMN files (or zips of them), list deployments and
definitions, a definition's XML and diagram. Every file is checked before anything is written,
so a bad model deploys nothing; a changed process becomes a new version. Experience bundles
deploy through `app.bundles`."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import InvalidInput
from flowdesk.auth.roles import Permission
from flowdesk.bpmn.parser import import_bpmn
from flowdesk.bpmn.svg import render_svg
from flowdesk.core.errors import ModelError, NotFoundError
from flowdesk.core.xmlsafe import xml_text
from flowdesk.dmn import load_model
from flowdesk.store.processes import ProcessRepository
from flowdesk.store.service_repo import deployments_with_resources

MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".dmn11.xml")
MAX_FILES = 200


def model_files(name: str, content: bytes, limit: int) -> list[tuple[str, bytes]]:
    """The model files of one upload: itself, or the BPMN/DMN members of a zip (at most
    `limit` bytes unpacked and MAX_FILES files: a zip bomb is refused, not unpacked)."""
    lower = name.lower()
    if lower.endswith(MODEL_SUFFIXES):
        return [(name, content)]
    if not lower.endswith(".zip"):
        raise InvalidInput(
            f"{name}: not a deployable file",
            hint="upload .bpmn, .dmn or a .zip of them",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [m for m in archive.infolist() if not m.is_dir()]
        out: list[tuple[str, bytes]] = []
        total = 0
        for member in members:
            if not member.filename.lower().endswith(MODEL_SUFFIXES):
                continue
            total += member.file_size
            if total > limit or len(out) >= MAX_FILES:
                raise InvalidInput(
                    f"{name}: the archive unpacks to more than {limit} bytes or {MAX_FILES} files"
                )
            out.append((member.filename, archive.read(member)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise InvalidInput(f"{name}: not a readable zip archive ({exc})") from exc
    if not out:
        raise InvalidInput(f"{name}: the archive holds no .bpmn or .dmn file")
    return out


def collect(uploads: Sequence[tuple[str, bytes]], limit: int) -> list[tuple[str, bytes]]:
    """The model files of every upload, each name once."""
    collected: list[tuple[str, bytes]] = []
    for filename, content in uploads:
        collected.extend(model_files(filename, content, limit))
    seen: set[str] = set()
    for filename, _ in collected:
        if filename in seen:
            raise InvalidInput(f"{filename}: the file is uploaded twice")
        seen.add(filename)
    return collected


def first_invalid(files: Sequence[tuple[str, bytes]]) -> tuple[str, ModelError] | None:
    """The first file whose model does not parse, with its problems (file, line, element)."""
    for filename, content in files:
        try:
            text = xml_text(content)
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{filename}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        try:
            if filename.lower().endswith((".dmn", ".dmn11.xml")):
                load_model(text)
            else:
                import_bpmn(text, filename=filename).executable()
        except ModelError as exc:
            return filename, exc
    return None


def deploy(
    caller: Caller, ops: Ops, label: str, files: Sequence[tuple[str, bytes]]
) -> dict[str, Any]:
    """Deploy checked model files as one deployment: its id, name and definitions (`new` says
    whether a definition is a new version)."""
    require(caller, Permission.DEPLOY)
    deployment = ops.runtime.deploy(label, files, actor=caller.username)
    return {
        "id": deployment.id,
        "name": deployment.name,
        "definitions": [
            {"id": d.id, "key": d.key, "version": d.version, "name": d.name, "new": d.new}
            for d in deployment.definitions
        ],
        "warnings": [problem(w) for w in deployment.warnings],
    }


def problem(error: ModelError) -> dict[str, Any]:
    """One deploy-time finding as JSON: message, file, line, element id, hint."""
    where = error.position
    return {
        "message": error.message,
        "file": where.file if where else None,
        "line": where.line if where else None,
        "element_id": where.element_id if where else None,
        "hint": error.hint,
    }


def deployments(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    require(caller, Permission.MODELS_READ)
    return deployments_with_resources(ops.store)


def definitions(caller: Caller, ops: Ops, *, latest: bool = False) -> list[dict[str, Any]]:
    """Every deployed process definition (`latest`: only the newest version of each key)."""
    require(caller, Permission.MODELS_READ)
    found = ops.runtime.definitions()
    if latest:
        newest: dict[str, dict[str, Any]] = {}
        for d in found:
            if d["key"] not in newest or d["version"] > newest[d["key"]]["version"]:
                newest[d["key"]] = d
        found = list(newest.values())
    return found


def versions(caller: Caller, ops: Ops, key: str) -> list[dict[str, Any]]:
    """The versions of one process, oldest first."""
    found = [d for d in definitions(caller, ops) if d["key"] == key]
    if not found:
        raise NotFoundError(f"no process '{key}' is deployed")
    return found


def resource(caller: Caller, ops: Ops, definition_id: str) -> dict[str, Any]:
    """The deployed file of a definition (name, content, sha256)."""
    require(caller, Permission.MODELS_READ)
    with ops.store.reading() as conn:
        repo = ProcessRepository(conn)
        definition = repo.definition(definition_id)
        found = repo.resource(definition["resource_id"]) if definition else None
    if definition is None or found is None:
        raise NotFoundError(
            f"no process definition {definition_id!r}", hint="ids look like 'key:version'"
        )
    return found


def diagram(caller: Caller, ops: Ops, definition_id: str) -> str:
    """The definition's diagram as SVG, from its BPMN DI."""
    found = resource(caller, ops, definition_id)
    parsed = ops.runtime.registry.parse(found["content"], found["name"], found["sha256"])
    return render_svg(parsed)
