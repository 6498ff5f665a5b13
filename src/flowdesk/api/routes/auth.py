"""Login sessions, the caller's profile, users and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, WithJsonSchema

from flowdesk.api.routes.common import errors, ops_of
from flowdesk.api.security import SESSION_COOKIE, require
from flowdesk.app import keys, users
from flowdesk.app.context import Ops
from flowdesk.auth import service
from flowdesk.auth.roles import Permission, Role, permissions_of
from flowdesk.auth.service import Account, Principal

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(max_length=100)
    password: str = Field(max_length=200)


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    groups: list[str]
    permissions: list[str]


class UserIn(BaseModel):
    # the rule is documented here and checked by the use case, which words the refusal
    username: Annotated[
        str,
        Field(max_length=100, examples=["ana.agent"]),
        WithJsonSchema({"type": "string", "pattern": "^[a-z0-9._-]{2,100}$"}),
    ]
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, min_length=8, max_length=200)
    roles: list[Role] = Field(min_length=1)
    groups: list[str] = Field(default_factory=list, description="Departments / candidate groups")


class AccountOut(UserOut):
    email: str | None
    active: bool
    created_at: datetime


class UserPatch(BaseModel):
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    roles: list[str] | None = Field(default=None, description="Replaces the user's roles")
    groups: list[str] | None = Field(default=None, description="Replaces the user's groups")
    active: bool | None = Field(default=None, description="false: deactivate; true: reactivate")


class PasswordIn(BaseModel):
    password: Annotated[
        str,
        Field(max_length=200),
        WithJsonSchema({"type": "string", "minLength": 8, "maxLength": 200}),
    ]


class KeyInfoOut(BaseModel):
    id: str
    prefix: str
    name: str
    owner: str
    created_at: datetime
    revoked_at: datetime | None


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    username: str | None = Field(
        default=None, description="Create the key for this user (administrators only)"
    )


class KeyOut(BaseModel):
    id: str
    key: str = Field(description="Shown once; store it now")


AppOps = Annotated[Ops, Depends(ops_of)]


def _account(a: Account) -> AccountOut:
    return AccountOut(
        id=a.user_id,
        username=a.username,
        display_name=a.display_name,
        roles=list(a.roles),
        groups=list(a.groups),
        permissions=sorted(x.value for x in permissions_of(a.roles)),
        email=a.email,
        active=a.active,
        created_at=a.created_at,
    )


def _out(p: Principal) -> UserOut:
    return UserOut(
        id=p.user_id,
        username=p.username,
        display_name=p.display_name,
        roles=list(p.roles),
        groups=list(p.groups),
        permissions=sorted(x.value for x in p.permissions),
    )


@router.post("/auth/login", response_model=UserOut)
def login(body: LoginIn, request: Request, response: Response) -> UserOut:
    """Open a session for the web UI (an HttpOnly cookie)."""
    token, principal = service.login(
        request.app.state.store,
        request.app.state.clock,
        username=body.username,
        password=body.password,
        address=request.client.host if request.client else None,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        max_age=int(service.SESSION_TTL.total_seconds()),
    )
    return _out(principal)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.logout(request.app.state.store, token)
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/me", response_model=UserOut)
def me(principal: Annotated[Principal, Depends(require(Permission.PROFILE_READ))]) -> UserOut:
    """The caller: roles, groups and effective permissions."""
    return _out(principal)


@router.get("/users", response_model=list[AccountOut])
def list_users(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
) -> list[AccountOut]:
    return [_account(a) for a in users.list_users(caller, ops)]


@router.post("/users", response_model=AccountOut, status_code=201, responses=errors(409))
def create_user(
    body: UserIn,
    ops: AppOps,
    admin: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> AccountOut:
    created = users.create_user(
        admin,
        ops,
        username=body.username,
        display_name=body.display_name,
        email=body.email,
        password=body.password,
        roles=[r.value for r in body.roles],
        groups=body.groups,
    )
    return _account(created)


@router.get("/users/{username}", response_model=AccountOut, responses=errors(404))
def get_user(
    username: str,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> AccountOut:
    return _account(users.get_user(caller, ops, username))


@router.patch("/users/{username}", response_model=AccountOut, responses=errors(404, 409))
def update_user(
    username: str,
    body: UserPatch,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> AccountOut:
    """Change name, e-mail, roles or groups, and deactivate or reactivate (fields left out
    stay as they are). A deactivated user can no longer log in or use their API keys."""
    account = users.get_user(caller, ops, username)
    if {"display_name", "email", "roles", "groups"} & body.model_fields_set:
        account = users.update_user(
            caller,
            ops,
            username,
            roles=body.roles,
            groups=body.groups,
            display_name=body.display_name,
            email=body.email,
        )
    if body.active is not None:
        account = users.set_active(caller, ops, username, body.active)
    return _account(account)


@router.put("/users/{username}/password", status_code=204, responses=errors(404))
def reset_password(
    username: str,
    body: PasswordIn,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> Response:
    """Set the user's password; their open sessions end."""
    users.reset_password(caller, ops, username, body.password)
    return Response(status_code=204)


@router.get("/api-keys", response_model=list[KeyInfoOut])
def list_keys(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.KEYS_MANAGE_OWN))]
) -> list[KeyInfoOut]:
    """The caller's keys (administrators: everyone's), without the secrets."""
    return [
        KeyInfoOut(**{k: getattr(i, k) for k in KeyInfoOut.model_fields})
        for i in keys.list_keys(caller, ops)
    ]


@router.post("/api-keys", response_model=KeyOut, status_code=201)
def create_key(
    body: KeyIn,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.KEYS_MANAGE_OWN))],
) -> KeyOut:
    """Create an API key for yourself (or, as an administrator, for another user)."""
    created = keys.create_key(principal, ops, name=body.name, owner=body.username)
    return KeyOut(id=created.id, key=created.key)


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_key(
    key_id: str,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> Response:
    keys.revoke_key(principal, ops, key_id)
    return Response(status_code=204)
