"""Reading bundles safely: no path escapes, no links, no inflating archives."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from flowdesk.experience.errors import BundleError
from flowdesk.experience.files import Limits, read_bundle_files, read_zip


def make_zip(entries: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name", ["../evil.txt", "a/../../evil.txt", "/etc/passwd", "C:/evil.txt", "a\\..\\evil"]
)
def test_zip_slip_names_are_refused(name: str) -> None:
    with pytest.raises(BundleError, match="unsafe path"):
        read_zip(make_zip({"flow.yaml": b"x", name: b"boom"}))


def test_symbolic_links_in_a_zip_are_refused() -> None:
    with pytest.raises(BundleError, match="symbolic link"):
        read_zip(make_zip({"flow.yaml": b"x"}, link="link.bpmn"))


def test_sizes_are_checked_on_what_is_read() -> None:
    bomb = make_zip({"flow.yaml": b"0" * 100_000})
    assert len(bomb) < 2_000  # deflate compresses it to almost nothing
    with pytest.raises(BundleError, match="larger than"):
        read_zip(bomb, limits=Limits(max_file_bytes=50_000))
    many = make_zip({f"f{i}.md": b"x" for i in range(5)})
    with pytest.raises(BundleError, match="more than 3 files"):
        read_zip(many, limits=Limits(max_files=3))
    with pytest.raises(BundleError, match="bundle is larger"):
        read_zip(many, limits=Limits(max_total_bytes=3))


def test_a_zipped_folder_is_unwrapped_and_junk_is_refused() -> None:
    files = read_zip(make_zip({"mini/flow.yaml": b"a", "mini/k/x.md": b"b"}))
    assert files == {"flow.yaml": b"a", "k/x.md": b"b"}
    with pytest.raises(BundleError, match="not a zip"):
        read_zip(b"PK-not-really")


def test_folder_links_leading_outside_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "flow.yaml").write_text("name: x")
    (bundle / ".git").mkdir()
    (bundle / ".git" / "config").write_text("ignored")
    name, files = read_bundle_files(bundle)
    assert name == "b" and set(files) == {"flow.yaml"}
    os.symlink(outside, bundle / "leak.md")
    with pytest.raises(BundleError, match="leads out of the bundle"):
        read_bundle_files(bundle)


def test_missing_source() -> None:
    with pytest.raises(BundleError, match="no such bundle"):
        read_bundle_files(Path("/nonexistent/bundle"))
