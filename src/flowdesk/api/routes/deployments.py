"""Deployments: upload BPMN and DMN files (or a zip of them) or an experience bundle zip;
process definitions, their versions, XML and diagram. Bundle versions: routes/bundles.py."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from flowdesk.api.idempotency import fingerprint, idempotent
from flowdesk.api.problems import PROBLEM_JSON
from flowdesk.api.routes import bundles
from flowdesk.api.routes.common import InvalidInput, errors, plain, runtime_of, store_of
from flowdesk.api.security import require
from flowdesk.app.bundles import is_bundle_zip
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal
from flowdesk.bpmn.svg import render_svg
from flowdesk.core.errors import ModelError, NotFoundError
from flowdesk.dmn import load_model
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store.processes import ProcessRepository
from flowdesk.store.service_repo import deployments_with_resources

router = APIRouter(prefix="/api/v1", tags=["deployments"])

MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".dmn11.xml")
MAX_FILES = 200
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")


class DefinitionOut(BaseModel):
    id: str
    key: str
    version: int
    name: str | None
    deployment_id: str | None = None
    resource_id: str | None = None
    sha256: str | None = None
    created_at: datetime | None = None
    new: bool | None = None


class ResourceOut(BaseModel):
    id: str
    name: str
    kind: str
    sha256: str


class DeploymentOut(BaseModel):
    id: str
    name: str
    created_at: datetime | None = None
    actor: str | None = None
    resources: list[ResourceOut] = []
    definitions: list[DefinitionOut] = []


def _model_files(name: str, content: bytes, limit: int) -> list[tuple[str, bytes]]:
    """The model files of one upload: itself, or the BPMN/DMN members of a zip."""
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


def _model_problem(filename: str, exc: ModelError) -> JSONResponse:
    """422 naming the file, line and element of the first problem, and listing all of them."""
    items = list(getattr(exc, "errors", ()) or [exc])
    listed = []
    for item in items:
        pos = item.position
        listed.append(
            {
                "file": (pos.file if pos and pos.file else filename),
                "line": pos.line if pos else None,
                "column": pos.column if pos else None,
                "element_id": pos.element_id if pos else None,
                "message": item.message,
                "hint": item.hint,
            }
        )
    first = listed[0]
    body = {
        "type": "urn:flowdesk:problem:invalid-model",
        "title": "Invalid model",
        "status": 422,
        "detail": str(items[0]) if len(items) == 1 else str(exc),
        **{k: v for k, v in first.items() if k != "message" and v is not None},
        "errors": listed,
    }
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


def _validate(files: list[tuple[str, bytes]]) -> JSONResponse | None:
    from flowdesk.bpmn.parser import parse_bpmn

    for filename, content in files:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{filename}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        try:
            if filename.lower().endswith((".dmn", ".dmn11.xml")):
                load_model(text)
            else:
                parse_bpmn(content, filename=filename)
        except ModelError as exc:
            return _model_problem(filename, exc)
    return None


async def _zip_body(request: Request) -> bytes | None:
    """The raw body of an `application/zip` request (a bundle); None for a form upload."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return await request.body() if content_type in ZIP_TYPES else None


