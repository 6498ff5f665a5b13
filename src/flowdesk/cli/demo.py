"""The demo company (package data in flowdesk/demo/company, so it ships in the wheel): loaded
into an empty store by `flowdesk serve`.

Loading deploys every experience bundle of the demo company and creates the demo users from its
company.yaml (agents with their department as group, supervisors, an administrator), so a
newcomer can log in right away. History (`flowdesk demo seed`) comes with the seeding work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flowdesk.auth import service as auth
from flowdesk.cli.waiting import wait_for_interrupt
from flowdesk.core.clock import SystemClock
from flowdesk.core.errors import ConflictError
from flowdesk.settings import Settings
from flowdesk.store import Store

if TYPE_CHECKING:
    from flowdesk.demo.backoffice import BackgroundServer
    from flowdesk.demo.outbox import DemoOutbox

#: The password of every demo account; printed at start so people can log in.
DEMO_PASSWORD = "flowdesk-demo"


def default_demo_dir() -> Path:
    """The demo company shipped inside the package (an installed wheel has it too)."""
    from flowdesk.demo import COMPANY_DIR

    return COMPANY_DIR


def load_demo_content(store: Store, demo_dir: Path | None = None) -> Iterator[str]:
    """Deploy the demo bundles and users into a store that has no processes yet."""
    from flowdesk.experience.company import load_company
    from flowdesk.experience.service import deploy_bundle
    from flowdesk.runtime.processes import ProcessRuntime

    folder = demo_dir or default_demo_dir()
    if not folder.is_dir():
        yield f"demo content: {folder} not found, nothing loaded"
        return
    runtime = ProcessRuntime(store)
    if runtime.definitions():
        yield "demo content: processes already deployed, nothing loaded"
        return
    bundles = sorted(p.parent for p in folder.glob("*/flow.yaml"))
    for bundle in bundles:
        deploy_bundle(runtime, store, bundle, actor="demo")
    yield f"demo content: deployed {len(bundles)} experience flows from {folder}"
    company = load_company(folder / "company.yaml")
    clock = SystemClock()
    created = 0
    accounts: list[tuple[str, str, list[str], list[str]]] = [
        ("admin", "Administrator", ["admin"], [])
    ]
    for agent in company.get("agents", []):
        roles = ["supervisor", "agent"] if agent.get("supervisor") else ["agent"]
        accounts.append((agent["username"], agent["name"], roles, [agent["department"]]))
    for username, name, roles, groups in accounts:
        try:
            auth.create_user(
                store,
                clock,
                username=username,
                display_name=name,
                roles=roles,
                groups=groups,
                password=DEMO_PASSWORD,
                actor="demo",
                shared_password=True,
            )
            created += 1
        except ConflictError:
            continue
    supervisor = next((a[0] for a in accounts if "supervisor" in a[2]), "-")
    agent = next((a[0] for a in accounts if a[2] == ["agent"]), "-")
    yield (
        f"demo logins ({created} users, password '{DEMO_PASSWORD}'): admin; "
        f"supervisor {supervisor}; agent {agent}"
    )


demo_app = typer.Typer(help="The demo company.", no_args_is_help=True)


@demo_app.command("load")
def load(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.")
    ] = None,
    demo_dir: Annotated[Path | None, typer.Option(help="Folder of the demo company.")] = None,
) -> None:
    """Deploy the demo flows and create the demo users (into an empty store)."""
    _demo_store(database_url, demo_dir)


def _demo_store(database_url: str | None, demo_dir: Path | None) -> Store:
    """The configured store, migrated, with the demo company loaded if it was empty."""
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    store.upgrade()
    for line in load_demo_content(store, demo_dir):
        typer.echo(line)
    company = (demo_dir or default_demo_dir()) / "company.yaml"
    if company.is_file():
        typer.echo(load_organisation_of(store, company, password=DEMO_PASSWORD))
    return store


def load_organisation_of(
    store: Store, company_file: Path | str, password: str | None = None
) -> str:
    """The company file's organisation into routing (idempotent), as one line to print."""
    from flowdesk.app.organisation import load_organisation, organisation_from

    organisation = organisation_from(company_file)
    if organisation is None:
        return "organisation: no company file"
    return load_organisation(store, SystemClock(), organisation, password=password).line()


