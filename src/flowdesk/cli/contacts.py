"""`flowdesk reasons train|evaluate FILE.csv`, `flowdesk contacts replay|dead-letters` and
`flowdesk smtp serve` (the inbound SMTP server). The lead wires them in with `register(app)`.

Problems the user can fix (a bad CSV, no model yet) print one line on stderr and exit with 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from flowdesk.cli.waiting import wait_for_interrupt
from flowdesk.core.errors import FlowdeskError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides FLOWDESK_DATABASE_URL.", show_default=False),
]


def _store(database_url: str | None) -> Any:
    from flowdesk.runtime.bootstrap import open_store
    from flowdesk.settings import Settings

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    store = open_store(settings)
    store.upgrade()
    return store


def _fail(exc: FlowdeskError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
    return typer.Exit(2)


def train_command(
    file: Annotated[Path, typer.Argument(help="CSV with the columns text and reason.")],
    database_url: DbUrl = None,
) -> None:
    """Train a new reason model version, activate it, and report held-out scores."""
    from flowdesk.contacts import classifier
    from flowdesk.core.clock import SystemClock

    store = _store(database_url)
    try:
        rows = classifier.read_examples(file)
        model = classifier.train(store, SystemClock(), rows, actor="cli")
    except FlowdeskError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    scores = model.held_out
    out.print(
        f"reason model v{model.version}: {len(scores.labels)} reasons, {len(rows)} examples "
        f"({model.train_examples} trained, {scores.examples} held out) in {model.seconds:.1f} s"
    )
    out.print(f"held-out accuracy {scores.accuracy:.4f}  macro-F1 {scores.macro_f1:.4f}")


def evaluate_command(
    file: Annotated[Path, typer.Argument(help="CSV with the columns text and reason.")],
    database_url: DbUrl = None,
) -> None:
    """Accuracy and macro-F1 of the active reason model on a labelled file."""
    from flowdesk.contacts import classifier

    store = _store(database_url)
    try:
        scores = classifier.evaluate(store, classifier.read_examples(file))
    except FlowdeskError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    out.print(
        f"{scores.examples} examples: accuracy {scores.accuracy:.4f}  "
        f"macro-F1 {scores.macro_f1:.4f}"
    )


def replay_command(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Contact ids; all dead letters if none.")
    ] = None,
    database_url: DbUrl = None,
) -> None:
    """Process dead-lettered contacts again."""
    from flowdesk.contacts.intake import Intake

    store = _store(database_url)
    try:
        results = Intake(store).replay(ids or None)
    except FlowdeskError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    for result in results:
        detail = result.error or result.case_reference or ""
        out.print(f"{result.contact_id}  {result.action}  {escape(detail)}")
    failed = sum(1 for r in results if r.status == "failed")
    out.print(f"replayed {len(results)} contacts, {failed} still failing")
    if failed:
        raise typer.Exit(1)


def dead_letters_command(database_url: DbUrl = None) -> None:
    """List contacts whose processing failed, with the reason."""
    from flowdesk.contacts.intake import Intake

    store = _store(database_url)
    try:
        letters = Intake(store).dead_letters(limit=1000)
    finally:
        store.close()
    for contact in letters:
        out.print(
            f"{contact.id}  {contact.channel}  {contact.received_at:%Y-%m-%d %H:%M}  "
            f"{escape(contact.error or '')}"
        )
    out.print(f"{len(letters)} dead letters")


def smtp_serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
    domain: Annotated[
        list[str] | None, typer.Option("--domain", help="Accepted recipient domain (repeatable).")
    ] = None,
    reply_host: Annotated[
        str | None, typer.Option(help="SMTP server for replies (none: no replies).")
    ] = None,
    reply_port: Annotated[int, typer.Option(help="Port of the reply SMTP server.")] = 25,
    reply_from: Annotated[str, typer.Option(help="From address of replies.")] = (
        "service@flowdesk.invalid"
    ),
    region: Annotated[
        str | None, typer.Option(help="Country of phone numbers without +prefix.")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until ^C).")
    ] = None,
    database_url: DbUrl = None,
) -> None:
    """Run the inbound SMTP server: every accepted email becomes a contact."""
    from flowdesk.channels.outbound import Sender, SmtpSender
    from flowdesk.channels.smtp_server import smtp_controller
    from flowdesk.contacts.intake import Intake

    store = _store(database_url)
    senders: dict[str, Sender] = {}
    if reply_host:
        senders["email"] = SmtpSender(reply_host, reply_port, from_address=reply_from)
    from flowdesk.contacts.follow_ups import FollowUpPolicy
    from flowdesk.settings import Settings

    policy = FollowUpPolicy.from_file(Settings().company_file)
    intake = Intake(store, senders=senders, default_region=region, follow_ups=policy)
    controller = smtp_controller(intake, host=host, port=port, domains=domain)
    controller.start()
    out.print(f"flowdesk smtp: listening on {host}:{port}")
    try:
        wait_for_interrupt(seconds)
    finally:
        controller.stop()
        store.close()
    out.print(f"flowdesk smtp: stopped after {len(controller.handler.results)} messages")


def register(app: typer.Typer) -> None:
    """Add the `reasons`, `contacts` and `smtp` command groups to the Flowdesk CLI."""
    reasons_app = typer.Typer(help="Contact-reason recognition models.", no_args_is_help=True)
    reasons_app.command("train")(train_command)
    reasons_app.command("evaluate")(evaluate_command)
    app.add_typer(reasons_app, name="reasons")
    contacts_app = typer.Typer(help="Contacts from every channel.", no_args_is_help=True)
    contacts_app.command("replay")(replay_command)
    contacts_app.command("dead-letters")(dead_letters_command)
    app.add_typer(contacts_app, name="contacts")
    smtp_app = typer.Typer(help="Email intake.", no_args_is_help=True)
    smtp_app.command("serve")(smtp_serve_command)
    app.add_typer(smtp_app, name="smtp")
