# ruff: noqa: F811
"""Experience bundles through the REST API, as an integrator drives it: a bundle zip deployed
with POST /api/v1/deployments registers its contact reason, so the next contact with that reason
starts the bundle's flow; versions, diff and rollback; bad zips answer 4xx and write nothing."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tests.api.test_service_api import Api, api  # noqa: F401
from tests.experience.conftest import BPMN, write_bundle

from flowdesk.app import bundles
from flowdesk.app.context import Ops
from flowdesk.auth.roles import permissions_of
from flowdesk.auth.service import Forbidden, Principal
from flowdesk.runtime.processes import ProcessRuntime

ZIP = {"Content-Type": "application/zip"}


def zip_folder(root: Path, prefix: str = "mini/") -> bytes:
    """The bundle folder as a user zips it (one top folder around everything)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            archive.write(path, prefix + path.relative_to(root).as_posix())
    return buffer.getvalue()


def mini_zip(tmp_path: Path, folder: str = "mini", **changes: str | None) -> bytes:
    return zip_folder(write_bundle(tmp_path / folder, changes or None))


def post_zip(api: Api, data: bytes, who: str = "admin") -> Any:
    return api.client.post("/api/v1/deployments", content=data, headers={**ZIP, **api.as_(who)})


def contact(api: Api, email: str, reason: str) -> dict[str, Any]:
    body = {"channel": "web", "email": email, "text": "Please refund me", "reason": reason}
    response = api.client.post("/api/v1/contacts", json=body, headers=api.as_("integration"))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def instance(api: Api, instance_id: str) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/process-instances/{instance_id}", headers=api.as_("admin"))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_deployed_bundle_zip_registers_its_reason_and_the_next_contact_starts_its_flow(
    api: Api, tmp_path: Path
) -> None:
    before = contact(api, "early@example.com", "mini-reason")
    assert before["instance_id"] is None  # nobody serves the reason yet

    data = mini_zip(tmp_path)
    first = post_zip(api, data)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["name"], body["number"], body["created"], body["current"]) == (
        "mini",
        1,
        True,
        True,
    )
    assert body["reasons"] == ["mini-reason"] and body["definitions"] == ["mini:1"]
    assert body["articles"] == ["limits"]

    again = post_zip(api, data)  # the same files again: nothing written, same version
    assert again.status_code == 200, again.text
    assert (again.json()["number"], again.json()["created"]) == (1, False)
    listed = api.client.get("/api/v1/bundles/mini/versions", headers=api.as_("agent"))
    assert [v["number"] for v in listed.json()] == [1]

    catalog = api.client.get("/api/v1/experiences/catalog", headers=api.as_("admin")).json()
    assert {(c["reason"], c["process_key"]) for c in catalog} == {("mini-reason", "mini")}

    started = contact(api, "customer@example.com", "mini-reason")
    assert started["instance_id"], started
    state = instance(api, started["instance_id"])
    assert state["process_key"] == "mini" and state["definition_id"] == "mini:1"
    assert [w["element_id"] for w in state["work_items"]] == ["check"]


def test_multipart_upload_versions_diff_and_rollback(api: Api, tmp_path: Path) -> None:
    upload = [("files", ("mini.zip", mini_zip(tmp_path, "v1"), "application/zip"))]
    first = api.client.post("/api/v1/deployments", files=upload, headers=api.as_("admin"))
    assert first.status_code == 201, first.text
    assert first.json()["number"] == 1 and first.json()["reasons"] == ["mini-reason"]

    renamed = BPMN.replace('name="Check request"', 'name="Check the request"')
    second = post_zip(api, mini_zip(tmp_path, "v2", **{"mini.bpmn": renamed}))
    assert second.status_code == 201, second.text
    assert second.json()["number"] == 2 and second.json()["definitions"] == ["mini:2"]

    versions = api.client.get("/api/v1/bundles/mini/versions", headers=api.as_("agent")).json()
    assert [(v["number"], v["current"], v["definitions"]) for v in versions] == [
        (1, False, ["mini:1"]),
        (2, True, ["mini:2"]),
    ]

    diff = api.client.get(
        "/api/v1/bundles/mini/diff", params={"from": 1, "to": 2}, headers=api.as_("agent")
    )
    assert diff.status_code == 200, diff.text
    (changed,) = diff.json()["files"]
    assert (changed["name"], changed["change"]) == ("mini.bpmn", "changed")
    assert changed["diff"].startswith("--- v1/mini.bpmn\n+++ v2/mini.bpmn\n")
    assert '-    <bpmn:userTask id="check" name="Check request"' in changed["diff"]
    assert '+    <bpmn:userTask id="check" name="Check the request"' in changed["diff"]
    assert "flow.yaml" in diff.json()["unchanged"]

    on_v2 = contact(api, "two@example.com", "mini-reason")
    assert instance(api, on_v2["instance_id"])["definition_id"] == "mini:2"

    denied = api.client.post(
        "/api/v1/bundles/mini/rollback", json={"version": 1}, headers=api.as_("agent")
    )
    assert denied.status_code == 403 and "deployments:write" in denied.json()["detail"]
    back = api.client.post(
        "/api/v1/bundles/mini/rollback", json={"version": 1}, headers=api.as_("admin")
    )
    assert back.status_code == 201, back.text
    restored = back.json()
    assert (restored["number"], restored["same_as"], restored["current"]) == (3, 1, True)
    assert restored["definitions"] == ["mini:3"]  # the old model as the newest definition

    on_v1 = contact(api, "three@example.com", "mini-reason")
    state = instance(api, on_v1["instance_id"])
    assert state["definition_id"] == "mini:3"
    assert [w["name"] for w in state["work_items"]] == ["Check request"]  # the old model
    running = instance(api, on_v2["instance_id"])  # a running instance keeps its version
    assert running["definition_id"] == "mini:2"
    assert [w["name"] for w in running["work_items"]] == ["Check the request"]

    again = api.client.post(
        "/api/v1/bundles/mini/rollback", json={"version": 1}, headers=api.as_("admin")
    )
    assert again.status_code == 200 and again.json()["created"] is False
    missing = api.client.post(
        "/api/v1/bundles/mini/rollback", json={"version": 9}, headers=api.as_("admin")
    )
    assert missing.status_code == 404 and "its versions are 1, 2, 3" in missing.json()["hint"]
    unknown = api.client.get("/api/v1/bundles/nope/versions", headers=api.as_("admin"))
    assert unknown.status_code == 404 and "no bundle 'nope'" in unknown.json()["detail"]


