"""What a use case runs against: the services one app keeps for all its requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden, Principal
from flowdesk.core.clock import Clock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

Caller = Principal


@dataclass(frozen=True, slots=True)
class Ops:
    """The app's shared services. `extras` carries optional ones by name (routing service,
    reply senders ...) built on first use by the door that owns their life cycle."""

    store: Store
    clock: Clock
    runtime: ProcessRuntime
    settings: Any = None
    lazy: Mapping[str, Callable[[], Any]] = field(default_factory=dict)

    def service(self, name: str) -> Any:
        """An optional service by name, or None when this app has none."""
        build = self.lazy.get(name)
        return build() if build is not None else None


def require(caller: Caller, permission: Permission) -> None:
    """Refuse a caller whose roles lack the permission (HTTP 403 at both doors)."""
    if not caller.can(permission):
        raise Forbidden(
            f"{caller.username} lacks the permission '{permission.value}'",
            hint="ask an administrator for a role that grants it",
        )
