"""Safe XML loading for models (BPMN, DMN) and test files.

Models come from users, so the parser refuses DOCTYPE declarations outright (that closes
XXE, external DTDs and entity-expansion bombs in one rule), never touches the network, and
caps document size and nesting depth. Every failure is a ModelError with line and column.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from flowdesk.core.errors import ModelError, Position

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 200


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def xml_text(data: bytes) -> str:
    """The text of an XML file in the encoding it declares (models from other tools are often
    ISO-8859-1); UTF-8 when it declares none. Raises UnicodeDecodeError when it does not decode."""
    declared = _DECLARED.match(data[:200])
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        return data.decode(encoding)
    except LookupError:  # an encoding Python does not know: UTF-8 or nothing
        return data.decode("utf-8")


def parse_xml(
    source: bytes | str | Path,
    *,
    filename: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> etree._Element:
    """Parse XML text, bytes or a file into an lxml element tree root, safely.

    Raises ModelError naming the file, line and column of the problem.
    """
    if isinstance(source, Path):
        filename = filename or str(source)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise ModelError(
                f"cannot read file: {exc.strerror}", position=Position(file=filename)
            ) from exc
    elif isinstance(source, str):
        data = source.encode("utf-8")
        if data.lstrip().startswith(b"<?xml"):
            # A str has already been decoded: drop the encoding declaration lxml would reject.
            end = data.find(b"?>")
            data = data[end + 2 :] if end != -1 else data
    else:
        data = source
    if len(data) > max_bytes:
        raise ModelError(
            f"document is {len(data)} bytes, more than the limit of {max_bytes}",
            position=Position(file=filename),
            hint="split the model or raise the limit",
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        line = data[: max(data.find(b"<!DOCTYPE"), data.find(b"<!ENTITY"))].count(b"\n") + 1
        raise ModelError(
            "DOCTYPE and ENTITY declarations are not allowed in models",
            position=Position(file=filename, line=line),
            hint="remove the DOCTYPE; BPMN and DMN files never need one",
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = exc.msg or str(exc)
        raise ModelError(
            f"malformed XML: {message}",
            position=Position(file=filename, line=line, column=column),
        ) from exc
    if root is None:
        raise ModelError("empty XML document", position=Position(file=filename))
    _check_depth(root, max_depth, filename)
    return root


def _check_depth(root: etree._Element, max_depth: int, filename: str | None) -> None:
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise ModelError(
                f"elements nested deeper than {max_depth} levels",
                position=Position(file=filename, line=source_line(element)),
            )
        stack.extend((child, depth + 1) for child in element)


def source_line(element: etree._Element) -> int | None:
    """The 1-based line where the element starts (lxml-stubs type this loosely)."""
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def local_name(element: etree._Element) -> str:
    """The tag without its namespace (``{ns}task`` -> ``task``); comments give ''."""
    tag: object = element.tag
    if not isinstance(tag, str):
        return ""
    return etree.QName(tag).localname


def namespace(element: etree._Element) -> str | None:
    tag: object = element.tag
    if not isinstance(tag, str):
        return None
    return etree.QName(tag).namespace
