"""YAML with positions: the data (safe types only) plus where every value sits in the file.

PyYAML's composer keeps a start mark on every node; we walk the node tree once and record the
(line, column) of every path, so a validation error can point at the field it is about.
Anchors and aliases are refused (they buy nothing in a bundle and allow exponential blow-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlError(Exception):
    def __init__(self, message: str, line: int | None, column: int | None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class Located:
    """A parsed document and the 1-based (line, column) of each path in it."""

    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # the key's position
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # where the value starts
    block: set[Path_] = field(default_factory=set)  # scalars written as | or > blocks

    def where(self, path: Path_) -> tuple[int | None, int | None]:
        """The closest recorded position: the path itself or its nearest parent."""
        probe = tuple(path)
        while probe:
            if probe in self.marks:
                return self.marks[probe]
            probe = probe[:-1]
        return self.marks.get((), (1, 1))


def _walk(node: yaml.Node, path: Path_, out: Located, seen: set[int]) -> None:
    if id(node) in seen:
        raise YamlError("anchors and aliases are not supported", node.start_mark.line + 1, None)
    seen.add(id(node))
    start = (node.start_mark.line + 1, node.start_mark.column + 1)
    out.values[path] = start
    out.marks.setdefault(path, start)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
            # an error about an entry points at its key (the value may start lines later)
            out.marks[(*path, name)] = (key.start_mark.line + 1, key.start_mark.column + 1)
            _walk(value, (*path, name), out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), out, seen)
    elif isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        out.block.add(path)


def load_yaml(text: str) -> Located:
    """Parse one YAML document with positions; YamlError (with line) when it is not YAML."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): (1, 1)})
        located = Located(None)
        _walk(node, (), located, set())
        located.data = loader.construct_document(node)
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise YamlError(f"{exc.problem or exc.context or 'invalid YAML'}", line, column) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), None, None) from None
    finally:
        loader.dispose()
