"""XES import (IEEE 1849-2016): plain or gzip files, streamed, parsed safely.

XES files from other systems are user input and can be hundreds of megabytes, so the file is
streamed through lxml.etree.iterparse, which reports each finished <trace>; its events become
table rows and the trace is dropped (memory holds the table, not the tree). Entity resolution,
DTD loading and the network are off, and any DOCTYPE or ENTITY declaration is refused before
parsing starts (XXE and entity bombs); every failure is a ModelError naming the file and line.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

import polars as pl
from lxml import etree

from flowdesk.analytics.log import (
    ACTIVITY,
    CASE,
    CORE_COLUMNS,
    DEPARTMENT,
    LIFECYCLE,
    ORDER,
    RESOURCE,
    TIME_DTYPE,
    TIMESTAMP,
    EventLog,
)
from flowdesk.core.errors import ModelError, Position

CHUNK = 1 << 20
#: Events collected before a batch is turned into columns.
BATCH_EVENTS = 100_000
#: The prolog (before the root element) is searched for DOCTYPE within this many bytes.
MAX_PROLOG = 1 << 20

#: XES standard extension keys that map to the core columns of the event table.
KEY_TO_COLUMN = {
    "concept:name": ACTIVITY,
    "time:timestamp": TIMESTAMP,
    "lifecycle:transition": LIFECYCLE,
    "org:resource": RESOURCE,
    "org:group": DEPARTMENT,
}
COLUMN_TO_KEY = {column: key for key, column in KEY_TO_COLUMN.items()}
_SIMPLE_TYPES = frozenset({"string", "date", "int", "float", "boolean", "id"})


def read_xes(source: str | Path | bytes | IO[bytes], *, filename: str | None = None) -> EventLog:
    """Read an XES log (plain or gzip, detected from the content) into an EventLog."""
    if isinstance(source, bytes):
        return _read(io.BytesIO(source), filename or "<bytes>")
    if isinstance(source, str | Path):
        path = Path(source)
        name = filename or str(path)
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise ModelError(
                f"cannot read file: {exc.strerror}", position=Position(file=name)
            ) from exc
        with handle:
            return _read(handle, name)
    return _read(source, filename or "<stream>")


def _read(raw: IO[bytes], name: str) -> EventLog:
    head = raw.read(2)
    read: Callable[[int], bytes] = _Prefixed(head, raw).read
    zipped = head == b"\x1f\x8b"
    if zipped:
        read = gzip.GzipFile(fileobj=_Prefixed(head, raw), mode="rb").read
    try:
        return _Reader(name).read(_chunks(read, name))
    except (OSError, EOFError, zlib.error) as exc:
        what = "decompress" if zipped else "read"
        raise ModelError(f"cannot {what}: {exc}", position=Position(file=name)) from exc


class _Prefixed(io.RawIOBase):
    """A stream that first returns `head` (bytes already read to sniff gzip), then `rest`."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
            if size < 0:
                return data + self._rest.read()
            return data + self._rest.read(max(size - len(data), 0))
        return self._rest.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _chunks(read: Callable[[int], bytes], name: str) -> Iterator[bytes]:
    """The file in chunks, after checking that its prolog declares no DOCTYPE or ENTITY."""
    prolog = b""
    while True:
        chunk = read(CHUNK)
        if not chunk:
            _check_prolog(prolog, name, complete=True)
            if prolog:
                yield prolog
            return
        prolog += chunk
        if _check_prolog(prolog, name, complete=False):
            break
        if len(prolog) > MAX_PROLOG:
            raise ModelError(
                "no root element found in the first megabyte", position=Position(file=name)
            )
    yield prolog
    while chunk := read(CHUNK):
        yield chunk


def _check_prolog(data: bytes, name: str, *, complete: bool) -> bool:
    """True once the root element's start is in `data`; raises on DOCTYPE/ENTITY before it."""
    if b"\x00" in data[:4]:
        raise ModelError(
            "XES files must be UTF-8 (or another ASCII-compatible encoding)",
            position=Position(file=name, line=1),
            hint="UTF-16 and UTF-32 are not supported; convert the file to UTF-8",
        )
    position = 0
    while True:
        start = data.find(b"<", position)
        if start == -1 or start + 1 >= len(data):
            return False
        following = data[start + 1 : start + 2]
        if following == b"?":
            end = data.find(b"?>", start)
        elif data.startswith(b"<!--", start):
            end = data.find(b"-->", start)
        elif following == b"!":
            if not complete and len(data) - start < 9:
                return False
            line = data[:start].count(b"\n") + 1
            raise ModelError(
                "DOCTYPE and ENTITY declarations are not allowed in XES files",
                position=Position(file=name, line=line),
                hint="remove the DOCTYPE; XES never needs one",
            )
        else:
            return True
        if end == -1:
            return False
        position = end + 2


