"""Use cases of the auth domain: users, API keys, sessions. Each change is one unit of work
and lands in the event log (`user.created`, `api_key.created`, ...), never with a secret."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Row, select, update

from flowdesk.auth import hashing, keycache
from flowdesk.auth.models import api_keys, sessions, users
from flowdesk.auth.roles import Permission, Role, permissions_of
from flowdesk.auth.throttle import FailureLimiter
from flowdesk.core.clock import Clock
from flowdesk.core.errors import ConflictError, FlowdeskError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.store import Store

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")
SESSION_TTL = timedelta(hours=12)


class AuthError(FlowdeskError):
    code = "unauthenticated"


class InvalidInput(FlowdeskError):
    code = "invalid-input"


class Forbidden(FlowdeskError):
    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (through a session or one of their API keys)."""

    user_id: str
    username: str
    display_name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    permissions: frozenset[Permission]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def _principal(row: Row[Any]) -> Principal:
    m = row._mapping
    return Principal(
        user_id=m["id"],
        username=m["username"],
        display_name=m["display_name"],
        roles=tuple(m["roles"]),
        groups=tuple(m["groups"]),
        permissions=permissions_of(tuple(m["roles"])),
    )


def create_user(
    store: Store,
    clock: Clock,
    *,
    username: str,
    roles: list[str],
    display_name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    groups: list[str] | None = None,
    actor: str | None = None,
    shared_password: bool = False,
) -> Principal:
    """`shared_password`: the password is one many accounts are given (the demo's, which is
    public): hashed once per process, not once per account (each is 128 MiB of scrypt)."""
    if not USERNAME.match(username):
        raise InvalidInput(
            f"username {username!r} is not valid",
            hint="use 2-100 lower-case letters, digits, '.', '_' or '-'",
        )
    check_roles(roles)
    if password is not None and len(password) < 8:
        raise InvalidInput("the password is too short", hint="use at least 8 characters")
    user_id = store.ids.new_id()
    with store.unit_of_work() as uow:
        exists = uow.connection.execute(
            select(users.c.id).where(users.c.username == username)
        ).first()
        if exists:
            raise ConflictError(f"a user named {username!r} already exists")
        uow.connection.execute(
            users.insert().values(
                id=user_id,
                username=username,
                display_name=display_name or username,
                email=email,
                password_hash=(
                    (
                        hashing.shared_hash(password)
                        if shared_password
                        else hashing.hash_password(password)
                    )
                    if password
                    else None
                ),
                roles=list(roles),
                groups=list(groups or []),
                active=True,
                created_at=clock.now(),
            )
        )
        uow.append(
            NewEvent(
                EventType.USER_CREATED,
                clock.now(),
                {"user_id": user_id, "username": username, "roles": roles, "groups": groups or []},
                actor=actor,
            )
        )
    return get_user(store, username)


def get_user(store: Store, username: str) -> Principal:
    with store.reading() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFoundError(f"no user named {username!r}")
    return _principal(row)


def list_users(store: Store) -> list[Principal]:
    with store.reading() as conn:
        return [_principal(r) for r in conn.execute(select(users).order_by(users.c.username))]


def create_api_key(
    store: Store, clock: Clock, *, username: str, name: str, actor: str | None = None
) -> tuple[str, str]:
    """Returns (key id, the key). The key is shown once; only its hash is stored."""
    user = get_user(store, username)
    token, prefix = hashing.new_token("k")
    key_id = store.ids.new_id()
    with store.unit_of_work() as uow:
        uow.connection.execute(
            api_keys.insert().values(
                id=key_id,
                prefix=prefix,
                key_hash=hashing.hash_token(token),
                user_id=user.user_id,
                name=name,
                created_at=clock.now(),
            )
        )
        uow.append(
            NewEvent(
                EventType.API_KEY_CREATED,
                clock.now(),
                {"key_id": key_id, "user_id": user.user_id, "name": name},
                actor=actor or username,
            )
        )
    return key_id, token


