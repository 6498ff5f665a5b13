"""Importing many customers in one unit of work: check every row first, then write them all.

All rows are validated (fields, identifiers, duplicates within the file and against the store)
before anything is written, and the writing happens in the caller's unit of work: a file with
one bad row imports nothing, and the error names the row and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from flowdesk.core.clock import Clock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.customers.errors import ImportRejectedError, InvalidIdentifierError, RowError
from flowdesk.customers.models import (
    customer_consents,
    customer_identities,
    customer_preferences,
    customers,
)
from flowdesk.customers.normalize import IdentityKind, normalize_identifier
from flowdesk.customers.profile import (
    CHANNELS,
    PREFERENCE_FIELDS,
    PROFILE_FIELDS,
    InvalidFieldError,
    clean_preferences,
    clean_profile,
    parse_flag,
)
from flowdesk.customers.resolution.blocking import name_key
from flowdesk.customers.resolution.records import clean_text
from flowdesk.store import UnitOfWork

#: Other names people give columns, mapped to ours.
ALIASES = {
    "first_name": "given_name",
    "firstname": "given_name",
    "last_name": "family_name",
    "lastname": "family_name",
    "surname": "family_name",
    "name": "display_name",
    "dob": "birth_date",
    "date_of_birth": "birth_date",
    "city": "locality",
    "town": "locality",
    "zip": "postcode",
    "postal_code": "postcode",
    "state": "region",
    "preferred_channel": "channel",
}
IDENTITY_COLUMNS = tuple(k.value for k in IdentityKind)
CONSENT_PREFIX = "consent_"
#: A cell may hold several identifiers of one kind, separated by this.
SEPARATOR = ";"
_BATCH = 500

#: (stage, rows done, rows in all): "checking" then "writing".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One record of an import file: its 1-based number, its CSV line, its cells."""

    number: int
    values: Mapping[str, Any]
    line: int | None = None


@dataclass(slots=True)
class _Parsed:
    row: SourceRow
    profile: dict[str, Any]
    identities: list[tuple[str, str, str]] = field(default_factory=list)  # kind, value, raw
    preferences: dict[str, str | None] = field(default_factory=dict)
    consents: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    identities: int
    customer_ids: tuple[str, ...]


