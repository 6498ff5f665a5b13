"""One deployed process, analysed: its cases replayed on their model versions (conformance), the
diagram heatmap and the process map, read from the store once for the API, the CLI and the web.

The cases are the process instances of the key, from the element events in the log (each event's
`definition_id` names the version the instance ran). Instances still running or cancelled are
not replayed: their tokens are legitimately somewhere in the model, and counting them as left
over would make every busy process look non-conforming; the report counts them instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowdesk.analytics.conformance import (
    ConformanceReport,
    Match,
    align,
    build_net,
    check_conformance,
    ignored_labels,
    plain_label,
)
from flowdesk.analytics.dfg import directly_follows
from flowdesk.analytics.discovery import Miner, discover_bpmn
from flowdesk.analytics.handoffs import handoff_report
from flowdesk.analytics.heatmap import Measure, element_durations, heatmap_svg
from flowdesk.analytics.log import ACTIVITY, CASE, EventLog
from flowdesk.analytics.source import events_to_log
from flowdesk.analytics.variants import variants
from flowdesk.bpmn.model import Definitions, Process
from flowdesk.bpmn.parser import import_bpmn, parse_bpmn
from flowdesk.bpmn.svg import render_svg
from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent
from flowdesk.store.processes import ProcessRepository

if TYPE_CHECKING:
    from flowdesk.runtime.registry import StoreRegistry
    from flowdesk.store import Store

ENDED = {EventType.PROCESS_COMPLETED: "completed", EventType.PROCESS_CANCELLED: "cancelled"}


@dataclass(frozen=True, slots=True)
class DeployedVersion:
    definition_id: str
    version: int
    name: str | None
    definitions: Definitions

    @property
    def process(self) -> Process:
        return self.definitions.processes[self.definition_id.rpartition(":")[0]]


@dataclass(frozen=True, slots=True)
class Discovery:
    """A discovered model beside the deployed one, with the fitness of the same cases on each."""

    key: str
    noise: float
    xml: str
    definitions: Definitions
    report: ConformanceReport
    deployed: ConformanceReport
    miner: Miner = "inductive"

    def svg(self) -> str:
        """The discovered diagram as SVG (laid out left to right by `to_bpmn`)."""
        return render_svg(self.definitions)

    def to_json(self) -> dict[str, Any]:
        process = next(iter(self.definitions.processes.values()))
        kinds = Counter(node.type for node in process.nodes.values())
        return {
            "key": self.key,
            "miner": self.miner,
            "noise": self.noise,
            "process_id": process.id,
            "cases": self.report.totals.cases,
            "fitness": self.report.totals.fitness,
            "fitting_cases": self.report.totals.fitting_cases,
            "deployed_fitness": self.deployed.totals.fitness,
            "deployed_fitting_cases": self.deployed.totals.fitting_cases,
            "tasks": kinds.get("task", 0),
            "gateways": kinds.get("exclusiveGateway", 0) + kinds.get("parallelGateway", 0),
            "deviations": [d.to_json() for d in self.report.deviations[:20]],
        }


@dataclass
class ProcessAnalysis:
    """The deployed versions of one process key and the log of its instances."""

    key: str
    versions: dict[str, DeployedVersion]
    log: EventLog
    case_models: dict[str, str]
    status: dict[str, str]
    match: Match = "element"
    _report: ConformanceReport | None = field(default=None, repr=False)

    @classmethod
    def imported(cls, log: EventLog, key: str, version: DeployedVersion) -> ProcessAnalysis:
        """An imported log (XES from another system) against one deployed version: every case
        counts as completed, activities are matched to elements by name."""
        cases = log.events.get_column(CASE).unique().to_list() if log.event_count else []
        return cls(
            key,
            {version.definition_id: version},
            log,
            dict.fromkeys(cases, version.definition_id),
            dict.fromkeys(cases, "completed"),
            match="name",
        )

    @property
    def latest(self) -> DeployedVersion:
        return max(self.versions.values(), key=lambda v: v.version)

    def finished_cases(self) -> set[str]:
        return {case for case, state in self.status.items() if state == "completed"}

    def conformance(self) -> ConformanceReport:
        """Every completed instance replayed on the version it ran (computed once)."""
        if self._report is None:
            finished = self.finished_cases()
            models = {d: v.process for d, v in self.versions.items()}
            report = check_conformance(
                self.log.filter_cases(finished),
                models,
                case_models={c: d for c, d in self.case_models.items() if c in finished},
                match=self.match,
            )
            states = Counter(self.status.values())
            for state in ("running", "cancelled"):
                if states.get(state):
                    report.skipped[state] = states[state]
            self._report = report
        return self._report

    def version(self, version: int | None) -> DeployedVersion:
        """Version `version`; by default the newest one that has replayed cases, else the latest."""
        if version is not None:
            return pick_version(self.key, self.versions, version)
        replayed = {v.definition_id for v in self.conformance().versions if v.totals.cases}
        candidates = [v for d, v in self.versions.items() if d in replayed]
        return max(candidates or self.versions.values(), key=lambda v: v.version)

    def heatmap(self, measure: Measure = "frequency", version: int | None = None) -> str:
        """The diagram of a version with its cases' frequencies or mean durations."""
        chosen = self.version(version)
        replayed = self.conformance().version(chosen.definition_id)
        flows = replayed.flow_counts if replayed else {}
        if measure == "frequency":
            values: dict[str, float] = {
                e: float(n) for e, n in (replayed.element_counts if replayed else {}).items()
            }
        else:
            cases = [c for c, d in self.case_models.items() if d == chosen.definition_id]
            values = element_durations(
                self.log.filter_cases(cases), chosen.process, match=self.match
            )
        report = self.conformance()
        off: Counter[str] = Counter()
        for d in report.deviations:
            if d.deviation.element_id and chosen.definition_id in d.definition_ids:
                off[d.deviation.element_id] += d.cases
        figures = None
        if replayed is not None and replayed.totals.fitness is not None:
            figures = f"fitness {replayed.totals.fitness:.3f}"
            if replayed.precision is not None:
                figures += f", precision {replayed.precision.value:.3f}"
        return heatmap_svg(
            chosen.definitions,
            measure=measure,
            values=values,
            flow_counts=flows,
            process_id=chosen.process.id,
            deviations=off,
            figures=figures,
        )

    def discovery(self, noise: float = 0.2, miner: Miner = "inductive") -> Discovery | None:
        """A model mined from the completed cases (inductive miner, infrequent variant, or the
        heuristics miner) and how well those cases fit it and the deployed model; None without
        completed cases."""
        finished = self.log.filter_cases(self.finished_cases())
        if finished.event_count == 0:
            return None
        name = f"{self.latest.name or self.key} (discovered)"
        xml = discover_bpmn(
            finished, noise=noise, name=name, process_id=f"{self.key}-discovered", miner=miner
        )
        definitions = parse_bpmn(xml, filename=f"{self.key}-discovered.bpmn")
        process = next(iter(definitions.processes.values()))
        report = check_conformance(finished, {process.id: process}, match="name")
        return Discovery(self.key, noise, xml, definitions, report, self.conformance(), miner)

    def alignment(self, case: str) -> dict[str, Any]:
        """The optimal alignment of one case with the version it ran: exactly which steps it
        skipped or did out of order (token replay only says how much it deviated)."""
        definition_id = self.case_models.get(case)
        if definition_id is None or definition_id not in self.versions:
            raise NotFoundError(f"process {self.key} has no case {case!r} on a deployed model")
        column = "element_id" if self.match == "element" else ACTIVITY
        log = self.log.completions() if self.log.has_lifecycle_starts() else self.log
        same = [c for c, d in self.case_models.items() if d == definition_id]
        labels = log.filter_cases(same).events.get_column(column).drop_nulls()
        net = build_net(self.versions[definition_id].process, labels.unique(), match=self.match)
        skip = ignored_labels(net)
        trace = [
            label
            for label in log.filter_cases([case]).events.get_column(column).drop_nulls()
            if plain_label(label, self.match) not in skip
        ]
        result = align(net, trace)
        return {"key": self.key, "case": case, "definition_id": definition_id, **result.to_json()}

    def diagram(self, version: int | None = None) -> str:
        """A deployed version's diagram as SVG, without figures (beside the discovered one)."""
        return render_svg(self.version(version).definitions)

    def handoffs(self) -> dict[str, Any]:
        """The department hand-off matrix of all instances (count, waits, rework back)."""
        return {"key": self.key, **handoff_report(self.log)}

    def process_map(self, top: int = 10, *, all_events: bool = False) -> dict[str, Any]:
        """Directly-follows edges (counts, durations) and the top variants of all instances:
        from completions, or with `all_events` from every event, starts included (pm4py's
        default counting)."""
        log = self.log if all_events else self.log.completions()
        dfg = directly_follows(log)
        found = variants(log)
        return {
            "key": self.key,
            "cases": log.case_count,
            "events": log.event_count,
            "activities": dfg.activity_counts,
            "edges": [e.to_json() for e in dfg.edges],
            "lifecycle": "all" if all_events else "complete",
            "variant_count": len(found),
            "variants": [v.to_json() for v in found[:top]],
        }