def revoke_api_key(store: Store, clock: Clock, *, key_id: str, actor: str | None = None) -> None:
    with store.unit_of_work() as uow:
        result = uow.connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )
        if result.rowcount == 0:
            raise NotFoundError(f"no active API key {key_id!r}")
        uow.append(
            NewEvent(EventType.API_KEY_REVOKED, clock.now(), {"key_id": key_id}, actor=actor)
        )
    keycache.cache_for(store).forget_key(key_id)


def authenticate_key(store: Store, token: str) -> Principal:
    """The user of an API key. A key verified in the last seconds is answered from the
    store's key cache (see flowdesk.auth.keycache for what that means for revocation)."""
    prefix = hashing.token_prefix(token)
    if prefix is None or not token.startswith("fdk_"):
        raise AuthError("malformed API key", hint="send the key exactly as it was issued")
    digest = hashing.hash_token(token)
    cache = keycache.cache_for(store)
    hit = cache.get(digest)
    if isinstance(hit, Principal):
        return hit
    with store.reading() as conn:
        rows = conn.execute(
            select(users, api_keys.c.key_hash, api_keys.c.id.label("key_id"))
            .join(api_keys, api_keys.c.user_id == users.c.id)
            .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        ).all()
    for row in rows:
        if hashing.hmac_equal(row._mapping["key_hash"], digest) and row._mapping["active"]:
            principal = _principal(row)
            cache.put(digest, row._mapping["key_id"], principal)
            return principal
    raise AuthError("unknown or revoked API key")


#: Failed logins allowed inside the window per account and per client address before the
#: account (or the address) is locked until the oldest failure leaves the window.
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES_PER_USER = 5
LOGIN_FAILURES_PER_ADDRESS = 20


class LoginThrottled(AuthError):
    """Too many failed logins: the lock-out notice (HTTP 429 with Retry-After)."""

    code = "rate-limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, hint="wait, or ask an administrator to set a new password")
        self.retry_after = retry_after


def _login_limits(store: Store) -> tuple[FailureLimiter, FailureLimiter]:
    return (
        FailureLimiter(store, LOGIN_FAILURES_PER_USER, LOGIN_WINDOW),
        FailureLimiter(store, LOGIN_FAILURES_PER_ADDRESS, LOGIN_WINDOW),
    )


def login(
    store: Store, clock: Clock, *, username: str, password: str, address: str | None = None
) -> tuple[str, Principal]:
    """Check the password and open a session; returns (session token, principal).

    Failures are counted in the database per account and per client `address` (shared by all
    server processes); while either is locked nothing is checked, the right password included,
    and the answer says for how long. The failure that locks an account appends
    `user.locked_out`. A hash made with weaker parameters than today's is replaced."""
    now = clock.now()
    per_user, per_address = _login_limits(store)
    user_key = [f"login-user:{username.lower()[:100]}"]
    address_key = [f"login-address:{address}"] if address else []
    wait = max(
        per_user.retry_after(user_key, now) or 0, per_address.retry_after(address_key, now) or 0
    )
    if wait:
        minutes = max(1, round(wait / 60))
        raise LoginThrottled(
            f"too many failed logins: this account or address is locked for about {minutes} "
            f"minute{'s' if minutes != 1 else ''}",
            retry_after=wait,
        )
    with store.reading() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    stored = row._mapping["password_hash"] if row is not None else None
    if row is None or not stored or not row._mapping["active"]:
        hashing.verify_password(password, _dummy_hash())  # same time whether the user exists
        _failed_login(store, now, row, user_key, address_key)
        raise AuthError("wrong username or password")
    if not hashing.verify_password(password, stored):
        _failed_login(store, now, row, user_key, address_key)
        raise AuthError("wrong username or password")
    per_user.clear(user_key)
    if hashing.needs_rehash(stored):
        with store.unit_of_work() as uow:
            uow.connection.execute(
                update(users)
                .where(users.c.id == row._mapping["id"])
                .values(password_hash=hashing.hash_password(password))
            )
    token, prefix = hashing.new_token("s")
    principal = _principal(row)
    with store.unit_of_work() as uow:
        uow.connection.execute(
            sessions.insert().values(
                id=store.ids.new_id(),
                prefix=prefix,
                token_hash=hashing.hash_token(token),
                user_id=principal.user_id,
                created_at=clock.now(),
                expires_at=clock.now() + SESSION_TTL,
            )
        )
        uow.append(NewEvent(EventType.USER_LOGGED_IN, clock.now(), {}, actor=username))
    return token, principal


