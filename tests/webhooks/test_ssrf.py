# ruff: noqa: F811
"""The SSRF guard on webhook URLs: refused at creation over the API with the reason (422),
allowed by the allow-list setting, checked again before every delivery (DNS rebinding), and the
delivery connects to the address that was checked."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest
from tests.api.test_service_api import Api, _problem, api  # noqa: F401
from tests.webhooks.test_delivery import SECRET, Receiver, _append, receiver  # noqa: F401

from flowdesk.core.clock import FixedClock
from flowdesk.store import Store
from flowdesk.webhooks import subscriptions
from flowdesk.webhooks.delivery import Deliverer
from flowdesk.webhooks.ssrf import ALLOW_ENV, Guard, UnsafeUrl, allowed_networks, refusal

#: `_append` writes made-up event types: this exercises delivery, not the registry.
pytestmark = pytest.mark.usefixtures("loose_events")

HOOKS = "/api/v1/webhooks"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8000/admin", "loopback"),
        ("http://localhost/x", "loopback"),  # a name: resolved, then refused
        ("http://[::1]/x", "loopback"),
        ("http://[::ffff:127.0.0.1]/x", "loopback"),  # IPv4-mapped IPv6
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://100.100.100.200/", "cloud metadata"),
        ("http://169.254.10.1/", "link-local"),
        ("http://10.1.2.3/x", "private"),
        ("https://192.168.0.10/x", "private"),
        ("http://[fd00::1]/x", "private"),
        ("http://224.0.0.251/x", "multicast"),
        ("http://0.0.0.0/x", "unspecified"),
        ("http://100.64.0.1/x", "not a public address"),  # shared address space (CGNAT)
    ],
)
def test_creating_a_webhook_to_an_internal_address_is_a_422_with_the_reason(
    api: Api, monkeypatch: pytest.MonkeyPatch, url: str, why: str
) -> None:
    monkeypatch.delenv(ALLOW_ENV)
    response = api.client.post(
        HOOKS, json={"url": url, "eventTypes": ["*"]}, headers=api.as_("admin")
    )
    body = _problem(response, 422)
    assert why in body["detail"] and "public addresses" in body["detail"]
    assert ALLOW_ENV in body["hint"]
    assert api.client.get(HOOKS, headers=api.as_("admin")).json() == []  # nothing written


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://files.example.com/x", "http(s)"),
        ("file:///etc/passwd", "http(s)"),
        ("gopher://127.0.0.1:25/", "http(s)"),
        ("http://user:pw@hooks.example.com/x", "user name or password"),
        ("http://hooks.example.com:99999/x", "invalid port"),
    ],
)
def test_only_plain_http_and_https_urls_are_accepted(api: Api, url: str, why: str) -> None:
    response = api.client.post(
        HOOKS, json={"url": url, "eventTypes": ["*"]}, headers=api.as_("admin")
    )
    assert why in _problem(response, 422)["detail"]


def test_the_allow_list_permits_named_networks_only(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "10.20.0.0/16, ::1")
    post = api.client.post
    admin = api.as_("admin")
    for url, code in (
        ("http://10.20.3.4/x", 201),
        ("http://[::1]:8080/x", 201),
        ("http://10.21.0.1/x", 422),
        ("http://127.0.0.1/x", 422),
    ):
        response = post(HOOKS, json={"url": url, "eventTypes": ["*"]}, headers=admin)
        assert response.status_code == code, (url, response.text)
    with pytest.raises(UnsafeUrl, match="not an address or network"):
        allowed_networks("10.0.0.0/8,intranet")


def test_refusal_classifies_addresses() -> None:
    public = ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8")
    for text in public:
        assert refusal(ipaddress.ip_address(text)) is None, text
    assert refusal(ipaddress.ip_address("fd00:ec2::254")) == "a cloud metadata address"
    assert refusal(ipaddress.ip_address("192.0.2.1")) is not None  # documentation range


class Dns:
    """A resolver the test scripts: each call pops the next answer for the host."""

    def __init__(self, **answers: list[list[str]]) -> None:
        self.answers = {k.replace("_", "."): v for k, v in answers.items()}
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        script = self.answers[host]
        return script.pop(0) if len(script) > 1 else script[0]


def test_a_name_that_rebinds_to_loopback_is_refused_at_delivery(
    store: Store, clock: FixedClock, receiver: Receiver
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    dns = Dns(hooks_example_com=[["93.184.216.34"], ["93.184.216.34", "127.0.0.1"]])
    guard = Guard(allow=(), resolve=dns)
    sub = subscriptions.create(
        store,
        clock,
        url=f"http://hooks.example.com:{port}/hook",
        event_types=["case.*"],
        secret=SECRET,
        guard=guard,
    )
    _append(store, clock, "case.opened")
    report = Deliverer(store, clock=clock, guard=guard).deliver_once()
    assert (report.delivered, report.retried) == (0, 1)
    assert receiver.requests == []  # nothing left the process towards loopback
    (entry,) = subscriptions.deliveries(store, sub.id)
    assert entry.status == "pending" and entry.last_status_code is None
    assert entry.last_error is not None
    assert entry.last_error.startswith("refused:") and "loopback" in entry.last_error
    assert dns.calls == ["hooks.example.com", "hooks.example.com"]


def test_delivery_connects_to_the_checked_address_with_the_original_host(
    store: Store, clock: FixedClock, receiver: Receiver
) -> None:
    """The name does not exist in DNS at all: the POST can only have reached the receiver
    through the address the guard resolved and checked."""
    port = receiver.url.split(":")[2].split("/")[0]
    guard = Guard(
        allow=(ipaddress.ip_network("127.0.0.0/8"),),
        resolve=Dns(hooks_flowdesk_invalid=[["127.0.0.1"]]),
    )
    subscriptions.create(
        store,
        clock,
        url=f"http://hooks.flowdesk.invalid:{port}/hook",
        event_types=["case.*"],
        secret=SECRET,
        guard=guard,
    )
    _append(store, clock, "case.opened")
    assert Deliverer(store, clock=clock, guard=guard).deliver_once().delivered == 1
    (headers, _) = receiver.requests[0]
    assert headers["Host"] == f"hooks.flowdesk.invalid:{port}"


def test_a_name_that_does_not_resolve_yet_is_accepted_then_checked_on_delivery(
    store: Store, clock: FixedClock
) -> None:
    def nowhere(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    guard = Guard(allow=(), resolve=nowhere)
    sub = subscriptions.create(
        store, clock, url="https://hooks.flowdesk.invalid/x", event_types=["case.*"], guard=guard
    )
    _append(store, clock, "case.opened")
    assert Deliverer(store, clock=clock, guard=guard).deliver_once().retried == 1
    (entry,) = subscriptions.deliveries(store, sub.id)
    assert entry.last_error is not None and "does not resolve" in entry.last_error
