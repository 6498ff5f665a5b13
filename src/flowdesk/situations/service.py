"""Reading situations: active and recent, with the customers they affect and what was done."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select

from flowdesk.situations.models import situation_actions, situation_contacts, situations
from flowdesk.store import Store


def list_situations(
    store: Store, *, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Active situations first, then the most recently updated; each with its actions, the
    affected customers (of its actions and held contacts) and the held contacts."""
    s = situations.c
    query = select(situations).order_by(
        case((s.status == "active", 0), else_=1), s.updated_at.desc(), s.id
    )
    if status is not None:
        query = query.where(s.status == status)
    with store.reading() as conn:
        rows = conn.execute(query.limit(limit)).all()
        ids = [r.id for r in rows]
        actions = conn.execute(
            select(situation_actions)
            .where(situation_actions.c.situation_id.in_(ids))
            .order_by(situation_actions.c.created_at, situation_actions.c.key)
        ).all()
        held = conn.execute(
            select(situation_contacts).where(situation_contacts.c.situation_id.in_(ids))
        ).all()
    out = []
    for row in rows:
        mine = [a for a in actions if a.situation_id == row.id]
        contacts = [h for h in held if h.situation_id == row.id]
        customers = sorted(
            {a.customer_id for a in mine if a.customer_id}
            | {h.customer_id for h in contacts if h.customer_id}
        )
        out.append(
            {
                "id": row.id,
                "rule": row.rule,
                "bundle": row.bundle,
                "key": row.key,
                "title": row.title,
                "status": row.status,
                "count": row.count,
                "raised_at": row.raised_at.isoformat(),
                "updated_at": row.updated_at.isoformat(),
                "cleared_at": row.cleared_at.isoformat() if row.cleared_at else None,
                "cleared_by": row.cleared_by,
                "value": (row.data or {}).get("value"),
                "affected_customers": customers,
                "held_contacts": [h.contact_id for h in contacts],
                "actions": [
                    {
                        "key": a.key,
                        "kind": a.kind,
                        "customer_id": a.customer_id,
                        "status": a.status,
                        "attempts": a.attempts,
                        "result": a.result,
                        "done_at": a.done_at.isoformat() if a.done_at else None,
                    }
                    for a in mine
                ],
            }
        )
    return out


def situations_of_customer(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """The active situations a customer is affected by (for the status page and contacts)."""
    s = situations.c
    a = situation_actions.c
    h = situation_contacts.c
    with store.reading() as conn:
        rows = conn.execute(
            select(s.id, s.title, s.key, s.raised_at)
            .where(s.status == "active")
            .where(
                s.id.in_(select(a.situation_id).where(a.customer_id == customer_id))
                | s.id.in_(select(h.situation_id).where(h.customer_id == customer_id))
            )
            .order_by(s.raised_at)
        ).all()
    return [
        {"id": r.id, "title": r.title, "key": r.key, "raised_at": r.raised_at.isoformat()}
        for r in rows
    ]
