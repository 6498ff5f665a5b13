"""Letters and faxes read by Tesseract: the tests render their own scans with Pillow (a
two-page PDF letter, a two-frame fax TIFF), post them to the letter and fax webhooks, and find
each page's text on the contact and the page images served back for the agent."""

from __future__ import annotations

import base64
import io
import json
import shutil
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from flowdesk.api import problems
from flowdesk.api.routes import contacts as contact_routes
from flowdesk.api.routes import scans as scan_routes
from flowdesk.auth import service as auth
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None or shutil.which("pdftoppm") is None,
    reason="OCR needs Debian's tesseract-ocr and poppler-utils (pdftoppm): install them",
)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    s.upgrade()
    yield s
    s.close()


def _page(lines: list[str]) -> Image.Image:
    """A page as a scanner gives it: black text on white, large enough to read at 200 dpi."""
    page = Image.new("L", (1240, 900), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=44)
    for n, line in enumerate(lines):
        draw.text((80, 100 + n * 90), line, fill=0, font=font)
    return page


PAGE_ONE = ["Dear Northwind Energy,", "my internet is down since Monday."]
PAGE_TWO = ["Please send an engineer.", "Yours sincerely, Ann Lee"]


def _pdf() -> bytes:
    out = io.BytesIO()
    first, second = _page(PAGE_ONE), _page(PAGE_TWO)
    first.save(out, format="PDF", save_all=True, append_images=[second], resolution=150)
    return out.getvalue()


def _tiff() -> bytes:
    out = io.BytesIO()
    first, second = _page(PAGE_ONE).convert("1"), _page(PAGE_TWO).convert("1")
    first.save(out, format="TIFF", save_all=True, append_images=[second], compression="group4")
    return out.getvalue()


def test_letters_and_faxes_are_read_page_by_page(
    store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> None:
    app = FastAPI()
    problems.install(app)
    app.state.store, app.state.clock, app.state.process_runtime = store, clock, runtime
    app.state.contact_senders = {}
    app.include_router(contact_routes.router)
    app.include_router(scan_routes.router)
    auth.create_user(store, clock, username="post", roles=["admin"])
    _, key = auth.create_api_key(store, clock, username="post", name="t")
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as http:
        for channel, name, kind, data in (
            ("letter", "letter.pdf", "application/pdf", _pdf()),
            ("fax", "fax.tiff", "image/tiff", _tiff()),
        ):
            scan = {"name": name, "content_type": kind, "data": base64.b64encode(data).decode()}
            body = {"scan": scan, "customer": {"name": "Ann Lee"}, "email": "ann@example.org"}
            made = http.post(
                f"/api/v1/webhooks/{channel}", content=json.dumps(body), headers=headers
            )
            assert made.status_code == 201, made.text
            contact = http.get(f"/api/v1/contacts/{made.json()['contact_id']}", headers=headers)
            details = contact.json()["details"]
            assert details["text_source"] == "ocr"
            pages = details["pages"]
            assert [p["page"] for p in pages] == [1, 2]
            assert "internet is down" in pages[0]["text"].lower()
            assert "engineer" in pages[1]["text"].lower()
            assert "engineer" in contact.json()["text"].lower()
            image = http.get(
                f"/api/v1/contacts/{made.json()['contact_id']}/pages/2", headers=headers
            )
            assert image.status_code == 200 and image.headers["content-type"] == "image/png"
            assert Image.open(io.BytesIO(image.content)).size[0] > 1000
            assert len(image.content) == pages[1]["image_bytes"]
            missing = http.get(
                f"/api/v1/contacts/{made.json()['contact_id']}/pages/3", headers=headers
            )
            assert missing.status_code == 404
