"""Regenerates tests/data/xes/expected_pm4py.json: pm4py's answers on the XES fixtures.

pm4py (AGPL, heavy) is not a Flowdesk dependency; it is the oracle the mining tests compare
with. Run it where pm4py is installed (the git-ignored benchmark venv):

    .bench-venv/bin/python tests/analytics/pm4py_oracle.py

`--log FILE` and `--ocel FILE` print pm4py's reading of one file as JSON (the tests call this
when a Python with pm4py is at hand).

test_pm4py_equality.py checks Flowdesk against the committed answers on every test run, and
against pm4py itself when the running Python has it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "xes"
FIXTURES = ("refunds.xes", "refunds.xes.gz", "lifecycle.xes", "generated.xes.gz")


def _pm4py() -> Any:
    import pm4py  # type: ignore[import-not-found]

    return pm4py


def answers(df: Any) -> dict[str, Any]:
    """DFG, start/end activities and variants of a pm4py dataframe, as sorted JSON data."""
    pm4py = _pm4py()

    dfg, starts, ends = pm4py.discover_dfg(df)
    variants = pm4py.get_variants(df)
    return {
        "dfg": sorted([a, b, int(n)] for (a, b), n in dfg.items()),
        "start": dict(sorted((k, int(v)) for k, v in starts.items())),
        "end": dict(sorted((k, int(v)) for k, v in ends.items())),
        "variants": sorted(
            [list(k), len(v) if isinstance(v, list) else int(v)] for k, v in variants.items()
        ),
        "events": len(df),
    }


def log_answers(path: Path) -> dict[str, Any]:
    pm4py = _pm4py()

    df = pm4py.read_xes(str(path))
    entry = {"all": answers(df)}
    if "lifecycle:transition" in df.columns:
        entry["complete"] = answers(df[df["lifecycle:transition"] == "complete"])
    return entry


def ocel_summary(path: Path) -> dict[str, Any]:
    """What pm4py reads from an OCEL 2.0 JSON file: counts of events, objects and relations."""
    pm4py = _pm4py()

    ocel = pm4py.read_ocel2_json(str(path))
    return {
        "events": len(ocel.events),
        "objects": len(ocel.objects),
        "relations": len(ocel.relations),
        "o2o": len(ocel.o2o),
        "activities": sorted(set(ocel.events["ocel:activity"])),
        "object_types": sorted(set(ocel.objects["ocel:type"])),
    }


def main(argv: list[str]) -> None:
    """No arguments: rewrite the committed answers. `--log FILE` / `--ocel FILE`: print JSON."""
    pm4py = _pm4py()

    if argv[:1] == ["--log"]:
        print(json.dumps(log_answers(Path(argv[1]))))
        return
    if argv[:1] == ["--ocel"]:
        print(json.dumps(ocel_summary(Path(argv[1]))))
        return
    expected: dict[str, Any] = {"pm4py": pm4py.__version__, "logs": {}}
    for name in FIXTURES:
        expected["logs"][name] = log_answers(DATA / name)
    (DATA / "expected_pm4py.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
