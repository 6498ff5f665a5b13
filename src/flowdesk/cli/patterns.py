"""`flowdesk patterns test RULES.yaml EVENTS.jsonl`: replay events through rules, print the
situations - for rule authors, before a bundle is deployed. No database is needed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from flowdesk.core.errors import FlowdeskError

patterns_app = typer.Typer(help="Event patterns (situations).", no_args_is_help=True)


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


@patterns_app.command("test")
def test(
    rules: Annotated[Path, typer.Argument(help="A rules file (patterns: [...]).", exists=True)],
    events: Annotated[
        Path, typer.Argument(help="JSON lines: one CloudEvent (type, time, data) a line.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a change.")] = False,
) -> None:
    """Replay EVENTS through RULES; print each situation raised, updated or cleared, then the
    ones still active when the events end."""
    from flowdesk.app.situations import replay_patterns
    from flowdesk.cli.main import fail

    try:
        replay = replay_patterns(
            rules.name, rules.read_text(encoding="utf-8"), events.read_text(encoding="utf-8")
        )
    except FlowdeskError as exc:
        raise fail(str(exc).replace(f"{rules.name}:", f"{rules}:")) from None
    except OSError as exc:
        raise fail(f"{events}: {exc.strerror}") from None
    for change in replay.changes:
        s = change.situation
        when = float(s["cleared_at"] if change.kind == "cleared" else s["updated_at"])
        if as_json:
            typer.echo(json.dumps({"change": change.kind, **s}, default=str, sort_keys=True))
        else:
            value = "" if s.get("value") is None else f" value={s['value']:g}"
            typer.echo(
                f"{_when(when)}  {change.kind:<8} {s['rule']}  key={s['key']}  "
                f"{s.get('title', '')!s}  count={s['count']}{value}"
            )
    if not as_json:
        typer.echo(
            f"{replay.events} events, {len(replay.changes)} changes, "
            f"{len(replay.active)} situations active at the end"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(patterns_app, name="patterns")
