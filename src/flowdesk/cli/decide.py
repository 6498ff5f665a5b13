"""`flowdesk decide`: evaluate a DMN decision or decision service from the command line.

The result is printed as JSON on stdout (numbers as JSON numbers, temporal values and durations
as ISO text); diagnostics go to stderr. Problems the user can fix (bad JSON, unknown decision,
invalid model) print one line and exit with status 2.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from flowdesk.core.errors import FlowdeskError


def to_json(value: Any) -> Any:
    """A FEEL value as JSON-ready Python data."""
    from flowdesk.feel import values
    from flowdesk.feel.runtime import FeelFunction

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, date | time | datetime | timedelta | values.YearsMonthsDuration):
        return values.to_string(value)
    if isinstance(value, FeelFunction):
        return f"<function {value.name}>"
    return values.to_string(value)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message.splitlines()[0] if message else 'failed'}", err=True)
    return typer.Exit(2)


def decide(
    models: Annotated[
        list[Path],
        typer.Argument(help="DMN file, then the files it imports.", metavar="MODEL.dmn..."),
    ],
    decision: Annotated[
        str | None, typer.Option("--decision", "-d", help="Decision name or id.")
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Decision service name or id.")
    ] = None,
    input_json: Annotated[
        str, typer.Option("--input", "-i", help="Inputs as a JSON object, e.g. '{\"Age\": 30}'.")
    ] = "{}",
) -> None:
    """Evaluate a DMN decision (or decision service) and print its value as JSON."""
    from flowdesk.dmn import load_model

    if (decision is None) == (service is None):
        raise _fail("give exactly one of --decision NAME or --service NAME")
    try:
        inputs = json.loads(input_json, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise _fail(f"--input is not valid JSON: {exc}") from exc
    if not isinstance(inputs, dict):
        raise _fail("--input must be a JSON object mapping input names to values")
    try:
        model = load_model(*models, tolerant=True)
        for problem in model.problems:  # the rest of the model still evaluates
            typer.echo(f"warning: {problem}", err=True)
        if decision is not None:
            result = model.evaluate(decision, inputs)
        else:
            result = model.evaluate_service(service or "", inputs)
    except FlowdeskError as exc:
        raise _fail(str(exc)) from exc
    for diagnostic in result.diagnostics:
        typer.echo(f"{diagnostic.severity}: {diagnostic.message}", err=True)
    typer.echo(json.dumps(to_json(result.value), ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add the `decide` command to a Typer app."""
    app.command("decide")(decide)
