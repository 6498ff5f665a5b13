"""Macros (canned replies) for both doors: defined in the company file's `macros:` list, with
placeholders such as {{ customer.name }} or {{ case.reference }} filled for one work item's case.
Filling is plain text substitution of the names the loader accepted (no template language, no
expressions): the reply box shows the result as text, escaped like any other text."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flowdesk.app.casework import customer_360
from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.app.work import get_item
from flowdesk.auth.roles import Permission
from flowdesk.channels import case_contacts
from flowdesk.experience.company import MACRO_PLACEHOLDER, load_company


@dataclass(frozen=True, slots=True)
class Macro:
    id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class _Company:
    name: str
    macros: tuple[Macro, ...]


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> _Company:
    data = load_company(path)
    return _Company(
        str(data["company"].get("name") or ""),
        tuple(Macro(m["id"], m["title"], m["text"]) for m in data.get("macros") or ()),
    )


def _company(ops: Ops) -> _Company:
    """The company file's macros (parsed once per file version); none without a company file."""
    configured = getattr(ops.settings, "company_file", None) if ops.settings else None
    if not configured:
        return _Company("", ())
    path = Path(configured)
    return _load(str(path.resolve()), path.stat().st_mtime)


def list_macros(caller: Caller, ops: Ops) -> list[Macro]:
    """The macros the reply box offers."""
    require(caller, Permission.WORK_READ)
    return list(_company(ops).macros)


def fill(caller: Caller, ops: Ops, item_id: str, macro_id: str) -> str:
    """The macro's text for this work item's case, placeholders filled (FormInvalid on the
    field `macro` for an unknown macro)."""
    require(caller, Permission.WORK_ACT)
    item = get_item(caller, ops, item_id)
    company = _company(ops)
    macro = next((m for m in company.macros if m.id == macro_id), None)
    if macro is None:
        raise FormInvalid([{"field": "macro", "message": "Choose one of the macros."}])
    c360 = customer_360(ops, item["instance_id"])
    cu = c360.customer
    full = " ".join(p for p in ((cu.given_name, cu.family_name) if cu else ()) if p)
    name = (cu.display_name if cu else None) or full or c360.variables.get("customerName")
    first = (cu.given_name if cu else None) or (str(name).split()[0] if name else None)
    case = case_contacts.case_of_instance(ops.store, item["instance_id"])
    values = {
        "customer.name": str(name or "customer"),
        "customer.first_name": str(first or "there"),
        "case.reference": (case.reference if case else None) or c360.business_key or "",
        "agent.name": caller.display_name or caller.username,
        "company.name": company.name,
    }
    return MACRO_PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), macro.text)
