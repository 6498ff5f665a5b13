"""Photos from the customer on the status page: after verification a JPEG or PNG is checked by
its content, re-encoded without its metadata (the GPS position only kept, beside the photo, when
the customer chose to share it) and shown to the agent on the case; a bad file is refused on the
page with the reason and nothing is stored."""

from __future__ import annotations

import io
import itertools
import random
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select
from tests.web.conftest import Starter, csrf_of, login

from flowdesk.api.app import create_app
from flowdesk.contacts.models import contacts
from flowdesk.settings import Settings
from flowdesk.store import Store

_refs = itertools.count(1)


def photo(kind: str = "JPEG", size: tuple[int, int] = (64, 48), gps: bool = True) -> bytes:
    """A camera-like photo: EXIF with maker, orientation (turn right) and a GPS position."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6
    if gps:
        exif.get_ifd(0x8825).update(
            {
                1: "N",
                2: (IFDRational(52), IFDRational(22), IFDRational(12.5)),
                3: "W",
                4: (IFDRational(4), IFDRational(53), IFDRational(42)),
            }
        )
    out = io.BytesIO()
    image.save(out, kind, exif=exif)
    return out.getvalue()


def verified(client: TestClient, store: Store, start: Starter) -> tuple[dict[str, str], Any]:
    reference = f"FD-P{next(_refs):04d}"
    item = start(store, reference, name="Petra Photo")
    token = csrf_of(client.get("/status").text)
    page = client.post("/status", data={"csrf": token, "reference": reference, "proof": "photo"})
    assert page.status_code == 200 and 'id="photo-form"' in page.text
    return {"csrf": token, "reference": reference, "proof": "photo"}, item


def upload(
    client: TestClient, form: dict[str, str], data: bytes, name: str, kind: str, **more: str
) -> Any:
    return client.post("/status/photo", data={**form, **more}, files={"photo": (name, data, kind)})


def stored(store: Store) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())


def test_customer_adds_a_photo_the_agent_sees_it_without_metadata(
    client: TestClient, store: Store, start_complaint: Starter
) -> None:
    form, item = verified(client, store, start_complaint)
    response = upload(
        client, form, photo(), "IMG_0001.JPG", "image/jpeg", note="The meter, <b>reading</b>"
    )
    assert response.status_code == 200
    assert "your photo is on your case" in response.text
    events = store.events.where(process_instance_id=item["instance_id"])
    [added] = [e for e in events if e.type == "customer.photo_added"]
    assert added.actor == "customer" and added.data["location"] == "removed"
    assert added.data["text"] == "The meter, <b>reading</b>"

    token = login(client, "bokafor")
    assert token
    page = client.get(f"/work/{item['id']}").text
    link = f"/work/{item['id']}/photos/{added.data['photo']}"
    assert f'href="{link}"' in page and "The meter, &lt;b&gt;reading&lt;/b&gt;" in page
    served = client.get(link)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "JPEG" and image.size == (48, 64)  # turned upright
    assert dict(image.getexif()) == {}  # no maker, no orientation, no GPS
    assert b"PhoneMaker" not in served.content

    login(client, "lmurphy")  # billing cannot see the front office's case, nor its photos
    assert client.get(link).status_code == 403
    assert client.get(f"/work/{item['id']}/photos/{item['id']}").status_code == 403


def test_a_shared_location_is_kept_beside_the_photo_never_in_it(
    client: TestClient, store: Store, start_complaint: Starter
) -> None:
    form, item = verified(client, store, start_complaint)
    response = upload(
        client, form, photo("PNG"), "shot.png", "image/png", share_location="yes", note="Pole"
    )
    assert response.status_code == 200 and "photo with its location" in response.text
    [added] = [
        e
        for e in store.events.where(process_instance_id=item["instance_id"])
        if e.type == "customer.photo_added"
    ]
    assert added.data["location"] == "shared"
    with store.reading() as conn:
        row = conn.execute(select(contacts).where(contacts.c.id == added.data["photo"])).one()
    assert row.geo == {"latitude": 52.3701389, "longitude": -4.895, "accuracy_m": None}
    assert (row.direction, row.channel, row.content_type) == ("in", "web", "image/png")
    assert row.attachments[0]["size"] == len(row.raw)
    image = Image.open(io.BytesIO(row.raw))
    assert image.format == "PNG" and dict(image.getexif()) == {}


@pytest.mark.parametrize(
    ("data", "name", "kind", "status", "message"),
    [
        (b"just some text, not a picture" * 10, "photo.jpg", "image/jpeg", 415, "not a JPEG"),
        (b"GIF89a" + b"\0" * 200, "anim.gif", "image/gif", 415, "not a JPEG or PNG"),
        (b"%PDF-1.7\n" + b"x" * 200, "scan.png", "image/png", 415, "not a JPEG or PNG"),
        (photo()[:300], "cut.jpg", "image/jpeg", 422, "damaged or incomplete"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "fake.png", "image/png", 422, "damaged"),
        (b"", "empty.jpg", "image/jpeg", 422, "choose a photo"),
    ],
)
def test_bad_files_are_refused_on_the_page_and_nothing_is_stored(
    client: TestClient,
    store: Store,
    start_complaint: Starter,
    data: bytes,
    name: str,
    kind: str,
    status: int,
    message: str,
) -> None:
    form, item = verified(client, store, start_complaint)
    before = stored(store)
    response = upload(client, form, data, name, kind)
    assert response.status_code == status
    assert message in response.text
    assert 'id="photo-form"' in response.text  # the customer can try again at once
    assert stored(store) == before
    types = {e.type for e in store.events.where(process_instance_id=item["instance_id"])}
    assert "customer.photo_added" not in types


def test_content_decides_not_the_name_or_declared_type(
    client: TestClient, store: Store, start_complaint: Starter
) -> None:
    form, _ = verified(client, store, start_complaint)
    response = upload(client, form, photo("PNG"), "holiday.jpg", "application/octet-stream")
    assert response.status_code == 200 and "photo is on your case" in response.text


def test_size_limit_and_verification_apply(
    demo_store: tuple[str, Store], store: Store, start_complaint: Starter
) -> None:
    url, _ = demo_store
    app = create_app(Settings(database_url=url, status_photo_max_bytes=4096), store)
    with TestClient(app) as client:
        form, _ = verified(client, store, start_complaint)
        assert "up to 1 MB" in client.post("/status", data=form).text
        small = photo(size=(400, 400))
        noise = Image.frombytes("RGB", (200, 200), random.Random(1).randbytes(120_000))
        out = io.BytesIO()
        noise.save(out, "PNG")
        before = stored(store)
        response = upload(client, form, out.getvalue(), "noise.png", "image/png")
        assert response.status_code == 413 and "the limit is" in response.text
        assert stored(store) == before
        assert len(small) < 4096  # a small photo still passes under the low limit
        assert upload(client, form, small, "small.jpg", "image/jpeg").status_code == 200
        wrong = upload(client, {**form, "proof": "nobody"}, small, "small.jpg", "image/jpeg")
        assert wrong.status_code == 404 and "could not find a case" in wrong.text
        forged = upload(client, {**form, "csrf": "x" * 30}, small, "small.jpg", "image/jpeg")
        assert forged.status_code == 400


def test_status_page_offers_the_upload_with_a_location_choice(
    client: TestClient, store: Store, start_complaint: Starter
) -> None:
    form, _ = verified(client, store, start_complaint)
    page = client.post("/status", data=form).text
    upload_form = re.search(r'<form[^>]*id="photo-form".*?</form>', page, re.S)
    assert upload_form and 'enctype="multipart/form-data"' in upload_form.group(0)
    assert 'accept="image/jpeg,image/png"' in upload_form.group(0)
    assert 'name="share_location"' in upload_form.group(0)
    assert "checked" not in upload_form.group(0)  # the location is removed unless chosen