def seed_if_empty(store: Store, demo_dir: Path | None = None, **options: Any) -> Iterator[str]:
    """Generate the demo history unless the store already has process instances."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from flowdesk.demo.seed import seed
    from flowdesk.runtime.processes import ProcessRuntime

    runtime = ProcessRuntime(store)
    if runtime.has_instances():
        yield "demo history: store has instances, nothing seeded"
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = seed(store, demo_dir or default_demo_dir(), progress=progress, **options)
    yield (
        f"demo history: {report.customers} customers, {report.contacts} contacts, "
        f"{report.cases} cases ({report.completed_cases} closed, {report.open_work} work items "
        f"open), {report.surveys_answered} of {report.surveys_sent} surveys answered, "
        f"{report.events} events in {report.seconds:.1f} s"
    )


@demo_app.command("seed")
def seed_command(
    days: Annotated[int, typer.Option(help="Days of history to generate.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same history).")] = 7,
    customers: Annotated[int, typer.Option(help="Customers to generate.")] = 10_000,
    cases_per_day: Annotated[int, typer.Option(help="Average new cases per weekday.")] = 40,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.")
    ] = None,
    demo_dir: Annotated[Path | None, typer.Option(help="Folder of the demo company.")] = None,
) -> None:
    """Load the demo company if needed, then generate its history (customers, cases, work)."""
    store = _demo_store(database_url, demo_dir)
    for line in seed_if_empty(
        store, demo_dir, days=days, seed=seed, customers=customers, cases_per_day=cases_per_day
    ):
        typer.echo(line)


def start_demo_backoffice(settings: Settings) -> tuple[Settings, BackgroundServer | None]:
    """Serve the demo back-office in a thread and point the connectors at it, unless a real
    back-office is configured (or FLOWDESK_DEMO_BACKOFFICE=false): the demo's 360 view then
    shows products and invoices through the same connector path as production. A configured
    back-office is checked here, so a bad URL stops `serve` with one line."""
    if settings.backoffice_url or settings.backoffice_systems:
        from flowdesk.customers.connectors import systems_from

        systems_from(settings)
        return settings, None
    if not settings.demo_backoffice:
        return settings, None
    from flowdesk.demo.backoffice import BackgroundServer, create_backoffice_app

    server = BackgroundServer(create_backoffice_app(), port=settings.demo_backoffice_port)
    url = server.start()
    return settings.model_copy(update={"backoffice_url": url}), server


def start_demo_outbox(settings: Settings, store: Store) -> tuple[Settings, DemoOutbox | None]:
    """Start the demo's outbox (flowdesk.demo.outbox: a local SMTP server and SMS/chat
    receivers) and point the reply and notification senders at it, unless real senders are
    configured (FLOWDESK_SMTP_HOST or FLOWDESK_NOTIFY_WEBHOOKS: then nothing is faked, not even
    a channel they leave out) or FLOWDESK_DEMO_OUTBOX=false."""
    if not settings.demo_outbox or settings.smtp_host or settings.notify_webhooks:
        return settings, None
    from flowdesk.demo.outbox import DemoOutbox, skip_history

    outbox = DemoOutbox(store, SystemClock())
    outbox.start()
    skip_history(store)
    update = {
        "smtp_host": outbox.host,
        "smtp_port": outbox.smtp_port,
        "smtp_starttls": False,
        "smtp_username": None,
        "smtp_password": None,
        "notify_webhooks": dict(outbox.webhooks),
    }
    return settings.model_copy(update=update), outbox


@demo_app.command("backoffice")
def backoffice_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free).")] = 8100,
    latency: Annotated[
        float, typer.Option(min=0.0, max=60.0, help="Seconds every answer waits.")
    ] = 0.0,
    failure_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of answers that fail with 503.")
    ] = 0.0,
    seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until ^C).")
    ] = None,
) -> None:
    """Serve the demo back-office (CRM, billing, orders) on its own; point
    FLOWDESK_BACKOFFICE_URL at it. Latency and failures show how the 360 panel degrades."""

    from flowdesk.demo.backoffice import BackgroundServer, create_backoffice_app

    app = create_backoffice_app(latency_s=latency, failure_rate=failure_rate)
    server = BackgroundServer(app, host=host, port=port)
    url = server.start()
    typer.echo(f"demo back-office on {url}: /crm, /billing and /orders /customers/<key>")
    try:
        wait_for_interrupt(seconds)
    finally:
        server.stop()


@demo_app.command("live")
def live_command(
    rate: Annotated[
        float, typer.Option(min=0.01, help="New contacts per minute, on every channel.")
    ] = 6.0,
    duration: Annotated[
        float | None, typer.Option(min=0.0, help="Stop after this many seconds (default: ^C).")
    ] = None,
    pace: Annotated[
        float,
        typer.Option(min=0.0001, max=10.0, help="Factor on the seed's queue waits and work times."),
    ] = 0.05,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: a new one).")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.")
    ] = None,
    demo_dir: Annotated[Path | None, typer.Option(help="Folder of the demo company.")] = None,
) -> None:
    """Keep the demo company busy while `flowdesk serve` runs: contacts on every channel,
    agents claiming and completing work, customer replies and survey answers, on the real
    clock. Ctrl-C stops it cleanly."""
    from rich.console import Console
    from rich.live import Live

    from flowdesk.demo.live import LiveDemo, LiveStatus

    store = _demo_store(database_url, demo_dir)
    demo = LiveDemo(store, demo_dir or default_demo_dir(), rate=rate, pace=pace, seed=seed)
    console = Console(stderr=True)
    typer.echo(f"demo live: {rate:g} contacts a minute, pace {pace:g}; Ctrl-C stops")
    with Live(console=console, transient=True, auto_refresh=False) as live:

        def show(status: LiveStatus) -> None:
            live.update(status.line(), refresh=True)

        final = demo.run(duration=duration, on_status=show)
    typer.echo(final.line())
    store.close()


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")
