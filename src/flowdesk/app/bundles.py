"""Experience bundles through the front doors: deploy a bundle (a folder or zip bytes), list the
versions of a flow, compare two versions, roll back to an earlier one.

The REST routes and the CLI both call these, so the checks are the same at either door: the
caller's permission (deploy and roll back need `deployments:write`, reading versions and diffs
`deployments:read`), safe reading of uploads (no path traversal, absolute paths or links; file
count and unpacked size limited on the bytes actually inflated), and full validation with file,
line and column before anything is written. Deploying the files of the current version again
writes nothing and answers that version (`created` is false), so retries are harmless.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.experience.bundle import Bundle
from flowdesk.experience.errors import BundleError as BundleError
from flowdesk.experience.files import DEFAULT_LIMITS, Limits, read_bundle_files, read_zip
from flowdesk.experience.loader import validate_files
from flowdesk.experience.service import BundleDeployment, bundle_sha, deploy_bundle
from flowdesk.experience.service import flows as list_flows
from flowdesk.experience.versions import (
    BundleDiff,
    BundleVersion,
    latest,
    version,
    version_files,
)
from flowdesk.experience.versions import diff as diff_versions
from flowdesk.experience.versions import versions as list_versions
from flowdesk.nba.catalog import check_bundle_actions
from flowdesk.nba.service import engine_for

MANIFEST = "flow.yaml"


def _validate(name: str, files: dict[str, bytes]) -> Bundle:
    """The bundle's own checks and its next-best-action catalog (actions/*.yaml), every issue
    of both in one BundleError."""
    issues = check_bundle_actions(files)
    try:
        bundle = validate_files(name, files)
    except BundleError as exc:
        raise BundleError([*exc.issues, *issues]) from None
    if issues:
        raise BundleError(issues)
    return bundle


@dataclass(frozen=True, slots=True)
class DeployOutcome:
    """The version that is current after a deploy or rollback; `created` is false when it was
    current already (the same files), in which case nothing was written."""

    version: BundleVersion
    created: bool
    deployment: BundleDeployment | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"created": self.created, **self.version.to_dict()}
        if self.deployment is not None:
            out["deployment_id"] = self.deployment.deployment.id
            out["reasons"] = self.deployment.reasons
            out["articles"] = self.deployment.articles
        return out


def is_bundle_zip(data: bytes) -> bool:
    """Whether a zip holds a bundle (flow.yaml at its root or in its one top folder) rather than
    loose BPMN/DMN files. Reads the zip's directory only."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        return False
    if MANIFEST in names:
        return True
    tops = {n.split("/", 1)[0] for n in names}
    return len(tops) == 1 and f"{next(iter(tops))}/{MANIFEST}" in names


def validate(source: Path | bytes, *, limits: Limits = DEFAULT_LIMITS) -> Bundle:
    """Read and check a bundle (folder, flow.yaml, .zip path or zip bytes) exactly as deploy
    does, actions catalog included, writing nothing (`flowdesk bundle validate`)."""
    name, files = read_bundle_files(source, limits=limits)
    return _validate(name, files)


def deploy(
    caller: Caller,
    ops: Ops,
    source: Path | bytes,
    *,
    filename: str = "bundle.zip",
    limits: Limits = DEFAULT_LIMITS,
) -> DeployOutcome:
    """Deploy a bundle from a folder, a flow.yaml or .zip path, or zip bytes (an upload named
    `filename`). BundleError (422, every problem with its place), UnsafeBundleError (422) or
    BundleTooLargeError (413) when it cannot be; nothing is written then."""
    require(caller, Permission.DEPLOY)
    if isinstance(source, bytes):
        name, files = (
            Path(filename).stem or "bundle",
            read_zip(source, source=filename, limits=limits),
        )
    else:
        name, files = read_bundle_files(source, limits=limits)
    bundle = _validate(name, files)
    current = latest(ops.store, bundle.name)
    if current is not None and current.has_files and current.sha256 == bundle_sha(bundle):
        return DeployOutcome(current, created=False)
    result = deploy_bundle(ops.runtime, ops.store, bundle, actor=caller.username)
    engine_for(ops.store, ops.clock).invalidate()
    return DeployOutcome(version(ops.store, bundle.name, result.number), True, result)


def versions(caller: Caller, ops: Ops, name: str) -> list[BundleVersion]:
    """Every version of a flow's bundle, oldest first; the last one is current."""
    require(caller, Permission.MODELS_READ)
    return list_versions(ops.store, name)


def diff(caller: Caller, ops: Ops, name: str, old: int, new: int) -> BundleDiff:
    """The files that differ between two versions, with unified diffs of changed text files."""
    require(caller, Permission.MODELS_READ)
    return diff_versions(ops.store, name, old, new)


def rollback(caller: Caller, ops: Ops, name: str, number: int) -> DeployOutcome:
    """Make an earlier version the one new contacts and new instances use: its stored files are
    validated and deployed again as a new version (running instances keep their version)."""
    require(caller, Permission.DEPLOY)
    target = version(ops.store, name, number)
    current = list_versions(ops.store, name)[-1]
    if target.sha256 == current.sha256 and current.has_files:
        return DeployOutcome(current, created=False)
    bundle = _validate(name, version_files(ops.store, name, number))
    result = deploy_bundle(ops.runtime, ops.store, bundle, actor=caller.username, restores=number)
    engine_for(ops.store, ops.clock).invalidate()
    return DeployOutcome(version(ops.store, name, result.number), True, result)


@dataclass(frozen=True, slots=True)
class Flow:
    """A deployed flow with all its versions (the last one is current)."""

    name: str
    title: str | None
    process_key: str
    owner: str | None
    versions: list[BundleVersion]


def flows(caller: Caller, ops: Ops) -> list[Flow]:
    """Every deployed flow, by name, with its versions."""
    require(caller, Permission.MODELS_READ)
    return [
        Flow(f.name, f.title, f.process_key, f.owner, list_versions(ops.store, f.name))
        for f in list_flows(ops.store)
    ]
