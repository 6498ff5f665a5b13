"""Generic dict conversion for the frozen definition dataclasses.

Definitions are cached, shipped between processes and stored next to deployments, so they must
round-trip through JSON. One typed walker keeps every dataclass in sync with its dict form; fields
marked ``derived`` (indexes rebuilt in ``__post_init__``) are never serialised, and fields equal to
their default are left out to keep the documents small.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin

T = TypeVar("T")

DERIVED = {"derived": True}


def to_dict(obj: Any) -> Any:
    """Turn a definition dataclass (or a tuple/dict of them) into JSON-able plain data."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}  # fields in declaration order
        for f in dataclasses.fields(obj):
            if f.metadata.get("derived"):
                continue
            value = getattr(obj, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            if f.default_factory is not dataclasses.MISSING and value == f.default_factory():
                continue
            out[f.name] = to_dict(value)
        return out
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def from_dict(cls: type[T], data: Any) -> T:
    """Rebuild ``cls`` from what :func:`to_dict` produced."""
    return typing.cast(T, _convert(cls, data))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        return _convert(args[0], data) if len(args) == 1 else data
    if origin is tuple:
        targs = get_args(tp)
        if len(targs) == 2 and targs[1] is Ellipsis:
            return tuple(_convert(targs[0], v) for v in data)
        return tuple(_convert(a, v) for a, v in zip(targs, data, strict=True))
    if origin is dict:
        _, value_type = get_args(tp)
        return {k: _convert(value_type, v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {
            f.name: _convert(hints[f.name], data[f.name])
            for f in dataclasses.fields(tp)
            if f.init and f.name in data
        }
        return tp(**kwargs)
    return data
