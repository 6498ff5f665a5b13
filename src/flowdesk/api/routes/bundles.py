"""Experience bundle versions over HTTP: list the versions of a flow, compare two, roll back.

Deploying a bundle is `POST /api/v1/deployments` with the zip (deployments.py hands it to
`bundle_deployed` here). Every route calls the app layer (`flowdesk.app.bundles`) only; a bundle
that cannot be deployed is a problem document listing every issue with its file, line and
column (422), or 413 when it holds too much.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from flowdesk.api.idempotency import fingerprint, idempotent
from flowdesk.api.problems import PROBLEM_JSON, STATUS_BY_CODE
from flowdesk.api.routes.common import errors, ops_of, plain
from flowdesk.api.security import require
from flowdesk.app import bundles
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(tags=["bundles"])


class BundleVersionOut(BaseModel):
    number: int = Field(description="1, 2, ... per bundle name; the last one is current")
    bundle_id: str
    name: str
    label: str | None = Field(None, description="flow.yaml's own `version`")
    title: str | None = None
    process_key: str
    sha256: str
    deployed_at: datetime
    actor: str | None = None
    definitions: list[str] = Field(description="process definition ids it runs on")
    current: bool
    same_as: int | None = Field(None, description="an earlier version with the same files")


class BundleDeployOut(BundleVersionOut):
    created: bool = Field(description="false: these files were current already, nothing written")
    deployment_id: str | None = None
    reasons: list[str] = []
    articles: list[str] = []


class FileChangeOut(BaseModel):
    name: str
    change: str = Field(description="added, removed or changed")
    diff: str | None = Field(None, description="unified diff of a changed text file")
    binary: bool = False


class BundleDiffOut(BaseModel):
    name: str
    from_: int = Field(alias="from")
    to: int
    files: list[FileChangeOut]
    unchanged: list[str]


class RollbackIn(BaseModel):
    version: int = Field(ge=1, description="The version new contacts and instances should use")


def bundle_problem(exc: bundles.BundleError) -> JSONResponse:
    """Every issue of a bundle with its place; 413 when it is too large, 422 otherwise."""
    status = STATUS_BY_CODE.get(exc.code, 422)
    issues = [i.to_dict() for i in exc.issues]
    first = issues[0] if issues else {}
    body: dict[str, Any] = {
        "type": f"urn:flowdesk:problem:{exc.code}",
        "title": "Bundle too large" if status == 413 else "Invalid bundle",
        "status": status,
        "detail": exc.message,
        **{k: first[k] for k in ("file", "line", "column") if first.get(k) is not None},
        "errors": issues,
    }
    if first.get("field"):
        body["element_id"] = first["field"]
    if exc.hint:
        body["hint"] = exc.hint
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _deployed(outcome: bundles.DeployOutcome) -> tuple[int, Any]:
    return (201 if outcome.created else 200), plain(outcome.to_dict())


def _guarded(work: Callable[[], Response]) -> Response:
    try:
        return work()
    except bundles.BundleError as exc:
        return bundle_problem(exc)


def bundle_deployed(
    request: Request, principal: Principal, data: bytes, filename: str = "bundle.zip"
) -> Response:
    """Deploy a bundle zip through the app layer (Idempotency-Key honoured): 201 with the new
    version, 200 when the same files were current already."""
    request_hash = fingerprint("bundle", filename, fingerprint(data))

    def produce() -> tuple[int, Any]:
        return _deployed(bundles.deploy(principal, ops_of(request), data, filename=filename))

    return _guarded(lambda: idempotent(request, principal, request_hash, produce))


@router.get(
    "/bundles/{name}/versions", response_model=list[BundleVersionOut], responses=errors(404)
)
def bundle_versions(
    name: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> list[BundleVersionOut]:
    """The versions of a flow's bundle, oldest first; the last one is current (new contacts
    with its reasons and new instances start it)."""
    found = bundles.versions(principal, ops_of(request), name)
    return [BundleVersionOut(**v.to_dict()) for v in found]


@router.get("/bundles/{name}/diff", response_model=BundleDiffOut, responses=errors(404, 409))
def bundle_diff(
    name: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
    old: Annotated[int, Query(alias="from", ge=1, description="Version to compare from")],
    new: Annotated[int, Query(alias="to", ge=1, description="Version to compare to")],
) -> JSONResponse:
    """Which files differ between two versions, with a unified diff of each changed text file
    (409 for a version deployed before bundle files were kept)."""
    found = bundles.diff(principal, ops_of(request), name, old, new)
    return JSONResponse(found.to_dict())


@router.post(
    "/bundles/{name}/rollback",
    status_code=201,
    response_model=BundleDeployOut,
    responses={
        **errors(404, 409),
        200: {"model": BundleDeployOut, "description": "Already current"},
    },
)
def bundle_rollback(
    name: str,
    body: RollbackIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.DEPLOY))],
) -> Response:
    """Make an earlier version the one new contacts and new instances use: its files are
    deployed again as a new version (running instances keep the version they started on)."""

    def work() -> Response:
        status, out = _deployed(bundles.rollback(principal, ops_of(request), name, body.version))
        return JSONResponse(out, status_code=status)

    return _guarded(work)
