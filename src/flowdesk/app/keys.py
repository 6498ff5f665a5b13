"""API keys for both doors: list (without secrets), create (the key is shown once) and revoke.
Everyone may hold keys of their own; administrators see and manage every user's."""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden, KeyInfo
from flowdesk.core.errors import NotFoundError

NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class NewKey:
    """A created key: `key` is the secret, shown this once (only its hash is stored)."""

    id: str
    key: str
    owner: str
    name: str


def _admin(caller: Caller) -> bool:
    return caller.can(Permission.USERS_MANAGE)


def list_keys(caller: Caller, ops: Ops) -> list[KeyInfo]:
    """Every key for administrators, the caller's own otherwise; newest first."""
    require(caller, Permission.KEYS_MANAGE_OWN)
    return auth.list_api_keys(ops.store, owner=None if _admin(caller) else caller.username)


def create_key(caller: Caller, ops: Ops, *, name: str, owner: str | None = None) -> NewKey:
    """A key for the caller, or (administrators) for `owner`."""
    require(caller, Permission.KEYS_MANAGE_OWN)
    name = name.strip()
    owner = (owner or "").strip() or caller.username
    if owner != caller.username and not _admin(caller):
        raise Forbidden("only administrators create keys for other users")
    problems = []
    if not name:
        problems.append({"field": "name", "message": "Name the key (what uses it, e.g. crm)."})
    elif len(name) > NAME_MAX:
        problems.append({"field": "name", "message": f"Use at most {NAME_MAX} characters."})
    if owner != caller.username:
        try:
            auth.get_user(ops.store, owner)
        except NotFoundError:
            problems.append({"field": "owner", "message": f"There is no user {owner!r}."})
    if problems:
        raise FormInvalid(problems)
    key_id, key = auth.create_api_key(
        ops.store, ops.clock, username=owner, name=name, actor=caller.username
    )
    return NewKey(key_id, key, owner, name)


def revoke_key(caller: Caller, ops: Ops, key_id: str) -> None:
    """Revoke a key: it stops working at once in this process (see flowdesk.auth.keycache)."""
    require(caller, Permission.USERS_MANAGE)
    auth.revoke_api_key(ops.store, ops.clock, key_id=key_id, actor=caller.username)
