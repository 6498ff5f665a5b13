"""pm4py's heuristics miner on traces given as JSON: the oracle of test_heuristics.py.

Reads ``{"traces": [[label, ...], ...], "runs": [{"dependency": 0.5, "and": 0.65}, ...]}`` from
the file named on the command line and prints one JSON line: per run the dependency matrix, the
kept edges (with the dependency value pm4py stores on each) and the AND pairs of outputs and
inputs of `pm4py.discover_heuristics_net`. Runs where pm4py is installed (the git-ignored
.bench-venv); pm4py is never a Flowdesk dependency.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def mine(spec: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd  # type: ignore[import-untyped]
    import pm4py  # type: ignore[import-not-found]

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
    runs = []
    for run in spec["runs"]:
        net = pm4py.discover_heuristics_net(
            frame, dependency_threshold=run["dependency"], and_threshold=run["and"]
        )
        edges = [
            [name, target.node_name, float(edge.dependency_value), int(edge.dfg_value)]
            for name, node in net.nodes.items()
            for target, found in node.output_connections.items()
            for edge in found
        ]
        runs.append(
            {
                "dependency": [
                    [a, b, float(v)]
                    for a, row in net.dependency_matrix.items()
                    for b, v in row.items()
                ],
                "edges": sorted(edges),
                "and_out": sorted(
                    [name, b, c, float(v)]
                    for name, node in net.nodes.items()
                    for b, row in node.and_measures_out.items()
                    for c, v in row.items()
                ),
                "and_in": sorted(
                    [name, b, c, float(v)]
                    for name, node in net.nodes.items()
                    for b, row in node.and_measures_in.items()
                    for c, v in row.items()
                ),
            }
        )
    return {"pm4py": pm4py.__version__, "runs": runs}


if __name__ == "__main__":
    print(json.dumps(mine(json.loads(Path(sys.argv[1]).read_text()))))
