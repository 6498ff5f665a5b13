"""The supervisor's view of the live operation: per department the open, unassigned and oldest
waiting work, SLAs at risk within the horizon, agents' load and every deployed flow with its
process owner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.work import DueTimes, routed, utc
from flowdesk.auth.roles import Permission
from flowdesk.experience.service import flows
from flowdesk.routing import desk

RISK_HORIZON = timedelta(hours=1)


def supervisor_figures(
    caller: Caller, ops: Ops, *, horizon: timedelta = RISK_HORIZON
) -> dict[str, Any]:
    """Per department: open items, unassigned, oldest waiting; SLAs at risk; agents' load."""
    require(caller, Permission.SUPERVISE)
    now = ops.clock.now()
    rows = routed(ops, desk.work_page(ops.store, visible_to=None, limit=1_000_000))
    due = DueTimes(ops)
    departments: dict[str, dict[str, Any]] = {}
    load: dict[str, int] = {}
    at_risk: list[dict[str, Any]] = []
    for row in rows:
        groups = list(row["candidate_groups"] or []) or [row["lane"] or "(none)"]
        created = utc(row["created_at"])
        for group in groups:
            dept = departments.setdefault(
                group, {"name": group, "open": 0, "unassigned": 0, "oldest": None}
            )
            dept["open"] += 1
            if row["assignee"] is None:
                dept["unassigned"] += 1
                if dept["oldest"] is None or (created and created < dept["oldest"]):
                    dept["oldest"] = created
        if row["assignee"]:
            load[row["assignee"]] = load.get(row["assignee"], 0) + 1
        row["due"] = due(row)
        if row["due"] is not None and row["due"] <= now + horizon:
            at_risk.append(row)
    at_risk.sort(key=lambda r: r["due"])
    for dept in departments.values():
        dept["waiting"] = now - dept["oldest"] if dept["oldest"] else None
    open_by_flow: dict[str, int] = {}
    for row in rows:
        open_by_flow[row["process_key"]] = open_by_flow.get(row["process_key"], 0) + 1
    # every deployed flow with its process owner, so a supervisor knows whom to call about it
    deployed: list[dict[str, Any]] = [
        {
            "name": f.title or f.name,
            "key": f.process_key,
            "owner": f.owner,
            "open": open_by_flow.get(f.process_key, 0),
        }
        for f in flows(ops.store)
    ]
    owners = {f["key"]: f["owner"] for f in deployed if f["owner"]}
    for row in at_risk:
        row["owner"] = owners.get(row["process_key"])
    return {
        "flows": deployed,
        "departments": sorted(departments.values(), key=lambda d: d["name"]),
        "at_risk": at_risk[:50],
        "at_risk_count": len(at_risk),
        "load": sorted(load.items(), key=lambda kv: (-kv[1], kv[0])),
        "total": len(rows),
        "now": now,
    }
