from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.api.security import PUBLIC
from flowdesk.auth import service
from flowdesk.core.clock import FixedClock
from flowdesk.settings import Settings
from flowdesk.store import Store


@pytest.fixture
def app_client(store: Store, database_url: str, clock: FixedClock) -> Iterator[TestClient]:
    service.create_user(store, clock, username="root", roles=["admin"], password="correct horse")
    with TestClient(create_app(Settings(database_url=database_url), store, clock)) as c:
        yield c


def _key(store: Store, clock: FixedClock, username: str) -> dict[str, str]:
    _, key = service.create_api_key(store, clock, username=username, name="test")
    return {"Authorization": f"Bearer {key}"}


def test_requests_without_credentials_get_401_problem(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "authentication required" in response.json()["detail"]


def test_api_key_identifies_the_caller(
    app_client: TestClient, store: Store, clock: FixedClock
) -> None:
    response = app_client.get("/api/v1/me", headers=_key(store, clock, "root"))
    assert response.status_code == 200
    assert response.json()["username"] == "root"
    assert "users:manage" in response.json()["permissions"]
    # The X-API-Key header works too; a wrong or malformed key does not.
    _, key = service.create_api_key(store, clock, username="root", name="second")
    assert app_client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    assert app_client.get("/api/v1/me", headers={"X-API-Key": key + "x"}).status_code == 401
    assert app_client.get("/api/v1/me", headers={"X-API-Key": "nonsense"}).status_code == 401


def test_keys_are_stored_hashed_and_can_be_revoked(
    app_client: TestClient, store: Store, clock: FixedClock
) -> None:
    admin = _key(store, clock, "root")
    created = app_client.post("/api/v1/api-keys", json={"name": "crm"}, headers=admin).json()
    key = created["key"]
    with store.reading() as conn:
        stored = conn.exec_driver_sql("SELECT key_hash FROM api_keys").scalars().all()
    assert key not in stored and all(len(h) == 64 for h in stored)
    assert app_client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    assert app_client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin).status_code == 204
    assert app_client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 401
    assert app_client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin).status_code == 404


def test_roles_limit_what_a_user_may_do(
    app_client: TestClient, store: Store, clock: FixedClock
) -> None:
    admin = _key(store, clock, "root")
    response = app_client.post(
        "/api/v1/users",
        json={"username": "ana.agent", "roles": ["agent"], "groups": ["billing"]},
        headers=admin,
    )
    assert response.status_code == 201
    assert response.json()["groups"] == ["billing"]
    agent = _key(store, clock, "ana.agent")
    denied = app_client.get("/api/v1/users", headers=agent)
    assert denied.status_code == 403
    assert "users:manage" in denied.json()["detail"]
    # An agent may create a key for themselves but not for someone else.
    own = app_client.post("/api/v1/api-keys", json={"name": "mine"}, headers=agent)
    assert own.status_code == 201
    other = app_client.post(
        "/api/v1/api-keys", json={"name": "x", "username": "root"}, headers=agent
    )
    assert other.status_code == 403


def test_bad_user_input_is_a_precise_422(
    app_client: TestClient, store: Store, clock: FixedClock
) -> None:
    admin = _key(store, clock, "root")
    bad_role = app_client.post(
        "/api/v1/users", json={"username": "bob", "roles": ["pope"]}, headers=admin
    )
    assert bad_role.status_code == 422
    assert "roles.0" in bad_role.json()["detail"]
    bad_name = app_client.post(
        "/api/v1/users", json={"username": "Bob Smith", "roles": ["agent"]}, headers=admin
    )
    assert bad_name.status_code == 422
    assert "username 'Bob Smith' is not valid" in bad_name.json()["detail"]
    not_json = app_client.post(
        "/api/v1/users",
        content=b"{not json",
        headers={**admin, "content-type": "application/json"},
    )
    assert not_json.status_code == 422
    dup = app_client.post(
        "/api/v1/users", json={"username": "root", "roles": ["agent"]}, headers=admin
    )
    assert dup.status_code == 409
    assert len(service.list_users(store)) == 1  # nothing half-written


def test_login_session_cookie_and_expiry(app_client: TestClient, clock: FixedClock) -> None:
    wrong = app_client.post("/api/v1/auth/login", json={"username": "root", "password": "nope"})
    assert wrong.status_code == 401
    nobody = app_client.post("/api/v1/auth/login", json={"username": "x", "password": "nope"})
    assert nobody.status_code == 401
    assert wrong.json()["detail"] == nobody.json()["detail"]  # no user enumeration
    ok = app_client.post(
        "/api/v1/auth/login", json={"username": "root", "password": "correct horse"}
    )
    assert ok.status_code == 200
    assert "httponly" in ok.headers["set-cookie"].lower()
    assert app_client.get("/api/v1/me").json()["username"] == "root"
    clock.advance(service.SESSION_TTL + timedelta(seconds=1))
    expired = app_client.get("/api/v1/me")
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_logout_ends_the_session(app_client: TestClient) -> None:
    app_client.post("/api/v1/auth/login", json={"username": "root", "password": "correct horse"})
    assert app_client.get("/api/v1/me").status_code == 200
    assert app_client.post("/api/v1/auth/logout").status_code == 204
    assert app_client.get("/api/v1/me").status_code == 401


