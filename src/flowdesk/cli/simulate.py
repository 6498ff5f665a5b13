"""`flowdesk simulate SCENARIO.yaml`: a what-if run in the terminal, baseline beside scenario.

The same use case as POST /api/v1/simulations and the /simulation page (flowdesk.app.simulation),
run as the command line's caller on the local store; `--staffing` searches the fewest agents
per department and shift instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from flowdesk.core.errors import FlowdeskError

err = Console(stderr=True, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


#: The rows of the side-by-side table: (label, figure name, unit)
ROWS = (
    ("Contacts per day", "contacts_per_day", ""),
    ("SLA attainment (steps)", "sla", "%"),
    ("Turnaround median (h)", "turnaround_p50_h", ""),
    ("Turnaround p90 (h)", "turnaround_p90_h", ""),
    ("Abandoned (phone, chat)", "abandonment", "%"),
    ("Answered within 1 min", "answered_in_time", "%"),
    ("Hand-offs per case", "handoffs_per_case", ""),
    ("Staff cost (EUR)", "cost", ""),
)


def _fmt(fig: dict[str, Any] | None, unit: str) -> str:
    if not fig or fig.get("mean") is None:
        return "-"
    scale = 100 if unit == "%" else 1
    mean, low, high = (
        fig[k] * scale if fig.get(k) is not None else None for k in ("mean", "low", "high")
    )
    if low is None or high is None or abs(high - low) < 1e-9:
        return f"{mean:,.1f}{unit}"
    return f"{mean:,.1f}{unit} [{low:,.1f}, {high:,.1f}]"


def simulate(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML (docs/simulation.md); none: the baseline.")
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, max=90, help="Simulated days.")] = None,
    replications: Annotated[
        int | None, typer.Option(min=1, max=20, help="Runs with different seeds.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the first replication.")] = None,
    staffing: Annotated[
        bool, typer.Option("--staffing", help="Search the fewest agents meeting the OLAs.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.")
    ] = None,
) -> None:
    """What if: simulate the operation from the deployed flows, the company file and the last
    30 days of the event log, with the scenario's changes; figures are means with 95 %
    confidence intervals over the replications."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from flowdesk.app import simulation as use
    from flowdesk.cli.experience import _cli_caller, _ops
    from flowdesk.simulation.scenario import load_scenario

    ops = _ops(database_url)
    try:
        spec = load_scenario(scenario) if scenario is not None else {}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            transient=True,
            console=err,
        ) as bar:
            task = bar.add_task("simulating" if not staffing else "staffing search", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if staffing:
                result = use.staffing(
                    _cli_caller(),
                    ops,
                    days=days or 7,
                    replications=replications or 2,
                    progress=progress,
                )
            else:
                result = use.run(
                    _cli_caller(),
                    ops,
                    spec,
                    days=days,
                    replications=replications,
                    seed=seed,
                    progress=progress,
                    source=str(scenario) if scenario is not None else "scenario",
                )
    except FlowdeskError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.message)}", markup=True)
        if exc.hint:
            err.print(f"hint: {escape(exc.hint)}", markup=True)
        raise typer.Exit(2) from None
    finally:
        ops.store.close()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    console = Console(highlight=False)
    if staffing:
        table = Table(title=f"Fewest agents meeting {result['target']:.0%} of the OLA pickups")
        for col in ("Department", "Now", "Erlang C guess", "Needed", "Per shift", "OLA met"):
            table.add_column(col)
        for dept, row in result["departments"].items():
            per_shift = ", ".join(f"{k}: {v}" for k, v in (row["per_shift"] or {}).items())
            table.add_row(
                dept,
                str(row["now"]),
                str(row["erlang_c_guess"]),
                str(row["needed"] if row["needed"] is not None else "-"),
                per_shift or (row["note"] or ""),
                f"{row['ola_share']:.0%}" if row["ola_share"] is not None else "-",
            )
        console.print(table)
        return
    table = Table(
        title=f"{result['name']}: {result['days']} days x {result['replications']} replications"
    )
    table.add_column("Figure")
    table.add_column("Baseline")
    table.add_column("Scenario")
    base = (result.get("baseline") or {}).get("figures", {})
    mine = result["scenario"]["figures"]
    for label, name, unit in ROWS:
        table.add_row(label, _fmt(base.get(name), unit), _fmt(mine.get(name), unit))
    for dept in result["scenario_model"]["staff"]:
        key = f"dept.{dept}"
        cells = []
        for model, figs in ((result["baseline_model"], base), (result["scenario_model"], mine)):
            staff = sum(model["staff"].get(dept, {}).values())
            wait = _fmt(figs.get(key + ".wait_mean_min"), "")
            cells.append(f"{staff}, {wait}, {_fmt(figs.get(key + '.occupancy'), '%')}")
        table.add_row(f"{dept}: staff, wait (min), occupancy", *cells)
    console.print(table)
