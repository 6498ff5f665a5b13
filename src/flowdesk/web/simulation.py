"""The supervisor's what-if page: the baseline's roster as an editable copy, run, and the
baseline and the scenario side by side (figures with confidence intervals, backlog over time,
waits per department, SLA per flow). Same use case as `flowdesk simulate` and the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from flowdesk.api.routes.common import ops_of
from flowdesk.app import simulation as use
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.web import charts, csrf
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.pages import form_data
from flowdesk.web.rendering import error_page, render

router = APIRouter(include_in_schema=False)
Supervise = Annotated[PageAccess, Depends(page_access(Permission.SUPERVISE))]
Form = Annotated[dict[str, str], Depends(form_data)]

#: (label, figure, chart format) of the side-by-side table
ROWS: tuple[tuple[str, str, charts.Format], ...] = (
    ("Contacts per day", "contacts_per_day", "count"),
    ("SLA attainment (steps)", "sla", "percent"),
    ("Turnaround median (hours)", "turnaround_p50_h", "hours"),
    ("Turnaround p90 (hours)", "turnaround_p90_h", "hours"),
    ("Abandoned calls and chats", "abandonment", "percent"),
    ("Answered within a minute", "answered_in_time", "percent"),
    ("Hand-offs per case", "handoffs_per_case", "score"),
    ("Staff cost (EUR)", "cost", "count"),
)


def _cell(fig: dict[str, Any] | None, kind: charts.Format) -> str:
    if not fig or fig.get("mean") is None:
        return "-"
    text = charts.fmt(fig["mean"], kind)
    if fig.get("low") is not None and fig.get("high") is not None and fig["high"] > fig["low"]:
        text += f" ({charts.fmt(fig['low'], kind)} to {charts.fmt(fig['high'], kind)})"
    return text


def _page(
    request: Request,
    access: PageAccess,
    *,
    base: dict[str, Any],
    form: dict[str, Any],
    points: list[dict[str, Any]] | None = None,
    result: Any = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    assert access.user is not None
    context: dict[str, Any] = {
        "baseline": base,
        "form": form,
        "points": points or [],
        "result": result,
        "error": error,
    }
    if result is not None:
        b = (result.get("baseline") or {}).get("figures", {})
        s = result["scenario"]["figures"]
        context["rows"] = [
            (label, _cell(b.get(name), kind), _cell(s.get(name), kind))
            for label, name, kind in ROWS
        ]
        depts = sorted(result["scenario_model"]["staff"])
        context["dept_rows"] = [
            (
                d,
                sum(result["baseline_model"]["staff"].get(d, {}).values()),
                sum(result["scenario_model"]["staff"].get(d, {}).values()),
                _cell(b.get(f"dept.{d}.wait_mean_min"), "minutes"),
                _cell(s.get(f"dept.{d}.wait_mean_min"), "minutes"),
                _cell(b.get(f"dept.{d}.occupancy"), "percent"),
                _cell(s.get(f"dept.{d}.occupancy"), "percent"),
            )
            for d in depts
        ]

        def series(summary: dict[str, Any] | None) -> list[tuple[str, float | None]]:
            days = (summary or {}).get("backlog_per_day", [])
            return [(f"day {i + 1}", d.get("mean")) for i, d in enumerate(days)]

        context["backlog_chart"] = charts.line_chart(
            [
                ("baseline", series(result.get("baseline"))),
                ("scenario", series(result["scenario"])),
            ],
            title="Open work per day (mean over the day's hours)",
        )

        def bars(names: list[str], figure: str) -> list[tuple[str, float | None]]:
            """Baseline and scenario bar pairs of `figure` (with {} for the name)."""
            return [
                (f"{n[:14]} · {side}", (of.get(figure.format(n)) or {}).get("mean"))
                for n in names
                for side, of in (("base", b), ("what if", s))
            ]

        context["wait_chart"] = charts.bar_chart(
            bars(depts, "dept.{}.wait_mean_min"),
            title="Mean wait before an agent takes the work",
            kind="minutes",
        )
        flows = sorted(result["scenario_model"]["flows"])
        context["sla_chart"] = charts.bar_chart(
            bars(flows, "flow.{}.sla"), title="SLA attainment per flow", kind="percent"
        )
    return render(
        request, "simulation.html", context, principal=access.user, status_code=status_code
    )


def _copy_of(base: dict[str, Any]) -> dict[str, Any]:
    return {
        "staff": {d: dict(v) for d, v in base["staff"].items()},
        "arrivals": 1.0,
        "days": 7,
        "replications": 3,
        "name": "Copy of the baseline",
        "start": "",
        "also": [],
    }


#: What the form edits itself; the rest of a starting point's scenario rides along unchanged.
_FORM_KEYS = {"name", "description", "staff", "staff_change", "days", "replications", "seed"}


def _rest_of(point: dict[str, Any] | None) -> dict[str, Any]:
    """The starting point's changes the form has no field for (reason and channel multipliers,
    priorities, patience, capacity, flow versions)."""
    if point is None:
        return {}
    rest = {k: v for k, v in point["scenario"].items() if k not in _FORM_KEYS}
    arrivals = dict(rest.get("arrivals") or {})
    arrivals.pop("all", None)
    if arrivals:
        rest["arrivals"] = arrivals
    else:
        rest.pop("arrivals", None)
    return rest


def _also(rest: dict[str, Any]) -> list[str]:
    """The carried changes as lines a supervisor reads under the form."""
    lines = []
    for key, value in sorted(rest.items()):
        if isinstance(value, dict):
            for inner, v in sorted(value.items()):
                if isinstance(v, dict):
                    lines += [f"{key} {inner} {k}: {x}" for k, x in sorted(v.items())]
                else:
                    lines.append(f"{key} {inner}: {v}")
        else:
            lines.append(f"{key}: {value}")
    return lines


def _form_of(base: dict[str, Any], point: dict[str, Any] | None) -> dict[str, Any]:
    form = _copy_of(base)
    if point is not None:
        spec = point["scenario"]
        form["staff"] = {d: dict(v) for d, v in point["staff"].items()}
        form["arrivals"] = float((spec.get("arrivals") or {}).get("all", 1.0))
        form["days"] = int(spec.get("days", form["days"]))
        form["replications"] = int(spec.get("replications", form["replications"]))
        form["name"] = point["name"]
        form["start"] = point["id"]
        form["also"] = _also(_rest_of(point))
    return form


@router.get("/simulation")
def simulation_page(request: Request, access: Supervise, start: str = "") -> Response:
    if access.denied:
        return access.denied
    assert access.user is not None
    ops = ops_of(request)
    try:
        base = use.baseline_view(access.user, ops)
        points = use.starting_points(access.user, ops)
        point = use.starting_point(access.user, ops, start) if start else None
    except FlowdeskError as exc:
        status = 404 if isinstance(exc, NotFoundError) else 422
        return error_page(request, exc.message, status_code=status, principal=access.user)
    return _page(request, access, base=base, form=_form_of(base, point), points=points)


@router.post("/simulation")
def simulation_run(request: Request, access: Supervise, fields: Form) -> Response:
    if access.denied:
        return access.denied
    assert access.user is not None
    if not csrf.valid(request, fields.get(csrf.CSRF_FIELD)):
        return error_page(
            request,
            "The form expired or came from another site. Reload the page and try again.",
            status_code=400,
            principal=access.user,
        )
    ops = ops_of(request)
    start = fields.get("start", "").strip()
    try:
        base = use.baseline_view(access.user, ops)
        points = use.starting_points(access.user, ops)
        point = use.starting_point(access.user, ops, start) if start else None
    except FlowdeskError as exc:
        return error_page(request, exc.message, status_code=422, principal=access.user)
    form = _form_of(base, point)
    form["name"] = fields.get("name", "").strip()[:200] or "Scenario"
    rest = _rest_of(point)
    scenario: dict[str, Any] = {**rest, "name": form["name"], "staff": {}}
    # numbers are read here; their limits are the scenario's (the same 422 as the API's)
    try:
        for dept, shifts in base["staff"].items():
            scenario["staff"][dept] = {}
            for shift in shifts:
                raw = fields.get(f"staff.{dept}.{shift}", str(form["staff"][dept][shift])).strip()
                count = int(raw)
                form["staff"][dept][shift] = count
                if shift != "any":
                    scenario["staff"][dept][shift] = count
                else:
                    scenario["staff"][dept] = count
        form["arrivals"] = float(fields.get("arrivals", "1") or 1)
        form["days"] = int(fields.get("days", "7") or 7)
        form["replications"] = int(fields.get("replications", "3") or 3)
    except ValueError as exc:
        message = f"Not a number: {exc}"
        return _page(
            request, access, base=base, form=form, points=points, error=message, status_code=422
        )
    scenario["arrivals"] = {**dict(rest.get("arrivals") or {}), "all": form["arrivals"]}
    try:
        result = use.run(
            access.user,
            ops,
            scenario,
            days=form["days"],
            replications=form["replications"],
        )
    except FlowdeskError as exc:
        return _page(
            request,
            access,
            base=base,
            form=form,
            points=points,
            error=exc.message,
            status_code=422,
        )
    return _page(request, access, base=base, form=form, points=points, result=result)
