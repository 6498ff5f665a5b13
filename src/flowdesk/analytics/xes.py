"""XES import (IEEE 1849-2016): plain or gzip files, streamed, parsed safely.

XES files from other systems are user input and can be hundreds of megabytes, so the reader
feeds the file to lxml's pull parser in chunks and drops every event once read (memory stays
at the size of the table, not the tree). Entity resolution, DTD loading and the network are
off, and any DOCTYPE or ENTITY declaration is refused before parsing (XXE and entity bombs);
every failure is a ModelError naming the file and line.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

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
    if head == b"\x1f\x8b":
        read = gzip.GzipFile(fileobj=_Prefixed(head, raw), mode="rb").read
    try:
        return _Reader(name).read(_chunks(read, name))
    except (OSError, EOFError, zlib.error) as exc:
        raise ModelError(f"cannot decompress: {exc}", position=Position(file=name)) from exc


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


class _Reader:
    """Collects one column per attribute while streaming `<trace>` and `<event>` elements."""

    def __init__(self, name: str):
        self.name = name
        self.acts: list[str | None] = []
        self.times: list[str | None] = []
        self.cycles: list[str | None] = []
        self.resources: list[str | None] = []
        self.groups: list[str | None] = []
        self.trace_of_event: list[int] = []
        self.lines: list[int] = []
        self.extras: list[dict[str, str] | None] = []
        self.types: dict[str, str] = {}
        self.trace_rows: list[dict[str, str]] = []
        self.trace_types: dict[str, str] = {}
        self.local: dict[Any, str] = {}

    def _local(self, tag: Any) -> str:
        name = self.local.get(tag)
        if name is None:
            name = tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
            self.local[tag] = name
        return name

    def read(self, chunks: Iterator[bytes]) -> EventLog:
        parser = etree.XMLPullParser(
            events=("end",),
            tag=("{*}event", "{*}trace"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        checked = False
        try:
            for chunk in chunks:
                parser.feed(chunk)
                for _, found in parser.read_events():
                    element: Any = found
                    if not checked:
                        self._check_root(element)
                        checked = True
                    if self._local(element.tag) == "event":
                        self._event(element)
                    else:
                        self._trace(element)
            root: Any = parser.close()
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            raise ModelError(
                f"malformed XML: {exc.msg or exc}",
                position=Position(file=self.name, line=line, column=column),
            ) from exc
        if self._local(root.tag) != "log":
            raise ModelError(
                f"root element is <{self._local(root.tag)}>, an XES file has <log>",
                position=Position(file=self.name, line=_line(root)),
            )
        if not checked:
            self._check_root(root)
        return self._build()

    def _check_root(self, element: Any) -> None:
        tree = element.getroottree()
        if tree.docinfo.doctype:
            raise ModelError(
                "DOCTYPE declarations are not allowed in XES files",
                position=Position(file=self.name, line=1),
            )

    def _event(self, element: Any) -> None:
        parent = element.getparent()
        if parent is None or self._local(parent.tag) != "trace":
            raise ModelError(
                "<event> outside a <trace>", position=Position(file=self.name, line=_line(element))
            )
        acts = time = cycle = resource = group = None
        extra: dict[str, str] | None = None
        for child in element:
            kind = self._local(child.tag)
            if kind not in _SIMPLE_TYPES:
                continue  # list/container values and nested meta-attributes are not columns
            key = child.get("key")
            value = child.get("value")
            if key is None or value is None:
                raise ModelError(
                    f"<{kind}> attribute without key or value",
                    position=Position(file=self.name, line=_line(child)),
                )
            if key == "concept:name":
                acts = value
            elif key == "time:timestamp":
                time = value
            elif key == "lifecycle:transition":
                cycle = value
            elif key == "org:resource":
                resource = value
            elif key == "org:group":
                group = value
            else:
                if extra is None:
                    extra = {}
                extra[key] = value
                _note_type(self.types, key, kind)
        if acts is None:
            raise ModelError(
                "event without a concept:name (activity)",
                position=Position(file=self.name, line=_line(element)),
            )
        self.acts.append(acts)
        self.times.append(time)
        self.cycles.append(cycle)
        self.resources.append(resource)
        self.groups.append(group)
        self.extras.append(extra)
        self.lines.append(_line(element) or 0)
        self.trace_of_event.append(len(self.trace_rows))
        element.clear()
        parent.remove(element)

    def _trace(self, element: Any) -> None:
        attributes: dict[str, str] = {}
        for child in element:
            kind = self._local(child.tag)
            if kind in _SIMPLE_TYPES and (key := child.get("key")) is not None:
                value = child.get("value")
                if value is not None:
                    attributes[key] = value
                    _note_type(self.trace_types, key, kind)
        if "concept:name" not in attributes:
            attributes["concept:name"] = f"trace-{len(self.trace_rows) + 1}"
            self.trace_types.setdefault("concept:name", "string")
        self.trace_rows.append(attributes)
        element.clear()
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)

    def _build(self) -> EventLog:
        case_names = pl.Series([row["concept:name"] for row in self.trace_rows], dtype=pl.String)
        n = len(self.acts)
        frame = pl.DataFrame(
            {
                CASE: case_names.gather(pl.Series(self.trace_of_event, dtype=pl.UInt32))
                if n
                else pl.Series([], dtype=pl.String),
                ACTIVITY: pl.Series(self.acts, dtype=pl.String),
                TIMESTAMP: self._timestamps(pl.Series(self.times, dtype=pl.String)),
                LIFECYCLE: pl.Series(self.cycles, dtype=pl.String),
                RESOURCE: pl.Series(self.resources, dtype=pl.String),
                DEPARTMENT: pl.Series(self.groups, dtype=pl.String),
                ORDER: pl.int_range(n, dtype=pl.Int64, eager=True),
            }
        )
        extras = [
            _typed(
                key, [e.get(key) if e else None for e in self.extras], kind, self._bad_value(key)
            )
            for key, kind in self.types.items()
        ]
        if extras:
            frame = frame.with_columns([s.alias(_column_name(s.name)) for s in extras])
        trace_columns: dict[str, pl.Series] = {CASE: case_names}
        for key, kind in self.trace_types.items():
            if key == "concept:name":
                continue
            values = [row.get(key) for row in self.trace_rows]
            trace_columns[key] = _typed(key, values, kind, self._bad_value(key))
        cases = pl.DataFrame(trace_columns)
        return EventLog.from_frame(frame, cases)

    def _bad_value(self, key: str) -> str:
        return f"{self.name}: attribute '{key}'"

    def _timestamps(self, raw: pl.Series) -> pl.Series:
        parsed = parse_timestamps(raw)
        bad = parsed.is_null() & raw.is_not_null()
        if bad.any():
            index = int(bad.arg_true()[0])
            raise ModelError(
                f"time:timestamp '{raw[index]}' is not an ISO 8601 date-time",
                position=Position(file=self.name, line=self.lines[index] or None),
            )
        return parsed


def parse_timestamps(raw: pl.Series) -> pl.Series:
    """XES dates (xs:dateTime) as UTC datetimes; values without an offset are taken as UTC."""
    if raw.len() == 0:
        return pl.Series(raw.name, [], dtype=TIME_DTYPE)
    frame = raw.to_frame("t").select(
        pl.coalesce(
            pl.col("t").str.to_datetime(
                "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC", time_unit="us"
            ),
            pl.col("t")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
            .dt.replace_time_zone("UTC"),
            pl.col("t")
            .str.to_datetime("%Y-%m-%d", strict=False, time_unit="us")
            .dt.replace_time_zone("UTC"),
        )
    )
    return frame.to_series().alias(raw.name)


def _note_type(types: dict[str, str], key: str, kind: str) -> None:
    seen = types.setdefault(key, kind)
    if seen != kind:
        types[key] = "string"  # mixed types in one key: keep the text


def _typed(key: str, values: list[str | None], kind: str, where: str) -> pl.Series:
    text = pl.Series(key, values, dtype=pl.String)
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
            .alias(key)
        )
    elif kind == "date":
        result = parse_timestamps(text)
    else:
        return text
    bad = result.is_null() & text.is_not_null()
    if bad.any():
        raise ModelError(f"{where}: '{text.filter(bad)[0]}' is not a valid {kind}")
    return result


def _column_name(key: str) -> str:
    return f"attr:{key}" if key in (*CORE_COLUMNS, ORDER) else key


def _line(element: Any) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None
