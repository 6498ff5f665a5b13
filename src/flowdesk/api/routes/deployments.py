"""Deployments: upload BPMN and DMN files (or a zip of them) or an experience bundle zip;
process definitions, their versions, XML and diagram. Bundle versions: routes/bundles.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from flowdesk.api.idempotency import fingerprint, idempotent
from flowdesk.api.problems import PROBLEM_JSON
from flowdesk.api.routes import bundles
from flowdesk.api.routes.common import InvalidInput, errors, ops_of, plain
from flowdesk.api.security import require
from flowdesk.app import deployments as use
from flowdesk.app.bundles import is_bundle_zip
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal
from flowdesk.core.errors import ModelError

router = APIRouter(prefix="/api/v1", tags=["deployments"])

MODEL_SUFFIXES = use.MODEL_SUFFIXES
MAX_FILES = use.MAX_FILES
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


class ProblemOut(BaseModel):
    """A deploy-time finding that did not stop the deployment (a warning)."""

    message: str
    file: str | None = None
    line: int | None = None
    element_id: str | None = None
    hint: str | None = None


class DeploymentOut(BaseModel):
    id: str
    name: str
    created_at: datetime | None = None
    actor: str | None = None
    resources: list[ResourceOut] = []
    definitions: list[DefinitionOut] = []
    warnings: list[ProblemOut] = []


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
                "severity": "error",
            }
        )
    first = listed[0]
    body = {
        "type": "urn:flowdesk:problem:invalid-model",
        "title": "Invalid model",
        "status": 422,
        "detail": str(items[0]) if len(items) == 1 else str(exc),
        **{k: v for k, v in first.items() if k not in ("message", "severity") and v is not None},
        "errors": listed,
    }
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


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
    collected = use.collect(uploads, limit)
    invalid = use.first_invalid(collected)
    if invalid is not None:
        return _model_problem(*invalid)
    label = name or ", ".join(f for f, _ in collected)[:200]
    request_hash = fingerprint(label, *(f"{f}:{fingerprint(c)}" for f, c in collected))
    ops = ops_of(request)

    def produce() -> tuple[int, Any]:
        out = DeploymentOut(**use.deploy(principal, ops, label, collected))
        return 201, plain(out.model_dump())

    return idempotent(request, principal, request_hash, produce)


@router.get("/deployments", response_model=list[DeploymentOut], responses=errors())
def list_deployments(
    request: Request, caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))]
) -> list[DeploymentOut]:
    return [DeploymentOut(**row) for row in use.deployments(caller, ops_of(request))]


@router.get("/process-definitions", response_model=list[DefinitionOut], responses=errors())
def list_definitions(
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
    latest: bool = False,
) -> list[DefinitionOut]:
    """Every deployed process definition (`latest=true`: only the newest version of each)."""
    found = use.definitions(caller, ops_of(request), latest=latest)
    return [DefinitionOut(**row) for row in found]


@router.get("/process-definitions/{key}", response_model=list[DefinitionOut], responses=errors(404))
def definition_versions(
    key: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> list[DefinitionOut]:
    """The versions of one process, oldest first."""
    return [DefinitionOut(**row) for row in use.versions(caller, ops_of(request), key)]


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
    caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> Response:
    resource = use.resource(caller, ops_of(request), definition_id)
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
    caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> Response:
    svg = use.diagram(caller, ops_of(request), definition_id)
    return Response(svg, media_type="image/svg+xml")


router.include_router(bundles.router)
