"""The contacts CLI through typer's CliRunner on an app with only these commands."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import typer
from typer.testing import CliRunner

from flowdesk.cli.contacts import register
from flowdesk.contacts.intake import Intake
from flowdesk.store import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "contacts"

app = typer.Typer()
register(app)
runner = CliRunner()


def test_reasons_train_then_evaluate(sqlite_url: str) -> None:
    trained = runner.invoke(
        app, ["reasons", "train", str(DATA / "reasons.csv"), "--database-url", sqlite_url]
    )
    assert trained.exit_code == 0, trained.output
    assert "reason model v1: 8 reasons, 360 examples" in trained.output
    assert "held-out accuracy" in trained.output and "macro-F1" in trained.output
    evaluated = runner.invoke(
        app,
        ["reasons", "evaluate", str(DATA / "reasons_holdout.csv"), "--database-url", sqlite_url],
    )
    assert evaluated.exit_code == 0 and "40 examples: accuracy" in evaluated.output


def test_reasons_errors_exit_2(sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["reasons", "train", str(bad), "--database-url", sqlite_url])
    assert result.exit_code == 2 and "columns text and reason" in result.output
    none = runner.invoke(
        app, ["reasons", "evaluate", str(DATA / "reasons.csv"), "--database-url", sqlite_url]
    )
    assert none.exit_code == 2 and "no reason model" in none.output


def test_contacts_replay_and_dead_letters(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    store.upgrade()
    failed = Intake(store).submit("chat", b"{oops")
    store.close()
    listed = runner.invoke(app, ["contacts", "dead-letters", "--database-url", sqlite_url])
    assert failed.contact_id in listed.output and "1 dead letters" in listed.output
    replayed = runner.invoke(app, ["contacts", "replay", "--database-url", sqlite_url])
    assert replayed.exit_code == 1
    assert "replayed 1 contacts, 1 still failing" in replayed.output
    assert "malformed JSON" in replayed.output


def test_smtp_serve_accepts_mail_into_contacts(sqlite_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results: dict[str, object] = {}

    def serve() -> None:
        results["run"] = runner.invoke(
            app,
            ["smtp", "serve", "--port", str(port), "--seconds", "4", "--database-url", sqlite_url],
        )

    thread = threading.Thread(target=serve)
    thread.start()
    message = EmailMessage()
    message["From"] = "ann@example.com"
    message["To"] = "service@example.com"
    message["Subject"] = "hello"
    message.set_content("just saying hello")
    for _ in range(50):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                smtp.send_message(message)
            break
        except ConnectionRefusedError:
            time.sleep(0.1)
    thread.join(timeout=30)
    run = results["run"]
    assert getattr(run, "exit_code", None) == 0, getattr(run, "output", run)
    assert "stopped after 1 messages" in getattr(run, "output", "")
    store = Store.open(sqlite_url)
    try:
        [contact] = Intake(store).triage_queue()  # no flows deployed: a person decides
        assert contact.channel == "email" and contact.sender == "ann@example.com"
    finally:
        store.close()