@router.post(
    "/deployments",
    response_model=DeploymentOut | bundles.BundleDeployOut,
    status_code=201,
    responses={
        **errors(409, 413),
        200: {"model": bundles.BundleDeployOut, "description": "Bundle already current"},
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "application/zip": {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "description": "an experience bundle: flow.yaml, BPMN, DMN, forms, "
                        "knowledge (see docs/bundles.md)",
                    }
                }
            }
        }
    },
)
def create_deployment(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.DEPLOY))],
    zip_body: Annotated[bytes | None, Depends(_zip_body)],
    files: Annotated[
        list[UploadFile] | None,
        File(description=".bpmn, .dmn or .zip files, or one experience bundle .zip"),
    ] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Deploy BPMN and DMN files, or zips of them. Every file is validated first; an invalid
    model is a 422 naming the file, line and element, and nothing is deployed. A changed
    process becomes a new version; an unchanged one keeps its version.

    An experience bundle (a zip with flow.yaml; as the `application/zip` body or the one file of
    the form) deploys whole: its contact reasons start its flow from then on. Answers the
    bundle's new version (201), or its current one when the same files were deployed already
    (200, nothing written); problems list every issue with file, line and column (422), and a
    zip that unpacks past the limits is a 413."""
    if zip_body is not None:
        return bundles.bundle_deployed(request, principal, zip_body, name or "bundle.zip")
    if not files:
        raise InvalidInput(
            "no files were uploaded",
            hint="send .bpmn/.dmn files as the multipart field 'files', or a bundle zip as "
            "an application/zip body",
        )
    limit = int(request.app.state.settings.max_body_bytes) * 10
    uploads = [(upload.filename or "upload", upload.file.read()) for upload in files]
    for filename, content in uploads:
        if filename.lower().endswith(".zip") and is_bundle_zip(content):
            if len(uploads) > 1:
                raise InvalidInput(
                    f"{filename}: an experience bundle deploys on its own",
                    hint="upload the bundle zip alone, and other models in another request",
                )
            return bundles.bundle_deployed(request, principal, content, filename)
    collected: list[tuple[str, bytes]] = []
    for filename, content in uploads:
        collected.extend(_model_files(filename, content, limit))
    seen: set[str] = set()
    for filename, _ in collected:
        if filename in seen:
            raise InvalidInput(f"{filename}: the file is uploaded twice")
        seen.add(filename)
    problem = _validate(collected)
    if problem is not None:
        return problem
    label = name or ", ".join(f for f, _ in collected)[:200]
    request_hash = fingerprint(label, *(f"{f}:{fingerprint(c)}" for f, c in collected))
    runtime = runtime_of(request)

    def produce() -> tuple[int, Any]:
        deployment = runtime.deploy(label, collected, actor=principal.username)
        out = DeploymentOut(
            id=deployment.id,
            name=deployment.name,
            definitions=[
                DefinitionOut(id=d.id, key=d.key, version=d.version, name=d.name, new=d.new)
                for d in deployment.definitions
            ],
        )
        return 201, plain(out.model_dump())

    return idempotent(request, principal, request_hash, produce)


@router.get("/deployments", response_model=list[DeploymentOut], responses=errors())
def list_deployments(
    request: Request, _: Annotated[Principal, Depends(require(Permission.MODELS_READ))]
) -> list[DeploymentOut]:
    return [DeploymentOut(**row) for row in deployments_with_resources(store_of(request))]


def _definitions(runtime: ProcessRuntime) -> list[DefinitionOut]:
    return [DefinitionOut(**row) for row in runtime.definitions()]


@router.get("/process-definitions", response_model=list[DefinitionOut], responses=errors())
def list_definitions(
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
    latest: bool = False,
) -> list[DefinitionOut]:
    """Every deployed process definition (`latest=true`: only the newest version of each)."""
    found = _definitions(runtime_of(request))
    if latest:
        newest: dict[str, DefinitionOut] = {}
        for d in found:
            if d.key not in newest or d.version > newest[d.key].version:
                newest[d.key] = d
        found = list(newest.values())
    return found


@router.get("/process-definitions/{key}", response_model=list[DefinitionOut], responses=errors(404))
def definition_versions(
    key: str,
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> list[DefinitionOut]:
    """The versions of one process, oldest first."""
    versions = [d for d in _definitions(runtime_of(request)) if d.key == key]
    if not versions:
        raise NotFoundError(f"no process '{key}' is deployed")
    return versions


def _resource(request: Request, definition_id: str) -> dict[str, Any]:
    with store_of(request).reading() as conn:
        repo = ProcessRepository(conn)
        definition = repo.definition(definition_id)
        resource = repo.resource(definition["resource_id"]) if definition else None
    if definition is None or resource is None:
        raise NotFoundError(
            f"no process definition {definition_id!r}", hint="ids look like 'key:version'"
        )
    return resource


@router.get(
    "/process-definitions/{definition_id}/xml",
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {}}, "description": "The BPMN XML as deployed"},
        **errors(404),
    },
)
def definition_xml(
    definition_id: str,
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> Response:
    resource = _resource(request, definition_id)
    return Response(resource["content"], media_type="application/xml")


@router.get(
    "/process-definitions/{definition_id}/diagram.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The diagram, from the BPMN DI"},
        **errors(404),
    },
)
def definition_diagram(
    definition_id: str,
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> Response:
    resource = _resource(request, definition_id)
    definitions = runtime_of(request).registry.parse(
        resource["content"], resource["name"], resource["sha256"]
    )
    return Response(render_svg(definitions), media_type="image/svg+xml")


router.include_router(bundles.router)
