"""Case and work-item facts: the two tables every KPI is computed from.

One row per case and one per work item, read from the store once (cases, process instances,
contacts, customers and the work-item and survey events of the log), so the KPI functions in
`kpis.py` stay pure Polars over these frames and run the same on any store. A flow started
through the API without a contact still counts: its process instance stands in for the case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import and_, exists, func, or_, select, true, union
from sqlalchemy.sql.elements import ColumnElement

from flowdesk.analytics.config import AnalyticsConfig
from flowdesk.cases.models import cases
from flowdesk.contacts.models import contacts
from flowdesk.core.event_types import EventType
from flowdesk.customers.models import customers
from flowdesk.store import Store
from flowdesk.store.archive import archive_files
from flowdesk.store.process_tables import process_instances
from flowdesk.store.tables import events

WORK_EVENTS = (
    EventType.WORK_ITEM_CREATED,
    EventType.WORK_ITEM_CLAIMED,
    EventType.WORK_ITEM_COMPLETED,
)
SURVEY_EVENT = EventType.SURVEY_ANSWERED
UTC_US = pl.Datetime("us", "UTC")

CASE_SCHEMA: dict[str, Any] = {
    "case": pl.String,
    "reference": pl.String,
    "flow": pl.String,
    "reason": pl.String,
    "channel": pl.String,
    "customer_id": pl.String,
    "segment": pl.String,
    "instance_id": pl.String,
    "opened_at": UTC_US,
    "closed_at": UTC_US,
    "contacts": pl.Int64,
    "rework": pl.Boolean,
    "reopened": pl.Boolean,
    "handoffs": pl.Int64,
    "complaint": pl.Boolean,
    "sla_hours": pl.Float64,
    "sla_met": pl.Boolean,
    "csat": pl.Float64,
    "nps": pl.Float64,
}
ITEM_SCHEMA: dict[str, Any] = {
    "item": pl.String,
    "instance_id": pl.String,
    "flow": pl.String,
    "step": pl.String,
    "department": pl.String,
    "created_at": UTC_US,
    "claimed_at": UTC_US,
    "completed_at": UTC_US,
    "agent": pl.String,
    "handoff": pl.Boolean,
    "ola_pickup_met": pl.Boolean,
    "ola_resolve_met": pl.Boolean,
}


@dataclass(frozen=True)
class Facts:
    cases: pl.DataFrame
    items: pl.DataFrame
    #: Inbound contacts (one row each: time, channel, case) for contact volumes and the funnel.
    contacts: pl.DataFrame
    now: datetime


def _open_or_overlapping(
    start: Any, end: Any, since: datetime | None, until: datetime | None
) -> ColumnElement[bool]:
    """Still open (the backlog counts those whenever they began), or open at some moment of
    [since, until): begun before `until` and not ended before `since`."""
    overlap: list[ColumnElement[bool]] = []
    if until is not None:
        overlap.append(start < until)
    if since is not None:
        overlap.append(end >= since)
    return or_(end.is_(None), and_(*overlap)) if overlap else true()


def load_facts(
    store: Store,
    config: AnalyticsConfig,
    now: datetime,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Facts:
    """Read what the KPIs need; open cases are measured up to `now`.

    Without `since`/`until` every case and item of the history. With them, only what a
    [since, until) window's figures need, so a dashboard's cost follows its window, not the
    history: the cases and process instances open at some moment of the window or still open
    now (an item opened before the window and closed in it counts), every work-item event of
    those instances (hand-offs and rework look at the instance's earlier items), their
    surveys, the contacts received in the window, and the cases of the same customers (to
    know whether a case was reopened). Archived months before the earliest of those are
    never opened. The figures of the window are the same as from all facts (tested)."""
    windowed = since is not None or until is not None
    pi = process_instances
    case_join = cases.outerjoin(
        pi, and_(pi.c.id == cases.c.instance_id, pi.c.parent_id.is_(None))
    ).outerjoin(customers, customers.c.id == cases.c.customer_id)
    closed_at = func.coalesce(pi.c.ended_at, cases.c.closed_at)
    case_window = _open_or_overlapping(cases.c.opened_at, closed_at, since, until)
    instance_window = _open_or_overlapping(pi.c.started_at, pi.c.ended_at, since, until)
    #: The process instances (roots and children) whose work items the window needs: an item
    #: is completed while its instance runs, so one completed in the window or still open is
    #: of an instance open at some moment of the window or now.
    wanted = union(
        select(pi.c.id).where(instance_window),
        select(cases.c.instance_id)
        .select_from(case_join)
        .where(case_window, cases.c.instance_id.is_not(None)),
    ).subquery()
    wanted_ids = select(wanted.c.id)
    with store.reading() as conn:
        instances = {
            r.id: r
            for r in conn.execute(
                select(pi.c.id, pi.c.process_key, pi.c.started_at, pi.c.ended_at).where(
                    pi.c.parent_id.is_(None), pi.c.id.in_(wanted_ids) if windowed else true()
                )
            )
        }
        case_rows = conn.execute(
            select(
                cases.c.id,
                cases.c.reference,
                cases.c.customer_id,
                cases.c.reason,
                func.coalesce(cases.c.process_key, pi.c.process_key).label("flow"),
                cases.c.instance_id,
                cases.c.channel,
                cases.c.opened_at,
                closed_at.label("closed_at"),
                customers.c.segment,
            )
            .select_from(case_join)
            .where(case_window)
            .order_by(cases.c.opened_at, cases.c.id)
        ).all()
        relevant_cases = select(cases.c.id).select_from(case_join).where(case_window)
        # Root instances no case stands for: they are a case of their own.
        lone_rows = conn.execute(
            select(pi.c.id, pi.c.process_key, pi.c.started_at, pi.c.ended_at)
            .where(
                pi.c.parent_id.is_(None),
                ~exists().where(cases.c.instance_id == pi.c.id),
                instance_window,
            )
            .order_by(pi.c.started_at, pi.c.id)
        ).all()
        neighbours = (
            conn.execute(
                select(
                    cases.c.id,
                    cases.c.customer_id,
                    cases.c.reason,
                    cases.c.opened_at,
                    closed_at.label("closed_at"),
                )
                .select_from(case_join)
                .where(
                    cases.c.customer_id.in_(
                        select(cases.c.customer_id).select_from(case_join).where(case_window)
                    )
                )
                .order_by(cases.c.opened_at, cases.c.id)
            ).all()
            if windowed
            else None
        )
        received = [contacts.c.direction == "in", contacts.c.status != "duplicate"]
        if since is not None:
            received.append(contacts.c.received_at >= since)
        if until is not None:
            received.append(contacts.c.received_at < until)
        contact_rows = conn.execute(
            select(contacts.c.received_at, contacts.c.channel, contacts.c.case_id).where(*received)
        ).all()
        data = events.c.data
        # Only these fields of the events' data are needed: extracted by the database (JSON
        # path on SQLite and PostgreSQL) instead of decoding every document in Python.
        work_rows = conn.execute(
            select(
                events.c.seq,
                events.c.type,
                events.c.time,
                events.c.process_instance_id,
                events.c.element_id,
                events.c.department,
                events.c.actor,
                data["work_item_id"].as_string().label("work_item_id"),
                data["name"].as_string().label("name"),
                data["process_key"].as_string().label("process_key"),
                data[("candidate_groups", 0)].as_string().label("first_group"),
            )
            .where(
                events.c.type.in_(WORK_EVENTS),
                events.c.process_instance_id.in_(wanted_ids) if windowed else true(),
            )
            .order_by(events.c.seq)
        ).all()
        survey_rows = conn.execute(
            select(events.c.seq, events.c.case_id, events.c.data)
            .where(
                events.c.type == SURVEY_EVENT,
                events.c.case_id.in_(relevant_cases) if windowed else events.c.case_id.is_not(None),
            )
            .order_by(events.c.seq)
        ).all()
        count_by_case: dict[str, int] = dict(
            conn.execute(
                select(contacts.c.case_id, func.count())
                .where(
                    contacts.c.direction == "in",
                    contacts.c.status != "duplicate",
                    contacts.c.case_id.in_(relevant_cases)
                    if windowed
                    else contacts.c.case_id.is_not(None),
                )
                .group_by(contacts.c.case_id)
            ).all()
        )
        scope = None
        if windowed and archive_files(store.archive_dir):
            # Archived rows are of ended instances and closed cases only (analytics/archive.py),
            # none older than the start of the earliest such one the window needs.
            ended_from = conn.execute(
                select(func.min(pi.c.started_at)).where(
                    pi.c.id.in_(wanted_ids), pi.c.ended_at.is_not(None)
                )
            ).scalar()
            closed = [c.opened_at for c in case_rows if c.closed_at is not None]
            scope = _Scope(
                work_since=ended_from,
                survey_since=min(closed) if closed else None,
                instances={r[0] for r in conn.execute(wanted_ids)},
                cases={c.id for c in case_rows},
            )
    work_rows, survey_rows = _with_archived(store, work_rows, survey_rows, scope, windowed)
    items, per_instance = _items(work_rows, instances, config)
    surveys = _surveys(survey_rows)
    rows: list[dict[str, Any]] = []
    for c in case_rows:
        rows.append(
            _case_row(
                case=c.id,
                reference=c.reference,
                flow=c.flow,
                reason=c.reason,
                channel=c.channel,
                customer_id=c.customer_id,
                segment=c.segment,
                instance_id=c.instance_id,
                opened=c.opened_at,
                closed=c.closed_at,
                contacts=int(count_by_case.get(c.id, 0)),
                work=per_instance.get(c.instance_id or ""),
                survey=surveys.get(c.id),
                config=config,
                now=now,
            )
        )
    for instance in lone_rows:
        rows.append(
            _case_row(
                case=instance.id,
                reference=None,
                flow=instance.process_key,
                reason=instance.process_key,
                channel=None,
                customer_id=None,
                segment=None,
                instance_id=instance.id,
                opened=instance.started_at,
                closed=instance.ended_at,
                contacts=0,
                work=per_instance.get(instance.id),
                survey=None,
                config=config,
                now=now,
            )
        )
    if neighbours is None:
        _mark_reopened(rows, config.reopen_window)
    else:
        # Whether a case was reopened depends on the customer's next case, whenever it was.
        light = [
            {
                "case": n.id,
                "customer_id": n.customer_id,
                "reason": n.reason,
                "opened_at": n.opened_at,
                "closed_at": n.closed_at,
                "reopened": False,
            }
            for n in neighbours
        ]
        _mark_reopened(light, config.reopen_window)
        reopened = {r["case"] for r in light if r["reopened"]}
        for row in rows:
            row["reopened"] = row["case"] in reopened
    contact_frame = pl.DataFrame(
        {
            "received_at": [r.received_at for r in contact_rows],
            "channel": [r.channel for r in contact_rows],
            "case": [r.case_id for r in contact_rows],
        },
        schema={"received_at": UTC_US, "channel": pl.String, "case": pl.String},
    )
    return Facts(
        cases=pl.DataFrame(rows, schema=CASE_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=CASE_SCHEMA),
        items=pl.DataFrame(items, schema=ITEM_SCHEMA, orient="row")
        if items
        else pl.DataFrame(schema=ITEM_SCHEMA),
        contacts=contact_frame,
        now=now,
    )


def choices(store: Store) -> dict[str, list[str]]:
    """The flows, channels and segments of every case (the dashboards' filter menus), as
    `sorted(set(...))` of the facts' columns, counted by the database."""
    pi = process_instances
    case_join = cases.outerjoin(
        pi, and_(pi.c.id == cases.c.instance_id, pi.c.parent_id.is_(None))
    ).outerjoin(customers, customers.c.id == cases.c.customer_id)
    with store.reading() as conn:
        flows = set(
            conn.execute(
                select(func.coalesce(cases.c.process_key, pi.c.process_key))
                .select_from(case_join)
                .distinct()
            ).scalars()
        ) | set(
            conn.execute(
                select(pi.c.process_key)
                .where(pi.c.parent_id.is_(None), ~exists().where(cases.c.instance_id == pi.c.id))
                .distinct()
            ).scalars()
        )
        channels = set(conn.execute(select(cases.c.channel).distinct()).scalars())
        segments = set(
            conn.execute(select(customers.c.segment).select_from(case_join).distinct()).scalars()
        )
    return {
        name: sorted(v for v in values if v)
        for name, values in (("flow", flows), ("channel", channels), ("segment", segments))
    }


@dataclass(frozen=True)
class _Scope:
    """What a window needs of the archive: work events of `instances` from `work_since`,
    surveys of `cases` from `survey_since` (None: nothing archived can be needed)."""

    work_since: datetime | None
    survey_since: datetime | None
    instances: set[str]
    cases: set[str]


@dataclass
class _InstanceWork:
    rework: bool = False
    handoffs: int = 0


def _with_archived(
    store: Store,
    work_rows: Sequence[Any],
    survey_rows: Sequence[Any],
    scope: _Scope | None = None,
    windowed: bool = False,
) -> tuple[Sequence[Any], Sequence[Any]]:
    """The work-item and survey rows of the archived months (store/archive.py) merged with the
    live ones in seq order, so KPIs of past periods see the months moved out to Parquet. The
    data fields are extracted by Polars (JSON path), as the database does for live rows.
    `windowed`: only what `scope` says a window needs (nothing when there is no scope)."""
    from collections import namedtuple
    from json import loads
    from types import SimpleNamespace

    from flowdesk.store.archive import read_archive

    if windowed:
        if scope is None:
            return work_rows, survey_rows
        parts = []
        if scope.work_since is not None and scope.instances:
            part = read_archive(store.archive_dir, types=WORK_EVENTS, since=scope.work_since)
            parts.append(part.filter(pl.col("process_instance_id").is_in(list(scope.instances))))
        if scope.survey_since is not None and scope.cases:
            part = read_archive(store.archive_dir, types=[SURVEY_EVENT], since=scope.survey_since)
            parts.append(part.filter(pl.col("case_id").is_in(list(scope.cases))))
        frame = pl.concat(parts).sort("seq") if parts else pl.DataFrame()
    else:
        frame = read_archive(store.archive_dir, types=[*WORK_EVENTS, SURVEY_EVENT])
    if frame.height == 0:
        return work_rows, survey_rows
    live = {r.seq for r in work_rows} | {r.seq for r in survey_rows}
    frame = frame.filter(~pl.col("seq").is_in(list(live)))  # both places after a crash: once
    data = pl.col("data").str
    work = frame.filter(pl.col("type") != SURVEY_EVENT).select(
        "seq",
        "type",
        "time",
        "process_instance_id",
        "element_id",
        "department",
        "actor",
        *(data.json_path_match(f"$.{k}").alias(k) for k in ("work_item_id", "name")),
        data.json_path_match("$.process_key").alias("process_key"),
        data.json_path_match("$.candidate_groups[0]").alias("first_group"),
    )
    surveys = frame.filter((pl.col("type") == SURVEY_EVENT) & pl.col("case_id").is_not_null())
    row = namedtuple("row", work.columns)  # type: ignore[misc]
    merged_work = [*work_rows, *(row(*r) for r in work.rows())]
    merged_surveys = [
        *survey_rows,
        *(
            SimpleNamespace(seq=r["seq"], case_id=r["case_id"], data=loads(r["data"] or "{}"))
            for r in surveys.iter_rows(named=True)
        ),
    ]
    return sorted(merged_work, key=lambda r: r.seq), sorted(merged_surveys, key=lambda r: r.seq)


def _items(
    rows: Sequence[Any], instances: dict[str, Any], config: AnalyticsConfig
) -> tuple[list[dict[str, Any]], dict[str, _InstanceWork]]:
    """Work items in creation order, with hand-offs (the department changed since the
    instance's previous item) and OLA outcomes for the department receiving the hand-off."""
    items: dict[str, dict[str, Any]] = {}
    per_instance: dict[str, _InstanceWork] = defaultdict(_InstanceWork)
    last_department: dict[str, str | None] = {}
    seen_steps: set[tuple[str, str]] = set()
    for row in rows:
        item_id = row.work_item_id
        if not item_id:
            continue
        if row.type == EventType.WORK_ITEM_CREATED:
            instance_id = row.process_instance_id or ""
            department = config.department_id(row.department or row.first_group)
            previous = last_department.get(instance_id, department)
            handoff = previous is not None and department is not None and previous != department
            last_department[instance_id] = department
            work = per_instance[instance_id]
            work.handoffs += int(handoff)
            step_key = (instance_id, row.element_id or "")
            work.rework |= step_key in seen_steps
            seen_steps.add(step_key)
            instance = instances.get(instance_id)
            items[item_id] = {
                "item": item_id,
                "instance_id": instance_id,
                "flow": row.process_key or (instance.process_key if instance else None),
                "step": row.name or row.element_id,
                "department": department,
                "created_at": row.time,
                "claimed_at": None,
                "completed_at": None,
                "agent": None,
                "handoff": handoff,
            }
        elif item_id in items:
            item = items[item_id]
            if row.type == EventType.WORK_ITEM_CLAIMED and item["claimed_at"] is None:
                item["claimed_at"] = row.time
            elif row.type == EventType.WORK_ITEM_COMPLETED:
                item["completed_at"] = row.time
                item["agent"] = row.actor
    for item in items.values():
        ola = config.olas.get(item["department"] or "") if item["handoff"] else None
        created = item["created_at"]
        picked = item["claimed_at"] or item["completed_at"]
        item["ola_pickup_met"] = _met(ola[0] if ola else None, created, picked)
        item["ola_resolve_met"] = _met(ola[1] if ola else None, created, item["completed_at"])
    return list(items.values()), per_instance


def _met(target: timedelta | None, start: datetime, end: datetime | None) -> bool | None:
    if target is None or end is None:
        return None
    return end - start <= target


def _surveys(rows: Sequence[Any]) -> dict[str, tuple[float | None, float | None]]:
    """The latest answer per case: (CSAT 1-5, NPS 0-10); out-of-range scores are ignored."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for row in rows:
        data = row.data or {}
        out[row.case_id] = (_score(data.get("csat"), 1, 5), _score(data.get("nps"), 0, 10))
    return out


def _score(value: Any, low: int, high: int) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def _case_row(
    *,
    case: str,
    reference: str | None,
    flow: str | None,
    reason: str | None,
    channel: str | None,
    customer_id: str | None,
    segment: str | None,
    instance_id: str | None,
    opened: datetime,
    closed: datetime | None,
    contacts: int,
    work: _InstanceWork | None,
    survey: tuple[float | None, float | None] | None,
    config: AnalyticsConfig,
    now: datetime,
) -> dict[str, Any]:
    sla = config.sla_for(reason, segment)
    sla_hours = sla_met = None
    if sla is not None:
        used = sla.calendar.between(opened, closed or now)
        sla_hours = round(sla.resolution.total_seconds() / 3600, 4)
        # An open case has not met its SLA yet; it has missed it once the time is used up.
        sla_met = (
            (used <= sla.resolution)
            if closed is not None
            else (False if used > sla.resolution else None)
        )
    return {
        "case": case,
        "reference": reference,
        "flow": flow,
        "reason": reason,
        "channel": channel,
        "customer_id": customer_id,
        "segment": segment,
        "instance_id": instance_id,
        "opened_at": opened,
        "closed_at": closed,
        "contacts": contacts,
        "rework": bool(work and work.rework),
        "reopened": False,
        "handoffs": work.handoffs if work else 0,
        "complaint": reason in config.complaint_reasons or flow in config.complaint_reasons,
        "sla_hours": sla_hours,
        "sla_met": sla_met,
        "csat": survey[0] if survey else None,
        "nps": survey[1] if survey else None,
    }


def _mark_reopened(rows: list[dict[str, Any]], window: timedelta) -> None:
    """A case is reopened when the same customer comes back with the same reason within the
    window after it closed: the customer's problem was not solved, whatever the flow said."""
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["customer_id"] and row["reason"]:
            by_key[(row["customer_id"], row["reason"])].append(row)
    for group in by_key.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r["opened_at"])
        for earlier, later in zip(group, group[1:], strict=False):
            closed = earlier["closed_at"]
            if closed is not None and closed <= later["opened_at"] <= closed + window:
                earlier["reopened"] = True
