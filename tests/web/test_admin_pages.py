"""The admin pages as an administrator uses them: who may open them, the refusals in words on
the field they concern, and each action taking effect where the REST API shows it (the same
client's session cookie authenticates both doors)."""

from __future__ import annotations

import html as html_module
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of, login
from tests.webhooks.test_delivery import Receiver

from flowdesk.api.app import create_app
from flowdesk.cli.demo import default_demo_dir
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.webhooks.delivery import Deliverer
from flowdesk.webhooks.ssrf import ALLOW_ENV

COMPANY = default_demo_dir() / "company.yaml"


@pytest.fixture
def admin_app(demo_store: tuple[str, Store]) -> FastAPI:
    """The demo store served with the demo's company file (departments, SLAs, calendars)."""
    url, store = demo_store
    return create_app(Settings(database_url=url, company_file=str(COMPANY)), store)


@pytest.fixture
def admin(admin_app: FastAPI) -> Iterator[tuple[TestClient, str]]:
    with TestClient(admin_app) as client:
        yield client, login(client, "admin")


def _error(html: str, field: str) -> str:
    """The message shown beside `field` (the page's err-<field> element)."""
    found = re.search(rf'id="err-{re.escape(field)}"[^>]*>([^<]*)<', html)
    assert found, f"no error shown on {field}"
    return html_module.unescape(found.group(1))


