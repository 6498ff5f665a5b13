"""Users and their roles as administrators manage them, for both doors: list, create, change
roles and groups, deactivate and reactivate, reset a password. Every refusal of the input names
its field (FormInvalid), so the admin page puts it beside the field and the API lists it in the
problem's `errors`. Users are never deleted: the event log names them as actors."""

from __future__ import annotations

import re
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission, Role
from flowdesk.auth.service import Account
from flowdesk.core.errors import ConflictError

MANAGE = Permission.USERS_MANAGE
GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
ROLES = tuple(r.value for r in Role)
PASSWORD_MIN = 8
NAME_MAX = 200


def list_users(caller: Caller, ops: Ops) -> list[Account]:
    require(caller, MANAGE)
    return auth.list_accounts(ops.store)


def get_user(caller: Caller, ops: Ops, username: str) -> Account:
    require(caller, MANAGE)
    return auth.get_account(ops.store, username)


def _problems(
    *,
    username: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    roles: list[str] | None = None,
    groups: list[str] | None = None,
    password: str | None = None,
) -> list[dict[str, str]]:
    """Every field's problem at once, in words (None: the field is not being set)."""
    out: list[dict[str, str]] = []
    if username is not None and not auth.USERNAME.match(username):
        out.append(
            {
                "field": "username",
                "message": f"username {username!r} is not valid: use 2-100 lower-case letters, "
                "digits, '.', '_' or '-'.",
            }
        )
    if display_name is not None and len(display_name) > NAME_MAX:
        out.append({"field": "display_name", "message": f"Use at most {NAME_MAX} characters."})
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            out.append({"field": "email", "message": f"{email!r} is not an e-mail address: {exc}"})
    if roles is not None:
        unknown = [r for r in roles if r not in ROLES]
        if not roles:
            out.append({"field": "roles", "message": "Give the user at least one role."})
        elif unknown:
            out.append(
                {
                    "field": "roles",
                    "message": f"unknown role {unknown[0]!r}: roles are {', '.join(ROLES)}.",
                }
            )
    if groups is not None:
        bad = [g for g in groups if not GROUP.match(g)]
        if bad:
            out.append(
                {
                    "field": "groups",
                    "message": f"group {bad[0]!r} is not valid: use letters, digits, '.', '_' "
                    "or '-' (a department id such as billing).",
                }
            )
    if password is not None and len(password) < PASSWORD_MIN:
        out.append(
            {
                "field": "password",
                "message": f"The password is too short: use at least {PASSWORD_MIN} characters.",
            }
        )
    return out


def _clean(values: Iterable[str]) -> list[str]:
    """Trimmed, without blanks or repeats, in the given order."""
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def create_user(
    caller: Caller,
    ops: Ops,
    *,
    username: str,
    roles: Iterable[str],
    groups: Iterable[str] = (),
    display_name: str | None = None,
    email: str | None = None,
    password: str | None = None,
) -> Account:
    """A new user; without a password they cannot log in until one is set (API keys work).
    409 when the username is taken."""
    require(caller, MANAGE)
    username = username.strip()
    role_list, group_list = _clean(roles), _clean(groups)
    email = (email or "").strip() or None
    problems = _problems(
        username=username,
        display_name=display_name,
        email=email,
        roles=role_list,
        groups=group_list,
        password=password,
    )
    if problems:
        raise FormInvalid(problems)
    auth.create_user(
        ops.store,
        ops.clock,
        username=username,
        display_name=(display_name or "").strip() or None,
        email=email,
        password=password,
        roles=role_list,
        groups=group_list,
        actor=caller.username,
    )
    return auth.get_account(ops.store, username)


def update_user(
    caller: Caller,
    ops: Ops,
    username: str,
    *,
    roles: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> Account:
    """Change roles, groups, name or e-mail (None keeps a field). Administrators cannot take
    the admin role from themselves, so the system always keeps one who can give it back."""
    require(caller, MANAGE)
    role_list = None if roles is None else _clean(roles)
    group_list = None if groups is None else _clean(groups)
    email = None if email is None else email.strip()
    problems = _problems(display_name=display_name, email=email, roles=role_list, groups=group_list)
    if (
        not problems
        and role_list is not None
        and username == caller.username
        and Role.ADMIN.value not in role_list
    ):
        problems.append(
            {
                "field": "roles",
                "message": "You cannot take the admin role from yourself: ask another "
                "administrator.",
            }
        )
    if problems:
        raise FormInvalid(problems)
    return auth.update_user(
        ops.store,
        ops.clock,
        username=username,
        roles=role_list,
        groups=group_list,
        display_name=None if display_name is None else display_name.strip(),
        email=email,
        actor=caller.username,
    )


def set_active(caller: Caller, ops: Ops, username: str, active: bool) -> Account:
    """Deactivate (logins, sessions and API keys stop working) or reactivate a user."""
    require(caller, MANAGE)
    if not active and username == caller.username:
        raise ConflictError(
            "you cannot deactivate yourself", hint="ask another administrator to do it"
        )
    return auth.set_active(
        ops.store, ops.clock, username=username, active=active, actor=caller.username
    )


def reset_password(caller: Caller, ops: Ops, username: str, password: str) -> None:
    """Set a user's password (they log in with it; their open sessions end)."""
    require(caller, MANAGE)
    problems = _problems(password=password)
    if problems:
        raise FormInvalid(problems)
    auth.set_password(
        ops.store, ops.clock, username=username, password=password, actor=caller.username
    )
