"""A step's form check, shared by the API and the desktop: JSON Schema from the bundle, errors in
words, each on the field it is about, with the field's title rather than its variable name."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from flowdesk.experience.formcheck import check_form
from flowdesk.experience.service import bundle_by_id
from flowdesk.store import Store

_CACHE_SIZE = 512
_cache: OrderedDict[tuple[str, str], dict[str, Any] | None] = OrderedDict()
_cache_lock = threading.Lock()


def bundle_form(store: Store, bundle_id: str | None, element_id: str) -> dict[str, Any] | None:
    """The form of a step of a stored bundle (parsed once per bundle and step)."""
    if bundle_id is None:
        return None
    key = (bundle_id, element_id)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    bundle = bundle_by_id(store, bundle_id)
    task = bundle.tasks.get(element_id) if bundle else None
    schema = dict(task.form) if task is not None and task.form else None
    with _cache_lock:
        _cache[key] = schema
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return schema


def validate_form(
    schema: Mapping[str, Any] | None, data: Mapping[str, Any]
) -> list[dict[str, str]]:
    """The answers checked against the form (`experience.formcheck.check_form`). Only the form's
    own fields of `data` count: the instance's variables it is overlaid on have more."""
    if not schema:
        return []
    properties = schema.get("properties") or {}
    return check_form(schema, {k: v for k, v in data.items() if k in properties and v is not None})
