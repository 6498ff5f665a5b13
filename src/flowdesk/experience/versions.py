"""The versions of an experience bundle: every deployment of one bundle name, numbered 1, 2, ...,
with the files it was deployed from (kept by `deploy_bundle`), so two versions can be compared
and an earlier one deployed again.

The version deployed last is the current one: its process definitions are the newest, so new
contacts with its reasons and new instances start it. A rollback therefore deploys the earlier
version's files again as a new version (the process gets a new definition version with the old
model), which keeps the history append-only and the running instances on what they started on.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.experience.models import experience_bundle_files, experience_bundles
from flowdesk.store import Store

#: Changed text files longer than this many diff lines are cut (the rest is counted).
MAX_DIFF_LINES = 2000


@dataclass(frozen=True, slots=True)
class BundleVersion:
    number: int
    bundle_id: str
    name: str
    label: str | None  # the free `version:` of flow.yaml
    title: str | None
    process_key: str
    sha256: str
    deployed_at: datetime
    actor: str | None
    definitions: list[str]
    current: bool = False
    same_as: int | None = None  # the earliest version with the very same files (a rollback)
    has_files: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "bundle_id": self.bundle_id,
            "name": self.name,
            "label": self.label,
            "title": self.title,
            "process_key": self.process_key,
            "sha256": self.sha256,
            "deployed_at": self.deployed_at.isoformat(),
            "actor": self.actor,
            "definitions": self.definitions,
            "current": self.current,
            "same_as": self.same_as,
        }


@dataclass(frozen=True, slots=True)
class FileChange:
    name: str
    change: str  # added, removed, changed
    diff: str | None = None  # unified diff of a changed text file
    binary: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "change": self.change, "diff": self.diff, "binary": self.binary}


@dataclass(frozen=True, slots=True)
class BundleDiff:
    name: str
    old: int
    new: int
    files: list[FileChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "from": self.old,
            "to": self.new,
            "files": [f.to_dict() for f in self.files],
            "unchanged": self.unchanged,
        }


def versions(store: Store, name: str) -> list[BundleVersion]:
    """Every version of a bundle, oldest first (NotFoundError when none was deployed)."""
    b = experience_bundles.c
    with store.reading() as conn:
        rows = conn.execute(
            select(experience_bundles).where(b.name == name).order_by(b.number, b.created_at, b.id)
        ).all()
        with_files = set(
            conn.execute(
                select(experience_bundle_files.c.bundle_id)
                .join(experience_bundles, b.id == experience_bundle_files.c.bundle_id)
                .where(b.name == name)
                .distinct()
            ).scalars()
        )
    if not rows:
        raise NotFoundError(
            f"no bundle {name!r} is deployed",
            hint="the name is flow.yaml's `name`; deploy the bundle first",
        )
    first_of: dict[str, int] = {}
    out: list[BundleVersion] = []
    for index, row in enumerate(rows, start=1):
        number = row.number or index
        first_of.setdefault(row.sha256, number)
        out.append(
            BundleVersion(
                number=number,
                bundle_id=row.id,
                name=row.name,
                label=row.version,
                title=row.title,
                process_key=row.process_key,
                sha256=row.sha256,
                deployed_at=row.created_at,
                actor=row.actor,
                definitions=list(row.definitions or []),
                current=index == len(rows),
                same_as=first_of[row.sha256] if first_of[row.sha256] != number else None,
                has_files=row.id in with_files,
            )
        )
    return out


def version(store: Store, name: str, number: int) -> BundleVersion:
    """One version of a bundle by its number (NotFoundError listing the numbers there are)."""
    found = versions(store, name)
    for item in found:
        if item.number == number:
            return item
    numbers = ", ".join(str(v.number) for v in found)
    raise NotFoundError(
        f"bundle {name!r} has no version {number}", hint=f"its versions are {numbers}"
    )


def latest(store: Store, name: str) -> BundleVersion | None:
    """The current version of a bundle, or None when it was never deployed."""
    try:
        return versions(store, name)[-1]
    except NotFoundError:
        return None


def version_files(store: Store, name: str, number: int) -> dict[str, bytes]:
    """The files a version was deployed from (ConflictError for one deployed before files were
    kept)."""
    found = version(store, name, number)
    c = experience_bundle_files.c
    with store.reading() as conn:
        rows = conn.execute(select(c.name, c.content).where(c.bundle_id == found.bundle_id)).all()
    if not rows:
        raise ConflictError(
            f"version {number} of bundle {name!r} was deployed before bundle files were kept",
            hint="deploy that bundle's folder or zip again instead",
        )
    return {row.name: bytes(row.content) for row in rows}


def _text(data: bytes) -> list[str] | None:
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def diff(store: Store, name: str, old: int, new: int) -> BundleDiff:
    """Which files differ between two versions, with a unified diff of each changed text file."""
    before = version_files(store, name, old)
    after = version_files(store, name, new)
    changes: list[FileChange] = []
    unchanged: list[str] = []
    for file_name in sorted(before.keys() | after.keys()):
        a, b = before.get(file_name), after.get(file_name)
        if a == b:
            unchanged.append(file_name)
        elif a is None:
            changes.append(FileChange(file_name, "added"))
        elif b is None:
            changes.append(FileChange(file_name, "removed"))
        else:
            lines_a, lines_b = _text(a), _text(b)
            if lines_a is None or lines_b is None:
                changes.append(FileChange(file_name, "changed", binary=True))
                continue
            lines = list(
                difflib.unified_diff(lines_a, lines_b, f"v{old}/{file_name}", f"v{new}/{file_name}")
            )
            if len(lines) > MAX_DIFF_LINES:
                cut = len(lines) - MAX_DIFF_LINES
                lines = [*lines[:MAX_DIFF_LINES], f"... {cut} more diff lines\n"]
            text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
            changes.append(FileChange(file_name, "changed", diff=text))
    return BundleDiff(name, old, new, changes, unchanged)
