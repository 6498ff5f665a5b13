"""Dashboards for leaders and process owners: the KPI overview, the outside-in scorecard and
work by department, drawn from the same `Analytics` service as /api/v1/analytics (the CSV
links on each page are those API routes)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from flowdesk.api.routes.common import ops_of
from flowdesk.app import analytics as use
from flowdesk.app import nba
from flowdesk.auth.roles import Permission
from flowdesk.web import charts
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[PageAccess, Depends(page_access(Permission.ANALYTICS_READ))]

#: KPI -> (label, format) as the pages show it.
METRICS: dict[str, tuple[str, charts.Format]] = {
    "opened": ("Cases opened", "count"),
    "closed": ("Cases closed", "count"),
    "turnaround_hours_mean": ("Turnaround, mean", "hours"),
    "turnaround_hours_p90": ("Turnaround, 90th percentile", "hours"),
    "fcr_rate": ("First-contact resolution", "percent"),
    "ftr_rate": ("First time right", "percent"),
    "sla_compliance": ("SLA compliance", "percent"),
    "repeat_contacts": ("Repeat contacts per case", "score"),
    "handoffs": ("Hand-offs per case", "score"),
    "complaint_rate": ("Complaint rate", "percent"),
    "csat": ("CSAT (1-5)", "score"),
    "nps": ("NPS", "score"),
}
CARDS = (
    "opened",
    "closed",
    "turnaround_hours_mean",
    "fcr_rate",
    "ftr_rate",
    "sla_compliance",
    "complaint_rate",
    "csat",
    "nps",
)
WINDOWS = (7, 30, 90)
GRAINS = ("day", "week", "month")


def _choice(value: Any, allowed: tuple[Any, ...], default: Any) -> Any:
    """A page parameter from its allowed values; anything else (a typo in a bookmarked URL)
    shows the default rather than an error page."""
    if isinstance(value, str) and value.isdigit() and len(value) < 6:
        value = int(value)
    return value if value in allowed else default


def _filters(request: Request, days: int, flow: str, channel: str, segment: str) -> use.Filters:
    return use.window(
        ops_of(request),
        days=days,
        flow=flow or None,
        channel=channel or None,
        segment=segment or None,
    )


def _value(metric: str, value: Any) -> str:
    return charts.fmt(_num(value), METRICS[metric][1])


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number


@router.get("/dashboards")
def overview(
    request: Request,
    access: Reader,
    days: str = "30",
    grain: str = "day",
    flow: str = "",
    channel: str = "",
    segment: str = "",
) -> Response:
    if access.denied:
        return access.denied
    window: int = _choice(days, WINDOWS, 30)
    grain = _choice(grain, GRAINS, "day")
    period_grain: use.Grain = "week" if grain == "week" else "month" if grain == "month" else "day"
    filters = _filters(request, window, flow, channel, segment)
    data = use.overview(access.user, ops_of(request), filters, period_grain)
    series = data["series"]
    periods = [str(p) for p in series["period"].to_list()]

    def points(column: str) -> list[charts.Point]:
        return list(zip(periods, [_num(v) for v in series[column].to_list()], strict=True))

    volume = charts.line_chart(
        [("Opened", points("opened")), ("Closed", points("closed"))],
        title=f"Cases opened and closed per {grain}",
    )
    quality = charts.line_chart(
        [
            ("First time right", points("ftr_rate")),
            ("First-contact resolution", points("fcr_rate")),
            ("SLA compliance", points("sla_compliance")),
        ],
        title=f"First time right, first-contact resolution and SLA compliance per {grain}",
        kind="percent",
    )
    turnaround = charts.line_chart(
        [("Mean", points("turnaround_hours_mean")), ("90th pct", points("turnaround_hours_p90"))],
        title=f"Turnaround time per {grain} (hours)",
        kind="hours",
    )
    histogram = charts.bar_chart(
        [(b["bucket"], float(b["cases"])) for b in data["histogram"]],
        title="Closed cases by turnaround time",
    )
    funnel = charts.funnel_chart(
        [(s["step"], int(s["count"])) for s in data["funnel"]],
        title="From contact to promoter",
    )
    channel_chart = charts.bar_chart(
        [(c["channel"] or "unknown", float(c["contacts"])) for c in data["channels"]],
        title="Contacts by channel",
        colour=charts.PALETTE[2],
    )
    totals = data["totals"]
    cards = [
        {"label": METRICS[m][0], "value": _value(m, totals.get(m)), "metric": m} for m in CARDS
    ]
    flows = [
        {
            "flow": row["flow"],
            **{m: _value(m, row.get(m)) for m in METRICS},
        }
        for row in data["by_flow"].to_dicts()
    ]
    query = {"days": window, "flow": flow, "channel": channel, "segment": segment}
    csv_query = urlencode({k: v for k, v in {**query, "grain": grain}.items() if v})
    return render(
        request,
        "dashboards.html",
        {
            "tab": "overview",
            "days": window,
            "grain": grain,
            "windows": WINDOWS,
            "grains": GRAINS,
            "selected": query,
            "choices": data["choices"],
            "cards": cards,
            "charts": {
                "volume": volume,
                "quality": quality,
                "turnaround": turnaround,
                "histogram": histogram,
                "funnel": funnel,
                "channels": channel_chart,
            },
            "flows": flows,
            "metrics": METRICS,
            "backlog": data["backlog"],
            "csv_kpis": f"/api/v1/analytics/kpis?format=csv&{csv_query}",
            "csv_flows": f"/api/v1/analytics/kpis?format=csv&grain=total&by=flow&{csv_query}",
        },
        principal=access.user,
    )


@router.get("/dashboards/scorecard")
def scorecard_page(request: Request, access: Reader, days: str = "7") -> Response:
    if access.denied:
        return access.denied
    window: int = _choice(days, WINDOWS, 7)
    results = use.scorecard(access.user, ops_of(request), window, weeks=8)
    criteria = []
    for result in results:
        measures = []
        for m in result.measures:
            label, kind = METRICS.get(m.metric, (m.metric, "score"))
            measures.append(
                {
                    "label": label,
                    "value": charts.fmt(m.value, kind),
                    "target": ("≤ " if m.lower_is_better else "≥ ") + charts.fmt(m.target, kind),
                    "met": m.met,
                    "direction": m.direction,
                    "spark": charts.sparkline(m.trend, title=f"{label}, weekly", kind=kind),
                }
            )
        criteria.append(
            {
                "name": result.criterion.name,
                "description": result.criterion.description,
                "flows": result.criterion.flows,
                "status": result.status,
                "cases": result.cases,
                "measures": measures,
            }
        )
    return render(
        request,
        "scorecard.html",
        {"tab": "scorecard", "days": window, "windows": WINDOWS, "criteria": criteria},
        principal=access.user,
    )


@router.get("/dashboards/work")
def work_page(request: Request, access: Reader, days: str = "30") -> Response:
    if access.denied:
        return access.denied
    window: int = _choice(days, WINDOWS, 30)
    filters = _filters(request, window, "", "", "")
    rows, names, backlog = use.departments(access.user, ops_of(request), filters)
    departments = [
        {
            "name": names.get(r["department"] or "", r["department"] or "unknown"),
            "completed": r["completed"],
            "pickup": charts.fmt(_num(r["pickup_minutes_mean"]), "minutes"),
            "handling": charts.fmt(_num(r["handling_minutes_mean"]), "minutes"),
            "handling_p90": charts.fmt(_num(r["handling_minutes_p90"]), "minutes"),
            "handoffs_in": r["handoffs_in"],
            "ola_pickup": charts.fmt(_num(r["ola_pickup_compliance"]), "percent"),
            "ola_resolve": charts.fmt(_num(r["ola_resolve_compliance"]), "percent"),
        }
        for r in rows
    ]
    handling = charts.bar_chart(
        [
            (d["name"], _num(r["handling_minutes_mean"]))
            for d, r in zip(departments, rows, strict=True)
        ],
        title="Mean handling time by department (minutes)",
        kind="minutes",
    )
    for entry in backlog["by_department"]:
        entry["name"] = names.get(entry["department"] or "", entry["department"] or "unknown")
    return render(
        request,
        "work_dashboard.html",
        {
            "tab": "work",
            "days": window,
            "windows": WINDOWS,
            "departments": departments,
            "handling": handling,
            "backlog": backlog,
            "csv_work": f"/api/v1/analytics/work?format=csv&days={window}",
        },
        principal=access.user,
    )


@router.get("/dashboards/next-best-action")
def next_best_action_page(request: Request, access: Reader) -> Response:
    """Acceptance per action, channel, segment and arm; each model's AUC by version."""
    if access.denied:
        return access.denied
    ops = ops_of(request)
    data = nba.dashboard(access.user, ops)
    models = nba.models(access.user, ops)
    per_action: dict[str, list[int]] = {}
    per_arm: dict[str, list[int]] = {}
    for row in data["acceptance"]:
        answered = row["accepted"] + row["declined"] + row["ignored"]
        for key, table in ((row["action"], per_action), (row["arm"], per_arm)):
            cell = table.setdefault(key, [0, 0])
            cell[0] += row["accepted"]
            cell[1] += answered
    acceptance = charts.bar_chart(
        [(a, (c[0] / c[1] if c[1] else None)) for a, c in sorted(per_action.items())],
        title="Acceptance by action (all channels)",
        kind="percent",
    )
    versions = max((h["version"] for h in data["auc"]), default=0)
    series: dict[str, dict[int, float | None]] = {}
    for h in data["auc"]:
        series.setdefault(f"{h['action']} / {h['channel']}", {})[h["version"]] = h["auc"]
    auc = charts.line_chart(
        [
            (name, [(f"v{v}", points.get(v)) for v in range(1, versions + 1)])
            for name, points in sorted(series.items())[:7]
        ],
        title="Model AUC by version",
        kind="score",
    )
    arms = {
        arm: charts.fmt(c[0] / c[1] if c[1] else None, "percent")
        for arm, c in sorted(per_arm.items())
    }
    return render(
        request,
        "nba_dashboard.html",
        {
            "tab": "nba",
            "acceptance": acceptance,
            "auc": auc,
            "arms": arms,
            "rows": data["acceptance"],
            "models": models,
        },
        principal=access.user,
    )