def authenticate_session(store: Store, clock: Clock, token: str) -> Principal:
    prefix = hashing.token_prefix(token)
    if prefix is None or not token.startswith("fds_"):
        raise AuthError("malformed session")
    digest = hashing.hash_token(token)
    with store.reading() as conn:
        rows = conn.execute(
            select(users, sessions.c.token_hash, sessions.c.expires_at)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.prefix == prefix)
        ).all()
    for row in rows:
        m = row._mapping
        if hashing.hmac_equal(m["token_hash"], digest):
            if m["expires_at"] <= clock.now() or not m["active"]:
                raise AuthError("the session has expired", hint="log in again")
            return _principal(row)
    raise AuthError("unknown session", hint="log in again")


def logout(store: Store, token: str) -> None:
    prefix = hashing.token_prefix(token)
    if prefix is None:
        return
    with store.unit_of_work() as uow:
        uow.connection.execute(
            sessions.delete().where(
                sessions.c.prefix == prefix, sessions.c.token_hash == hashing.hash_token(token)
            )
        )


def _failed_login(
    store: Store, now: datetime, row: Any, user_key: list[str], address_key: list[str]
) -> None:
    per_user, per_address = _login_limits(store)
    count = per_user.failed(user_key, now)
    if address_key:
        per_address.failed(address_key, now)
    if row is not None and count == LOGIN_FAILURES_PER_USER:
        with store.unit_of_work() as uow:
            uow.append(
                NewEvent(
                    EventType.USER_LOCKED_OUT,
                    now,
                    {"until": (now + LOGIN_WINDOW).isoformat(), "failures": count},
                    actor=row._mapping["username"],
                )
            )


@cache
def _dummy_hash() -> str:
    return hashing.hash_password("timing-equaliser")


# -- administration ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Account:
    """A user as administrators see them: with e-mail, active flag and creation time."""

    user_id: str
    username: str
    display_name: str
    email: str | None
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    active: bool
    has_password: bool
    created_at: datetime


def _account(row: Row[Any]) -> Account:
    m = row._mapping
    return Account(
        user_id=m["id"],
        username=m["username"],
        display_name=m["display_name"],
        email=m["email"],
        roles=tuple(m["roles"]),
        groups=tuple(m["groups"]),
        active=bool(m["active"]),
        has_password=bool(m["password_hash"]),
        created_at=m["created_at"],
    )


def list_accounts(store: Store) -> list[Account]:
    with store.reading() as conn:
        return [_account(r) for r in conn.execute(select(users).order_by(users.c.username))]


def get_account(store: Store, username: str) -> Account:
    with store.reading() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFoundError(f"no user named {username!r}")
    return _account(row)


def check_roles(roles: list[str]) -> None:
    valid = {r.value for r in Role}
    unknown = [r for r in roles if r not in valid]
    if unknown or not roles:
        raise InvalidInput(
            f"unknown role {unknown[0]!r}" if unknown else "a user needs at least one role",
            hint=f"roles are {', '.join(sorted(valid))}",
        )


