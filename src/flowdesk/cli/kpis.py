"""`flowdesk kpis`: the dashboards' KPIs and scorecard in the terminal or as CSV, for reports
and scripts that cannot log in to the web UI (same `Analytics` service as the API)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from flowdesk.core.errors import FlowdeskError


def register(app: typer.Typer) -> None:
    app.command("kpis")(kpis)


Columns = ("opened", "closed", "turnaround_hours_mean", "fcr_rate", "ftr_rate", "sla_compliance")


def kpis(
    days: Annotated[int, typer.Option(min=1, max=3660, help="Window: the last N days.")] = 30,
    grain: Annotated[
        Literal["day", "week", "month", "total"], typer.Option(help="One row per period.")
    ] = "week",
    by: Annotated[
        str | None, typer.Option(help="Group by flow, channel, segment or reason.")
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print every KPI as CSV.")] = False,
    scorecard: Annotated[
        bool, typer.Option("--scorecard", help="Print the outside-in scorecard instead.")
    ] = False,
    company_file: Annotated[
        Path | None,
        typer.Option(help="Company file with targets (default FLOWDESK_COMPANY_FILE)."),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.")
    ] = None,
) -> None:
    """KPIs per period from the event log: turnaround, first-contact resolution, first time
    right, SLA compliance, complaints, CSAT and NPS (docs/analytics.md defines each)."""
    from rich.console import Console
    from rich.table import Table

    from flowdesk.analytics.config import AnalyticsConfig
    from flowdesk.analytics.kpis import CASE_DIMENSIONS
    from flowdesk.analytics.service import Analytics, Filters
    from flowdesk.core.clock import SystemClock
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    if by is not None and by not in CASE_DIMENSIONS:
        typer.echo(
            f"error: cannot group by {by!r}; use one of {', '.join(CASE_DIMENSIONS)}", err=True
        )
        raise typer.Exit(2)
    try:
        settings = Settings() if database_url is None else Settings(database_url=database_url)
        path = company_file or settings.company_file
        config = AnalyticsConfig.from_file(path) if path else AnalyticsConfig()
        store = open_store(settings)
        service = Analytics(store, config, SystemClock())
        filters = Filters.last(days, datetime.now(UTC))
        if scorecard:
            results = service.scorecard(timedelta(days=days))
            rows: list[dict[str, Any]] = [
                {
                    "criterion": r.criterion.name,
                    "status": r.status,
                    "metric": m.metric,
                    "value": m.value,
                    "target": m.target,
                    "met": m.met,
                    "trend": m.direction,
                }
                for r in results
                for m in r.measures
            ]
            frame = None
        else:
            frame = service.case_kpis(filters, grain=None if grain == "total" else grain, by=by)
            rows = frame.to_dicts()
    except FlowdeskError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    if csv:
        if frame is not None:
            sys.stdout.write(frame.write_csv(float_precision=4))
        else:
            import csv as csv_module

            writer = csv_module.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else [])
            writer.writeheader()
            writer.writerows(rows)
        return
    if not rows:
        typer.echo("no cases in this window")
        return
    keys = [k for k in rows[0] if scorecard or k in ("period", by) or k in Columns]
    table = Table(title=None if scorecard else f"Last {days} days")
    for key in keys:
        table.add_column(key, justify="left" if key in ("period", by, "criterion") else "right")
    for row in rows:
        table.add_row(*(_show(row[k]) for k in keys))
    Console().print(table)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if value != value else f"{value:,.2f}"
    return str(value)
