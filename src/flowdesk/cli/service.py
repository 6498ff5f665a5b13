"""`flowdesk deploy | start | tasks | webhooks`: work directly on the store through the
ProcessRuntime (FLOWDESK_DATABASE_URL or --database-url), as `flowdesk users add` does."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from flowdesk.core.errors import FlowdeskError

MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".dmn11.xml")
DbUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.", show_default=False),
]


class CliInputError(FlowdeskError):
    code = "invalid-input"


def _store(database_url: str | None) -> Any:
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    store.upgrade()
    return store


def _runtime(database_url: str | None) -> Any:
    from flowdesk.runtime.processes import ProcessRuntime

    return ProcessRuntime(_store(database_url))


def model_files(path: Path) -> list[tuple[str, bytes]]:
    """The BPMN/DMN files of a file, a folder (recursively) or a zip."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.name.lower().endswith(MODEL_SUFFIXES))
        files = [(str(p.relative_to(path)), p.read_bytes()) for p in found]
    elif path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
                files = [
                    (m.filename, archive.read(m))
                    for m in archive.infolist()
                    if m.filename.lower().endswith(MODEL_SUFFIXES)
                ]
        except zipfile.BadZipFile as exc:
            raise CliInputError(f"{path}: not a readable zip archive ({exc})") from None
    elif path.is_file():
        files = [(path.name, path.read_bytes())]
    else:
        raise CliInputError(f"{path}: no such file or folder")
    if not files:
        raise CliInputError(f"{path}: holds no .bpmn or .dmn file")
    return files


def _is_bundle(path: Path) -> bool:
    """A bundle folder, its flow.yaml, or a zip holding one (not loose BPMN/DMN files)."""
    from flowdesk.app.bundles import is_bundle_zip

    if path.is_dir():
        return (path / "flow.yaml").is_file()
    if path.name == "flow.yaml":
        return path.is_file()
    return path.suffix.lower() == ".zip" and path.is_file() and is_bundle_zip(path.read_bytes())


def parse_var(text: str) -> tuple[str, Any]:
    """k=v; v is read as JSON when it is JSON (42, true, "x", {...}), else as a string."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise CliInputError(f"--var {text!r} is not name=value")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def register(app: typer.Typer) -> None:
    webhooks_app = typer.Typer(help="Webhook subscriptions and delivery.", no_args_is_help=True)
    app.add_typer(webhooks_app, name="webhooks")

    @app.command()
    def deploy(
        path: Annotated[Path, typer.Argument(help="A .bpmn/.dmn file, a folder or a .zip")],
        name: Annotated[str | None, typer.Option(help="Deployment name")] = None,
        database_url: DbUrl = None,
    ) -> None:
        """Deploy BPMN and DMN models; a changed process becomes a new version. An experience
        bundle (a folder or zip with flow.yaml) deploys whole, as `flowdesk bundle deploy`."""
        if _is_bundle(path):
            from flowdesk.cli.experience import deploy_command

            deploy_command(path, as_json=False, database_url=database_url)
            return
        files = model_files(path)
        deployment = _runtime(database_url).deploy(name or path.name, files, actor="cli")
        typer.echo(f"deployment {deployment.id}: {len(files)} file(s)")
        for d in deployment.definitions:
            typer.echo(f"  {d.id}{'' if d.new else ' (unchanged)'}")
        for warning in deployment.warnings:
            typer.echo(f"  warning: {warning}")

    @app.command()
    def start(
        key: Annotated[str, typer.Argument(help="Process key (the BPMN process id)")],
        var: Annotated[
            list[str] | None, typer.Option("--var", "-v", help="name=value (value JSON or text)")
        ] = None,
        business_key: Annotated[str | None, typer.Option("--business-key")] = None,
        database_url: DbUrl = None,
    ) -> None:
        """Start an instance of the newest version of a process."""
        from flowdesk.feel.values import to_feel

        variables = {n: to_feel(v) for n, v in (parse_var(t) for t in var or [])}
        runtime = _runtime(database_url)
        state = runtime.start(key, variables, business_key=business_key, actor="cli")
        typer.echo(f"started {state.id} ({state.process}): {state.status}")
        for item in runtime.work_items(instance_id=state.id):
            typer.echo(f"  waiting on {item['element_id']} (work item {item['id']})")

    @app.command()
    def tasks(
        group: Annotated[str | None, typer.Option("--group", help="Candidate group")] = None,
        assignee: Annotated[str | None, typer.Option("--assignee")] = None,
        process: Annotated[str | None, typer.Option("--process", help="Process key")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
        database_url: DbUrl = None,
    ) -> None:
        """Open work items, highest priority first."""
        from flowdesk.core.jsonutil import dumps

        items = _runtime(database_url).work_items(
            candidate_group=group, assignee=assignee, process_key=process
        )
        if as_json:
            for item in items:
                typer.echo(dumps(item))
            return
        table = Table("id", "process", "task", "assignee", "groups", "due")
        for item in items:
            table.add_row(
                item["id"],
                item["process_key"],
                item["name"] or item["element_id"],
                item["assignee"] or "",
                ", ".join(item["candidate_groups"] or []),
                item["due_at"].isoformat() if item["due_at"] else "",
            )
        Console(width=200).print(table)

    @webhooks_app.command("add")
    def webhooks_add(
        url: Annotated[str, typer.Argument(help="Where to POST events")],
        event: Annotated[
            list[str], typer.Option("--event", "-e", help="Event type, prefix.* or *")
        ],
        secret: Annotated[str | None, typer.Option(help="Signing secret (generated)")] = None,
        database_url: DbUrl = None,
    ) -> None:
        """Subscribe a URL; the signing secret is printed once."""
        from flowdesk.core.clock import SystemClock
        from flowdesk.webhooks import subscriptions

        sub = subscriptions.create(
            _store(database_url),
            SystemClock(),
            url=url,
            event_types=event,
            secret=secret,
            actor="cli",
        )
        typer.echo(f"webhook {sub.id} -> {sub.url} ({', '.join(sub.event_types)})")
        typer.echo(f"secret: {sub.secret}")

    @webhooks_app.command("list")
    def webhooks_list(database_url: DbUrl = None) -> None:
        """Active subscriptions."""
        from flowdesk.webhooks import subscriptions

        for sub in subscriptions.active(_store(database_url)):
            typer.echo(f"{sub.id}  {sub.url}  {', '.join(sub.event_types)}")

    @webhooks_app.command("remove")
    def webhooks_remove(webhook_id: str, database_url: DbUrl = None) -> None:
        """Stop deliveries to a subscription."""
        from flowdesk.core.clock import SystemClock
        from flowdesk.webhooks import subscriptions

        subscriptions.delete(_store(database_url), SystemClock(), webhook_id, actor="cli")
        typer.echo(f"removed webhook {webhook_id}")

    @webhooks_app.command("deliver")
    def webhooks_deliver(
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between passes")] = 1.0,
        database_url: DbUrl = None,
    ) -> None:
        """Deliver pending webhook events (the server also does this in the background)."""
        import time

        from flowdesk.webhooks.delivery import Deliverer

        deliverer = Deliverer(_store(database_url))
        try:
            while True:
                report = deliverer.deliver_once()
                typer.echo(
                    f"enqueued {report.enqueued}, delivered {report.delivered}, "
                    f"retrying {report.retried}, failed {report.failed}"
                )
                if once:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        finally:
            deliverer.close()
