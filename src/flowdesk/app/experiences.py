"""The deployed experience flows and the contact-reason catalog, each with its process owner (the
person or department that answers for the flow end to end; `owner` in flow.yaml)."""

from __future__ import annotations

from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.experience.service import CatalogEntry, FlowEntry, catalog, flows

__all__ = ["CatalogEntry", "FlowEntry"]


def list_flows(caller: Caller, ops: Ops) -> list[FlowEntry]:
    """Every deployed experience flow (the latest deployment of each bundle)."""
    require(caller, Permission.MODELS_READ)
    return flows(ops.store)


def reason_catalog(caller: Caller, ops: Ops) -> list[CatalogEntry]:
    """Contact reasons and the flow that serves each."""
    require(caller, Permission.MODELS_READ)
    return catalog(ops.store)
