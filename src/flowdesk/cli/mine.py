"""`flowdesk mine [FILE.xes|FILE.xes.gz] --json`: the process map of an event log.

With a file, mines that XES log (plain or gzip) from any system; without one, Flowdesk's own
event log (process element events, one case per process instance). Prints the process map's
edges with counts and durations, the variants and the start and end activities, as JSON with
`--json` or as tables. Where the log records activity starts as well as completions, the map
is drawn from completions (`--all-events` keeps every event). Problems the user can fix (a
missing file, malformed XML, a database without schema) print one line and exit with status 2.

`--conformance KEY` replays the completed instances of deployed process KEY on the versions they
ran and prints the fitness, the deviations and the least fitting cases; with FILE, the XES log's
activities are matched by name to the elements of KEY's latest version (or `--version`).
`--heatmap KEY -o FILE.svg` writes KEY's diagram tinted by frequency (or `--measure duration`).
`--handoffs` prints the department hand-off matrix of the log (count, median wait, rework back to
a department); `--sentiment [--days N]` the sentiment of customers' words per reason with the
words that drive it and the topics of each reason; `--discover [-o FILE.bpmn] [--noise 0.2]`
writes a BPMN model mined from the log (inductive miner, infrequent variant; `--miner heuristic`
for the heuristics miner, `--dependency 0.5` its threshold) that deploys as a flow and replays
in conformance.

A folder or .parquet FILE is read as columnar events (`analytics.columnar.scan_events`), and
`--parquet DIR` streams an XES FILE into DIR as Parquet first: either way the process map,
variants, start/end activities and turnaround come from a streaming scan, so memory grows with
the cases and variants, not the events (edges then carry counts without durations).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from flowdesk.core.errors import FlowdeskError

if TYPE_CHECKING:
    from rich.console import Console

    from flowdesk.analytics.log import EventLog
    from flowdesk.analytics.process_analysis import ProcessAnalysis
    from flowdesk.core.events import StoredEvent
    from flowdesk.store import Store


def register(app: typer.Typer) -> None:
    """Add the `mine` command to the `flowdesk` application."""
    app.command("mine")(mine)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message.splitlines()[0] if message else 'failed'}", err=True)
    return typer.Exit(2)


def mine(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="XES log (.xes or .xes.gz), or Parquet events (a folder or .parquet); "
            "without it, Flowdesk's own event log."
        ),
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option(
            "--parquet",
            metavar="DIR",
            help="Stream the XES FILE into DIR as Parquet and mine it there (bounded memory).",
        ),
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
    conformance: Annotated[
        str | None,
        typer.Option(
            "--conformance",
            metavar="KEY",
            help="Replay the cases of deployed process KEY on its model: fitness, deviations.",
        ),
    ] = None,
    heatmap: Annotated[
        str | None,
        typer.Option(
            "--heatmap", metavar="KEY", help="Write the diagram of process KEY as a heatmap SVG."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where --heatmap writes (default stdout).")
    ] = None,
    measure: Annotated[
        str, typer.Option("--measure", help="Heatmap measure: frequency or duration.")
    ] = "frequency",
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Model version (default: latest).")
    ] = None,
    handoffs: Annotated[
        bool,
        typer.Option(
            "--handoffs", help="Print the department hand-off matrix (count, wait, rework)."
        ),
    ] = False,
    discover: Annotated[
        bool,
        typer.Option(
            "--discover",
            help="Write a BPMN model of the log (inductive miner) to -o FILE.bpmn or stdout.",
        ),
    ] = False,
    noise: Annotated[
        float,
        typer.Option("--noise", min=0.0, max=0.99, help="--discover: drop rarer paths (0-0.99)."),
    ] = 0.2,
    miner: Annotated[
        str,
        typer.Option("--miner", help="--discover: inductive (default) or heuristic."),
    ] = "inductive",
    dependency: Annotated[
        float,
        typer.Option(
            "--dependency", min=-1.0, max=1.0, help="--discover --miner heuristic: threshold."
        ),
    ] = 0.5,
    sentiment: Annotated[
        bool,
        typer.Option(
            "--sentiment",
            help="Print the sentiment of customer words per reason, driving words and topics.",
        ),
    ] = False,
    days: Annotated[int, typer.Option("--days", min=1, help="--sentiment: the last N days.")] = 30,
) -> None:
    """Mine an event log: process map (directly-follows edges), variants, start/end activities;
    conformance of a deployed process's cases, and its heatmap."""
    from flowdesk.analytics.export import write_ocel_json, write_xes
    from flowdesk.analytics.xes import read_xes

    if sentiment:
        if file is not None:
            raise _fail("--sentiment reads Flowdesk's own contacts and surveys; leave out FILE")
        _sentiment(database_url, days=days, json_output=json_output)
        return
    if miner not in ("inductive", "heuristic"):
        raise _fail(f"--miner must be inductive or heuristic, not {miner!r}")
    columnar = file is not None and (file.is_dir() or file.suffix == ".parquet")
    if parquet is not None or columnar:
        if file is None or (parquet is not None and columnar):
            raise _fail("--parquet needs an XES FILE to import")
        _columnar(file, parquet, json_output=json_output, top=top, all_events=all_events)
        return
    if file is not None and export_ocel is not None:
        raise _fail("--export-ocel exports Flowdesk's own log; leave out FILE")
    if conformance is not None or heatmap is not None:
        if measure not in ("frequency", "duration"):
            raise _fail(f"--measure must be frequency or duration, not {measure!r}")
        _process_mining(
            file,
            database_url,
            conformance=conformance,
            heatmap=heatmap,
            output=output,
            measure="duration" if measure == "duration" else "frequency",
            version=version,
            json_output=json_output,
            top=top,
        )
        return
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
        if discover:
            from flowdesk.analytics.discovery import discover_bpmn

            xml = discover_bpmn(
                log,
                noise=noise,
                name=f"Discovered from {source}",
                miner="heuristic" if miner == "heuristic" else "inductive",
                dependency=dependency,
            )
            if output is None:
                sys.stdout.write(xml)
            else:
                output.write_text(xml, encoding="utf-8")
            return
    except FlowdeskError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"cannot write: {exc}") from exc
    if handoffs:
        from flowdesk.analytics.handoffs import handoff_report

        document = {"source": source, **handoff_report(log)}
        if json_output:
            typer.echo(json.dumps(document, ensure_ascii=False))
        else:
            _print_handoffs(document)
        return
    report = mining_report(log, source=source, top=top, all_events=all_events)
    if json_output:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print_tables(report)


