"""Python service-task handlers installed as packages: entry points in group `flowdesk.handlers`.

A distribution declares, in its metadata (pyproject `[project.entry-points."flowdesk.handlers"]`),
`crm-update = "acme_flows.crm:update"`: the name is the task type or topic (zeebe:taskDefinition
type, camunda:topic) and the value a `module:function` taking a ServiceCall and returning the
variables to set. Every ProcessRuntime built without explicit handlers uses these, so the API,
the worker, intake and the web run a service task the same way (a handler for a topic runs
in the command; a topic nobody handles stays an external task for a worker). They are read once
per process; `flowdesk serve` and `flowdesk worker` load them at start, log them, and stop with
an error naming the entry point that does not load.
"""

from __future__ import annotations

import threading
from importlib import metadata

from flowdesk.core.errors import ConfigurationError
from flowdesk.engine.engine import ServiceHandler

GROUP = "flowdesk.handlers"

_lock = threading.Lock()
_installed: dict[str, ServiceHandler] | None = None


def _origin(entry: metadata.EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    name = getattr(dist, "name", None) if dist is not None else None
    return f" (from the {name} distribution)" if name else ""


def load_handlers(group: str = GROUP) -> dict[str, ServiceHandler]:
    """Import every entry point of `group`; a broken one is a ConfigurationError naming it."""
    found: dict[str, ServiceHandler] = {}
    origins: dict[str, str] = {}
    for entry in metadata.entry_points(group=group):
        where = f"entry point '{entry.name} = {entry.value}' in group {group}{_origin(entry)}"
        try:
            handler = entry.load()
        except Exception as exc:
            raise ConfigurationError(
                f"handler {where} cannot be loaded: {type(exc).__name__}: {exc}",
                hint="fix or uninstall that package; the value must be module:function",
            ) from exc
        if not callable(handler):
            raise ConfigurationError(
                f"handler {where} is not callable",
                hint="point the entry point at a function taking a ServiceCall",
            )
        if entry.name in found and origins[entry.name] != entry.value:
            raise ConfigurationError(
                f"two handlers are installed for task type '{entry.name}': "
                f"{origins[entry.name]} and {entry.value}",
                hint="uninstall one of the two packages",
            )
        found[entry.name] = handler
        origins[entry.name] = entry.value
    return found


def installed_handlers() -> dict[str, ServiceHandler]:
    """The entry-point handlers of this process, loaded on first use and then kept."""
    global _installed
    with _lock:
        if _installed is None:
            _installed = load_handlers()
        return dict(_installed)


def reload_handlers() -> dict[str, ServiceHandler]:
    """Forget what was loaded and load again (start-up, and tests that install a package)."""
    global _installed
    with _lock:
        _installed = None
    return installed_handlers()
