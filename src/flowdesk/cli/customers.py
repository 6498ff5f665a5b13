"""`flowdesk customers import FILE` and `flowdesk customers find`.

The lead wires this in with `register(app)`. Problems the user can fix (a bad row, an invalid
phone number) print one line per problem on stderr and exit with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flowdesk.core.errors import FlowdeskError

if TYPE_CHECKING:
    from flowdesk.customers.importer import Format

err = Console(stderr=True, highlight=False, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.", show_default=False),
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region", help="Country (ISO code, e.g. GB) of phone numbers written without +prefix."
    ),
]


def _store(database_url: str | None) -> Any:
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    store.upgrade()
    return store


def _fail(exc: FlowdeskError) -> typer.Exit:
    from flowdesk.customers.errors import ImportRejectedError

    err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
    if isinstance(exc, ImportRejectedError):
        for problem in exc.errors[:50]:
            err.print(f"  {escape(problem.describe())}", markup=True)
        if len(exc.errors) > 50:
            err.print(f"  ... {len(exc.errors) - 50} more")
    return typer.Exit(2)


def import_command(
    file: Annotated[Path, typer.Argument(help="CSV, JSON array or JSON Lines file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, json or jsonl (default: by extension).")
    ] = None,
    region: Region = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    database_url: DbUrl = None,
) -> None:
    """Import customers from a file: every row or, if any row is bad, none."""
    from flowdesk.customers.importer import import_file

    if fmt is not None and fmt not in ("csv", "json", "jsonl"):
        err.print(f"[bold red]error:[/] --format must be csv, json or jsonl, not {escape(fmt)!r}")
        raise typer.Exit(2)
    try:
        store = _store(database_url)
        try:
            result = import_file(
                store=store,
                path=file,
                fmt=cast("Format | None", fmt),
                default_region=region,
                console=err,
                show_progress=progress,
                actor="cli",
            )
        finally:
            store.close()
    except FlowdeskError as exc:
        raise _fail(exc) from None
    typer.echo(f"imported {result.created} customers with {result.identities} identities")


def find_command(
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    account: Annotated[str | None, typer.Option(help="Account number.")] = None,
    social: Annotated[str | None, typer.Option(help="network:handle.")] = None,
    device: Annotated[str | None, typer.Option(help="Device id.")] = None,
    given_name: Annotated[str | None, typer.Option(help="Given name (fuzzy search).")] = None,
    family_name: Annotated[str | None, typer.Option(help="Family name (fuzzy search).")] = None,
    birth_date: Annotated[str | None, typer.Option(help="Birth date, YYYY-MM-DD.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode.")] = None,
    region: Region = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    database_url: DbUrl = None,
) -> None:
    """Find customers by an identifier (exact) or by name, birth date and postcode (fuzzy).

    Exits with status 1 when no customer is found.
    """
    from flowdesk.customers.resolve import search_people
    from flowdesk.customers.service import find_by_identity

    identifiers = {
        k: v
        for k, v in {
            "email": email,
            "phone": phone,
            "account": account,
            "social": social,
            "device": device,
        }.items()
        if v
    }
    person = {
        k: v
        for k, v in {
            "given_name": given_name,
            "family_name": family_name,
            "birth_date": birth_date,
            "postcode": postcode,
        }.items()
        if v
    }
    if not identifiers and not person:
        err.print("[bold red]error:[/] give an identifier (--email, --phone ...) or a name")
        raise typer.Exit(2)
    results: list[tuple[Any, float, str]] = []
    try:
        store = _store(database_url)
        try:
            with store.reading() as conn:
                for kind, value in identifiers.items():
                    found = find_by_identity(
                        connection=conn, kind=kind, value=value, default_region=region
                    )
                    if found is not None and found.id not in {r[0].id for r in results}:
                        results.append((found, 1.0, kind))
                if person:
                    for match in search_people(connection=conn, person=person):
                        if match.customer.id not in {r[0].id for r in results}:
                            results.append((match.customer, match.probability, "person"))
        finally:
            store.close()
    except FlowdeskError as exc:
        raise _fail(exc) from None
    if as_json:
        for customer, probability, matched in results:
            typer.echo(json.dumps(_as_json(customer, probability, matched)))
    else:
        _print_table(results)
    if not results:
        raise typer.Exit(1)


def _as_json(customer: Any, probability: float, matched: str) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "status": customer.status,
        "review_required": customer.review_required,
        "birth_date": customer.birth_date,
        "postcode": customer.postcode,
        "identities": [{"kind": i.kind, "value": i.value} for i in customer.identities],
        "matched_by": matched,
        "probability": round(probability, 4),
    }


def _print_table(results: list[tuple[Any, float, str]]) -> None:
    out = Console(highlight=False, soft_wrap=True)
    if not results:
        out.print("no customer found")
        return
    table = Table("id", "name", "status", "identities", "matched by", "p")
    for customer, probability, matched in results:
        idents = ", ".join(f"{i.kind}:{i.value}" for i in customer.identities)
        status = customer.status + (" (review)" if customer.review_required else "")
        table.add_row(
            customer.id,
            escape(customer.name),
            status,
            escape(idents),
            matched,
            f"{probability:.2f}",
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the `customers` command group to the Flowdesk CLI."""
    customers_app = typer.Typer(help="Customers and their identities.", no_args_is_help=True)
    customers_app.command("import")(import_command)
    customers_app.command("find")(find_command)
    app.add_typer(customers_app, name="customers")