def _columnar(
    file: Path, parquet: Path | None, *, json_output: bool, top: int | None, all_events: bool
) -> None:
    """Figures from Parquet events (imported from XES into `parquet` first, if given)."""
    from flowdesk.analytics.columnar import import_xes, mining_figures, scan_events

    try:
        source = str(file)
        if parquet is not None:
            import_xes(file, parquet)
            file = parquet
        report = mining_figures(scan_events([file]), source=source, top=top, all_events=all_events)
    except FlowdeskError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"cannot write: {exc}") from exc
    if json_output:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print_tables(report)


def _sentiment(database_url: str | None, *, days: int, json_output: bool) -> None:
    """Score what the worker has not scored yet, then print the report of the app layer."""
    from flowdesk.app import analytics as use
    from flowdesk.app.context import Ops
    from flowdesk.auth.roles import permissions_of
    from flowdesk.auth.service import Principal
    from flowdesk.core.clock import SystemClock
    from flowdesk.runtime.processes import ProcessRuntime

    roles = ("admin",)  # whoever runs the command line on the server holds the database
    caller = Principal("cli", "cli", "command line", roles, (), permissions_of(roles))
    try:
        with _migrated_store(database_url) as store:
            clock = SystemClock()
            ops = Ops(store=store, clock=clock, runtime=ProcessRuntime(store, clock=clock))
            report = use.sentiment(caller, ops, days=days, bucket="day", catch_up=True)
    except FlowdeskError as exc:
        raise _fail(str(exc)) from exc
    if json_output:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    mean = report["mean"]
    typer.echo(
        f"{report['texts']} texts since {report['since'][:10]}: mean "
        f"{'-' if mean is None else f'{mean:+.3f}'}, {report['negative']} negative, "
        f"{report['neutral']} neutral, {report['positive']} positive"
    )
    typer.echo(f"{'reason':<32} {'texts':>6} {'mean':>7}  driving words")
    for r in report["reasons"]:
        words = ", ".join(f"{d['word']} {d['weight']:+.2f}" for d in r["drivers"][:5])
        typer.echo(f"{r['reason'][:32]:<32} {r['texts']:>6} {r['mean']:>+7.3f}  {words}")
    for t in report["topics"]:
        typer.echo(f"topics {t['group']}: {', '.join(x['term'] for x in t['terms'])}")


