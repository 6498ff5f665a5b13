"""The connector's request building and result mapping without the network: what each input
becomes on the wire, and the clear errors for inputs that cannot be sent."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest

from flowdesk.bpmn.model import ConnectorSpec, IoMapping, TaskSpec
from flowdesk.connectors.request import (
    CAMUNDA_HTTP,
    ZEEBE_HTTP,
    ConnectorFailure,
    ConnectorInputError,
    HttpResponse,
    build_request,
    map_result,
    nest,
)
from flowdesk.connectors.secrets import MissingSecret, Secrets, mask
from flowdesk.engine.expressions import FeelLanguage

SECRETS = Secrets({"API_KEY": "k-123"}, environ={"FLOWDESK_SECRET_PASS": "pw-9"})


def test_dotted_inputs_nest_like_zeebe() -> None:
    assert nest({"authentication.type": "basic", "authentication.username": "u", "url": "x"}) == {
        "authentication": {"type": "basic", "username": "u"},
        "url": "x",
    }


def test_zeebe_basic_auth_api_key_query_and_json_body() -> None:
    used: set[str] = set()
    request = build_request(
        ZEEBE_HTTP,
        {
            "url": "https://crm.example.com/x",
            "method": "post",
            "authentication.type": "basic",
            "authentication.username": "flow",
            "authentication.password": "{{secrets.PASS}}",
            "queryParameters": {"page": Decimal(2)},
            "body": {"amount": Decimal("12.50"), "ok": True},
            "connectionTimeoutInSeconds": "3",
        },
        SECRETS,
        used,
        timeout_s=10,
    )
    assert request.method == "POST" and request.params == {"page": "2"}
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"flow:pw-9").decode()
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body or b"") == {"amount": 12.5, "ok": True}
    assert (request.connect_timeout_s, request.read_timeout_s) == (3.0, 3.0)
    assert used == {"pw-9"} and mask("failed with pw-9", used) == "failed with ***"
    keyed = build_request(
        ZEEBE_HTTP,
        {
            "url": "https://x.example/",
            "authentication": {
                "type": "apiKey",
                "location": "query",
                "name": "key",
                "value": "{{secrets.API_KEY}}",
            },
        },
        SECRETS,
        set(),
        timeout_s=10,
    )
    assert keyed.params == {"key": "k-123"} and "Authorization" not in keyed.headers


def test_camunda_payload_text_is_sent_as_is() -> None:
    request = build_request(
        CAMUNDA_HTTP,
        {
            "url": "https://x.example/",
            "method": "PUT",
            "payload": '{"a": 1}',
            "headers": {"Content-Type": "text/plain"},
        },
        SECRETS,
        set(),
        timeout_s=4,
    )
    assert request.body == b'{"a": 1}' and request.headers == {"Content-Type": "text/plain"}
    assert request.read_timeout_s == 4


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({}, "needs a 'url' input"),
        ({"url": "https://x.example", "method": "BREW"}, "method 'BREW' is not supported"),
        ({"url": "https://x.example", "headers": "Accept: */*"}, "'headers' must be a context"),
        (
            {"url": "https://x.example", "authentication": {"type": "oauth-magic"}},
            "authentication type 'oauth-magic' is not supported",
        ),
        (
            {"url": "https://x.example", "readTimeoutInSeconds": "soon"},
            "must be a number of seconds",
        ),
    ],
)
def test_inputs_that_cannot_be_sent_are_named(variables: dict, fragment: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConnectorInputError, match=fragment):
        build_request(ZEEBE_HTTP, variables, SECRETS, set(), timeout_s=1)


def test_a_missing_secret_names_the_variable_to_set() -> None:
    with pytest.raises(MissingSecret) as info:
        build_request(
            ZEEBE_HTTP, {"url": "https://x/{{secrets.NOPE}}"}, SECRETS, set(), timeout_s=1
        )
    assert "FLOWDESK_SECRET_NOPE" in str(info.value)


def test_results_map_by_dialect() -> None:
    feel = FeelLanguage()
    spec = TaskSpec(
        connector=ConnectorSpec(CAMUNDA_HTTP, outputs=(IoMapping("response.total * 2", "twice"),))
    )
    answer = HttpResponse(404, {"content-type": "application/json"}, {"total": 21})
    assert map_result(CAMUNDA_HTTP, spec, {}, answer, feel) == {"twice": 42}  # 4xx: a result
    with pytest.raises(ConnectorFailure, match="HTTP 404"):
        map_result(ZEEBE_HTTP, TaskSpec(), {}, answer, feel)  # the REST connector fails it
    with pytest.raises(ConnectorFailure, match="HTTP 503"):
        map_result(CAMUNDA_HTTP, spec, {}, HttpResponse(503, {}, ""), feel)
    picked = TaskSpec(headers=(("resultExpression", "=body.total"),))
    with pytest.raises(ConnectorInputError, match="must give a context"):
        map_result(ZEEBE_HTTP, picked, {}, HttpResponse(200, {}, {"total": 1}), feel)
