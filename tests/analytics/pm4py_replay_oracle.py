"""pm4py's token replay of a Petri net given as JSON: the oracle of test_conformance.py.

Reads ``{"net": ReplayNet.to_petri_json(), "traces": [[label, ...], ...]}`` from the file named
on the command line and prints one JSON line: per trace the missing, consumed, remaining and
produced tokens and the fitness pm4py computes, plus pm4py's log fitness (and, with
``"discover_noise"``, the fitness of pm4py's own inductive miner model on the same traces).
Runs where pm4py is installed (the git-ignored .bench-venv); pm4py is never a Flowdesk dependency.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def replay(spec: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd  # type: ignore[import-untyped]
    from pm4py.algo.conformance.tokenreplay import (  # type: ignore[import-not-found]
        algorithm as token_replay,
    )
    from pm4py.algo.evaluation.replay_fitness.variants import (  # type: ignore[import-not-found]
        token_replay as fitness_of,
    )
    from pm4py.objects.petri_net.obj import Marking, PetriNet  # type: ignore[import-not-found]
    from pm4py.objects.petri_net.utils import petri_utils  # type: ignore[import-not-found]

    net_spec = spec["net"]
    net = PetriNet("flowdesk")
    places = {name: PetriNet.Place(name) for name in net_spec["places"]}
    for place in places.values():
        net.places.add(place)
    for item in net_spec["transitions"]:
        transition = PetriNet.Transition(item["id"], item["label"])
        net.transitions.add(transition)
        for name in item["inputs"]:
            petri_utils.add_arc_from_to(places[name], transition, net)
        for name in item["outputs"]:
            petri_utils.add_arc_from_to(transition, places[name], net)
    initial = Marking({places[k]: v for k, v in net_spec["initial"].items()})
    final = Marking({places[k]: v for k, v in net_spec["final"].items()})
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "case:concept:name": f"c{i:04d}",
            "concept:name": label,
            "time:timestamp": start + timedelta(days=i, minutes=j),
        }
        for i, trace in enumerate(spec["traces"])
        for j, label in enumerate(trace)
    ]
    frame = pd.DataFrame(rows)
    replayed = token_replay.apply(frame, net, initial, final)
    log_fitness = fitness_of.evaluate(replayed)
    discovered: dict[str, Any] = {}
    if "discover_noise" in spec:  # pm4py's own inductive miner on the same traces
        pm4py = __import__("pm4py")
        own = pm4py.discover_petri_net_inductive(frame, noise_threshold=spec["discover_noise"])
        discovered["discovered_fitness"] = float(
            pm4py.fitness_token_based_replay(frame, *own)["log_fitness"]
        )
    if spec.get("precision"):  # pm4py's ETC precision (token-based) of the same net
        discovered["precision"] = float(
            __import__("pm4py").precision_token_based_replay(frame, net, initial, final)
        )
    if spec.get("align"):  # pm4py's alignments (standard costs) of every trace
        aligned = __import__("pm4py").conformance_diagnostics_alignments(frame, net, initial, final)
        discovered["alignments"] = [
            {"cost": int(a["cost"]), "fitness": float(a["fitness"])} for a in aligned
        ]
    return {
        **discovered,
        "pm4py": __import__("pm4py").__version__,
        "traces": [
            {
                "missing": int(r["missing_tokens"]),
                "consumed": int(r["consumed_tokens"]),
                "remaining": int(r["remaining_tokens"]),
                "produced": int(r["produced_tokens"]),
                "fitness": float(r["trace_fitness"]),
            }
            for r in replayed
        ],
        "log_fitness": float(log_fitness["log_fitness"]),
    }


if __name__ == "__main__":
    print(json.dumps(replay(json.loads(Path(sys.argv[1]).read_text()))))