def pick_version(
    key: str, versions: dict[str, DeployedVersion], version: int | None
) -> DeployedVersion:
    """Version `version` of `key`, the latest when None (NotFoundError when there is none)."""
    if not versions:
        raise NotFoundError(f"no process '{key}' is deployed")
    if version is None:
        return max(versions.values(), key=lambda v: v.version)
    found = versions.get(f"{key}:{version}")
    if found is None:
        raise NotFoundError(f"process '{key}' has no version {version}")
    return found


def deployed_processes(store: Store) -> list[dict[str, Any]]:
    """Each deployed process key once, with its latest version and that version's name."""
    with store.reading() as conn:
        rows = ProcessRepository(conn).definitions()
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["key"] not in latest or row["version"] > latest[row["key"]]["version"]:
            latest[row["key"]] = row
    return [
        {"key": key, "name": row["name"] or key, "version": int(row["version"])}
        for key, row in sorted(latest.items())
    ]


def deployed_versions(
    store: Store, key: str, registry: StoreRegistry | None = None
) -> dict[str, DeployedVersion]:
    """Every deployed version of `key`, parsed (through the registry's cache when given)."""
    found: dict[str, DeployedVersion] = {}
    with store.reading() as conn:
        repo = ProcessRepository(conn)
        for row in repo.definitions():
            if row["key"] != key:
                continue
            resource = repo.resource(row["resource_id"])
            if resource is None:
                continue
            if registry is not None:
                parsed = registry.parse(resource["content"], resource["name"], resource["sha256"])
            else:
                parsed = import_bpmn(resource["content"], filename=resource["name"]).definitions
            found[row["id"]] = DeployedVersion(row["id"], int(row["version"]), row["name"], parsed)
    return found


