"""Deployed definitions, read from the store and parsed once per process (the only cache:
definitions are immutable once deployed, so caching them can never serve stale state)."""

from __future__ import annotations

import threading

from flowdesk.bpmn.model import Definitions, Process
from flowdesk.bpmn.parser import Imported, import_bpmn
from flowdesk.engine.errors import EngineError
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository


class StoreRegistry:
    """`get("refund:3")` gives version 3 of process `refund`; instances name their version."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._processes: dict[str, Process] = {}
        self._parsed: dict[str, Imported] = {}  # by resource sha256
        self._lock = threading.Lock()

    def get(self, process_key: str) -> Process:
        process = self._processes.get(process_key)
        if process is not None:
            return process
        with self._store.reading() as conn:
            return self.ensure(ProcessRepository(conn), process_key)

    def ensure(self, repo: ProcessRepository, process_key: str) -> Process:
        """Load a definition through the caller's transaction (the runtime calls this before
        the engine needs it, so no second connection is opened inside a unit of work)."""
        process = self._processes.get(process_key)
        if process is not None:
            return process
        row = repo.definition(process_key)
        if row is None:
            raise EngineError(f"no process definition '{process_key}' is deployed")
        resource = repo.resource(row["resource_id"])
        assert resource is not None
        definitions = self.parse(resource["content"], resource["name"], resource["sha256"])
        process = definitions.processes[row["key"]]
        with self._lock:
            self._processes[process_key] = process
        return process

    def imported(self, content: str, name: str, sha256: str) -> Imported:
        """The file as imported: definitions with its errors and warnings (cached)."""
        parsed = self._parsed.get(sha256)
        if parsed is None:
            parsed = import_bpmn(content, filename=name)  # str: its encoding is already decoded
            with self._lock:
                self._parsed[sha256] = parsed
        return parsed

    def parse(self, content: str, name: str, sha256: str) -> Definitions:
        """The definitions, or BpmnModelError when an executable process cannot run."""
        return self.imported(content, name, sha256).executable()

    def element_name(self, definition_id: str, element_id: str | None) -> str | None:
        if element_id is None:
            return None
        node = self.get(definition_id).nodes.get(element_id)
        return node.name if node is not None else None
