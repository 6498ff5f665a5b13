"""`flowdesk bundle validate|deploy|versions|diff|rollback` and `flowdesk knowledge search TEXT`.

The lead wires this in with `register(app)`. A bundle with problems prints one line per problem
(file:line:column: field: message) on stderr and exits with status 2, so editors and CI can
jump to each one. Deploy, versions, diff and rollback run the app layer's use cases on the local
store (FLOWDESK_DATABASE_URL or --database-url) as a local administrator named `cli`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flowdesk.core.errors import FlowdeskError

T = TypeVar("T")

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


def _ops(database_url: str | None) -> Any:
    from flowdesk.app.context import Ops
    from flowdesk.core.clock import SystemClock
    from flowdesk.runtime.processes import ProcessRuntime

    store = _store(database_url)
    clock = SystemClock()
    return Ops(store=store, clock=clock, runtime=ProcessRuntime(store, clock=clock))


def _cli_caller() -> Any:
    """Whoever runs the command line on the server holds the database: an administrator."""
    from flowdesk.auth.roles import permissions_of
    from flowdesk.auth.service import Principal

    roles = ("admin",)
    return Principal("cli", "cli", "command line", roles, (), permissions_of(roles))


def _fail(exc: FlowdeskError) -> typer.Exit:
    """Print the problem (every issue of a bundle with its place) and what to do; exit 2."""
    from flowdesk.experience.errors import BundleError

    if isinstance(exc, BundleError):
        count = len(exc.issues)
        err.print(f"[bold red]invalid:[/] {count} problem{'s' if count != 1 else ''}")
        for issue in exc.issues:
            err.print(escape(issue.describe()), markup=True)
        if exc.hint:
            err.print(f"hint: {escape(exc.hint)}", markup=True)
    else:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
    return typer.Exit(2)


def _show_version(item: Any, created: bool | None = None) -> str:
    label = f" ({item.label})" if item.label else ""
    same = f", same files as version {item.same_as}" if item.same_as else ""
    state = "" if created is None else (" deployed" if created else " unchanged, nothing written")
    return (
        f"{item.name} version {item.number}{label}{state}: process {item.process_key} "
        f"({', '.join(item.definitions) or '-'}){same}"
    )


def _run(database_url: str | None, use_case: Callable[[Any, Any], T]) -> T:
    """Run a bundle use case on the local store as the CLI's caller; a refusal is one line and
    exit 2 (no traceback)."""
    ops = _ops(database_url)
    try:
        return use_case(_cli_caller(), ops)
    except FlowdeskError as exc:
        raise _fail(exc) from None
    finally:
        ops.store.close()


def deploy_command(
    path: Annotated[Path, typer.Argument(help="Bundle folder, its flow.yaml, or a .zip file.")],
    as_json: AsJson = False,
    database_url: DbUrl = None,
) -> None:
    """Validate and deploy a bundle; its contact reasons start its flow from now on."""
    from flowdesk.app import bundles

    outcome = _run(database_url, lambda caller, ops: bundles.deploy(caller, ops, path))
    if as_json:
        out.print_json(json.dumps(outcome.to_dict()))
        return
    out.print(escape(_show_version(outcome.version, outcome.created)))
    if outcome.deployment is not None:
        out.print(f"reasons: {escape(', '.join(outcome.deployment.reasons))}")


def versions_command(
    flow: Annotated[str, typer.Argument(help="The bundle name (flow.yaml's `name`).")],
    as_json: AsJson = False,
    database_url: DbUrl = None,
) -> None:
    """The deployed versions of a flow, oldest first; the current one is marked."""
    from flowdesk.app import bundles

    found = _run(database_url, lambda caller, ops: bundles.versions(caller, ops, flow))
    if as_json:
        out.print_json(json.dumps([v.to_dict() for v in found]))
        return
    table = Table("version", "label", "deployed", "by", "definitions", "current")
    for v in found:
        same = f" = {v.same_as}" if v.same_as else ""
        table.add_row(
            f"{v.number}{same}",
            v.label or "",
            v.deployed_at.isoformat(timespec="seconds"),
            v.actor or "",
            ", ".join(v.definitions),
            "*" if v.current else "",
        )
    out.print(table)


def diff_command(
    flow: Annotated[str, typer.Argument(help="The bundle name.")],
    old: Annotated[int, typer.Argument(help="Version to compare from.")],
    new: Annotated[int, typer.Argument(help="Version to compare to.")],
    as_json: AsJson = False,
    database_url: DbUrl = None,
) -> None:
    """Which files differ between two versions, with a unified diff of each changed text."""
    from flowdesk.app import bundles

    found = _run(database_url, lambda caller, ops: bundles.diff(caller, ops, flow, old, new))
    if as_json:
        out.print_json(json.dumps(found.to_dict()))
        return
    if not found.files:
        out.print(f"versions {old} and {new} of {escape(flow)} have the same files")
    for change in found.files:
        out.print(f"{change.change}: {escape(change.name)}{' (binary)' if change.binary else ''}")
        if change.diff:
            out.print(escape(change.diff), end="")


def rollback_command(
    flow: Annotated[str, typer.Argument(help="The bundle name.")],
    version: Annotated[int, typer.Argument(help="The version new contacts should start.")],
    as_json: AsJson = False,
    database_url: DbUrl = None,
) -> None:
    """Deploy an earlier version again: new contacts and instances use it, running ones keep
    theirs."""
    from flowdesk.app import bundles

    outcome = _run(database_url, lambda caller, ops: bundles.rollback(caller, ops, flow, version))
    if as_json:
        out.print_json(json.dumps(outcome.to_dict()))
        return
    out.print(escape(_show_version(outcome.version, outcome.created)))


def validate_command(
    path: Annotated[Path, typer.Argument(help="Bundle folder, its flow.yaml, or a .zip file.")],
    as_json: AsJson = False,
) -> None:
    """Check a bundle as a deploy would, without deploying it."""
    from flowdesk.app.bundles import validate
    from flowdesk.experience.errors import BundleError

    try:
        bundle = validate(path)
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
    bundle_app.command("deploy")(deploy_command)
    bundle_app.command("versions")(versions_command)
    bundle_app.command("diff")(diff_command)
    bundle_app.command("rollback")(rollback_command)
    app.add_typer(bundle_app, name="bundle")
    knowledge_app = typer.Typer(help="The knowledge base.", no_args_is_help=True)
    knowledge_app.command("search")(search_command)
    app.add_typer(knowledge_app, name="knowledge")
