"""Text from a scanned letter or fax: Tesseract through pytesseract where both are installed,
otherwise the text the uploader supplied (and None when there is neither)."""

from __future__ import annotations

import io
import shutil


def tesseract_available() -> bool:
    if shutil.which("tesseract") is None:
        return False
    try:
        import PIL.Image  # noqa: F401
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return True


def ocr_text(image: bytes) -> str | None:
    """OCR of an image scan; None when OCR is not installed or the image cannot be read."""
    if not tesseract_available():
        return None
    import pytesseract
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as picture:
            text = pytesseract.image_to_string(picture)
    except (UnidentifiedImageError, OSError, pytesseract.TesseractError):
        return None
    return str(text).strip() or None
