"""Read a bundle's files from a folder or a zip, safely.

A bundle may come from an upload, so nothing in it is trusted: names that climb out of the
bundle (`..`, absolute paths, drive letters), symbolic links, and archives that inflate past
the limits are refused before anything is parsed. Sizes are checked on the bytes actually read,
never on what the zip directory claims.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flowdesk.experience.errors import BundleError, Issue


@dataclass(frozen=True, slots=True)
class Limits:
    max_files: int = 500
    max_file_bytes: int = 5 * 1024 * 1024
    max_total_bytes: int = 50 * 1024 * 1024


DEFAULT_LIMITS = Limits()

UNSAFE_HINT = (
    "zip the bundle folder's contents with plain relative paths: no '..', no leading '/' or "
    "drive letter, no backslashes and no symbolic links"
)


class UnsafeBundleError(BundleError):
    """A path or link that could reach outside the bundle: refused before anything is read."""

    def __init__(self, issues: list[Issue]):
        super().__init__(issues)
        self.hint = UNSAFE_HINT


class BundleTooLargeError(BundleError):
    """More files or bytes than the limits (zip bombs included): HTTP 413 at the API."""

    code = "payload-too-large"

    def __init__(self, issues: list[Issue], limits: Limits = DEFAULT_LIMITS):
        super().__init__(issues)
        self.hint = (
            f"a bundle holds at most {limits.max_files} files, {limits.max_file_bytes} bytes "
            f"per file and {limits.max_total_bytes} bytes in all (unpacked); leave out what the "
            "flow does not need or split it into several bundles"
        )


def _clean_name(name: str, source: str) -> str:
    """A relative POSIX path inside the bundle, or a BundleError."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeBundleError([Issue(source, f"unsafe path {name!r} in the bundle")])
    parts = PurePosixPath(name).parts
    if any(p in ("..", "") for p in parts) or not parts:
        raise UnsafeBundleError([Issue(source, f"unsafe path {name!r} in the bundle")])
    return "/".join(p for p in parts if p != ".")


def _strip_common_root(files: dict[str, bytes]) -> dict[str, bytes]:
    """A zip of a folder has one top folder around everything: the bundle is inside it."""
    if not files or "flow.yaml" in files:
        return files
    tops = {name.split("/", 1)[0] for name in files}
    if len(tops) == 1 and all("/" in name for name in files):
        top = tops.pop()
        return {name[len(top) + 1 :]: data for name, data in files.items()}
    return files


def read_zip(
    data: bytes, *, source: str = "bundle.zip", limits: Limits = DEFAULT_LIMITS
) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleError([Issue(source, "not a zip archive")]) from None
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        raise BundleError([Issue(source, f"unreadable zip archive ({exc})")]) from None
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeBundleError([Issue(source, f"symbolic link {info.filename!r} refused")])
            name = _clean_name(info.filename, source)
            if len(files) >= limits.max_files:
                raise BundleTooLargeError(
                    [Issue(source, f"more than {limits.max_files} files")], limits
                )
            try:
                with archive.open(info) as handle:
                    content = handle.read(limits.max_file_bytes + 1)
            except (
                zipfile.BadZipFile,
                zlib.error,
                NotImplementedError,
                EOFError,
                RuntimeError,
            ) as exc:
                # corrupt data, an unknown compression, or an encrypted member
                raise BundleError([Issue(source, f"{name}: cannot be unpacked ({exc})")]) from None
            if len(content) > limits.max_file_bytes:
                raise BundleTooLargeError(
                    [
                        Issue(
                            source, f"{name} is larger than {limits.max_file_bytes} bytes unpacked"
                        )
                    ],
                    limits,
                )
            total += len(content)
            if total > limits.max_total_bytes:
                raise BundleTooLargeError(
                    [
                        Issue(
                            source,
                            f"the bundle is larger than {limits.max_total_bytes} bytes unpacked",
                        )
                    ],
                    limits,
                )
            files[name] = content
    return _strip_common_root(files)


def read_folder(root: Path, *, limits: Limits = DEFAULT_LIMITS) -> dict[str, bytes]:
    base = root.resolve()
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in PurePosixPath(rel).parts):
            continue  # .git, editor swap files, .DS_Store
        if path.is_symlink():
            if not path.resolve().is_relative_to(base):
                raise UnsafeBundleError([Issue(rel, "symbolic link leads out of the bundle")])
            if path.is_dir():
                continue  # never follow linked folders (loops)
        if not path.is_file():
            continue
        if len(files) >= limits.max_files:
            raise BundleTooLargeError(
                [Issue(str(root), f"more than {limits.max_files} files")], limits
            )
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise BundleTooLargeError(
                [Issue(rel, f"larger than {limits.max_file_bytes} bytes")], limits
            )
        total += size
        if total > limits.max_total_bytes:
            raise BundleTooLargeError(
                [Issue(str(root), f"the bundle is larger than {limits.max_total_bytes} bytes")],
                limits,
            )
        files[rel] = path.read_bytes()
    return files


def read_bundle_files(
    source: str | Path | bytes, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[str, dict[str, bytes]]:
    """(a display name, {relative path: content}) from a folder, a .zip file or zip bytes."""
    if isinstance(source, bytes):
        return "bundle.zip", read_zip(source, limits=limits)
    path = Path(source)
    if path.is_dir():
        return path.name, read_folder(path, limits=limits)
    if path.is_file() and path.name == "flow.yaml":
        return path.parent.name, read_folder(path.parent, limits=limits)
    if path.is_file():
        if path.stat().st_size > limits.max_total_bytes:
            raise BundleTooLargeError([Issue(path.name, "the archive is too large")], limits)
        return path.stem, read_zip(path.read_bytes(), source=path.name, limits=limits)
    raise BundleError([Issue(str(path), "no such bundle folder or zip file")])
