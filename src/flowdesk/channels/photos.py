"""Photos customers upload (the status page): checked by their content, decoded and re-encoded.

The file name and the browser's content type are not trusted: the first bytes must be a JPEG
or PNG signature, Pillow must decode the whole image with that one format (so a truncated file,
a polyglot or a decompression bomb is refused), and what is stored is a fresh encoding of the
pixels. Re-encoding drops every piece of metadata the original carried (EXIF with the camera's
GPS position, the owner's name, the serial number; PNG text chunks) and anything hidden after
the image data. The photo is turned upright first (the EXIF orientation), since that tag goes.

Location: when the customer ticks "share the location", the GPS position is read from the
original EXIF and kept as the contact's position (next to the photo, for the engineer), never
inside the image; otherwise it is dropped with the rest of the metadata.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from flowdesk.contacts.model import Geo
from flowdesk.core.errors import FlowdeskError

SIGNATURES = {
    "JPEG": b"\xff\xd8\xff",
    "PNG": b"\x89PNG\r\n\x1a\n",
}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
MAX_PIXELS = 40_000_000  # a 40 megapixel camera; more is a bomb or not a photo
MAX_SIDE = 4096  # stored photos are scaled down to this (enough to read a meter)
GPS_IFD = 0x8825


class PhotoRefusedError(FlowdeskError):
    """A file that is not an acceptable photo; `status` is the HTTP status to answer with."""

    code = "invalid-input"

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class CheckedPhoto:
    data: bytes  # the re-encoded image, without metadata
    content_type: str
    width: int
    height: int
    geo: Geo | None  # only when the customer chose to share it and the photo had one


def _sniff(data: bytes) -> str:
    for name, signature in SIGNATURES.items():
        if data.startswith(signature):
            return name
    raise PhotoRefusedError(
        "This file is not a JPEG or PNG photo. Please choose a photo taken with your camera "
        "or a screenshot (JPEG or PNG).",
        status=415,
    )


def _degrees(value: Any) -> float:
    d, m, s = (float(v) for v in value)
    return d + m / 60 + s / 3600


def gps_position(image: Image.Image) -> Geo | None:
    """The GPS position in the image's EXIF, or None (absent, partial or out of range)."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
        lat = _degrees(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
        lon = _degrees(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Geo(round(lat, 7), round(lon, 7))


def check_photo(data: bytes, *, max_bytes: int, keep_location: bool = False) -> CheckedPhoto:
    """The photo re-encoded in its own format, or PhotoRefusedError saying what is wrong."""
    if not data:
        raise PhotoRefusedError("Please choose a photo to upload.")
    if len(data) > max_bytes:
        raise PhotoRefusedError(
            f"The photo is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes / 1_048_576:.0f} MB. Please send a smaller photo.",
            status=413,
        )
    kind = _sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as original:
                width, height = original.size
                if width * height > MAX_PIXELS:
                    raise PhotoRefusedError(
                        f"The photo is {width}x{height} pixels; please send one under "
                        f"{MAX_PIXELS // 1_000_000} megapixels.",
                        status=413,
                    )
                original.load()
                geo = gps_position(original) if keep_location else None
                image = ImageOps.exif_transpose(original)
    except PhotoRefusedError:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise PhotoRefusedError(
            f"The photo could not be read: the {kind} file is damaged or incomplete. "
            "Please take or choose it again."
        ) from None
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif kind == "PNG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if kind == "JPEG":
        image.save(out, "JPEG", quality=88)
    else:
        image.save(out, "PNG")
    return CheckedPhoto(out.getvalue(), CONTENT_TYPES[kind], image.width, image.height, geo)
