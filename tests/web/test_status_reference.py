"""The status page finds a case whatever the case and spacing of the reference typed
(issue 17: `fd-n3qrx` in lower case was refused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from flowdesk.cases.references import new_reference
from flowdesk.store import Store


def test_lower_case_reference_with_spaces_is_found(
    client: TestClient,
    store: Store,
    csrf_of: Callable[[str], str],
    start_complaint: Callable[..., dict[str, Any]],
) -> None:
    reference = new_reference()
    start_complaint(store, reference, name="Maria van Dijk")
    token = csrf_of(client.get("/status").text)
    for typed in (f"  {reference.lower()}  ", reference.replace("-", " ").lower(), reference):
        shown = client.post("/status", data={"csrf": token, "reference": typed, "proof": "Dijk"})
        assert shown.status_code == 200, typed
        assert f"We have registered your complaint {reference}." in shown.text
    wrong = client.post(
        "/status", data={"csrf": token, "reference": reference.lower(), "proof": "Smith"}
    )
    assert wrong.status_code == 404  # the identity check still applies