def analyse(
    events: Iterable[StoredEvent], key: str, versions: dict[str, DeployedVersion]
) -> ProcessAnalysis:
    """The analysis of `key` over `events` (any events: those of other processes are skipped)."""
    if not versions:
        raise NotFoundError(
            f"no process '{key}' is deployed", hint="list them with GET /api/v1/process-definitions"
        )
    prefix = f"{key}:"
    mine: list[StoredEvent] = []
    case_models: dict[str, str] = {}
    status: dict[str, str] = {}
    for event in events:
        definition_id = (event.data or {}).get("definition_id")
        instance = event.process_instance_id
        if not isinstance(definition_id, str) or not definition_id.startswith(prefix):
            continue
        if instance is None:
            continue
        case_models.setdefault(instance, definition_id)
        status.setdefault(instance, "running")
        if event.type in ENDED:
            status[instance] = ENDED[event.type]
        mine.append(event)
    log = events_to_log(mine)
    cases = set(log.events.get_column(CASE).unique().to_list()) if log.event_count else set()
    return ProcessAnalysis(
        key,
        versions,
        log,
        {c: d for c, d in case_models.items() if c in cases},
        {c: s for c, s in status.items() if c in cases},
    )


def load_analysis(store: Store, key: str, registry: StoreRegistry | None = None) -> ProcessAnalysis:
    """The analysis of process `key` from the store (NotFoundError when it is not deployed)."""
    versions = deployed_versions(store, key, registry)
    if not versions:
        return analyse((), key, versions)
    return analyse(store.events.of_process(key), key, versions)