def _zip(entries: dict[str, bytes], link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _good(tmp_path: Path) -> dict[str, bytes]:
    root = write_bundle(tmp_path / "good")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


MiB = 1024 * 1024
BAD: dict[str, tuple[Any, int, str, str]] = {
    # case: (extra entries or a whole body, status, text of the detail, text of the hint)
    "traversal": ({"../evil.bpmn": b"<x/>"}, 422, "unsafe path '../evil.bpmn'", "relative paths"),
    "absolute": ({"/etc/cron.d/x": b"x"}, 422, "unsafe path '/etc/cron.d/x'", "leading '/'"),
    "symlink": ("link", 422, "symbolic link 'knowledge/link.md' refused", "symbolic links"),
    "too many files": (
        {f"k/{i}": b"" for i in range(500)},
        413,
        "more than 500 files",
        "at most 500 files",
    ),
    "zip bomb": (
        {"huge.md": bytes(6 * MiB)},
        413,
        "huge.md is larger than 5242880 bytes",
        "5242880",
    ),
    "bomb in all": (
        {f"big{i}.bin": bytes(5 * MiB) for i in range(11)},
        413,
        "the bundle is larger than 52428800 bytes unpacked",
        "52428800 bytes in all",
    ),
    "not a zip": (b"PK\x03\x04 not really", 422, "not a zip archive", ""),
    "invalid flow.yaml": ("bad panel", 422, "tasks.check.panels[1]", ""),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_zip_answers_4xx_with_what_to_do_and_writes_nothing(
    api: Api, tmp_path: Path, case: str
) -> None:
    extra, status, detail, hint = BAD[case]
    files = _good(tmp_path)
    if isinstance(extra, bytes):
        data = extra
    elif extra == "link":
        data = _zip(files, link="knowledge/link.md")
    elif extra == "bad panel":
        files["flow.yaml"] = files["flow.yaml"].replace(b"[profile, billing]", b"[profile, biling]")
        data = _zip(files)
    else:
        data = _zip({**files, **extra})
    assert len(data) < 64 * 1024  # under the app's body limit: the bundle check answers
    response = post_zip(api, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert detail in problem["detail"], problem
    assert hint in (problem.get("hint") or ""), problem
    if case == "invalid flow.yaml":
        (issue,) = problem["errors"]
        assert issue["file"] == "flow.yaml" and issue["line"] and issue["column"]
        assert issue["field"] == "tasks.check.panels[1]" and "biling" in issue["message"]
        assert problem["line"] == issue["line"]
    admin = api.as_("admin")
    assert api.client.get("/api/v1/deployments", headers=admin).json() == []
    assert api.client.get("/api/v1/experiences/catalog", headers=admin).json() == []
    assert api.client.get("/api/v1/bundles/mini/versions", headers=admin).status_code == 404


def test_a_bundle_zip_deploys_on_its_own_and_an_empty_request_says_what_to_send(
    api: Api, tmp_path: Path
) -> None:
    upload = [
        ("files", ("mini.zip", mini_zip(tmp_path), "application/zip")),
        ("files", ("other.bpmn", BPMN.encode(), "application/xml")),
    ]
    mixed = api.client.post("/api/v1/deployments", files=upload, headers=api.as_("admin"))
    assert mixed.status_code == 422 and "deploys on its own" in mixed.json()["detail"]
    empty = api.client.post("/api/v1/deployments", data={"name": "x"}, headers=api.as_("admin"))
    assert empty.status_code == 422 and "application/zip" in empty.json()["hint"]
    assert api.client.get("/api/v1/deployments", headers=api.as_("admin")).json() == []
    denied = post_zip(api, mini_zip(tmp_path, "again"), who="agent")
    assert denied.status_code == 403


def _caller(*roles: str) -> Principal:
    return Principal(f"id-{roles[0]}", roles[0], roles[0], roles, (), permissions_of(roles))


def test_the_use_cases_check_the_callers_permission(api: Api, tmp_path: Path) -> None:
    """The app layer refuses on its own, whichever door calls it."""
    ops = Ops(store=api.store, clock=api.clock, runtime=ProcessRuntime(api.store, clock=api.clock))
    with pytest.raises(Forbidden, match="deployments:write"):
        bundles.deploy(_caller("agent"), ops, mini_zip(tmp_path))
    with pytest.raises(Forbidden, match="deployments:write"):
        bundles.rollback(_caller("integration"), ops, "mini", 1)
    assert bundles.deploy(_caller("admin"), ops, mini_zip(tmp_path, "m2")).created
    assert [v.number for v in bundles.versions(_caller("integration"), ops, "mini")] == [1]
    assert [v.number for v in bundles.versions(_caller("agent"), ops, "mini")] == [1]
