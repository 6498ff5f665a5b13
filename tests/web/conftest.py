"""A store with the demo company loaded, and an app with the web pages on it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.cli.demo import load_demo_content
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

PASSWORD = "flowdesk-demo"


def build_app(url: str, store: Store) -> FastAPI:
    return create_app(Settings(database_url=url), store)  # includes the web router


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    try:
        yield url, store
    finally:
        store.close()


@pytest.fixture
def store(demo_store: tuple[str, Store]) -> Store:
    return demo_store[1]


@pytest.fixture
def app(demo_store: tuple[str, Store]) -> FastAPI:
    return build_app(*demo_store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the CSRF token for later posts."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf": token, "username": username, "password": password, "next": "/work"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return token


def start_complaint(store: Store, reference: str, name: str = "Jane Doe") -> dict[str, Any]:
    """A demo complaint case; returns its first work item (front office)."""
    runtime = ProcessRuntime(store)
    state = runtime.start(
        "complaint",
        {"customerName": name, "reason": "complaint", "caseRef": reference},
        business_key=reference,
    )
    return runtime.work_items(instance_id=state.id)[0]


def start_in(store: Store, process_key: str, group: str, reference: str) -> dict[str, Any] | None:
    """Start a demo flow and return its first open item in `group`, if any."""
    runtime = ProcessRuntime(store)
    state = runtime.start(process_key, {"customerName": "Sam Field"}, business_key=reference)
    items = runtime.work_items(instance_id=state.id)
    return next((i for i in items if group in i["candidate_groups"]), None)


Login = Callable[..., str]
Starter = Callable[..., dict[str, Any]]


@pytest.fixture(name="login")
def login_fixture() -> Login:
    return login


@pytest.fixture(name="start_complaint")
def start_complaint_fixture() -> Starter:
    return start_complaint


@pytest.fixture(name="csrf_of")
def csrf_fixture() -> Callable[[str], str]:
    return csrf_of
