"""The customer use cases, in one place: what other domains, the API and the CLI call.

Every use case is keyword-only and takes the command's unit of work (`uow`) and a `clock`, and
appends its events to the event log in that same unit of work; reads take a connection
(`uow.connection` or `store.reading()`). The implementations live in small modules:
`registry` (customers, identities, preferences, consents), `resolve` (who is behind a contact),
`merging` (merge and unmerge with an audit trail), `bulk` (import rows), `views` (reads).
"""

from __future__ import annotations

from flowdesk.customers.bulk import ImportResult, SourceRow, import_rows
from flowdesk.customers.merging import merge_customers, unmerge
from flowdesk.customers.registry import (
    IdentityInput,
    add_identity,
    create_customer,
    find_by_identity,
    identity_owner,
    mark_reviewed,
    set_consent,
    set_preferences,
    update_customer,
)
from flowdesk.customers.resolve import (
    PersonMatch,
    Rejected,
    Resolution,
    resolve_contact,
    search_people,
)
from flowdesk.customers.views import (
    Consent,
    Customer,
    Identity,
    MergeRecord,
    Preferences,
    get_consents,
    get_customer,
    get_preferences,
    merge_history,
)

__all__ = [
    "Consent",
    "Customer",
    "Identity",
    "IdentityInput",
    "ImportResult",
    "MergeRecord",
    "PersonMatch",
    "Preferences",
    "Rejected",
    "Resolution",
    "SourceRow",
    "add_identity",
    "create_customer",
    "find_by_identity",
    "get_consents",
    "get_customer",
    "get_preferences",
    "identity_owner",
    "import_rows",
    "mark_reviewed",
    "merge_customers",
    "merge_history",
    "resolve_contact",
    "search_people",
    "set_consent",
    "set_preferences",
    "unmerge",
    "update_customer",
]
