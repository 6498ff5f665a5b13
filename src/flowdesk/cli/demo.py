"""The demo company (demo/ in the source tree): loaded into an empty store by `flowdesk serve`.

Loading deploys every experience bundle of demo/ and creates the demo users from
demo/company.yaml (agents with their department as group, supervisors, an administrator), so a
newcomer can log in right away. History (`flowdesk demo seed`) comes with the seeding work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from flowdesk.auth import service as auth
from flowdesk.core.clock import SystemClock
from flowdesk.core.errors import ConflictError
from flowdesk.store import Store

#: The password of every demo account; printed at start so people can log in.
DEMO_PASSWORD = "flowdesk-demo"


def default_demo_dir() -> Path:
    # src/flowdesk/cli/demo.py -> repository root / demo
    return Path(__file__).resolve().parents[3] / "demo"


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
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    store.upgrade()
    for line in load_demo_content(store, demo_dir):
        typer.echo(line)


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
        f"demo history: {report.customers} customers, {report.cases} cases "
        f"({report.completed_cases} closed, {report.open_work} work items open), "
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
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    store.upgrade()
    for line in load_demo_content(store, demo_dir):
        typer.echo(line)
    for line in seed_if_empty(
        store, demo_dir, days=days, seed=seed, customers=customers, cases_per_day=cases_per_day
    ):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")