SENTIMENT_WINDOWS = (7, 30, 90)


@router.get("/dashboards/sentiment")
def sentiment_page(
    request: Request, access: Reader, days: str = "30", bucket: str = "day", source: str = ""
) -> Response:
    """What customers' words feel like: the mean compound per reason over time, the words that
    drive it, the topics of each reason and the most negative texts."""
    if access.denied:
        return access.denied
    window: int = _choice(days, SENTIMENT_WINDOWS, 30)
    bucket = _choice(bucket, ("day", "week"), "day")
    chosen = source if source in use.SENTIMENT_SOURCES else None
    data = use.sentiment(access.user, ops_of(request), days=window, bucket=bucket, source=chosen)
    periods = sorted({p["period"] for r in data["reasons"] for p in r["series"]})
    lines = []
    for r in data["reasons"][:6]:  # the six reasons with most texts
        means = {p["period"]: p["mean"] for p in r["series"]}
        lines.append((r["reason"], [(p[5:], means.get(p)) for p in periods]))
    chart = charts.line_chart(
        lines, title=f"Mean sentiment per {bucket} and reason (-1 to +1)", kind="score"
    )
    mix = charts.bar_chart(
        [
            ("negative", float(data["negative"])),
            ("neutral", float(data["neutral"])),
            ("positive", float(data["positive"])),
        ],
        title="Texts by sentiment",
        colour=charts.PALETTE[1],
    )
    return render(
        request,
        "sentiment_dashboard.html",
        {
            "tab": "sentiment",
            "days": window,
            "bucket": bucket,
            "source": chosen or "",
            "windows": SENTIMENT_WINDOWS,
            "sources": use.SENTIMENT_SOURCES,
            "data": data,
            "topics": {t["group"]: t for t in data["topics"]},
            "chart": chart,
            "mix": mix,
        },
        principal=access.user,
    )