class _ChunkStream(io.RawIOBase):
    """The checked chunks as a readable stream, for lxml's iterparse."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self._buffer:
            self._buffer = next(self._chunks, b"")
        if size < 0 or size >= len(self._buffer):
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class _Reader:
    """Streams finished `<trace>` elements, keeps their attributes, then drops them.

    iterparse reports only trace ends (one Python step per trace, not per element);
    events are read from the finished trace, collected in row batches and turned into Polars
    columns batch by batch, so memory holds the table, not the XML tree.
    """

    def __init__(self, name: str):
        self.name = name
        self.frames: list[pl.DataFrame] = []
        self.rows: list[dict[str, str]] = []
        self.lines: list[int] = []
        self.case_of_row: list[str] = []
        self.types: dict[str, str] = {}
        self.trace_rows: list[dict[str, str]] = []
        self.trace_types: dict[str, str] = {}
        self.kinds: dict[Any, str | None] = {}

    def _kind(self, tag: Any) -> str | None:
        """The XES attribute type of a tag (`string`, `date` ...), 'event', or None."""
        if tag in self.kinds:
            return self.kinds[tag]
        local = tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
        kind = local if local in _SIMPLE_TYPES or local in ("event", "log", "trace") else None
        self.kinds[tag] = kind
        return kind

    def read(self, chunks: Iterator[bytes]) -> EventLog:
        stream = _ChunkStream(chunks)
        events = etree.iterparse(
            stream,
            events=("end",),
            tag="{*}trace",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            remove_blank_text=True,
            chunk_size=CHUNK,
        )
        checked = False
        try:
            for _, found in events:
                trace: Any = found
                if not checked:
                    self._check_root(trace)
                    checked = True
                self._trace(trace)
                trace.clear()
                parent = trace.getparent()
                if parent is not None:
                    parent.remove(trace)
                if len(self.rows) >= BATCH_EVENTS:
                    self._flush()
            root: Any = events.root
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            raise ModelError(
                f"malformed XML: {exc.msg or exc}",
                position=Position(file=self.name, line=line, column=column),
            ) from exc
        if root is None:
            raise ModelError("empty XES document", position=Position(file=self.name))
        if self._kind(root.tag) != "log":
            raise ModelError(
                f"root element is <{root.tag}>, an XES file has <log>",
                position=Position(file=self.name, line=_line(root)),
            )
        if not checked:
            self._check_root(root)
        for child in root.iter():
            if self._kind(child.tag) == "event":
                raise ModelError(
                    "<event> outside a <trace>",
                    position=Position(file=self.name, line=_line(child)),
                )
        self._flush()
        return self._build()

    def _check_root(self, element: Any) -> None:
        tree = element.getroottree()
        if tree.docinfo.doctype:
            raise ModelError(
                "DOCTYPE declarations are not allowed in XES files",
                position=Position(file=self.name, line=1),
            )

    def _trace(self, trace: Any) -> None:
        """Collect the trace's events as rows and its own attributes as a case row.

        The common event (simple attributes, known keys) costs two `get`s per attribute and a
        few C-level checks; anything else goes through `_checked_event`, which validates.
        """
        kinds = self.kinds
        known = self.types.keys()
        rows = self.rows
        lines = self.lines
        first = len(rows)
        attributes: dict[str, str] = {}
        for child in trace:
            tag = child.tag
            kind = kinds[tag] if tag in kinds else self._kind(tag)
            if kind == "event":
                row = {attribute.get("key"): attribute.get("value") for attribute in child}
                if (
                    None in row
                    or None in row.values()
                    or "concept:name" not in row
                    or not row.keys() <= known
                ):
                    row = self._checked_event(child)
                rows.append(row)
                lines.append(child.sourceline or 0)
            elif kind in _SIMPLE_TYPES:
                key = child.get("key")
                value = child.get("value")
                if key is None or value is None:
                    self._missing(child, kind)
                attributes[key] = value
                self.trace_types.setdefault(key, kind)
        if "concept:name" not in attributes:
            attributes["concept:name"] = f"trace-{len(self.trace_rows) + 1}"
            self.trace_types.setdefault("concept:name", "string")
        self.trace_rows.append(attributes)
        self.case_of_row.extend([attributes["concept:name"]] * (len(rows) - first))

    def _checked_event(self, event: Any) -> dict[str, str]:
        """The event's simple attributes, validated; records the type of new keys."""
        row: dict[str, str] = {}
        for attribute in event:
            kind = self._kind(attribute.tag)
            key = attribute.get("key")
            value = attribute.get("value")
            if kind not in _SIMPLE_TYPES:
                if kind is None and key is not None and value is not None:
                    raise ModelError(
                        f"unexpected <{attribute.tag}> in an event",
                        position=Position(file=self.name, line=_line(attribute)),
                    )
                continue  # list/container values are not columns
            if key is None or value is None:
                self._missing(attribute, kind)
            row[key] = value
            self.types.setdefault(key, kind)
        if "concept:name" not in row:
            raise ModelError(
                "event without a concept:name (activity)",
                position=Position(file=self.name, line=_line(event)),
            )
        return row

    def _missing(self, element: Any, kind: str | None) -> NoReturn:
        raise ModelError(
            f"<{kind}> attribute without key or value",
            position=Position(file=self.name, line=_line(element)),
        )

    def _flush(self) -> None:
        if not self.rows:
            return
        rows = self.rows
        columns = {
            key: pl.Series(key, [row.get(key) for row in rows], dtype=pl.String)
            for key in self.types
        }
        batch = pl.DataFrame(columns).with_columns(
            pl.Series(CASE, self.case_of_row, dtype=pl.String)
        )
        if "time:timestamp" in batch.columns:
            raw = batch.get_column("time:timestamp")
            parsed = parse_timestamps(raw)
            bad = parsed.is_null() & raw.is_not_null()
            if bad.any():
                index = int(bad.arg_true()[0])
                raise ModelError(
                    f"time:timestamp '{raw[index]}' is not an ISO 8601 date-time",
                    position=Position(file=self.name, line=self.lines[index] or None),
                )
            batch = batch.with_columns(parsed)
        self.frames.append(batch)
        self.rows = []
        self.lines = []
        self.case_of_row = []

    def _build(self) -> EventLog:
        if self.frames:
            frame = pl.concat(self.frames, how="diagonal")
        else:
            frame = pl.DataFrame(schema={CASE: pl.String, "concept:name": pl.String})
        renames: dict[str, str] = {}
        extras: list[pl.Series] = []
        for key in frame.columns:
            if key in KEY_TO_COLUMN:
                renames[key] = KEY_TO_COLUMN[key]
            elif key != CASE:
                extras.append(_typed(frame.get_column(key), self.types[key]))
                renames[key] = _column_name(key)
        frame = frame.with_columns(extras).rename(renames)
        if TIMESTAMP in frame.columns and frame.schema[TIMESTAMP] == pl.String:
            frame = frame.with_columns(parse_timestamps(frame.get_column(TIMESTAMP)))
        frame = frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(ORDER))
        case_names = pl.Series([row["concept:name"] for row in self.trace_rows], dtype=pl.String)
        trace_columns: dict[str, pl.Series] = {CASE: case_names}
        for key, kind in self.trace_types.items():
            if key == "concept:name":
                continue
            values = pl.Series(key, [row.get(key) for row in self.trace_rows], dtype=pl.String)
            trace_columns[key] = _typed(values, kind)
        cases = pl.DataFrame(trace_columns)
        return EventLog.from_frame(frame, cases)


