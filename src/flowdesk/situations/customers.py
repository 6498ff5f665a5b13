"""The customers a situation affects: a FEEL query (`customer.area = key and list contains(
customer.products, "broadband")`) over each customer's stored fields and service points (the
areas and products a customer is served in, which the customer record itself does not hold)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, delete, select

from flowdesk.cep.rules import Getter
from flowdesk.customers.models import customers
from flowdesk.situations.models import service_points

_FIELDS = ("street", "locality", "postcode", "region", "country", "segment")


def customer_contexts(conn: Connection, ids: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Every active customer (or those of `ids`) as the queries see it (id, name, address
    fields, segment, value, area and areas, products)."""
    points: dict[str, tuple[list[str], list[str]]] = {}
    point_query = select(service_points)
    if ids is not None:
        point_query = point_query.where(service_points.c.customer_id.in_(list(ids)))
    for row in conn.execute(point_query):
        areas, products = points.setdefault(row.customer_id, ([], []))
        if row.area not in areas:
            areas.append(row.area)
        if row.product not in products:
            products.append(row.product)
    c = customers.c
    customer_query = select(c.id, c.display_name, c.value, *(c[f] for f in _FIELDS)).where(
        c.status == "active"
    )
    if ids is not None:
        customer_query = customer_query.where(c.id.in_(list(ids)))
    rows = conn.execute(customer_query)
    out = []
    for row in rows:
        areas, products = points.get(row.id, ([], []))
        context: dict[str, Any] = {
            "id": row.id,
            "name": row.display_name,
            "value": row.value,
            "area": areas[0] if areas else row.region,
            "areas": areas,
            "products": products,
        }
        for name in _FIELDS:
            context[name] = getattr(row, name)
        out.append(context)
    return out


def situation_scope(situation: dict[str, Any]) -> dict[str, Any]:
    """The names a customer query or an action's text sees of a situation."""
    return {
        "key": situation["key"],
        "count": situation["count"],
        "value": situation.get("value"),
        "rule": situation["rule"],
        "situation": {"id": situation["id"], "title": situation.get("title")},
    }


def select_customers(
    query: Getter, situation: dict[str, Any], contexts: Iterable[dict[str, Any]]
) -> list[str]:
    """The ids of the customers the query is true for, in the situation's scope."""
    scope = situation_scope(situation)
    chosen = []
    for customer in contexts:
        if query.expression.evaluate({**scope, "customer": customer}) is True:
            chosen.append(customer["id"])
    return chosen


def set_service_points(
    conn: Connection, customer_id: str, points: Iterable[tuple[str, str]]
) -> None:
    """Replace a customer's (area, product) service points."""
    conn.execute(delete(service_points).where(service_points.c.customer_id == customer_id))
    rows = [{"customer_id": customer_id, "area": a, "product": p} for a, p in set(points)]
    if rows:
        conn.execute(service_points.insert(), rows)
