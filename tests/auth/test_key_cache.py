"""The API-key cache through the API: a verified key is answered from memory for a bounded
time; a revocation in this process takes effect at once, one made elsewhere (here: straight in
the database, as another server would) at the latest when the entry expires."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from flowdesk.api.app import create_app
from flowdesk.auth import keycache, service
from flowdesk.auth.models import api_keys
from flowdesk.core.clock import FixedClock
from flowdesk.settings import Settings
from flowdesk.store import Store


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app(store: Store, database_url: str, clock: FixedClock) -> Iterator[TestClient]:
    service.create_user(store, clock, username="root", roles=["admin"])
    with TestClient(create_app(Settings(database_url=database_url), store, clock)) as c:
        yield c


def _key(store: Store, clock: FixedClock, name: str = "test") -> tuple[str, dict[str, str]]:
    key_id, key = service.create_api_key(store, clock, username="root", name=name)
    return key_id, {"Authorization": f"Bearer {key}"}


def _revoke_elsewhere(store: Store, key_id: str, clock: FixedClock) -> None:
    """What another process sharing the database does: this process's cache is not told."""
    with store.unit_of_work() as uow:
        uow.connection.execute(
            update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=clock.now())
        )


def test_a_key_revoked_elsewhere_works_until_its_entry_expires(
    app: TestClient, store: Store, clock: FixedClock
) -> None:
    ticks = Ticks()
    keycache.configure(store, ttl_s=30, monotonic=ticks)
    key_id, headers = _key(store, clock)
    assert app.get("/api/v1/me", headers=headers).status_code == 200
    _revoke_elsewhere(store, key_id, clock)
    ticks.now += 29
    assert app.get("/api/v1/me", headers=headers).status_code == 200  # cached
    ticks.now += 2
    response = app.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_key_revoked_through_this_process_stops_at_once(
    app: TestClient, store: Store, clock: FixedClock
) -> None:
    keycache.configure(store, ttl_s=3600, monotonic=Ticks())
    _, admin = _key(store, clock, "admin")
    key_id, headers = _key(store, clock, "crm")
    assert app.get("/api/v1/me", headers=headers).status_code == 200
    assert app.delete(f"/api/v1/api-keys/{key_id}", headers=admin).status_code == 204
    assert app.get("/api/v1/me", headers=headers).status_code == 401
    assert app.get("/api/v1/me", headers=admin).status_code == 200


def test_the_cache_is_bounded_least_recently_used_first(
    app: TestClient, store: Store, clock: FixedClock
) -> None:
    cache = keycache.configure(store, ttl_s=3600, max_entries=2, monotonic=Ticks())
    keys = [_key(store, clock, f"k{n}") for n in range(3)]
    for _, headers in keys:
        assert app.get("/api/v1/me", headers=headers).status_code == 200
    assert len(cache) == 2
    # the first key left the cache, so its revocation elsewhere is seen; the last one's is not
    _revoke_elsewhere(store, keys[0][0], clock)
    _revoke_elsewhere(store, keys[2][0], clock)
    assert app.get("/api/v1/me", headers=keys[0][1]).status_code == 401
    assert app.get("/api/v1/me", headers=keys[2][1]).status_code == 200


def test_zero_seconds_turns_the_cache_off_and_wrong_keys_are_never_cached(
    store: Store, database_url: str, clock: FixedClock
) -> None:
    service.create_user(store, clock, username="root", roles=["admin"])
    settings = Settings(database_url=database_url, api_key_cache_seconds=0)
    with TestClient(create_app(settings, store, clock)) as app:
        key_id, headers = _key(store, clock)
        assert app.get("/api/v1/me", headers=headers).status_code == 200
        assert len(keycache.cache_for(store)) == 0
        _revoke_elsewhere(store, key_id, clock)
        assert app.get("/api/v1/me", headers=headers).status_code == 401
    keycache.configure(store, ttl_s=30)
    wrong = {"Authorization": headers["Authorization"] + "x"}
    with pytest.raises(service.AuthError):
        service.authenticate_key(store, wrong["Authorization"].split()[1])
    assert len(keycache.cache_for(store)) == 0
