"""`flowdesk bundle validate PATH` and `flowdesk knowledge search TEXT`.

The lead wires this in with `register(app)`. A bundle with problems prints one line per problem
(file:line:column: field: message) on stderr and exits with status 2, so editors and CI can
jump to each one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flowdesk.core.errors import FlowdeskError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _store(database_url: str | None) -> Any:
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    store.upgrade()
    return store


def validate_command(
    path: Annotated[Path, typer.Argument(help="Bundle folder, its flow.yaml, or a .zip file.")],
    as_json: AsJson = False,
) -> None:
    """Check a bundle as a deploy would, without deploying it."""
    from flowdesk.experience.errors import BundleError
    from flowdesk.experience.loader import load_bundle

    try:
        bundle = load_bundle(path)
    except BundleError as exc:
        if as_json:
            issues = [i.to_dict() for i in exc.issues]
            out.print_json(json.dumps({"valid": False, "issues": issues}))
        else:
            count = len(exc.issues)
            err.print(f"[bold red]invalid:[/] {count} problem{'s' if count != 1 else ''}")
            for issue in exc.issues:
                err.print(escape(issue.describe()), markup=True)
        raise typer.Exit(2) from None
    except FlowdeskError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        raise typer.Exit(2) from None
    summary = {
        "valid": True,
        "name": bundle.name,
        "process": bundle.process,
        "reasons": [r.id for r in bundle.reasons],
        "tasks": sorted(bundle.tasks),
        "articles": [a.slug for a in bundle.articles],
        "files": sorted(bundle.files),
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    out.print(
        f"[green]valid:[/] {escape(bundle.name)} (process {escape(bundle.process)}): "
        f"{len(bundle.reasons)} reasons, {len(bundle.tasks)} tasks with experience, "
        f"{len(bundle.articles)} articles"
    )


def search_command(
    text: Annotated[str, typer.Argument(help="Words to find (all of them, stemmed).")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
    as_json: AsJson = False,
    database_url: DbUrl = None,
) -> None:
    """Full-text search of the knowledge base."""
    from flowdesk.knowledge import search

    store = _store(database_url)
    try:
        hits = search(store, text, limit=limit)
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([h.to_dict() for h in hits]))
        return
    if not hits:
        out.print("no article matches")
        return
    table = Table("slug", "title", "excerpt")
    for hit in hits:
        table.add_row(hit.slug, hit.title, hit.excerpt)
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the `bundle` and `knowledge` command groups to the Flowdesk CLI."""
    bundle_app = typer.Typer(help="Experience bundles.", no_args_is_help=True)
    bundle_app.command("validate")(validate_command)
    app.add_typer(bundle_app, name="bundle")
    knowledge_app = typer.Typer(help="The knowledge base.", no_args_is_help=True)
    knowledge_app.command("search")(search_command)
    app.add_typer(knowledge_app, name="knowledge")
