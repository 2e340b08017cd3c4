"""The embedded store at national scale: memory, load and reopen times (issue 16).

    .venv/bin/python bench/national_store.py --data /tmp/nat-lean [--seed 42] [--skip-load]
        [--out bench/results/national-store.json]

Steps, each a separate process so its peak RSS is its own (``ru_maxrss`` of the child):

1. ``graph-service load-divisions`` into an empty data directory (the register: 665k regions
   and villages, 665k containment links);
2. ``graph-service generate`` over every province (the generator's national size, seed 42);
3. a fresh process opens the store (the server's start-up) and reports the open time and its
   RSS after open, after 300 two-hop neighbourhoods and searches; the in-process latency of
   the same 2-hop queries and, as the peer, a point read of one node (``get_nodes``).

HTTP latency over the same data: ``bench/run.py --existing-data DIR`` (it measures 2-hop in
process and over HTTP against the bare endpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

_PROBE = r"""
import asyncio, json, random, resource, statistics, sys, time
from graph_service.store.embedded import EmbeddedGraphStore
from graph_service.store.protocol import NeighbourhoodQuery, NodeQuery

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

def pct(samples, q):
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

async def main(path, repeat):
    store = EmbeddedGraphStore(path)
    started = time.perf_counter()
    await store.open()
    opened = time.perf_counter() - started
    after_open = rss_mb()
    stats = await store.stats()
    rng = random.Random(1)
    centres = []
    for label in ("Village", "Enterprise", "PartyOrganization", "Institution", "Region"):
        page = await store.list_nodes(NodeQuery(labels=(label,)), None, 2000)
        ids = [n["id"] for n in page.items]
        centres += rng.sample(ids, min(len(ids), repeat // 5))
    rng.shuffle(centres)
    hop, point, sizes = [], [], []
    for node_id in centres:
        t = time.perf_counter()
        sub = await store.neighbourhood(NeighbourhoodQuery(node_id=node_id, depth=2, limit=200))
        hop.append(time.perf_counter() - t)
        sizes.append(len(sub.nodes))
        t = time.perf_counter()
        await store.get_nodes([node_id])
        point.append(time.perf_counter() - t)
    searches = []
    for text in ("村", "社区", "合作社", "李家村", "平原县", "王杲铺"):
        t = time.perf_counter()
        await store.search(text, limit=20)
        searches.append((text, round((time.perf_counter() - t) * 1000, 2)))
    print(json.dumps({
        "open_s": round(opened, 2),
        "rss_after_open_mb": round(after_open, 1),
        "rss_after_queries_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "nodes": sum(stats.nodes_by_label.values()),
        "links": sum(stats.links_by_type.values()),
        "two_hop_ms": {"p50": pct(hop, 0.5), "p95": pct(hop, 0.95), "p99": pct(hop, 0.99)},
        "point_read_ms": {"p50": pct(point, 0.5), "p95": pct(point, 0.95)},
        "two_hop_nodes_median": statistics.median(sizes),
        "queries": len(centres),
        "search_ms": searches,
    }))
    await store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def _child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_cli(args: list[str], data: Path) -> dict[str, Any]:
    """One CLI command in its own process; its wall time, peak RSS and last output line."""
    env = {**os.environ, "GRAPH_SERVICE_DATA_DIR": str(data), "COLUMNS": "200"}
    before = _child_peak_mb()
    started = time.perf_counter()
    done = subprocess.run(
        [str(VENV_BIN / "graph-service"), *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    # ru_maxrss of children is the largest child so far: a new maximum is this one's.
    peak = _child_peak_mb()
    return {
        "command": " ".join(args[:1]),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak, 1) if peak > before else f"<= {before:.0f}",
        "said": lines[-1] if lines else "",
    }


def provinces(data: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(data / "graph.sqlite3") as conn:
        rows = conn.execute(
            "SELECT region_code FROM nodes WHERE label = 'Region' AND length(region_code) = 2"
        ).fetchall()
    return sorted(code for (code,) in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--skip-load", action="store_true", help="Measure the data as it is.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/national-store.json")
    args = parser.parse_args()
    result: dict[str, Any] = {"data": str(args.data), "steps": []}
    if not args.skip_load:
        args.data.mkdir(parents=True, exist_ok=True)
        result["steps"].append(run_cli(["load-divisions"], args.data))
        print(result["steps"][-1], flush=True)
        codes = provinces(args.data)
        regions = [item for code in codes for item in ("--region", code)]
        result["steps"].append(run_cli(["generate", *regions, "--seed", str(args.seed)], args.data))
        print(result["steps"][-1], flush=True)
    before = _child_peak_mb()
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(args.data / "graph.sqlite3"), str(args.repeat)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if probe.returncode != 0:
        raise SystemExit(probe.stderr[-3000:])
    result["open"] = json.loads(probe.stdout.strip().splitlines()[-1])
    result["open"]["child_peak_rss_mb"] = round(max(_child_peak_mb(), before), 1)
    result["sqlite_mb"] = round((args.data / "graph.sqlite3").stat().st_size / 2**20, 1)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
