"""Peak memory of mining an XES log: streamed into Parquet and mined with Polars' streaming
engine (`flowdesk mine FILE --parquet DIR`) against the in-memory import (`flowdesk mine FILE`).

Writes a seeded gzip XES log of N events (the refund/complaint cases of benchmarks/mining.py,
written case chunk by case chunk so the generator itself stays small), then runs each way in a
fresh subprocess that reports its own peak RSS (VmHWM) and CPU seconds. The in-memory way
is skipped above `--memory-limit` events (it needs several GB at 10 M). No peer: pm4py has no
bounded-memory import to compare with (its read_xes holds a pandas frame of the whole log).

    python benchmarks/mining_memory.py [--quick] [--events N] [--xes PATH] [--keep]

`--xes PATH` reuses (or, when missing, writes) the log there, e.g. a 10 M-event log under
/tmp generated once. Ends with ONE JSON line of figures.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 200_000


def write_log(path: Path, events: int, seed: int) -> int:
    """A gzip XES log of about `events` events, written chunk by chunk; the events written."""
    import polars as pl

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from flowdesk.analytics import export
    from flowdesk.analytics.log import EventLog
    from mining import generate  # type: ignore[import-not-found]

    written = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        out.write(export._HEADER)
        chunk = 0
        while written < events:
            cols = generate(min(CHUNK, events - written), seed + chunk)
            cols["case"] = [f"{chunk:04d}-{case}" for case in cols["case"]]
            log = EventLog.from_frame(pl.DataFrame(cols))
            buffer = io.StringIO()
            export.write_xes_text(log, buffer)
            text = buffer.getvalue()
            out.write(text[len(export._HEADER) : len(text) - len(export._FOOTER)])
            written += log.event_count
            chunk += 1
        out.write(export._FOOTER)
    return written


def child(mode: str, xes: str, target: str) -> None:
    """One way of mining, in this (fresh) process; prints its figures and peak RSS."""
    c0, t0 = time.process_time(), time.perf_counter()
    if mode == "columnar":
        from flowdesk.analytics.columnar import import_xes, mining_figures, scan_events

        import_xes(xes, target)
        report = mining_figures(scan_events([target]), source=xes)
    else:
        from flowdesk.analytics.xes import read_xes
        from flowdesk.cli.mine import mining_report

        report = mining_report(read_xes(xes), source=xes)
    peak_kib = _peak_kib()
    print(
        json.dumps(
            {
                "peak_rss_mb": round(peak_kib / 1024, 1),
                "cpu_s": round(time.process_time() - c0, 2),
                "wall_s": round(time.perf_counter() - t0, 2),
                "events": report["events"],
                "cases": report["cases"],
                "variants": report["variant_count"],
                "edges": sorted([e["from"], e["to"], e["count"]] for e in report["edges"]),
            }
        )
    )


def _peak_kib() -> int:
    """This process's peak resident set: VmHWM (reset by exec, unlike ru_maxrss, which a child
    inherits from the parent it was forked from)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(mode: str, xes: Path, target: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(xes), str(target)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k events, under 30 s")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--xes", type=Path, default=None, help="reuse or write the log here")
    parser.add_argument("--memory-limit", type=int, default=2_000_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    events = args.events or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="flowdesk-mining-memory-") as tmp:
        xes = args.xes or Path(tmp) / "log.xes.gz"
        generate_s = 0.0
        if not xes.exists():
            t0 = time.perf_counter()
            write_log(xes, events, args.seed)
            generate_s = time.perf_counter() - t0
        columnar = run_child("columnar", xes, Path(tmp) / "parquet")
        print(
            f"streamed to Parquet: {columnar['events']:,} events, peak {columnar['peak_rss_mb']} MB"
        )
        memory = None
        if columnar["events"] <= args.memory_limit:
            memory = run_child("memory", xes, Path(tmp) / "unused")
            print(f"in memory:           peak {memory['peak_rss_mb']} MB")
        figures: dict[str, Any] = {
            "benchmark": "mining_memory",
            "events": columnar["events"],
            "cases": columnar["cases"],
            "variants": columnar["variants"],
            "xes_gz_mb": round(xes.stat().st_size / 1e6, 1),
            "generate_s": round(generate_s, 1),
            "columnar_peak_rss_mb": columnar["peak_rss_mb"],
            "columnar_cpu_s": columnar["cpu_s"],
            "columnar_wall_s": columnar["wall_s"],
            "memory_peak_rss_mb": memory["peak_rss_mb"] if memory else None,
            "memory_cpu_s": memory["cpu_s"] if memory else None,
            "same_counts": None
            if memory is None
            else all(columnar[k] == memory[k] for k in ("events", "cases", "variants", "edges")),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
