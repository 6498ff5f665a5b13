"""Text from scanned letters and faxes: Tesseract (Debian's tesseract-ocr) on every page.

A PDF is rendered page by page with pdftoppm (Debian's poppler-utils), an image (PNG, JPEG, a
multi-page fax TIFF) frame by frame with Pillow; each page becomes a grayscale PNG and Tesseract
reads it (`tesseract stdin stdout`). The page images are made again from the stored scan when an
agent looks at them (`page_images`), so what they see is what was read. None where the tools
are not installed or the scan cannot be read: the uploader's text is used then.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_PAGES = 20
DPI = 200
TIMEOUT_S = 60
LANGUAGES = "eng"


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    text: str
    png: bytes


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def _pdf_pages(data: bytes) -> list[bytes]:
    tool = shutil.which("pdftoppm")
    if tool is None:
        return []
    with tempfile.TemporaryDirectory(prefix="flowdesk-scan-") as folder:
        source = Path(folder) / "scan.pdf"
        source.write_bytes(data)
        done = subprocess.run(
            [
                tool,
                "-r",
                str(DPI),
                "-gray",
                "-png",
                "-l",
                str(MAX_PAGES),
                str(source),
                f"{folder}/p",
            ],
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            return []
        return [p.read_bytes() for p in sorted(Path(folder).glob("p-*.png"), key=_page_number)]


def _page_number(path: Path) -> int:
    return int(path.stem.rpartition("-")[2])


def _image_pages(data: bytes) -> list[bytes]:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    pages: list[bytes] = []
    try:
        with Image.open(io.BytesIO(data)) as picture:
            for frame in ImageSequence.Iterator(picture):
                if len(pages) >= MAX_PAGES:
                    break
                out = io.BytesIO()
                frame.convert("L").save(out, format="PNG")
                pages.append(out.getvalue())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return []
    return pages


def page_images(data: bytes, content_type: str) -> list[bytes]:
    """The scan's pages as grayscale PNGs (empty when it cannot be read)."""
    if content_type == "application/pdf":
        return _pdf_pages(data)
    if content_type.startswith("image/"):
        return _image_pages(data)
    return []


def read_page(png: bytes) -> str:
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", LANGUAGES, "--psm", "3"],
        input=png,
        capture_output=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else ""


def ocr_pages(data: bytes, content_type: str) -> list[Page] | None:
    """Every page with its text; None when OCR is not installed or the scan is unreadable."""
    if not tesseract_available():
        return None
    images = page_images(data, content_type)
    if not images:
        return None
    return [Page(n, read_page(png), png) for n, png in enumerate(images, start=1)]


def ocr_text(image: bytes, content_type: str = "image/png") -> str | None:
    """The text of a scan's pages, one blank line between pages (None: no OCR)."""
    pages = ocr_pages(image, content_type)
    if pages is None:
        return None
    return "\n\n".join(p.text for p in pages if p.text).strip() or None
