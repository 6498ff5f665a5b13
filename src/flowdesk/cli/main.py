"""`flowdesk`: serve, migrate, export events. Errors users can fix print one line, exit 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from flowdesk import __version__
from flowdesk.core.errors import FlowdeskError

app = typer.Typer(
    name="flowdesk",
    help="Flowdesk: customer process management (BPMN experience flows, DMN rules, one queue).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
events_app = typer.Typer(help="The event log.", no_args_is_help=True)
users_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")


def _register_domain_commands() -> None:
    """Commands that live with their domain (each module exposes `register(app)`)."""
    from flowdesk.cli import (
        archive,
        contacts,
        customers,
        decide,
        demo,
        experience,
        kpis,
        mine,
        patterns,
        service,
        simulate,
    )

    for module in (
        decide,
        customers,
        experience,
        demo,
        mine,
        kpis,
        contacts,
        service,
        patterns,
        simulate,
        archive,
    ):
        module.register(app)


_register_domain_commands()

err = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flowdesk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """Flowdesk command line."""


def _open_store(database_url: str | None) -> Any:
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    return settings, open_store(settings)


def _load_handlers() -> None:
    """Service-task handlers installed as `flowdesk.handlers` entry points: loaded at start so a
    broken one stops the command with its name, and logged so operators see what runs."""
    from flowdesk.logs import get_logger
    from flowdesk.runtime.handlers import GROUP, reload_handlers

    handlers = reload_handlers()
    get_logger("flowdesk.handlers").info(
        "service-task handlers loaded", group=GROUP, handlers=sorted(handlers)
    )


DbUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.", show_default=False),
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    database_url: DbUrl = None,
    demo: Annotated[bool, typer.Option(help="Load the demo company if the store is empty.")] = True,
    seed_days: Annotated[
        int, typer.Option(help="Generate this many days of demo history if there is none.")
    ] = 0,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes sharing the port (SQLite in WAL mode and PostgreSQL both "
            "take several); the embedded worker rounds still run once, in this process.",
        ),
    ] = 1,
) -> None:
    """Migrate the database, load the demo content and serve the API and web UI."""
    import uvicorn

    from flowdesk.api.app import create_app
    from flowdesk.cli.demo import default_demo_dir, load_demo_content, start_demo_backoffice
    from flowdesk.logs import configure_logging

    settings, store = _open_store(database_url)
    configure_logging(settings.log_level, json=settings.log_json)
    _load_handlers()
    store.upgrade()
    if demo and settings.load_demo:
        for line in load_demo_content(store):
            err.print(line)
        settings, backoffice = start_demo_backoffice(settings)
        if backoffice is not None:
            err.print(f"demo back-office (CRM, billing, orders for the 360 view): {backoffice.url}")
        company = default_demo_dir() / "company.yaml"
        if settings.company_file is None and company.is_file():
            # The dashboards measure the demo against the demo company's targets.
            settings = settings.model_copy(update={"company_file": str(company)})
        if seed_days > 0:
            from flowdesk.cli.demo import seed_if_empty

            for line in seed_if_empty(store, days=seed_days):
                err.print(line)
    if settings.company_file:
        from flowdesk.cli.demo import load_organisation_of

        err.print(load_organisation_of(store, settings.company_file))
    host = host or settings.host
    port = port or settings.port
    if demo and settings.load_demo:  # after the seed: its history is not announced
        from flowdesk.cli.demo import start_demo_outbox

        settings, outbox = start_demo_outbox(settings, store)
        if outbox is not None:
            receivers = outbox.webhooks["sms"].rpartition("/")[0]
            err.print(
                f"demo outbox (replies and notifications to customers, listed on /outbox): "
                f"SMTP 127.0.0.1:{outbox.smtp_port}, SMS/chat {receivers}"
            )
    if settings.embedded_worker:
        from flowdesk.cli.rounds import WorkerRounds, start_in_background

        start_in_background(WorkerRounds(store, settings, name=f"serve:{port}"))
        err.print("embedded worker: timers, routing, case closing, surveys and notifications")
    url = f"http://{host}:{port}"
    err.print(f"Flowdesk {__version__} on {store.dialect}: [bold]{url}[/]  (health: {url}/health)")
    if workers > 1:
        _serve_workers(settings, host=host, port=port, workers=workers)
        return
    application = create_app(settings, store)
    # X-Forwarded-* only from FLOWDESK_TRUSTED_PROXIES, in the app (flowdesk.api.app)
    uvicorn.run(
        application, host=host, port=port, log_level=settings.log_level, proxy_headers=False
    )


def _serve_workers(settings: Any, *, host: str, port: int, workers: int) -> None:
    """Several server processes (`cli/serving.py`), each building its app from the
    environment (`flowdesk.api.app:app_from_environment`), so this process puts there what it
    decided: the database and the demo's company file and back-office. What must happen once
    stays here: the migration, the demo load and the embedded worker rounds (started above).
    Each worker runs webhook delivery, which is safe: a delivery row is inserted once per
    (subscription, event) and sent under a lease."""
    import json
    import os

    from flowdesk.cli.serving import serve_workers

    os.environ["FLOWDESK_DATABASE_URL"] = settings.database_url
    for name in ("company_file", "backoffice_url", "smtp_host", "smtp_port"):
        value = getattr(settings, name)
        if value is not None:
            os.environ[f"FLOWDESK_{name.upper()}"] = str(value)
    if settings.notify_webhooks:  # the demo outbox's receivers, or the configured ones
        os.environ["FLOWDESK_NOTIFY_WEBHOOKS"] = json.dumps(settings.notify_webhooks)
    serve_workers(host, port, workers, settings.log_level)


@app.command()
def worker(
    database_url: DbUrl = None,
    worker_id: Annotated[
        str | None, typer.Option("--id", help="Worker name (default host:pid)")
    ] = None,
    batch: Annotated[int, typer.Option(help="Jobs acquired per poll.")] = 50,
    poll: Annotated[float, typer.Option(help="Seconds to sleep when nothing is due.")] = 1.0,
    pause: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds between two rounds that found work: what arrives meanwhile is "
            "handled as one batch (routing costs less per item), at the price of that much "
            "latency; 0 runs rounds back to back.",
        ),
    ] = 0.25,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit when no job is due (batch runs, tests).")
    ] = False,
    routing: Annotated[
        bool,
        typer.Option(help="Also run the routing round: queue new work, expire offers, escalate."),
    ] = True,
    notify: Annotated[
        bool,
        typer.Option(help="Also send case updates and due quiet-hours notifications (SMTP)."),
    ] = True,
) -> None:
    """Run due timers and async continuations. Start several (on PostgreSQL they take
    disjoint jobs with SKIP LOCKED); no instance state is kept between jobs."""
    import os
    import socket
    import time

    from flowdesk.cli.rounds import WorkerRounds
    from flowdesk.logs import configure_logging, get_logger

    settings, store = _open_store(database_url)
    configure_logging(settings.log_level, json=settings.log_json)
    _load_handlers()
    log = get_logger("flowdesk.worker")
    name = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    rounds = WorkerRounds(store, settings, name=name, batch=batch, routing=routing, notify=notify)
    log.info("worker started", worker=name, database=store.dialect, notify=rounds.notifying)
    if not until_idle:
        rounds.watch_mail()  # IMAP mailboxes in their own threads (one poll per round otherwise)
        rounds.start_situations()  # event patterns: a commit reaches its action in milliseconds
    try:
        while True:
            if rounds.tick() == 0:
                if until_idle:
                    break
                time.sleep(poll)
            elif pause and not until_idle:
                time.sleep(pause)
    except KeyboardInterrupt:
        pass
    log.info("worker stopped", worker=name, jobs=rounds.jobs)
    typer.echo(f"{name} ran {rounds.jobs} jobs")


@db_app.command("upgrade")
def db_upgrade(database_url: DbUrl = None) -> None:
    """Apply every pending schema migration."""
    from flowdesk.store import migrate

    _, store = _open_store(database_url)
    before = ", ".join(migrate.current_revisions(store.engine)) or "empty"
    store.upgrade()
    after = ", ".join(migrate.current_revisions(store.engine))
    typer.echo(f"database at revision {after} (was {before})")


@events_app.command("export")
def events_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
    after: Annotated[int, typer.Option(help="Only events with a sequence above this.")] = 0,
    batch: Annotated[
        bool, typer.Option("--batch", help="One CloudEvents JSON batch (array), not JSON lines.")
    ] = False,
    database_url: DbUrl = None,
) -> None:
    """Export the event log as CloudEvents 1.0 JSON (JSON lines, or a batch with --batch)."""
    import json

    from flowdesk.core.cloudevents import to_cloudevent
    from flowdesk.core.jsonutil import json_default

    _, store = _open_store(database_url)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        if batch:
            out.write("[")
        for event in store.events.iterate(after):
            if batch and count:
                out.write(",")
            out.write(json.dumps(to_cloudevent(event), default=json_default))
            if not batch:
                out.write("\n")
            count += 1
        if batch:
            out.write("]\n")
    finally:
        if output:
            out.close()
    if output:
        err.print(f"wrote {count} events to {output}")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name, e.g. ana.agent")],
    role: Annotated[
        list[str], typer.Option("--role", "-r", help="admin, supervisor, agent or integration")
    ],
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Department / candidate group")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password for web login (prompted when --prompt-password is given)",
            envvar="FLOWDESK_NEW_USER_PASSWORD",
        ),
    ] = None,
    prompt_password: Annotated[bool, typer.Option(help="Ask for the password")] = False,
    database_url: DbUrl = None,
) -> None:
    """Create a user with roles and groups."""
    from flowdesk.auth import service
    from flowdesk.core.clock import SystemClock

    if prompt_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _, store = _open_store(database_url)
    store.upgrade()
    user = service.create_user(
        store,
        SystemClock(),
        username=username,
        roles=role,
        groups=group or [],
        display_name=name,
        email=email,
        password=password,
        actor="cli",
    )
    typer.echo(f"created user {user.username} ({', '.join(user.roles)}) id {user.user_id}")


@users_app.command("list")
def users_list(database_url: DbUrl = None) -> None:
    """List users with their roles and groups."""
    from rich.table import Table

    from flowdesk.auth import service

    _, store = _open_store(database_url)
    table = Table("username", "name", "roles", "groups")
    for user in service.list_users(store):
        table.add_row(
            user.username, user.display_name, ", ".join(user.roles), ", ".join(user.groups)
        )
    Console().print(table)


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option("--user", "-u", help="Owner of the key")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. crm-worker")] = "cli",
    database_url: DbUrl = None,
) -> None:
    """Create an API key; it is printed once on stdout, only its hash is stored."""
    from flowdesk.auth import service
    from flowdesk.core.clock import SystemClock

    _, store = _open_store(database_url)
    key_id, key = service.create_api_key(
        store, SystemClock(), username=user, name=name, actor="cli"
    )
    err.print(f"API key {key_id} for {user} (shown once, store it now):")
    typer.echo(key)


def main() -> None:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        app()
    except FlowdeskError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        sys.exit(2)
    except (ValidationError, SettingsError) as exc:
        # A FLOWDESK_* variable that does not parse: one line naming it, not a traceback.
        err.print(f"[bold red]error:[/] {escape(settings_problem(exc))}", markup=True)
        sys.exit(2)


def settings_problem(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        name = "FLOWDESK_" + "_".join(str(p) for p in first["loc"][:1]).upper()
        return f"setting {name}: {first['msg']} (got {first.get('input')!r})"
    return f"settings: {exc}"


if __name__ == "__main__":
    main()
