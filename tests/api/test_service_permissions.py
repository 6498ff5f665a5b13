# ruff: noqa: F811
"""The permission matrix: each role x each service route is allowed, or a 403 problem."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute, iter_route_contexts
from tests.api.test_service_api import Api, api  # noqa: F401

from flowdesk.auth.roles import ROLE_PERMISSIONS, Permission, Role

P = Permission
#: What each service route needs, written down from the issue (not read from the code).
EXPECTED = {
    ("POST", "/api/v1/deployments"): P.DEPLOY,
    ("GET", "/api/v1/deployments"): P.MODELS_READ,
    ("GET", "/api/v1/bundles/{name}/versions"): P.MODELS_READ,
    ("GET", "/api/v1/bundles/{name}/diff"): P.MODELS_READ,
    ("POST", "/api/v1/bundles/{name}/rollback"): P.DEPLOY,
    ("GET", "/api/v1/process-definitions"): P.MODELS_READ,
    ("GET", "/api/v1/experiences"): P.MODELS_READ,
    ("GET", "/api/v1/experiences/catalog"): P.MODELS_READ,
    ("GET", "/api/v1/process-definitions/{key}"): P.MODELS_READ,
    ("GET", "/api/v1/process-definitions/{definition_id}/xml"): P.MODELS_READ,
    ("GET", "/api/v1/process-definitions/{definition_id}/diagram.svg"): P.MODELS_READ,
    ("POST", "/api/v1/process-instances"): P.PROCESS_START,
    ("GET", "/api/v1/process-instances"): P.PROCESS_READ,
    ("GET", "/api/v1/process-instances/{instance_id}"): P.PROCESS_READ,
    ("GET", "/api/v1/process-instances/{instance_id}/history"): P.PROCESS_READ,
    ("DELETE", "/api/v1/process-instances/{instance_id}"): P.PROCESS_ADMIN,
    ("PATCH", "/api/v1/process-instances/{instance_id}/variables"): P.PROCESS_ADMIN,
    ("POST", "/api/v1/process-instances/{instance_id}/incidents/{incident_id}/retry"): (
        P.PROCESS_ADMIN
    ),
    ("GET", "/api/v1/work-items"): P.WORK_READ,
    ("GET", "/api/v1/work-items/{item_id}"): P.WORK_READ,
    ("POST", "/api/v1/work-items/{item_id}/claim"): P.WORK_ACT,
    ("POST", "/api/v1/work-items/{item_id}/unclaim"): P.WORK_ACT,
    ("POST", "/api/v1/work-items/{item_id}/delegate"): P.WORK_ACT,
    ("POST", "/api/v1/work-items/{item_id}/complete"): P.WORK_ACT,
    ("POST", "/api/v1/work-items/next"): P.WORK_ACT,
    ("POST", "/api/v1/work-items/{item_id}/transfer"): P.WORK_ACT,
    ("POST", "/api/v1/work-items/{item_id}/notes"): P.WORK_ACT,
    ("POST", "/api/v1/work-items/{item_id}/reply"): P.WORK_ACT,
    ("POST", "/api/v1/messages"): P.MESSAGES_SEND,
    ("POST", "/api/v1/signals"): P.MESSAGES_SEND,
    ("POST", "/api/v1/decisions/{key}/evaluate"): P.DECISIONS_EVALUATE,
    ("POST", "/api/v1/decisions/next-best-action"): P.DECISIONS_EVALUATE,
    ("POST", "/api/v1/decisions/outcomes"): P.DECISIONS_EVALUATE,
    ("GET", "/api/v1/decisions/actions"): P.MODELS_READ,
    ("GET", "/api/v1/decisions/models"): P.ANALYTICS_READ,
    ("GET", "/api/v1/decisions/dashboard"): P.ANALYTICS_READ,
    ("POST", "/api/v1/external-tasks/fetch-and-lock"): P.EXTERNAL_TASKS,
    ("POST", "/api/v1/external-tasks/{task_id}/complete"): P.EXTERNAL_TASKS,
    ("POST", "/api/v1/external-tasks/{task_id}/failure"): P.EXTERNAL_TASKS,
    ("POST", "/api/v1/external-tasks/{task_id}/bpmn-error"): P.EXTERNAL_TASKS,
    ("POST", "/api/v1/external-tasks/{task_id}/extend-lock"): P.EXTERNAL_TASKS,
    ("POST", "/api/v1/events"): P.EVENTS_WRITE,
    ("POST", "/api/v1/webhooks"): P.WEBHOOKS_MANAGE,
    ("GET", "/api/v1/webhooks"): P.WEBHOOKS_MANAGE,
    ("GET", "/api/v1/webhooks/{webhook_id}"): P.WEBHOOKS_MANAGE,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): P.WEBHOOKS_MANAGE,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): P.WEBHOOKS_MANAGE,
}
ROLE_USERS = {
    Role.ADMIN: "admin",
    Role.SUPERVISOR: "supervisor",
    Role.AGENT: "agent",
    Role.INTEGRATION: "integration",
}


def _declared(route: APIRoute) -> object:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        marker = getattr(dep.call, "__flowdesk_permission__", None)
        if marker is not None:
            return marker
        stack.extend(dep.dependencies)
    return None


def test_each_role_on_each_route_is_allowed_or_403(api: Api) -> None:
    contexts = iter_route_contexts(api.client.app.routes)  # type: ignore[attr-defined]
    routes = {
        (method, ctx.path): ctx.original_route
        for ctx in contexts
        if isinstance(ctx.original_route, APIRoute)
        for method in ctx.original_route.methods
        if (method, ctx.path) in EXPECTED
    }
    assert set(routes) == set(EXPECTED), "every service route is in the matrix"
    checked = 0
    for (method, path), route in sorted(routes.items()):
        assert _declared(route) == EXPECTED[(method, path)], path
        url = re.sub(r"\{[^}]+\}", "x", path)
        for role, user in ROLE_USERS.items():
            allowed = EXPECTED[(method, path)] in ROLE_PERMISSIONS[role]
            response = api.client.request(method, url, json={}, headers=api.as_(user))
            if allowed:
                assert response.status_code not in (401, 403), (role, method, path, response.text)
                assert response.status_code < 500, (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert EXPECTED[(method, path)].value in response.json()["detail"]
            checked += 1
    assert checked == len(EXPECTED) * len(ROLE_USERS)