@contextmanager
def _migrated_store(database_url: str | None) -> Iterator[Store]:
    """The configured store, refused (one line, status 2) when it has no Flowdesk schema."""
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
        yield store
    finally:
        store.close()


def _stored_events(database_url: str | None) -> list[StoredEvent]:
    with _migrated_store(database_url) as store:
        return list(store.events.iterate())


def _process_mining(
    file: Path | None,
    database_url: str | None,
    *,
    conformance: str | None,
    heatmap: str | None,
    output: Path | None,
    measure: Literal["frequency", "duration"],
    version: int | None,
    json_output: bool,
    top: int | None,
) -> None:
    """`--conformance KEY` and/or `--heatmap KEY` (the same KEY when both are given)."""
    if conformance is not None and heatmap is not None and conformance != heatmap:
        raise _fail("--conformance and --heatmap name different processes; run them one by one")
    key = conformance or heatmap
    assert key is not None
    try:
        analysis = _analysis(file, database_url, key, version)
        if heatmap is not None:
            svg = analysis.heatmap(measure, version)
            if output is None:
                sys.stdout.write(svg)
            else:
                output.write_text(svg, encoding="utf-8")
        if conformance is not None:
            report = analysis.conformance()
            document = {"key": key, **report.to_json(worst=top or 10, deviations=top)}
            if json_output:
                typer.echo(json.dumps(document, ensure_ascii=False))
            else:
                _print_conformance(document)
    except FlowdeskError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"cannot write: {exc}") from exc


def _analysis(
    file: Path | None, database_url: str | None, key: str, version: int | None
) -> ProcessAnalysis:
    """Flowdesk's own cases of KEY, or the XES FILE's cases against one version of KEY."""
    from flowdesk.analytics import process_analysis as pa
    from flowdesk.analytics.xes import read_xes

    with _migrated_store(database_url) as store:
        if file is None:
            return pa.load_analysis(store, key)
        versions = pa.deployed_versions(store, key)
    chosen = pa.pick_version(key, versions, version)
    return pa.ProcessAnalysis.imported(read_xes(file), key, chosen)


def _console() -> Console:
    """The console the three report printers share: plain stdout, no highlighting or wrapping."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def _print_handoffs(report: dict[str, Any]) -> None:
    from rich.table import Table

    console = _console()
    console.print(
        f"[bold]{report['source']}[/]: {report['total']} hand-offs between "
        f"{len(report['departments'])} departments, {report['rework']} back to a department"
    )
    table = Table("from", "to", "count", "median wait", "rework", title="Hand-offs")
    for cell in report["handoffs"]:
        table.add_row(
            cell["from"],
            cell["to"],
            str(cell["count"]),
            _duration(cell["median_wait_seconds"]),
            str(cell["rework"]),
        )
    console.print(table)


def _print_conformance(report: dict[str, Any]) -> None:
    from rich.table import Table

    console = _console()
    fitness = report["fitness"]
    shown = "-" if fitness is None else f"{fitness:.4f}"
    console.print(
        f"[bold]{report['key']}[/]: fitness {shown}, {report['cases']} cases replayed, "
        f"{report['fitting_cases']} fitting"
        + (f", precision {report['precision']:.4f}" if report.get("precision") is not None else "")
    )
    if report["skipped"]:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(report["skipped"].items()))
        console.print(f"not replayed: {skipped}")
    versions = Table("version", "cases", "fitting", "fitness", "missing", "remaining")
    for v in report["versions"]:
        versions.add_row(
            v["definition_id"],
            str(v["cases"]),
            str(v["fitting_cases"]),
            "-" if v["fitness"] is None else f"{v['fitness']:.4f}",
            str(v["missing"]),
            str(v["remaining"]),
        )
    console.print(versions)
    deviations = Table("cases", "tokens", "deviation", title="Deviations")
    for d in report["deviations"]:
        deviations.add_row(str(d["cases"]), str(d["tokens"]), d["description"])
    console.print(deviations)
    worst = Table("case", "version", "fitness", "deviations", title="Least fitting cases")
    for case in report["worst_cases"]:
        worst.add_row(
            case["case"],
            case["definition_id"],
            f"{case['fitness']:.4f}",
            "; ".join(d["description"] for d in case["deviations"]),
        )
    console.print(worst)


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
    from rich.table import Table

    console = _console()
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
    from flowdesk.analytics.heatmap import format_seconds

    return format_seconds(value)
