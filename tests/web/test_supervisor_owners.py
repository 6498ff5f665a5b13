"""The supervisor page lists every deployed flow next to its process owner and its open work,
and names the owner next to an SLA at risk."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.web.conftest import Login, Starter

from flowdesk.store import Store


def test_supervisor_sees_each_flow_with_its_owner(
    client: TestClient, store: Store, login: Login, start_complaint: Starter
) -> None:
    start_complaint(store, "FD-OWNER-1")
    login(client, "akeller")
    page = client.get("/supervisor/panel")
    assert page.status_code == 200
    rows = dict(
        (key, (owner, int(open_)))
        for key, owner, open_ in re.findall(
            r'<tr data-flow="([^"]+)"><td>[^<]*</td><td class="owner">([^<]*)</td>'
            r'<td class="open"><a href="[^"]*">(\d+)</a></td>',
            page.text,
        )
    )
    assert len(rows) == 8
    assert rows["outage_restoration"][0] == "wchen"
    assert rows["refund_request"][0] == "kkowalski"
    owner, open_items = rows["complaint"]
    assert owner == "akeller" and open_items >= 1
