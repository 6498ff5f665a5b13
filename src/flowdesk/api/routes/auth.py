"""Login sessions, the caller's profile, users and API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from flowdesk.api.security import SESSION_COOKIE, require
from flowdesk.auth import service
from flowdesk.auth.roles import Permission, Role
from flowdesk.auth.service import Principal

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
    username: str = Field(max_length=100, examples=["ana.agent"])
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, min_length=8, max_length=200)
    roles: list[Role] = Field(min_length=1)
    groups: list[str] = Field(default_factory=list, description="Departments / candidate groups")


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    username: str | None = Field(
        default=None, description="Create the key for this user (administrators only)"
    )


class KeyOut(BaseModel):
    id: str
    key: str = Field(description="Shown once; store it now")


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
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
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


@router.get("/users", response_model=list[UserOut])
def list_users(
    request: Request, _: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
) -> list[UserOut]:
    return [_out(p) for p in service.list_users(request.app.state.store)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    body: UserIn,
    request: Request,
    admin: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> UserOut:
    created = service.create_user(
        request.app.state.store,
        request.app.state.clock,
        username=body.username,
        display_name=body.display_name,
        email=body.email,
        password=body.password,
        roles=[r.value for r in body.roles],
        groups=body.groups,
        actor=admin.username,
    )
    return _out(created)


@router.post("/api-keys", response_model=KeyOut, status_code=201)
def create_key(
    body: KeyIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.KEYS_MANAGE_OWN))],
) -> KeyOut:
    """Create an API key for yourself (or, as an administrator, for another user)."""
    owner = principal.username
    if body.username and body.username != principal.username:
        if not principal.can(Permission.USERS_MANAGE):
            raise service.Forbidden("only administrators create keys for other users")
        owner = body.username
    key_id, key = service.create_api_key(
        request.app.state.store,
        request.app.state.clock,
        username=owner,
        name=body.name,
        actor=principal.username,
    )
    return KeyOut(id=key_id, key=key)


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_key(
    key_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> Response:
    service.revoke_api_key(
        request.app.state.store, request.app.state.clock, key_id=key_id, actor=principal.username
    )
    return Response(status_code=204)