def column_name(header: str) -> str:
    key = "_".join(header.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def check_columns(headers: Iterable[str]) -> list[RowError]:
    """Unknown or repeated columns are errors of the header (row 0), so no data is lost."""
    errors = []
    seen: set[str] = set()
    for header in headers:
        name = column_name(header)
        known = (
            name in PROFILE_FIELDS
            or name in IDENTITY_COLUMNS
            or name in PREFERENCE_FIELDS
            or (name.startswith(CONSENT_PREFIX) and name[len(CONSENT_PREFIX) :] in CHANNELS)
        )
        if not known:
            errors.append(RowError(0, header, "unknown column", line=1))
        elif name in seen:
            errors.append(RowError(0, header, f"column {name!r} appears twice", line=1))
        seen.add(name)
    return errors


def _cells(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(SEPARATOR)
    return [str(v).strip() for v in items if str(v).strip()]


def _parse(row: SourceRow, default_region: str | None) -> tuple[_Parsed, list[RowError]]:
    errors: list[RowError] = []
    profile_in: dict[str, Any] = {}
    prefs_in: dict[str, Any] = {}
    parsed = _Parsed(row, {})

    def error(column: str, message: str) -> None:
        errors.append(RowError(row.number, column, message, line=row.line))

    for header, raw in row.values.items():
        name = column_name(header)
        if isinstance(raw, str):
            raw = raw.strip()
        if raw in (None, ""):
            continue
        if name in PROFILE_FIELDS:
            profile_in[name] = raw
        elif name in IDENTITY_COLUMNS:
            for cell in _cells(raw):
                try:
                    value = normalize_identifier(name, cell, default_region=default_region)
                except InvalidIdentifierError as exc:
                    error(header, exc.reason + (f" ({exc.hint})" if exc.hint else ""))
                    continue
                parsed.identities.append((name, value, cell))
        elif name in PREFERENCE_FIELDS:
            prefs_in[name] = raw
        elif name.startswith(CONSENT_PREFIX):
            try:
                parsed.consents[name[len(CONSENT_PREFIX) :]] = parse_flag(header, raw)
            except InvalidFieldError as exc:
                error(header, exc.message.split(": ", 1)[-1])
        else:
            error(header, "unknown column")
    for name, value in profile_in.items():
        try:
            parsed.profile.update(clean_profile({name: value}))
        except InvalidFieldError as exc:
            error(name, exc.message.split(": ", 1)[-1])
    if prefs_in:
        try:
            parsed.preferences = clean_preferences(prefs_in)
        except InvalidFieldError as exc:
            error(exc.field, exc.message.split(": ", 1)[-1])
    if not errors and not parsed.profile and not parsed.identities:
        error("", "has neither a name nor an identifier")
    return parsed, errors


def _taken(uow: UnitOfWork, wanted: dict[tuple[str, str], int]) -> dict[tuple[str, str], str]:
    """Which of these identifiers already belong to a customer (-> its id)."""
    found: dict[tuple[str, str], str] = {}
    values = sorted({value for _, value in wanted})
    for start in range(0, len(values), _BATCH):
        chunk = values[start : start + _BATCH]
        query = select(
            customer_identities.c.kind,
            customer_identities.c.value,
            customer_identities.c.customer_id,
        ).where(customer_identities.c.value.in_(chunk))
        for kind, value, owner in uow.connection.execute(query):
            if (kind, value) in wanted:
                found[(kind, value)] = owner
    return found


def import_rows(
    *,
    uow: UnitOfWork,
    clock: Clock,
    rows: Iterable[SourceRow],
    source: str,
    headers: Iterable[str] | None = None,
    default_region: str | None = None,
    ids: IdGenerator | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Create one customer per row; raises ImportRejectedError (nothing written) on any error."""
    all_rows = list(rows)
    total = len(all_rows)
    errors = check_columns(headers) if headers is not None else []
    parsed_rows: list[_Parsed] = []
    first_seen: dict[tuple[str, str], int] = {}
    for done, row in enumerate(all_rows, 1):
        if all(v in (None, "") for v in row.values.values()):
            continue  # a blank line
        parsed, row_errors = _parse(row, default_region)
        errors.extend(row_errors)
        for kind, value, raw in parsed.identities:
            earlier = first_seen.setdefault((kind, value), row.number)
            if earlier != row.number:
                errors.append(
                    RowError(row.number, kind, f"{raw!r} is also in row {earlier}", line=row.line)
                )
        parsed_rows.append(parsed)
        if progress is not None:
            progress("checking", done, total)
    owners = _taken(uow, first_seen)
    for parsed in parsed_rows:
        for kind, value, raw in parsed.identities:
            if (kind, value) in owners:
                errors.append(
                    RowError(
                        parsed.row.number,
                        kind,
                        f"{raw!r} already belongs to customer {owners[(kind, value)]}",
                        line=parsed.row.line,
                    )
                )
    if errors:
        errors.sort(key=lambda e: (e.row, e.field or ""))
        raise ImportRejectedError(source, errors)
    return _write(uow, clock, parsed_rows, source, ids or UuidIds(), actor, progress)


def _write(
    uow: UnitOfWork,
    clock: Clock,
    parsed_rows: list[_Parsed],
    source: str,
    ids: IdGenerator,
    actor: str | None,
    progress: Progress | None,
) -> ImportResult:
    now = clock.now()
    total = len(parsed_rows)
    created: list[str] = []
    identity_count = 0
    for start in range(0, total, _BATCH):
        batch = parsed_rows[start : start + _BATCH]
        customer_rows: list[dict[str, Any]] = []
        identity_rows: list[dict[str, Any]] = []
        preference_rows: list[dict[str, Any]] = []
        consent_rows: list[dict[str, Any]] = []
        events: list[NewEvent] = []
        for parsed in batch:
            customer_id = ids.new_id()
            created.append(customer_id)
            profile = {name: parsed.profile.get(name) for name in PROFILE_FIELDS}
            customer_rows.append(
                {
                    "id": customer_id,
                    "status": "active",
                    "review_required": False,
                    "review_reason": None,
                    "merged_into": None,
                    "name_key": name_key(clean_text(profile["family_name"])) or None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    **profile,
                }
            )
            events.append(
                NewEvent(
                    EventType.CUSTOMER_CREATED,
                    now,
                    {
                        "status": "active",
                        "profile": {
                            k: (v if isinstance(v, str) else str(v))
                            for k, v in parsed.profile.items()
                            if v is not None
                        },
                        "source": source,
                        "row": parsed.row.number,
                    },
                    customer_id=customer_id,
                    actor=actor,
                )
            )
            for kind, value, raw in parsed.identities:
                identity_id = ids.new_id()
                identity_rows.append(
                    {
                        "id": identity_id,
                        "customer_id": customer_id,
                        "kind": kind,
                        "value": value,
                        "raw": raw[:400],
                        "verified": False,
                        "created_at": now,
                    }
                )
                events.append(
                    NewEvent(
                        EventType.CUSTOMER_IDENTITY_ADDED,
                        now,
                        {
                            "identity_id": identity_id,
                            "kind": kind,
                            "value": value,
                            "verified": False,
                        },
                        customer_id=customer_id,
                    )
                )
            if parsed.preferences:
                values = dict.fromkeys(PREFERENCE_FIELDS) | parsed.preferences
                preference_rows.append({"customer_id": customer_id, "updated_at": now, **values})
            for channel, granted in parsed.consents.items():
                consent_rows.append(
                    {
                        "customer_id": customer_id,
                        "channel": channel,
                        "granted": granted,
                        "source": source[:100],
                        "updated_at": now,
                    }
                )
        uow.connection.execute(customers.insert(), customer_rows)
        if identity_rows:
            uow.connection.execute(customer_identities.insert(), identity_rows)
        if preference_rows:
            uow.connection.execute(customer_preferences.insert(), preference_rows)
        if consent_rows:
            uow.connection.execute(customer_consents.insert(), consent_rows)
        uow.append(*events)
        identity_count += len(identity_rows)
        if progress is not None:
            progress("writing", min(start + _BATCH, total), total)
    uow.append(
        NewEvent(
            EventType.CUSTOMER_IMPORT_COMPLETED,
            now,
            {"source": source, "created": len(created), "identities": identity_count},
            actor=actor,
        )
    )
    return ImportResult(len(created), identity_count, tuple(created))