def test_user_changes_land_in_the_event_log(store: Store, clock: FixedClock) -> None:
    service.create_user(
        store,
        clock,
        username="eve",
        roles=["supervisor"],
        groups=["retention"],
        password="s3cret-pw",
    )
    _, key = service.create_api_key(store, clock, username="eve", name="k")
    log = store.events.after(0)
    assert [e.type for e in log] == ["user.created", "api_key.created"]
    dumped = repr([e.data for e in log])
    assert key not in dumped and "s3cret-pw" not in dumped  # secrets never reach the log


def _permission_of(route: APIRoute) -> object:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        marker = getattr(dep.call, "__flowdesk_permission__", None)
        if marker is not None:
            return marker
        stack.extend(dep.dependencies)
    return None


def test_every_route_declares_a_permission_or_is_public(app_client: TestClient) -> None:
    contexts = list(iter_route_contexts(app_client.app.routes))  # type: ignore[attr-defined]
    api_routes = [
        (ctx.path, ctx.original_route)
        for ctx in contexts
        if isinstance(ctx.original_route, APIRoute)
    ]
    paths = {path for path, _ in api_routes}
    assert {"/api/v1/users", "/api/v1/me", "/health"} <= paths  # the walk sees every route
    undeclared = [
        path for path, route in api_routes if path not in PUBLIC and _permission_of(route) is None
    ]
    assert undeclared == []


def test_users_are_changed_deactivated_and_given_passwords_over_rest(
    app_client: TestClient, store: Store, clock: FixedClock
) -> None:
    admin = _key(store, clock, "root")
    app_client.post(
        "/api/v1/users",
        json={"username": "ana.agent", "roles": ["agent"], "password": "first-password"},
        headers=admin,
    )
    agent = _key(store, clock, "ana.agent")
    changed = app_client.patch(
        "/api/v1/users/ana.agent",
        json={"roles": ["supervisor"], "groups": ["billing"], "email": "ana@example.com"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["roles"], body["groups"], body["email"]) == (
        ["supervisor"],
        ["billing"],
        "ana@example.com",
    )
    # the agent's key acts with the new roles at once (the key cache forgot the old ones)
    assert "supervise" in app_client.get("/api/v1/me", headers=agent).json()["permissions"]
    bad = app_client.patch(
        "/api/v1/users/ana.agent", json={"roles": ["pope"], "email": "x"}, headers=admin
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"roles", "email"}
    assert app_client.patch("/api/v1/users/nope", json={}, headers=admin).status_code == 404

    short = app_client.put(
        "/api/v1/users/ana.agent/password", json={"password": "short"}, headers=admin
    )
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
    assert (
        app_client.put(
            "/api/v1/users/ana.agent/password", json={"password": "second-password"}, headers=admin
        ).status_code
        == 204
    )
    login = {"username": "ana.agent", "password": "second-password"}
    assert app_client.post("/api/v1/auth/login", json=login).status_code == 200

    off = app_client.patch("/api/v1/users/ana.agent", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert app_client.get("/api/v1/me", headers=agent).status_code == 401  # keys stop too
    assert app_client.post("/api/v1/auth/login", json=login).status_code == 401
    on = app_client.patch("/api/v1/users/ana.agent", json={"active": True}, headers=admin)
    assert on.json()["active"] is True
    assert app_client.get("/api/v1/me", headers=agent).status_code == 200
    myself = app_client.patch("/api/v1/users/root", json={"active": False}, headers=admin)
    assert myself.status_code == 409


def test_api_keys_are_listed_without_secrets_own_ones_for_non_admins(
    app_client: TestClient, store: Store, clock: FixedClock
) -> None:
    admin = _key(store, clock, "root")
    app_client.post("/api/v1/users", json={"username": "bo", "roles": ["agent"]}, headers=admin)
    agent = _key(store, clock, "bo")
    theirs = app_client.get("/api/v1/api-keys", headers=agent).json()
    assert [k["owner"] for k in theirs] == ["bo"]
    everyone = app_client.get("/api/v1/api-keys", headers=admin).json()
    assert {k["owner"] for k in everyone} == {"root", "bo"}
    assert all("key" not in k and "key_hash" not in k for k in everyone)
