"""National batch analyses on Dask (issue 16): wall time with 1 and 2 workers, and the serial
in-process loop as the peer in the same run.

    .venv/bin/python bench/national.py [--seed 1] [--workers 1 2] [--region CODE]
                                       [--analysis centrality --analysis coverage ...]

An embedded store in a temporary folder gets the register extract (``seed/register``: 20
counties of 4 provinces, 5,375 villages) and the generated network of every county in it
(``load_divisions`` + ``generate_into``, one seed), as ``graph-service load-divisions`` /
``graph-service generate`` would write them. The whole generated national network (~2 M
nodes, 6 M links) does not fit the embedded store on this shared machine (BENCHMARKS.md,
"A generated national network"); this extract is what runs here, and the national figure
is an extrapolation from it.

Then, for every county of ``--region`` (default: all of the store), the four batch analyses
of ``services.national`` (centrality set, coverage, rule check, assignment for the weak
villages), public audience:

- ``serial``: the peer. One process, one store, the counties one after another through the
  same function the Dask task runs (``national._county_answers``), nothing written;
- ``dask-N``: ``run_national`` on a ``LocalCluster`` of N worker processes (one thread
  each), answers written back as records. Cluster start (process spawn and imports) is
  timed apart from the run; the run includes each worker opening the store (reading the
  whole graph) on its first task, and the writes.

Results go to ``bench/results/national.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.services import national  # noqa: E402
from graph_service.services.divisions import load_divisions  # noqa: E402
from graph_service.services.national import BatchPlan, run_national  # noqa: E402
from graph_service.services.stored_analyses import STORED_ANALYSES  # noqa: E402
from graph_service.services.synthetic.into_store import generate_into  # noqa: E402
from graph_service.settings import Settings  # noqa: E402
from graph_service.store.embedded import EmbeddedGraphStore  # noqa: E402

REGISTER = ROOT / "seed" / "register"
RESULTS = ROOT / "bench" / "results" / "national.json"
#: County-level divisions of the country, for the extrapolation only: about 2,840 in the
#: official counts of recent years (approximate; the register's areas.csv has the exact
#: number of the register version, not fetched here).
NATIONAL_COUNTIES = 2844


def extract_counties() -> list[str]:
    lines = (REGISTER / "areas.csv").read_text(encoding="utf-8").splitlines()[1:]
    return sorted(line.split(",", 1)[0] for line in lines if line.strip())


async def build_store(path: Path, codes: list[str], seed: int) -> dict[str, Any]:
    store = EmbeddedGraphStore(path / "graph.sqlite3")
    await store.open()
    try:
        started = time.perf_counter()
        divisions = await load_divisions(store, REGISTER, path / "unused.json", scope=codes)
        generated = await generate_into(store, codes, seed)
        return {
            "counties": len(codes),
            "register_nodes": divisions.nodes,
            "register_links": divisions.links,
            "generated_nodes": generated.nodes,
            "generated_links": generated.links,
            "load_s": round(time.perf_counter() - started, 2),
        }
    finally:
        await store.close()


async def serial(settings: Settings, counties: list[str], plan: BatchPlan) -> dict[str, Any]:
    """The peer: every county in turn in this process, as a task computes it."""
    started, cpu_started = time.perf_counter(), time.process_time()
    worker = await asyncio.to_thread(national._WorkerStore, settings)
    opened = time.perf_counter() - started
    per_county = []
    try:
        for code in counties:
            county_started = time.perf_counter()
            result = await asyncio.to_thread(
                worker.call, national._county_answers(worker, code, plan)
            )
            assert not result.errors, result.errors
            per_county.append(time.perf_counter() - county_started)
    finally:
        await asyncio.to_thread(worker.close)
    seconds = time.perf_counter() - started
    return {
        "mode": "serial",
        "workers": 1,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "store_open_s": round(opened, 2),
        "counties_per_s": round(len(counties) / seconds, 3),
        "county_s_max": round(max(per_county), 2),
        "county_s_median": round(sorted(per_county)[len(per_county) // 2], 2),
    }


async def on_dask(
    settings: Settings, region: str | None, plan: BatchPlan, workers: int
) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    cluster = await asyncio.to_thread(
        LocalCluster,
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
    )
    try:
        client = await asyncio.to_thread(Client, cluster)
        cluster_s = time.perf_counter() - started
        store = EmbeddedGraphStore(settings.embedded_path)
        await store.open()
        try:
            report = await run_national(settings, store, region, plan, workers, client=client)
        finally:
            await store.close()
        await asyncio.to_thread(client.close)
    finally:
        await asyncio.to_thread(cluster.close)
    assert not report.errors, report.errors[:3]
    return {
        "mode": f"dask-{workers}",
        "workers": workers,
        "cluster_start_s": round(cluster_s, 2),
        "seconds": round(report.seconds, 2),
        "with_cluster_start_s": round(report.seconds + cluster_s, 2),
        "counties_per_s": round(report.counties_per_second, 3),
        "task_seconds": round(report.task_seconds, 2),
        "task_cpu_seconds": round(report.task_cpu_seconds, 2),
        "answers_stored": report.answers_stored,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--region", default=None, help="Default: every county of the store.")
    parser.add_argument("--analysis", action="append", choices=STORED_ANALYSES)
    parser.add_argument(
        "--serial-again", action="store_true", help="The peer once more at the end (drift)."
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="Run over this data directory as it is (e.g. the national network of "
        "bench/national_store.py) instead of building the register extract's counties.",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    plan = BatchPlan(analyses=tuple(args.analysis or STORED_ANALYSES))
    folder = args.data or Path(tempfile.mkdtemp(prefix="bench-national-"))
    try:
        if args.data is None:
            data = await build_store(folder, extract_counties(), args.seed)
        else:
            data = {"existing": str(args.data)}
        settings = Settings(data_dir=folder, seed_dir=ROOT / "seed")
        store = EmbeddedGraphStore(settings.embedded_path)
        await store.open()
        counties = await national.plan_counties(store, args.region)
        await store.close()
        runs = [await serial(settings, counties, plan)]
        print(json.dumps(runs[-1]), flush=True)
        for workers in args.workers:
            runs.append(await on_dask(settings, args.region, plan, workers))
            print(json.dumps(runs[-1]), flush=True)
        if args.serial_again:
            runs.append({**await serial(settings, counties, plan), "mode": "serial-again"})
            print(json.dumps(runs[-1]), flush=True)
        peer = runs[0]["seconds"]
        for run in runs:
            run["ratio_to_serial"] = round(run["seconds"] / peer, 3)
        best = min(runs, key=lambda r: r["seconds"])
        dask_cpu = [r["task_cpu_seconds"] for r in runs if "task_cpu_seconds" in r]
        cpu_per_county = min(dask_cpu or [runs[0]["cpu_seconds"]]) / len(counties)
        result = {
            "command": " ".join([".venv/bin/python", "bench/national.py", *sys.argv[1:]]),
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_avg_at_end": os.getloadavg(),
            },
            "data": data,
            "region": args.region,
            "counties": len(counties),
            "analyses": list(plan.analyses),
            "runs": runs,
            "extrapolation": {
                "national_counties": NATIONAL_COUNTIES,
                # CPU moves much less with the machine's load than wall time does.
                "cpu_s_per_county": round(cpu_per_county, 3),
                "national_cpu_hours": round(NATIONAL_COUNTIES * cpu_per_county / 3600, 2),
                "best_mode": best["mode"],
                "national_hours_at_best_rate": round(
                    NATIONAL_COUNTIES / best["counties_per_s"] / 3600, 2
                ),
                "note": "an extrapolation from the extract's counties/s; not measured",
            },
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        if args.data is None:  # never a directory the caller named
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
