"""The HTTP connector's request and result mapping, without the network.

Two dialects, as Camunda Modeler writes them:

- Camunda 7 `camunda:connector` with connectorId `http-connector`: its input parameters `url`,
  `method` (default GET), `headers` (a camunda:map) and `payload` (text sent as is; anything else
  as JSON) are the task's local variables when the job is fetched; its output parameters are FEEL
  over `response` (the body, parsed when it is JSON), `statusCode` and `headers`. A 5xx answer
  fails the attempt; other answers are results for the model to look at, as in Camunda 7.
- Zeebe's REST connector, task type `io.camunda:http-json:1`: zeebe:ioMapping inputs `url`,
  `method`, `headers`, `queryParameters`, `body` (sent as JSON), `connectionTimeoutInSeconds`,
  `readTimeoutInSeconds` and `authentication` (type `noAuth`, `bearer` with `token`, `basic` with
  `username` / `password`, `apiKey` with `location`, `name`, `value`), dotted targets such as
  `authentication.type` included. The result `{status, headers, body}` goes to the task header
  `resultVariable`, and `resultExpression` (FEEL over status, headers and body, giving a context)
  picks variables from it. A 4xx or 5xx answer fails the attempt, as in Camunda 8.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flowdesk.bpmn.model import TaskSpec
from flowdesk.connectors.secrets import Secrets
from flowdesk.core.errors import FlowdeskError
from flowdesk.core.jsonutil import json_default
from flowdesk.engine.expressions import ExpressionError, ExpressionLanguage

CAMUNDA_HTTP = "http-connector"
ZEEBE_HTTP = "io.camunda:http-json:1"
TOPICS = (CAMUNDA_HTTP, ZEEBE_HTTP)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class ConnectorInputError(FlowdeskError):
    """The model gave the connector something it cannot send or map: retrying cannot help, so
    the task becomes an incident at once."""

    code = "invalid-input"


class ConnectorFailure(FlowdeskError):
    """The call failed in a way that may pass on a later attempt (5xx, timeout, refused)."""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or text


def nest(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted input targets (`authentication.type`) as nested contexts, as Zeebe maps them."""
    out: dict[str, Any] = {}
    for key, value in variables.items():
        parts = key.split(".")
        table = out
        for part in parts[:-1]:
            inner = table.get(part)
            if not isinstance(inner, dict):
                inner = {}
                table[part] = inner
            table = inner
        if isinstance(value, Mapping) and isinstance(table.get(parts[-1]), dict):
            table[parts[-1]].update(value)
        else:
            table[parts[-1]] = value
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float) and value == int(value):
        return str(int(value))
    return str(value)


def _strings(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConnectorInputError(f"connector input '{what}' must be a context (a map)")
    return {str(k): _text(v) for k, v in value.items() if v is not None}


def _seconds(value: Any, default: float, what: str) -> float:
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConnectorInputError(f"connector input '{what}' must be a number of seconds") from None
    if not 0 < seconds <= 300:
        raise ConnectorInputError(f"connector input '{what}' must be between 0 and 300 seconds")
    return seconds


def _encode(body: Any, headers: dict[str, str]) -> bytes | None:
    if body is None or body == "":
        return None
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, default=json_default).encode("utf-8")


def build_request(
    dialect: str,
    variables: Mapping[str, Any],
    secrets: Secrets,
    used: set[str],
    *,
    timeout_s: float,
) -> HttpRequest:
    """The request a task's variables describe, secrets put in (their values added to `used`)."""
    values = nest(variables)
    url = values.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ConnectorInputError("the HTTP connector needs a 'url' input (a string)")
    method = _text(values.get("method") or "GET").upper()
    if method not in METHODS:
        raise ConnectorInputError(f"HTTP method '{method}' is not supported")
    headers = _strings(secrets.resolve(values.get("headers"), used), "headers")
    url = secrets.resolve(url.strip(), used)
    if dialect == CAMUNDA_HTTP:
        body = _encode(secrets.resolve(values.get("payload"), used), headers)
        return HttpRequest(method, url, headers, {}, body, timeout_s, timeout_s)
    params = _strings(secrets.resolve(values.get("queryParameters"), used), "queryParameters")
    auth = secrets.resolve(values.get("authentication"), used)
    if auth is not None:
        _authenticate(auth, headers, params)
    body = _encode(secrets.resolve(values.get("body"), used), headers)
    connect = _seconds(
        values.get("connectionTimeoutInSeconds"), timeout_s, "connectionTimeoutInSeconds"
    )
    read = _seconds(values.get("readTimeoutInSeconds"), connect, "readTimeoutInSeconds")
    return HttpRequest(method, url, headers, params, body, connect, read)


def _authenticate(auth: Any, headers: dict[str, str], params: dict[str, str]) -> None:
    if not isinstance(auth, Mapping):
        raise ConnectorInputError("connector input 'authentication' must be a context")
    kind = _text(auth.get("type") or "noAuth")
    if kind == "noAuth":
        return
    if kind == "bearer":
        headers["Authorization"] = f"Bearer {_text(auth.get('token') or '')}"
    elif kind == "basic":
        pair = f"{_text(auth.get('username') or '')}:{_text(auth.get('password') or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif kind == "apiKey":
        name, value = _text(auth.get("name") or ""), _text(auth.get("value") or "")
        if not name:
            raise ConnectorInputError("apiKey authentication needs a 'name'")
        (params if auth.get("location") == "query" else headers)[name] = value
    else:
        raise ConnectorInputError(
            f"authentication type '{kind}' is not supported (noAuth, bearer, basic, apiKey)"
        )


def map_result(
    dialect: str,
    spec: TaskSpec,
    variables: Mapping[str, Any],
    response: HttpResponse,
    feel: ExpressionLanguage,
) -> dict[str, Any]:
    """The process variables a response sets; ConnectorFailure for an answer that fails."""
    if dialect == CAMUNDA_HTTP:
        if response.status >= 500:
            raise ConnectorFailure(f"HTTP {response.status} from the server")
        context = {
            **variables,
            "response": response.body,
            "statusCode": response.status,
            "headers": response.headers,
        }
        outputs = spec.connector.outputs if spec.connector is not None else ()
        return {m.target: _evaluate(feel, m.source, context, m.target) for m in outputs}
    if response.status >= 400:
        raise ConnectorFailure(f"HTTP {response.status} from the server")
    result = {"status": response.status, "headers": response.headers, "body": response.body}
    headers = dict(spec.headers)
    out: dict[str, Any] = {}
    name = headers.get("resultVariable", "").strip()
    if name:
        out[name] = result
    expression = headers.get("resultExpression", "").strip()
    if expression:
        text = expression[1:] if expression.startswith("=") else expression
        picked = _evaluate(feel, text, {**result, "response": result}, "resultExpression")
        if picked is not None:
            if not isinstance(picked, Mapping):
                raise ConnectorInputError("resultExpression must give a context")
            out.update(picked)
    return out


def _evaluate(feel: ExpressionLanguage, text: str, context: Mapping[str, Any], what: str) -> Any:
    try:
        return feel.evaluate(text, context)
    except ExpressionError as exc:
        raise ConnectorInputError(f"connector output '{what}': {exc}") from exc