def parse_timestamps(raw: pl.Series) -> pl.Series:
    """XES dates (xs:dateTime) as UTC datetimes; values without an offset are taken as UTC.

    Nearly every XES file writes one format throughout, so the other formats are only tried
    when the usual one (with an offset) leaves values unparsed.
    """
    if raw.len() == 0:
        return pl.Series(raw.name, [], dtype=TIME_DTYPE)
    parsed = raw.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC", time_unit="us"
    )
    if not (parsed.is_null() & raw.is_not_null()).any():
        return parsed.alias(raw.name)
    frame = pl.DataFrame({"t": raw, "first": parsed}).select(
        pl.coalesce(
            pl.col("first"),
            pl.col("t")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
            .dt.replace_time_zone("UTC"),
            pl.col("t")
            .str.to_datetime("%Y-%m-%d", strict=False, time_unit="us")
            .dt.replace_time_zone("UTC"),
        )
    )
    return frame.to_series().alias(raw.name)


def _typed(text: pl.Series, kind: str) -> pl.Series:
    """Text values of an attribute converted to its XES type; kept as text if any fails
    (XES allows one key to carry different types in different events)."""
    if kind == "int":
        result = text.cast(pl.Int64, strict=False)
    elif kind == "float":
        result = text.cast(pl.Float64, strict=False)
    elif kind == "boolean":
        lowered = text.str.to_lowercase()
        result = (
            pl.select(
                pl.when(lowered.is_in(["true", "1"]))
                .then(True)
                .when(lowered.is_in(["false", "0"]))
                .then(False)
                .otherwise(None)
            )
            .to_series()
            .alias(text.name)
        )
    elif kind == "date":
        result = parse_timestamps(text)
    else:
        return text
    if (result.is_null() & text.is_not_null()).any():
        return text
    return result


def _column_name(key: str) -> str:
    return f"attr:{key}" if key in (*CORE_COLUMNS, ORDER) else key


def _line(element: Any) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None
