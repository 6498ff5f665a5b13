"""Roles and the permissions they grant. Every API route declares one permission."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    INTEGRATION = "integration"


class Permission(StrEnum):
    USERS_MANAGE = "users:manage"
    KEYS_MANAGE_OWN = "keys:manage-own"
    PROFILE_READ = "profile:read"
    DEPLOY = "deployments:write"
    MODELS_READ = "deployments:read"
    PROCESS_START = "processes:start"
    PROCESS_READ = "processes:read"
    PROCESS_ADMIN = "processes:admin"
    WORK_READ = "work:read"
    WORK_ACT = "work:act"
    WORK_READ_ALL = "work:read-all"
    MESSAGES_SEND = "messages:send"
    DECISIONS_EVALUATE = "decisions:evaluate"
    EXTERNAL_TASKS = "external-tasks:work"
    EVENTS_WRITE = "events:write"
    EVENTS_READ = "events:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    SUPERVISE = "supervise"
    CONTACTS_INGEST = "contacts:ingest"
    CONTACTS_READ = "contacts:read"
    CONTACTS_TRIAGE = "contacts:triage"
    CONTACTS_ADMIN = "contacts:admin"
    CASES_READ = "cases:read"
    CASES_STATUS = "cases:status"
    REASONS_TRAIN = "reasons:train"
    ANALYTICS_READ = "analytics:read"
    PRIVACY_ADMIN = "privacy:admin"  # export and erase a customer's data (administrators)


_AGENT = {
    Permission.PROFILE_READ,
    Permission.KEYS_MANAGE_OWN,
    Permission.MODELS_READ,
    Permission.PROCESS_START,
    Permission.PROCESS_READ,
    Permission.WORK_READ,
    Permission.WORK_ACT,
    Permission.MESSAGES_SEND,
    Permission.DECISIONS_EVALUATE,
    Permission.CONTACTS_INGEST,
    Permission.CONTACTS_READ,
    Permission.CONTACTS_TRIAGE,
    Permission.CASES_READ,
    Permission.CASES_STATUS,
}
_SUPERVISOR = _AGENT | {Permission.WORK_READ_ALL, Permission.SUPERVISE, Permission.EVENTS_READ}
_SUPERVISOR |= {Permission.CONTACTS_ADMIN, Permission.REASONS_TRAIN, Permission.ANALYTICS_READ}
_INTEGRATION = {
    Permission.PROFILE_READ,
    Permission.MODELS_READ,
    Permission.PROCESS_START,
    Permission.PROCESS_READ,
    Permission.MESSAGES_SEND,
    Permission.DECISIONS_EVALUATE,
    Permission.EXTERNAL_TASKS,
    Permission.EVENTS_WRITE,
    Permission.EVENTS_READ,
    Permission.WORK_READ_ALL,
    Permission.CONTACTS_INGEST,
    Permission.CONTACTS_READ,
    Permission.CASES_STATUS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.AGENT: frozenset(_AGENT),
    Role.INTEGRATION: frozenset(_INTEGRATION),
}


def permissions_of(roles: list[str] | tuple[str, ...]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(Role(role), frozenset())
    return frozenset(granted)
