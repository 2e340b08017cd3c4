"""The benchmark suite: one command, a table on stdout and a JSON file.

    .venv/bin/python bench/run.py [--neo4j-uri bolt://127.0.0.1:7687] [--repeat 200]

Measures, on the seed graph, for each store (embedded always; Neo4j when a URI is given):

- seed load time into the store (one atomic batch);
- 2-hop neighbourhood latency in process (through the store) and through HTTP (a real uvicorn
  server on 127.0.0.1, one keep-alive client), p50/p95/p99;
- search latency through HTTP;
- the peer in the same run: a bare endpoint (``/healthz``) over the same HTTP client, so the
  HTTP figures read as a ratio to what the stack itself costs.

Results go to ``bench/results/latest.json``; ``BENCHMARKS.md`` quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.services.loading import load_seed  # noqa: E402
from graph_service.settings import Settings  # noqa: E402
from graph_service.store.factory import create_store  # noqa: E402
from graph_service.store.protocol import GraphStore, NeighbourhoodQuery, NodeQuery  # noqa: E402


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "n": len(ordered),
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "mean": round(statistics.fmean(ordered), 3),
    }


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def sample_centres(store: GraphStore, count: int, rng: random.Random) -> list[str]:
    """Organizations and a random spread of villages and towns: the nodes planners open."""
    orgs = await store.list_nodes(NodeQuery(labels=["PartyOrganization", "Enterprise"]), None, 1000)
    ids = [n["id"] for n in orgs.items]
    # Villages and towns from several provinces (pages start at random codes).
    for prefix in rng.sample(["11", "13", "21", "33", "37", "44", "51", "62", "65"], 4):
        for label in ("Village", "Region"):
            page = await store.list_nodes(NodeQuery(labels=[label], region_code=prefix), None, 200)
            ids += rng.sample([n["id"] for n in page.items], min(25, len(page.items)))
    return [rng.choice(ids) for _ in range(count)]


async def bench_store(
    settings: Settings, repeat: int, rng: random.Random, existing: bool
) -> dict[str, Any]:
    started = time.perf_counter()
    store = create_store(settings)
    await store.open()
    open_s = time.perf_counter() - started
    load_s = None
    if not existing:
        if hasattr(store, "wipe"):
            await store.wipe()
        started = time.perf_counter()
        await load_seed(store, settings.seed_dir)
        load_s = round(time.perf_counter() - started, 3)
    stats = await store.stats()
    centres = await sample_centres(store, repeat, rng)
    for centre in centres[:20]:  # warm-up
        await store.neighbourhood(NeighbourhoodQuery(centre, depth=2, limit=1000))
    samples, sizes = [], []
    for centre in centres:
        t0 = time.perf_counter()
        sub = await store.neighbourhood(NeighbourhoodQuery(centre, depth=2, limit=1000))
        samples.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(sub.nodes))
    await store.close()
    return {
        "nodes": sum(stats.nodes_by_label.values()),
        "links": sum(stats.links_by_type.values()),
        "open_s": round(open_s, 3),
        "seed_load_s": load_s,
        "two_hop_in_process_ms": percentiles(samples),
        "two_hop_nodes_median": statistics.median(sizes),
        "centres": centres,
    }


def server_command(port: int) -> list[str]:
    """The service under a real uvicorn on 127.0.0.1:``port`` (settings from the env)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "graph_service.api.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def bench_http(settings_env: dict[str, str], centres: list[str], repeat: int) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, **settings_env}
    server = subprocess.Popen(
        server_command(port),
        env=env,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not become ready")
                time.sleep(0.2)

            def timed(path: str, params: dict[str, Any] | None = None) -> float:
                t0 = time.perf_counter()
                response = client.get(path, params=params)
                elapsed = (time.perf_counter() - t0) * 1000
                response.raise_for_status()
                return elapsed

            for centre in centres[:20]:
                timed(f"/v1/nodes/{centre}/neighbourhood", {"depth": 2, "limit": 1000})
            bare = [timed("/healthz") for _ in range(repeat)]
            two_hop = [
                timed(f"/v1/nodes/{c}/neighbourhood", {"depth": 2, "limit": 1000}) for c in centres
            ]
            words = ["台头", "红色硒谷", "党建联合体", "合作社", "平原", "龙泉镇", "苹果", "村"]
            search = [timed("/v1/search", {"q": words[i % len(words)]}) for i in range(repeat)]
            rss_kb = _rss_kb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result: dict[str, Any] = {"server_rss_mb": round(rss_kb / 1024, 1)}
    result |= {
        "bare_endpoint_ms": percentiles(bare),
        "two_hop_http_ms": percentiles(two_hop),
        "search_http_ms": percentiles(search),
    }
    result["two_hop_http_p50_over_bare_p50"] = round(
        result["two_hop_http_ms"]["p50"] / result["bare_endpoint_ms"]["p50"], 2
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--neo4j-uri", default=os.environ.get("NEO4J_URI"))
    parser.add_argument(
        "--neo4j-password", default=os.environ.get("NEO4J_PASSWORD", "graph-service-test")
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument(
        "--existing-data",
        type=Path,
        help="Measure an embedded store already loaded here (and the Neo4j database as it "
        "is) instead of loading the seed graph, e.g. after `graph-service load-divisions`.",
    )
    args = parser.parse_args()
    rng = random.Random(20261122)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "stores": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="graph-bench-"))
    try:
        data = args.existing_data or tmp / "data"
        configs = {"embedded": {"GRAPH_SERVICE_DATA_DIR": str(data)}}
        if args.neo4j_uri:
            configs["neo4j"] = {
                "NEO4J_URI": args.neo4j_uri,
                "NEO4J_PASSWORD": args.neo4j_password,
                "GRAPH_SERVICE_DATA_DIR": str(tmp / "unused"),
            }
        for name, env in configs.items():
            settings = Settings(
                data_dir=Path(env["GRAPH_SERVICE_DATA_DIR"]),
                NEO4J_URI=env.get("NEO4J_URI"),
                NEO4J_PASSWORD=env.get("NEO4J_PASSWORD", ""),
            )
            existing = args.existing_data is not None
            store_result = asyncio.run(bench_store(settings, args.repeat, rng, existing))
            centres = store_result.pop("centres")
            store_result.update(bench_http(env, centres, args.repeat))
            results["stores"][name] = store_result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{'store':<10} {'metric':<28} {'p50':>8} {'p95':>8} {'p99':>8}")
    for name, r in results["stores"].items():
        print(f"{name:<10} {'nodes / links':<28} {r['nodes']:>8} {r['links']:>8}")
        print(
            f"{name:<10} {'open (s) / seed load (s)':<28} {r['open_s']:>8} {r['seed_load_s']!s:>8}"
        )
        for metric in (
            "two_hop_in_process_ms",
            "two_hop_http_ms",
            "search_http_ms",
            "bare_endpoint_ms",
        ):
            m = r[metric]
            print(f"{name:<10} {metric:<28} {m['p50']:>8} {m['p95']:>8} {m['p99']:>8}")
        print(f"{name:<10} {'2-hop nodes (median)':<28} {r['two_hop_nodes_median']:>8}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
