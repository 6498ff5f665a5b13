"""Process analysis pages for supervisors and process owners: the deployed processes, and for
one of them the heatmap on its diagram, the conformance of its cases (fitness, deviations, the
least fitting cases), a model discovered from them beside the deployed one, the department
hand-off matrix and its variants, from the same `ProcessAnalysis` as the mining API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from flowdesk.api.routes.common import ops_of
from flowdesk.app import analytics as use
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import NotFoundError
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.charts import matrix_chart
from flowdesk.web.rendering import error_page, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[PageAccess, Depends(page_access(Permission.ANALYTICS_READ))]
WORST = 10
VARIANTS = 10
NOISE = 0.2


@router.get("/analysis")
def processes(request: Request, access: Reader) -> Response:
    if access.denied:
        return access.denied
    items = use.processes(access.user, ops_of(request))
    return render(request, "process_analysis.html", {"items": items}, principal=access.user)


@router.get("/analysis/{key}")
def process(
    request: Request,
    key: str,
    access: Reader,
    measure: str = "frequency",
    miner: str = "inductive",
) -> Response:
    if access.denied:
        return access.denied
    if miner not in use.MINERS:
        return error_page(
            request,
            f"Unknown miner {miner!r}: choose {' or '.join(use.MINERS)}.",
            status_code=400,
            principal=access.user,
        )
    if measure not in use.MEASURES:
        return error_page(
            request,
            f"Unknown measure {measure!r}: choose frequency or duration.",
            status_code=400,
            principal=access.user,
        )
    try:
        analysis = use.process_analysis(access.user, ops_of(request), key)
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    report = analysis.conformance()
    chosen = analysis.version(None)
    svg = analysis.heatmap("duration" if measure == "duration" else "frequency")
    process_map = analysis.process_map(VARIANTS)
    found = analysis.discovery(NOISE, "heuristic" if miner == "heuristic" else "inductive")
    handoffs = analysis.handoffs()
    cells = {
        (h["from"], h["to"]): (
            h["count"],
            f"{use.format_seconds(h['median_wait_seconds'])}"
            + (f", {h['rework']} back" if h["rework"] else ""),
        )
        for h in handoffs["handoffs"]
    }
    context = {
        "key": key,
        "name": chosen.name or key,
        "definition_id": chosen.definition_id,
        "measure": measure,
        "measures": use.MEASURES,
        # the SVG is rendered by flowdesk.bpmn.svg, which escapes every text it writes
        "heatmap": Markup(svg),
        "totals": report.totals.to_json(),
        "precision": report.precision,
        "skipped": sorted(report.skipped.items()),
        "versions": [v.to_json() for v in report.versions],
        "deviations": [d.to_json() for d in report.deviations[:50]],
        "worst": [c.to_json() for c in report.worst(WORST)],
        "variants": process_map["variants"],
        "variant_count": process_map["variant_count"],
        "cases": process_map["cases"],
        # both SVGs come from flowdesk.bpmn.svg, which escapes every text it writes
        "deployed_svg": Markup(analysis.diagram(chosen.version)),
        "discovered_svg": Markup(found.svg()) if found else None,
        "discovered": found.to_json() if found else None,
        "noise": NOISE,
        "miner": miner,
        "miners": use.MINERS,
        "handoffs": handoffs,
        "handoff_chart": matrix_chart(
            handoffs["departments"],
            cells,
            title="Hand-offs between departments (rows hand over to columns)",
        ),
        "percent": _percent,
        "duration": use.format_seconds,
    }
    return render(request, "process_analysis.html", context, principal=access.user)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@router.get("/analysis/{key}/cases/{case}")
def case_alignment(request: Request, key: str, case: str, access: Reader) -> Response:
    """One case aligned with its model: exactly which steps it skipped or added."""
    if access.denied:
        return access.denied
    try:
        aligned = use.process_analysis(access.user, ops_of(request), key).alignment(case)
    except NotFoundError as exc:
        return error_page(request, exc.message, status_code=404, principal=access.user)
    return render(request, "analysis_alignment.html", aligned, principal=access.user)