def update_user(
    store: Store,
    clock: Clock,
    *,
    username: str,
    roles: list[str] | None = None,
    groups: list[str] | None = None,
    display_name: str | None = None,
    email: str | None = None,
    actor: str | None = None,
) -> Account:
    """Change roles, groups, name or e-mail (None leaves a field as it is). Sessions and cached
    keys read the user's roles afresh, so a change applies to the next request."""
    if roles is not None:
        check_roles(roles)
    values: dict[str, Any] = {}
    if roles is not None:
        values["roles"] = list(roles)
    if groups is not None:
        values["groups"] = list(groups)
    if display_name is not None:
        values["display_name"] = display_name or username
    if email is not None:
        values["email"] = email or None
    user = get_account(store, username)
    if values:
        with store.unit_of_work() as uow:
            uow.connection.execute(update(users).where(users.c.id == user.user_id).values(values))
            changed = {k: v for k, v in values.items() if k in ("roles", "groups")}
            uow.append(
                NewEvent(
                    EventType.USER_UPDATED,
                    clock.now(),
                    {"user_id": user.user_id, "username": username, **changed},
                    actor=actor,
                )
            )
        keycache.cache_for(store).clear()  # cached keys carry the old roles
    return get_account(store, username)


def set_active(
    store: Store, clock: Clock, *, username: str, active: bool, actor: str | None = None
) -> Account:
    """Deactivate (no login, no session, no API key works) or reactivate a user. Users are
    never deleted: the event log names them as actors."""
    user = get_account(store, username)
    if user.active == active:
        return user
    with store.unit_of_work() as uow:
        uow.connection.execute(
            update(users).where(users.c.id == user.user_id).values(active=active)
        )
        if not active:
            uow.connection.execute(sessions.delete().where(sessions.c.user_id == user.user_id))
        kind = EventType.USER_REACTIVATED if active else EventType.USER_DEACTIVATED
        uow.append(NewEvent(kind, clock.now(), {"user_id": user.user_id}, actor=actor))
    keycache.cache_for(store).clear()
    return get_account(store, username)


def set_password(
    store: Store, clock: Clock, *, username: str, password: str, actor: str | None = None
) -> None:
    """Set a new password (an administrator's reset); the user's open sessions end."""
    if len(password) < 8:
        raise InvalidInput("the password is too short", hint="use at least 8 characters")
    user = get_account(store, username)
    with store.unit_of_work() as uow:
        uow.connection.execute(
            update(users)
            .where(users.c.id == user.user_id)
            .values(password_hash=hashing.hash_password(password))
        )
        uow.connection.execute(sessions.delete().where(sessions.c.user_id == user.user_id))
        uow.append(
            NewEvent(
                EventType.USER_PASSWORD_RESET, clock.now(), {"user_id": user.user_id}, actor=actor
            )
        )


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """An API key without its secret: the prefix identifies it to its owner."""

    id: str
    prefix: str
    name: str
    owner: str
    created_at: datetime
    revoked_at: datetime | None


def list_api_keys(store: Store, *, owner: str | None = None) -> list[KeyInfo]:
    """Keys newest first, revoked ones included (their revocation time says so)."""
    query = (
        select(api_keys, users.c.username)
        .join(users, users.c.id == api_keys.c.user_id)
        .order_by(api_keys.c.created_at.desc(), api_keys.c.id)
    )
    if owner is not None:
        query = query.where(users.c.username == owner)
    with store.reading() as conn:
        return [
            KeyInfo(
                id=m["id"],
                prefix=m["prefix"],
                name=m["name"],
                owner=m["username"],
                created_at=m["created_at"],
                revoked_at=m["revoked_at"],
            )
            for m in (r._mapping for r in conn.execute(query))
        ]


def api_key_owner(store: Store, key_id: str) -> str | None:
    with store.reading() as conn:
        row = conn.execute(
            select(users.c.username)
            .join(api_keys, api_keys.c.user_id == users.c.id)
            .where(api_keys.c.id == key_id)
        ).first()
    return None if row is None else str(row[0])
