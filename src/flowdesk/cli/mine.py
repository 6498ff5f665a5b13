"""`flowdesk mine [FILE.xes|FILE.xes.gz] --json`: the process map of an event log.

With a file, mines that XES log (plain or gzip) from any system; without one, Flowdesk's own
event log (process element events, one case per process instance). Prints the process map's
edges with counts and durations, the variants and the start and end activities, as JSON with
`--json` or as tables. Where the log records activity starts as well as completions, the map
is drawn from completions (`--all-events` keeps every event). Problems the user can fix (a
missing file, malformed XML, a database without schema) print one line and exit with status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flowdesk.core.errors import FlowdeskError

if TYPE_CHECKING:
    from flowdesk.analytics.log import EventLog
    from flowdesk.core.events import StoredEvent


def register(app: typer.Typer) -> None:
    """Add the `mine` command to the `flowdesk` application."""
    app.command("mine")(mine)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message.splitlines()[0] if message else 'failed'}", err=True)
    return typer.Exit(2)


def mine(
    file: Annotated[
        Path | None,
        typer.Argument(help="XES log (.xes or .xes.gz); without it, Flowdesk's own event log."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.", show_default=False),
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="Only the N most frequent variants.")
    ] = None,
    all_events: Annotated[
        bool, typer.Option("--all-events", help="Mine start events too, not only completions.")
    ] = False,
    export_xes: Annotated[
        Path | None, typer.Option("--export-xes", help="Also write the mined log as XES.")
    ] = None,
    export_ocel: Annotated[
        Path | None,
        typer.Option("--export-ocel", help="Also write Flowdesk's own log as OCEL 2.0 JSON."),
    ] = None,
) -> None:
    """Mine an event log: process map (directly-follows edges), variants, start/end activities."""
    from flowdesk.analytics.export import write_ocel_json, write_xes
    from flowdesk.analytics.xes import read_xes

    if file is not None and export_ocel is not None:
        raise _fail("--export-ocel exports Flowdesk's own log; leave out FILE")
    try:
        stored: list[StoredEvent] = []
        if file is not None:
            log = read_xes(file)
            source = str(file)
        else:
            stored = _stored_events(database_url)
            from flowdesk.analytics.source import events_to_log

            log = events_to_log(stored)
            source = "flowdesk event log"
        if export_xes is not None:
            write_xes(log, export_xes)
        if export_ocel is not None:
            write_ocel_json(stored, export_ocel)
    except FlowdeskError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"cannot write: {exc}") from exc
    report = mining_report(log, source=source, top=top, all_events=all_events)
    if json_output:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print_tables(report)


def _stored_events(database_url: str | None) -> list[StoredEvent]:
    from flowdesk.core.errors import ConfigurationError
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings
    from flowdesk.store import migrate

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    try:
        if not migrate.current_revisions(store.engine):
            raise ConfigurationError(
                "the database has no Flowdesk schema", hint="run `flowdesk db upgrade` first"
            )
        return list(store.events.iterate())
    finally:
        store.close()


def mining_report(
    log: EventLog, *, source: str, top: int | None = None, all_events: bool = False
) -> dict[str, Any]:
    """The JSON document `flowdesk mine --json` prints."""
    from flowdesk.analytics.dfg import directly_follows
    from flowdesk.analytics.endpoints import endpoints
    from flowdesk.analytics.variants import variants

    lifecycle = "all"
    if not all_events and log.has_lifecycle_starts():
        log = log.completions()
        lifecycle = "complete"
    dfg = directly_follows(log)
    found = variants(log)
    ends = endpoints(log)
    return {
        "source": source,
        "events": log.event_count,
        "cases": log.case_count,
        "lifecycle": lifecycle,
        "activities": dfg.activity_counts,
        "edges": [edge.to_json() for edge in dfg.edges],
        "variants": [v.to_json() for v in (found[:top] if top else found)],
        "variant_count": len(found),
        "start_activities": ends.start,
        "end_activities": ends.end,
    }


def _print_tables(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    console.print(
        f"[bold]{report['source']}[/]: {report['events']} events, {report['cases']} cases, "
        f"{report['variant_count']} variants"
    )
    edges = Table("from", "to", "count", "median", "p90", title="Process map")
    for edge in report["edges"]:
        edges.add_row(
            edge["from"],
            edge["to"],
            str(edge["count"]),
            _duration(edge["median_seconds"]),
            _duration(edge["p90_seconds"]),
        )
    console.print(edges)
    variants = Table("count", "share", "activities", title="Variants")
    for variant in report["variants"]:
        variants.add_row(
            str(variant["count"]), f"{variant['share']:.1%}", " → ".join(variant["activities"])
        )
    console.print(variants)
    for title, key in (
        ("Start activities", "start_activities"),
        ("End activities", "end_activities"),
    ):
        table = Table("activity", "cases", title=title)
        for activity, count in report[key].items():
            table.add_row(activity, str(count))
        console.print(table)


def _duration(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.1f}m"
    if value < 172800:
        return f"{value / 3600:.1f}h"
    return f"{value / 86400:.1f}d"
