"""Reading customer files (CSV, JSON, JSON Lines) and importing them with a progress bar.

The whole file is read and checked before the one unit of work that writes it commits, so an
import either takes every row or none. Problems in the file itself (not UTF-8, broken JSON, a
CSV row with more cells than the header) are reported like row errors, with the line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.ids import IdGenerator
from flowdesk.customers.bulk import ImportResult, SourceRow, import_rows
from flowdesk.customers.bulk import Progress as ProgressCallback
from flowdesk.customers.errors import ImportRejectedError, RowError
from flowdesk.store import Store

Format = Literal["csv", "json", "jsonl"]

#: Files larger than this are refused before reading (split them).
MAX_BYTES = 256 * 1024 * 1024


def detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    return "csv"


def _reject(
    source: str, message: str, line: int | None = None, row: int = 0
) -> ImportRejectedError:
    return ImportRejectedError(source, [RowError(row, None, message, line=line)])


def read_csv(text: str, source: str) -> tuple[list[str], list[SourceRow]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise _reject(source, "the file is empty", line=1) from None
    rows: list[SourceRow] = []
    line = reader.line_num + 1
    number = 0
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            number += 1
            if len(cells) > len(headers):
                raise ImportRejectedError(
                    source,
                    [
                        RowError(
                            number,
                            None,
                            f"has {len(cells)} cells but the header has {len(headers)}",
                            line=start,
                        )
                    ],
                )
            rows.append(SourceRow(number, dict(zip(headers, cells, strict=False)), line=start))
    except csv.Error as exc:
        raise _reject(source, f"is not valid CSV: {exc}", line=reader.line_num) from None
    return headers, rows


def _objects(items: Any, source: str) -> tuple[list[str], list[SourceRow]]:
    if isinstance(items, dict) and isinstance(items.get("customers"), list):
        items = items["customers"]
    if not isinstance(items, list):
        raise _reject(source, 'must be a JSON array of objects (or {"customers": [...]})')
    headers: dict[str, None] = {}
    rows = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise _reject(source, "is not a JSON object", row=number)
        headers.update(dict.fromkeys(item))
        rows.append(SourceRow(number, item))
    return list(headers), rows


def read_json(text: str, source: str) -> tuple[list[str], list[SourceRow]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _reject(source, f"is not valid JSON: {exc.msg}", line=exc.lineno) from None
    return _objects(data, source)


def read_jsonl(text: str, source: str) -> tuple[list[str], list[SourceRow]]:
    items = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _reject(source, f"is not valid JSON: {exc.msg}", line=line_no) from None
    return _objects(items, source)


def read_file(path: Path, fmt: Format | None = None) -> tuple[list[str], list[SourceRow]]:
    """Headers and rows of a customer file; raises ImportRejectedError for unreadable files."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise _reject(source, f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; split it")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _reject(source, f"is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise _reject(source, f"cannot be read: {exc.strerror}") from None
    match fmt or detect_format(path):
        case "csv":
            return read_csv(text, source)
        case "json":
            return read_json(text, source)
        case "jsonl":
            return read_jsonl(text, source)


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[ProgressCallback]:
    """A rich progress bar fed by the importer's (stage, done, total) callback."""
    progress = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done)

    with progress:
        yield update


def import_file(
    *,
    store: Store,
    path: Path,
    fmt: Format | None = None,
    clock: Clock | None = None,
    default_region: str | None = None,
    ids: IdGenerator | None = None,
    actor: str | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> ImportResult:
    """Import every customer in the file, or none (ImportRejectedError lists the bad rows)."""
    headers, rows = read_file(path, fmt)
    if not rows:
        raise _reject(str(path), "has no customers")
    with store.unit_of_work() as uow:
        if not show_progress:
            return import_rows(
                uow=uow,
                clock=clock or SystemClock(),
                rows=rows,
                source=path.name,
                headers=headers,
                default_region=default_region,
                ids=ids,
                actor=actor,
            )
        with progress_bar(console) as progress:
            return import_rows(
                uow=uow,
                clock=clock or SystemClock(),
                rows=rows,
                source=path.name,
                headers=headers,
                default_region=default_region,
                ids=ids,
                actor=actor,
                progress=progress,
            )