def test_only_administrators_see_and_open_the_admin_pages(admin_app: FastAPI) -> None:
    pages = ["/admin", "/admin/users", "/admin/agents", "/admin/organisation", "/admin/keys"]
    pages += ["/admin/bundles", "/admin/webhooks", "/admin/users/admin"]
    for username in ("bokafor", "akeller"):  # an agent, a supervisor
        with TestClient(admin_app) as client:
            login(client, username)
            assert 'href="/admin"' not in client.get("/work").text
            for page in pages:
                assert client.get(page).status_code == 403, (username, page)
    with TestClient(admin_app) as client:
        login(client, "admin")
        assert 'href="/admin"' in client.get("/work").text
        for page in pages:
            assert client.get(page).status_code == 200, page
    with TestClient(admin_app) as client:  # nobody logged in: to the login page
        answer = client.get("/admin/users", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_user_is_created_changed_deactivated_and_given_a_new_password(
    admin: tuple[TestClient, str], admin_app: FastAPI
) -> None:
    client, token = admin
    bad = client.post(
        "/admin/users",
        data={
            "csrf": token,
            "username": "Bad Name",
            "email": "not-an-address",
            "groups": "billing, no spaces allowed",
            "password": "short",
        },
    )
    assert bad.status_code == 422
    assert "username 'Bad Name' is not valid" in _error(bad.text, "username")
    assert "not an e-mail address" in _error(bad.text, "email")
    assert "at least one role" in _error(bad.text, "roles")
    assert "'no spaces allowed' is not valid" in _error(bad.text, "groups")
    assert "too short" in _error(bad.text, "password")
    assert 'value="not-an-address"' in bad.text  # the answers stay in the form
    assert client.get("/api/v1/users/bad-name").status_code == 404  # nothing written

    made = client.post(
        "/admin/users",
        data={
            "csrf": token,
            "username": "nina.new",
            "display_name": "Nina New",
            "email": "nina@northwind.example",
            "roles": ["agent"],
            "groups": "billing",
            "password": "first-password",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert "User nina.new created." in client.get(made.headers["location"]).text
    api = client.get("/api/v1/users/nina.new").json()
    assert (api["roles"], api["groups"], api["email"]) == (
        ["agent"],
        ["billing"],
        "nina@northwind.example",
    )
    again = client.post(
        "/admin/users", data={"csrf": token, "username": "nina.new", "roles": ["agent"]}
    )
    assert again.status_code == 409
    assert "already exists" in _error(again.text, "username")

    changed = client.post(
        "/admin/users/nina.new",
        data={
            "csrf": token,
            "display_name": "Nina New",
            "email": "",
            "roles": ["supervisor", "agent"],
            "groups": "billing, retention",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    api = client.get("/api/v1/users/nina.new").json()
    assert api["roles"] == ["supervisor", "agent"] and api["groups"] == ["billing", "retention"]
    assert api["email"] is None and "supervise" in api["permissions"]
    # the administrator cannot lock themselves out
    self_demote = client.post("/admin/users/admin", data={"csrf": token, "roles": ["agent"]})
    assert self_demote.status_code == 422
    assert "cannot take the admin role from yourself" in _error(self_demote.text, "roles")

    short = client.post("/admin/users/nina.new/password", data={"csrf": token, "password": "x"})
    assert short.status_code == 422 and "too short" in _error(short.text, "password")
    client.post("/admin/users/nina.new/password", data={"csrf": token, "password": "second-pw!"})
    with TestClient(admin_app) as other:
        login(other, "nina.new", "second-pw!")

    off = client.post(
        "/admin/users/nina.new/active", data={"csrf": token, "active": "no"}, follow_redirects=False
    )
    assert off.status_code == 303
    assert client.get("/api/v1/users/nina.new").json()["active"] is False
    with TestClient(admin_app) as other:
        token2 = csrf_of(other.get("/login").text)
        refused = other.post(
            "/login", data={"csrf": token2, "username": "nina.new", "password": "second-pw!"}
        )
        assert refused.status_code == 401
    listed = client.get("/admin/users").text
    assert re.search(r'data-user="nina.new" class="inactive"', listed)
    client.post("/admin/users/nina.new/active", data={"csrf": token, "active": "yes"})
    assert client.get("/api/v1/users/nina.new").json()["active"] is True
    myself = client.post("/admin/users/admin/active", data={"csrf": token, "active": "no"})
    assert myself.status_code == 409 and "cannot deactivate yourself" in myself.text


def test_an_agent_is_added_with_skills_and_edited(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    form = {
        "csrf": token,
        "id": "paula.skill",
        "display_name": "Paula Skill",
        "department": "",
        "skill_name": ["billing-disputes", "tariffs"],
        "skill_level": ["3", "9"],
        "languages": "en, klingon",
        "capacity_chat": "0",
    }
    bad = client.post("/admin/agents", data=form)
    assert bad.status_code == 422
    assert "Choose the agent's department" in _error(bad.text, "department")
    assert "Skill 'tariffs': give a level from 1" in _error(bad.text, "skills")
    assert "'klingon' is not a language code" in _error(bad.text, "languages")
    assert "from 1 to 100" in _error(bad.text, "capacity_chat")
    assert client.get("/api/v1/routing/agents/paula.skill").status_code == 404

    unknown = client.post(
        "/admin/agents",
        data={
            **form,
            "department": "moon",
            "skill_level": ["3", "2"],
            "languages": "en",
            "capacity_chat": "2",
        },
    )
    assert unknown.status_code == 422
    assert "unknown department 'moon'" in _error(unknown.text, "department")

    added = client.post(
        "/admin/agents",
        data={
            **form,
            "department": "billing",
            "skill_level": ["3", "2"],
            "languages": "en, NL",
            "capacity_chat": "2",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    agent = client.get("/api/v1/routing/agents/paula.skill").json()
    assert agent["skills"] == {"billing-disputes": 3, "tariffs": 2}
    assert agent["departments"] == ["billing"] and agent["languages"] == ["en", "nl"]
    assert agent["capacity"]["chat"] == 2
    listed = client.get("/admin/agents").text
    assert 'data-agent="paula.skill"' in listed and 'data-skill="billing-disputes"' in listed
    row = re.search(r'data-agent="paula.skill">(.*?)</tr>', listed, re.S)
    assert row and "no login" in row.group(1)  # routing knows her, but she cannot log in yet
    client.post("/admin/users", data={"csrf": token, "username": "paula.skill", "roles": "agent"})
    assert 'href="/admin/agents/paula.skill"' in client.get("/admin/users/paula.skill").text
    row = re.search(r'data-agent="paula.skill">(.*?)</tr>', client.get("/admin/agents").text, re.S)
    assert row and "no login" not in row.group(1)

    page = client.get("/admin/agents/paula.skill").text
    assert 'value="billing-disputes"' in page
    edited = client.post(
        "/admin/agents/paula.skill",
        data={
            "csrf": token,
            "display_name": "Paula Skill",
            "department": "retention",
            "skill_name": ["billing-disputes", ""],
            "skill_level": ["5", "3"],
            "languages": "en",
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    agent = client.get("/api/v1/routing/agents/paula.skill").json()
    assert agent["skills"] == {"billing-disputes": 5} and agent["departments"] == ["retention"]
    away = client.post(
        "/admin/agents/paula.skill/presence", data={"csrf": token, "presence": "away"}
    )
    assert away.status_code == 200 and "Presence: away." in away.text
    assert client.get("/api/v1/routing/agents/paula.skill").json()["presence"] == "away"
    wrong = client.post("/admin/agents/paula.skill/presence", data={"csrf": token, "presence": "x"})
    assert wrong.status_code == 422 and "Presence is one of" in _error(wrong.text, "presence")
    # editing an agent that does not exist does not create one
    ghost = client.post(
        "/admin/agents/ghost", data={"csrf": token, "department": "billing"}, follow_redirects=False
    )
    assert ghost.status_code == 404
    assert client.get("/api/v1/routing/agents/ghost").status_code == 404


def test_the_organisation_page_shows_the_company_file(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    page = client.get("/admin/organisation").text
    assert str(COMPANY) in page and "Read-only" in page
    assert 'data-department="billing"' in page and "2h" in page  # billing's pick-up OLA
    assert 'data-policy="premium"' in page and "high: PT30M / P1D" in page
    assert 'data-calendar="business"' in page and "King&#39;s Day" in page


def _bundle_zip(folder: Path, version: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                if path.name == "flow.yaml":
                    data = data.replace(b'version: "1.0"', f'version: "{version}"'.encode())
                archive.writestr(str(path.relative_to(folder)), data)
    return buffer.getvalue()


def test_bundles_deploy_list_diff_and_roll_back(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    listed = client.get("/admin/bundles").text
    assert 'data-flow="refund-request"' in listed
    before = client.get("/api/v1/bundles/refund-request/versions").json()

    junk = client.post(
        "/admin/bundles", data={"csrf": token}, files={"bundle": ("x.zip", b"not a zip")}
    )
    assert junk.status_code == 422 and _error(junk.text, "bundle")
    nothing = client.post("/admin/bundles", data={"csrf": token})
    assert nothing.status_code == 422 and "Choose a bundle" in _error(nothing.text, "bundle")

    data = _bundle_zip(default_demo_dir() / "refund-request", "1.1")
    deployed = client.post(
        "/admin/bundles",
        data={"csrf": token},
        files={"bundle": ("refund-request.zip", data, "application/zip")},
        follow_redirects=False,
    )
    assert deployed.status_code == 303, deployed.text
    assert deployed.headers["location"].startswith("/admin/bundles/refund-request")
    after = client.get("/api/v1/bundles/refund-request/versions").json()
    assert len(after) == len(before) + 1 and after[-1]["label"] == "1.1"
    old, new = before[-1]["number"], after[-1]["number"]

    diff = client.get(f"/admin/bundles/refund-request/diff?old={old}&new={new}").text
    assert 'data-file="flow.yaml"' in diff and "+version: &#34;1.1&#34;" in diff
    bad_diff = client.get("/admin/bundles/refund-request/diff?old=x&new=1")
    assert bad_diff.status_code == 422 and "Choose two versions" in bad_diff.text

    back = client.post(
        "/admin/bundles/refund-request/rollback",
        data={"csrf": token, "version": str(old)},
        follow_redirects=False,
    )
    assert back.status_code == 303
    rolled = client.get("/api/v1/bundles/refund-request/versions").json()
    assert len(rolled) == len(after) + 1 and rolled[-1]["label"] == before[-1]["label"]
    missing = client.post(
        "/admin/bundles/refund-request/rollback", data={"csrf": token, "version": "999"}
    )
    assert missing.status_code == 404


def test_api_keys_are_created_shown_once_and_revoked(
    admin: tuple[TestClient, str], admin_app: FastAPI
) -> None:
    client, token = admin
    empty = client.post("/admin/keys", data={"csrf": token, "name": " ", "owner": "lmurphy"})
    assert empty.status_code == 422 and "Name the key" in _error(empty.text, "name")
    nobody = client.post("/admin/keys", data={"csrf": token, "name": "crm", "owner": "ghost"})
    assert nobody.status_code == 422 and "no user 'ghost'" in _error(nobody.text, "owner")

    made = client.post("/admin/keys", data={"csrf": token, "name": "crm", "owner": "lmurphy"})
    assert made.status_code == 201
    secret = re.search(r'id="key-secret">([^<]+)<', made.text)
    assert secret
    key = secret.group(1)
    assert key not in client.get("/admin/keys").text  # shown once
    with TestClient(admin_app) as api:
        assert api.get("/api/v1/me", headers={"X-API-Key": key}).json()["username"] == "lmurphy"
    listed = client.get("/api/v1/api-keys").json()
    mine = next(k for k in listed if k["name"] == "crm" and k["owner"] == "lmurphy")
    assert key.startswith(f"fdk_{mine['prefix']}") and mine["revoked_at"] is None
    assert f"fdk_{mine['prefix']}" in client.get("/admin/keys").text

    revoked = client.post(f"/admin/keys/{mine['id']}/revoke", data={"csrf": token})
    assert revoked.status_code == 200 and "Key revoked" in revoked.text
    with TestClient(admin_app) as api:
        assert api.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 401
    again = client.post(f"/admin/keys/{mine['id']}/revoke", data={"csrf": token})
    assert again.status_code == 404


def test_webhooks_are_subscribed_listed_and_deleted(
    admin: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    client, token = admin
    bad = client.post(
        "/admin/webhooks", data={"csrf": token, "url": "ftp://x/y", "event_types": ""}
    )
    assert bad.status_code == 422 and "event type" in _error(bad.text, "event_types")
    ftp = client.post(
        "/admin/webhooks", data={"csrf": token, "url": "ftp://x/y", "event_types": "*"}
    )
    assert ftp.status_code == 422 and "http(s)" in _error(ftp.text, "url")
    short = client.post(
        "/admin/webhooks",
        data={"csrf": token, "url": "http://127.0.0.1:9/h", "event_types": "*", "secret": "x"},
    )
    assert short.status_code == 422 and "too short" in _error(short.text, "secret")

    made = client.post(
        "/admin/webhooks",
        data={
            "csrf": token,
            "url": "http://127.0.0.1:9/hook",
            "event_types": "process.*, work_item.completed",
            "description": "CRM",
        },
    )
    assert made.status_code == 201
    assert re.search(r'id="webhook-secret">[\w-]{32,}<', made.text)
    hooks = client.get("/api/v1/webhooks").json()
    hook = next(h for h in hooks if h["url"] == "http://127.0.0.1:9/hook")
    assert hook["event_types"] == ["process.*", "work_item.completed"]
    detail = client.get(f"/admin/webhooks/{hook['id']}")
    assert detail.status_code == 200 and "No deliveries yet" in detail.text
    assert client.get("/admin/webhooks/nope").status_code == 404

    gone = client.post(f"/admin/webhooks/{hook['id']}/delete", data={"csrf": token})
    assert gone.status_code == 200 and "Webhook deleted" in gone.text
    assert hook["id"] not in {h["id"] for h in client.get("/api/v1/webhooks").json()}


def test_forms_without_the_csrf_token_are_refused(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    answer = client.post("/admin/users", data={"username": "x.y", "roles": ["agent"]})
    assert answer.status_code == 400
    assert client.get("/api/v1/users/x.y").status_code == 404


def test_the_webhook_page_shows_its_recent_deliveries(
    admin: tuple[TestClient, str], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    client, token = admin
    receiver = Receiver()  # a real HTTP endpoint on 127.0.0.1
    try:
        made = client.post(
            "/admin/webhooks",
            data={"csrf": token, "url": receiver.url, "event_types": "user.created"},
        )
        assert made.status_code == 201
        hook = next(h for h in client.get("/api/v1/webhooks").json() if h["url"] == receiver.url)
        client.post(
            "/admin/users", data={"csrf": token, "username": "hook.watch", "roles": ["agent"]}
        )
        deliverer = Deliverer(store)
        try:
            deliverer.deliver_once()
        finally:
            deliverer.close()
        assert "hook.watch" in str(receiver.events())
        page = client.get(f"/admin/webhooks/{hook['id']}").text
        row = re.search(r'<tr data-delivery="[^"]+">(.*?)</tr>', page, re.S)
        assert row and "user.created" in row.group(1) and "delivered" in row.group(1)
        assert "200" in row.group(1)
    finally:
        receiver.close()
