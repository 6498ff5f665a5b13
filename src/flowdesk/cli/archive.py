"""`flowdesk archive`: event retention, and closed months of the event log moved to Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from flowdesk.core.errors import ConfigurationError, FlowdeskError


def register(app: typer.Typer) -> None:
    app.command("archive")(archive)


def archive(
    before: Annotated[
        str | None,
        typer.Option(help="Archive the months before this one (YYYY-MM; default: this month)."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Archive folder (default FLOWDESK_ARCHIVE_DIR)."),
    ] = None,
    company_file: Annotated[
        Path | None,
        typer.Option(help="Company file with retention.events (default FLOWDESK_COMPANY_FILE)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.")
    ] = None,
) -> None:
    """Delete events past their retention, then move the events of closed months (except those
    of open cases and running flows) into one Parquet file per month that `flowdesk mine`, the
    KPIs, Polars and pm4py read (docs/scaling.md)."""
    from rich.progress import Progress

    from flowdesk.app import archive as use
    from flowdesk.app.context import Ops
    from flowdesk.auth.roles import permissions_of
    from flowdesk.auth.service import Principal
    from flowdesk.core.clock import SystemClock
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.runtime.processes import ProcessRuntime
    from flowdesk.settings import Settings
    from flowdesk.store import migrate

    roles = ("admin",)  # whoever runs the command line on the server holds the database
    caller = Principal("cli", "cli", "command line", roles, (), permissions_of(roles))
    try:
        settings = Settings() if database_url is None else Settings(database_url=database_url)
        month = use.parse_month(before) if before is not None else None
        store = open_store(settings)
        try:
            if not migrate.current_revisions(store.engine):
                raise ConfigurationError(
                    "the database has no Flowdesk schema", hint="run `flowdesk db upgrade` first"
                )
            clock = SystemClock()
            ops = Ops(store=store, clock=clock, runtime=ProcessRuntime(store, clock=clock))
            path = str(company_file) if company_file else settings.company_file
            with Progress(disable=json_output, transient=True) as bar:
                task = bar.add_task("archiving", total=None)

                def progress(label: str, done: int, total: int) -> None:
                    bar.update(task, description=f"archiving {label}", completed=done, total=total)

                report = use.archive_events(
                    caller,
                    ops,
                    before=month,
                    directory=directory,
                    company_file=path,
                    progress=progress,
                )
        finally:
            store.close()
    except FlowdeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if json_output:
        typer.echo(json.dumps(report))
        return
    for m in report["months"]:
        dropped = ", partition dropped" if m["partition_dropped"] else ""
        typer.echo(
            f"{m['month']}: {m['archived']} archived, {m['expired']} expired, "
            f"{m['kept_live']} kept live (open cases){dropped}"
        )
    typer.echo(
        f"{report['archived']} events archived to {report['directory']}; "
        f"{report['expired_live'] + report['expired_archived']} past their retention deleted"
    )
