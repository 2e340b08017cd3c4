"""Is the server responsive while heavy analyses run? ``/healthz`` latency during concurrent
centralities, and the thread-vs-process measurement behind the worker pool.

    .venv/bin/python bench/healthz.py server [--checkout DIR] [--label NAME] [--runs 3]
    .venv/bin/python bench/healthz.py pools [--runs 3]

``server``: starts ``graph-service serve`` (with any ``--setting name=value``) from
``--checkout`` (default: this one; give an
unpacked older commit to measure "before", e.g. ``git archive e3fae35 | tar -x -C /tmp/base``)
on the seed graph, then per run: four concurrent
``GET /v1/analysis/centrality?scope=all&include_structural=true&exact_max=200000`` with an
admin key (each with its own ``seed``, so that nothing is shared or cached: four exact
centralities of 5,936 nodes) and, in a fifth client, ``GET /healthz`` every 20 ms until they
are done; then the same with four anonymous requests at the cap below admin
(``exact_max=5000``, sampled betweenness on this graph). Reports healthz p50/p90/p99/max and
the analyses' times. The server's time budget is raised to 120 s so that every analysis
finishes (the point is the server's responsiveness, not the budget).

``pools``: in one process, the seed graph's whole scope with its structural links; four
exact centrality sets run on a pool of two threads (with Python's default switch interval
of 5 ms, then 1 ms), then on a pool of two processes (the graph pickled to them, as a
process pool must), while the event loop measures its own delay (an ``asyncio.sleep(0.01)``
that oversleeps by the delay). Reports the loop delays, the total time and the pickling
cost.

Results go to ``bench/results/healthz-<label>.json`` (``server``) and
``bench/results/healthz-pools.json``; ``BENCHMARKS.md`` quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import pickle
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HEAVY = "/v1/analysis/centrality"
ADMIN_KEY = "bench-admin-key"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "n": len(ordered),
        "p50": pick(0.50),
        "p90": pick(0.90),
        "p99": pick(0.99),
        "max": round(ordered[-1], 1),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ------------------------------------------------------------------------------ server


def _start(
    checkout: Path, data: Path, port: int, log: Path, settings: list[str]
) -> subprocess.Popen[bytes]:
    sys.path.insert(0, str(ROOT))
    from graph_service.settings import hash_api_key

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPH_SERVICE_", "NEO4J_"))}
    env.update(
        PYTHONPATH=str(checkout),
        GRAPH_SERVICE_DATA_DIR=str(data),
        GRAPH_SERVICE_SEED_DIR=str(ROOT / "seed"),
        GRAPH_SERVICE_API_KEY_HASHES=json.dumps([f"bench={hash_api_key(ADMIN_KEY)}"]),
        GRAPH_SERVICE_REQUEST_BUDGET_SECONDS="120",
    )
    for setting in settings:
        name, _, value = setting.partition("=")
        env[f"GRAPH_SERVICE_{name.upper()}"] = value
    code = (
        "import sys; from graph_service.cli import main; "
        f"sys.argv = ['graph-service', 'serve', '--seed', '--port', '{port}']; main()"
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code], cwd=data.parent, env=env, stdout=out, stderr=out
        )


async def _ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server stopped")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def _one_run(
    client: httpx.AsyncClient, params: list[dict[str, Any]], headers: dict[str, str]
) -> dict[str, Any]:
    probes: list[float] = []
    heavy: list[float] = []
    statuses: list[int] = []

    async def analysis(query: dict[str, Any]) -> None:
        started = time.perf_counter()
        response = await client.get(HEAVY, params=query, headers=headers, timeout=300)
        heavy.append((time.perf_counter() - started) * 1000)
        statuses.append(response.status_code)

    tasks = [asyncio.create_task(analysis(q)) for q in params]
    await asyncio.sleep(0.05)  # the analyses are under way
    while not all(t.done() for t in tasks):
        started = time.perf_counter()
        response = await client.get("/healthz", timeout=60)
        probes.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    return {"healthz_ms": probes, "analysis_ms": heavy, "statuses": statuses}


async def _server(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="healthz-bench-"))
    port = _free_port()
    checkout = Path(args.checkout).resolve()
    process = _start(checkout, work / "data", port, work / "server.log", args.setting)
    # One connection per client: the probe never waits behind an analysis on a connection.
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    scenarios: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as c:
            await _ready(c, process)
            idle = []
            for _ in range(50):
                started = time.perf_counter()
                await c.get("/healthz")
                idle.append((time.perf_counter() - started) * 1000)
            scenarios["idle"] = {"healthz": percentiles(idle)}
            base = {"scope": "all", "include_structural": "true"}
            plans = {
                "admin_exact_max_200000": (
                    [{**base, "exact_max": 200_000} for _ in range(4)],
                    {"X-API-Key": ADMIN_KEY},
                ),
                "anonymous_exact_max_5000": ([{**base, "exact_max": 5000} for _ in range(4)], {}),
            }
            for name, (queries, headers) in plans.items():
                probes: list[float] = []
                heavy: list[float] = []
                statuses: list[int] = []
                for run in range(args.runs):
                    seeded = [{**q, "seed": 1000 * run + i} for i, q in enumerate(queries)]
                    found = await _one_run(c, seeded, headers)
                    probes += found["healthz_ms"]
                    heavy += found["analysis_ms"]
                    statuses += found["statuses"]
                scenarios[name] = {
                    "healthz": percentiles(probes),
                    "analysis": percentiles(heavy),
                    "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                }
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(work, ignore_errors=True)
    return scenarios


# ------------------------------------------------------------------------------ pools


def _centrality(simple: nx.Graph, seed: int) -> int:
    from graph_service.analysis import centrality

    report = centrality.centrality_set(simple, top=20, exact_max=200_000, seed=seed)
    return report.nodes


def _pickled_centrality(payload: bytes, seed: int) -> int:
    return _centrality(pickle.loads(payload), seed)  # noqa: S301 (our own bytes)


async def _loop_delays(executor: Executor, jobs: list[tuple[Any, ...]]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    futures = [loop.run_in_executor(executor, *job) for job in jobs]
    delays = []
    while not all(f.done() for f in futures):
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        delays.append((time.perf_counter() - before - 0.01) * 1000)
    await asyncio.gather(*futures)
    return {"loop_delay_ms": delays, "total_s": time.perf_counter() - started}


async def _pools(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from graph_service.analysis.graphs import collapse
    from graph_service.schema import LINK_TYPES
    from graph_service.services.loading import load_seed
    from graph_service.store.embedded import EmbeddedGraphStore
    from graph_service.store.protocol import Scope

    work = Path(tempfile.mkdtemp(prefix="pools-bench-"))
    try:
        store = EmbeddedGraphStore(work / "graph.sqlite3")
        await store.open()
        await load_seed(store, ROOT / "seed")
        graph = await store.export_graph(
            Scope(link_types=list(LINK_TYPES), include_structural=True)
        )
        await store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    simple = collapse(graph)
    started = time.perf_counter()
    payload = pickle.dumps(simple)
    pickled_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    pickle.loads(payload)  # noqa: S301 (our own bytes)
    unpickled_ms = (time.perf_counter() - started) * 1000
    found: dict[str, Any] = {
        "graph": {"nodes": simple.number_of_nodes(), "edges": simple.number_of_edges()},
        "pickle_ms": round(pickled_ms, 1),
        "unpickle_ms": round(unpickled_ms, 1),
        "pickle_bytes": len(payload),
    }
    context = multiprocessing.get_context("forkserver")
    default_interval = sys.getswitchinterval()
    for name in ("threads", "threads_switch_1ms", "processes"):
        delays: list[float] = []
        totals: list[float] = []
        sys.setswitchinterval(0.001 if name == "threads_switch_1ms" else default_interval)
        for run in range(args.runs):
            executor: Executor
            if name.startswith("threads"):
                executor = ThreadPoolExecutor(2)
                jobs = [(_centrality, simple, 4 * run + i) for i in range(4)]
            else:
                executor = ProcessPoolExecutor(2, mp_context=context)
                await asyncio.get_running_loop().run_in_executor(executor, abs, 1)  # started
                # What a process pool must do per call: pickle the graph in this process.
                jobs = [(_pickled_centrality, pickle.dumps(simple), 4 * run + i) for i in range(4)]
            measured = await _loop_delays(executor, jobs)
            executor.shutdown()
            delays += measured["loop_delay_ms"]
            totals.append(measured["total_s"])
        found[name] = {
            "loop_delay": percentiles(delays),
            "four_analyses_s": round(statistics.median(totals), 2),
        }
    sys.setswitchinterval(default_interval)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("server", "pools"))
    parser.add_argument("--checkout", default=str(ROOT), help="The code to serve (server).")
    parser.add_argument("--label", default="head", help="Names the result file (server).")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="A setting of the server (work_thread_nice=0 is GRAPH_SERVICE_WORK_THREAD_NICE=0).",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    if args.mode == "server":
        result = asyncio.run(_server(args))
        out = RESULTS / f"healthz-{args.label}.json"
    else:
        result = asyncio.run(_pools(args))
        out = RESULTS / "healthz-pools.json"
    result = {
        "mode": args.mode,
        "label": args.label,
        "runs": args.runs,
        "settings": args.setting,
        "cpus": os.cpu_count(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        **result,
    }
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
