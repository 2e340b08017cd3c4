"""Pairing recommendations (issue 6): ranked partners and region-wide assignment.

    .venv/bin/python bench/recommend.py [--seed 1] [--county 370302] [--region 6208]
                                        [--size 1000] [--assign-repeat 3] [--cold-restarts 2]

An embedded store in a temporary folder gets the register extract (``seed/register``) of the
county and the region and the generated network of both (``generate_into``, one seed), as
``graph-service load-divisions`` / ``graph-service generate`` would write them. Then:

- in process, through the store and the service objects the routes call: the scope export
  and ``RecommenderIndex.build`` of the county and the region, ``RecommendationService``
  partners (cold and warm) and assignment, ``plan_region`` on a prebuilt index and
  ``assign`` alone (the arguments ``plan_region`` passes it, captured);
- through HTTP (a real uvicorn server on 127.0.0.1, one keep-alive client, as
  ``bench/run.py``): ``GET /v1/recommendations/partners?target=…&top=10`` for every village
  of the county, cold and warm; ``POST /v1/recommendations/assignment`` with 1,000 villages
  and 1,000 helpers of the region, k=1/m=1 and k=2/m=2, cold and warm. Cold is the first
  request after a restart once ``/readyz`` says ready (the server warms the county's and the
  region's indexes first, issue 16; a server without the warm-up is the peer), the first
  after a write elsewhere (the province's node written back: the indexes are carried over)
  and after a write inside the scope (an alias added to one of its villages: the warm-up
  rebuilds the index in the background; right after the write, and once it is rebuilt);
- the peers in the same run: a bare endpoint (``/healthz``) over the same client, and the
  same plan computed in process (checked equal to the HTTP one).

Results go to ``bench/results/recommend.json``; ``BENCHMARKS.md`` quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import _rss_kb, free_port, percentiles, server_command  # noqa: E402
from graph_service.analysis import assignment  # noqa: E402
from graph_service.analysis.recommend import RecommenderIndex  # noqa: E402
from graph_service.models import AssignmentIn  # noqa: E402
from graph_service.services.analysis_scope import AnalysisScope, ScopedGraphs  # noqa: E402
from graph_service.services.divisions import load_divisions  # noqa: E402
from graph_service.services.recommendations import RecommendationService  # noqa: E402
from graph_service.services.synthetic.into_store import generate_into  # noqa: E402
from graph_service.services.view import GraphViews  # noqa: E402
from graph_service.settings import hash_api_key  # noqa: E402
from graph_service.store.embedded import EmbeddedGraphStore  # noqa: E402
from graph_service.visibility import Caller  # noqa: E402

#: The benchmark reads as a key holder does (the full view).
OPERATOR = Caller(authenticated=True, name="bench")

SETTINGS = {"k1_m1": (1, 1), "k2_m2": (2, 2)}
TOP_CANDIDATES = 50


def scope_of(code: str) -> AnalysisScope:
    """The scope the recommendation service exports for a region (see ``_index``)."""
    return AnalysisScope("region", code, 2, (), True, None)


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class Clock:
    """Wall-clock and CPU milliseconds of this process over a ``with`` block (the machine is
    shared: CPU time moves much less with other jobs than wall-clock time does)."""

    def __enter__(self) -> Clock:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms = ms_since(self.started)
        self.cpu_ms = (time.process_time() - self.cpu_started) * 1000


def summary(samples_ms: list[float]) -> dict[str, float]:
    """Median, min and max of a few slow samples (percentiles of 5 mean nothing)."""
    return {
        "n": len(samples_ms),
        "median": round(statistics.median(samples_ms), 1),
        "min": round(min(samples_ms), 1),
        "max": round(max(samples_ms), 1),
    }


# ------------------------------------------------------------------------------ data


async def build_store(path: Path, codes: list[str], seed: int, register: Path) -> dict[str, Any]:
    store = EmbeddedGraphStore(path / "graph.sqlite3")
    await store.open()
    try:
        started = time.perf_counter()
        divisions = await load_divisions(store, register, path / "unused.json", scope=codes)
        generated = await generate_into(store, codes, seed)
        return {
            "register_nodes": divisions.nodes,
            "register_links": divisions.links,
            "generated_nodes": generated.nodes,
            "generated_links": generated.links,
            "generated_nodes_by_label": generated.nodes_by_label,
            "load_s": round(time.perf_counter() - started, 2),
        }
    finally:
        await store.close()


def describe_index(index: RecommenderIndex) -> dict[str, Any]:
    labels = Counter(index.labels)
    weak = sum(1 for i in range(len(index)) if index.labels[i] == "Village" and index.weak[i])
    return {"candidates": len(index), "by_label": dict(labels), "weak_villages": weak}


def choose_assignment(index: RecommenderIndex, size: int, rng: random.Random) -> dict[str, Any]:
    """``size`` villages (every weak one, then non-weak ones at random) and ``size`` helpers
    drawn at random from the enterprises, institutions and the other non-weak villages."""
    villages = [c for i, c in enumerate(index.ids) if index.labels[i] == "Village"]
    weak = sorted(c for c in villages if index.weak[index.position[c]])
    strong = sorted(set(villages) - set(weak))
    if len(weak) >= size:
        chosen = sorted(rng.sample(weak, size))
    else:
        chosen = sorted(weak + rng.sample(strong, size - len(weak)))
    taken = set(chosen)
    pool = sorted(
        [c for i, c in enumerate(index.ids) if index.labels[i] in ("Enterprise", "Institution")]
        + [c for c in strong if c not in taken]
    )
    if len(pool) < size:
        raise SystemExit(f"only {len(pool)} helpers besides the {size} villages: pick a region")
    helpers = sorted(rng.sample(pool, size))
    by_label = Counter(index.labels[index.position[h]] for h in helpers)
    return {
        "villages": chosen,
        "helpers": helpers,
        "chosen": {
            "villages_weak": min(len(weak), size),
            "villages_not_weak": size - min(len(weak), size),
            "helpers_by_label": dict(by_label),
            "helper_pool": len(pool),
        },
    }


def assignment_body(region: str, choice: dict[str, Any], k: int, m: int) -> dict[str, Any]:
    return {
        "region": region,
        "villages": choice["villages"],
        "helpers": choice["helpers"],
        "k": k,
        "m": m,
        "top_candidates": TOP_CANDIDATES,
    }


def plan_signature(total_score: float, covered: int, pairs: list[tuple[str, str]]) -> str:
    return json.dumps([round(total_score, 6), covered, sorted(pairs)])


@contextlib.contextmanager
def capture_assign(calls: list[dict[str, Any]]) -> Iterator[None]:
    """Time ``assignment.assign`` inside ``plan_region``; keep the first call's arguments
    (only those: what the benchmark keeps alive slows the collector in what it measures)."""
    original = assignment.assign

    def timed_assign(*args: Any, **kwargs: Any) -> assignment.AssignmentPlan:
        started = time.perf_counter()
        plan = original(*args, **kwargs)
        kept = {"args": args, "kwargs": kwargs} if not calls else {}
        calls.append({"ms": ms_since(started), **kept})
        return plan

    assignment.assign = timed_assign
    try:
        yield
    finally:
        assignment.assign = original


# ------------------------------------------------------------------------------ in process


async def bench_in_process(
    path: Path, county: str, region: str, size: int, repeat: int, rng: random.Random
) -> dict[str, Any]:
    store = EmbeddedGraphStore(path / "graph.sqlite3")
    await store.open()
    out: dict[str, Any] = {}
    try:
        # Scope export and index build, each from a fresh cache (what a cold request pays).
        indexes: dict[str, RecommenderIndex] = {}
        for code in (county, region):
            exports, builds, build_cpu = [], [], []
            for _ in range(3):
                graphs = ScopedGraphs(store)
                with Clock() as clock:
                    graph, _ = await graphs.graph(scope_of(code), GraphViews.FULL)
                exports.append(clock.ms)
                with Clock() as clock:
                    indexes[code] = RecommenderIndex.build(graph)
                builds.append(clock.ms)
                build_cpu.append(clock.cpu_ms)
            out[code] = {
                "scope_nodes": graph.number_of_nodes(),
                "scope_links": graph.number_of_edges(),
                **describe_index(indexes[code]),
                "export_ms": summary(exports),
                "index_build_ms": summary(builds),
                "index_build_cpu_ms": summary(build_cpu),
            }

        # Partners through the service object the route calls: cold, then every village.
        index = indexes[county]
        targets = [c for i, c in enumerate(index.ids) if index.labels[i] == "Village"]
        rng.shuffle(targets)
        cold = []
        for target in targets[:3]:
            service, view = RecommendationService(store), GraphViews(store).view(OPERATOR)
            started = time.perf_counter()
            await service.partners(view, target, 10, (), None, None, None)
            cold.append(ms_since(started))
        service, view = RecommendationService(store), GraphViews(store).view(OPERATOR)
        for target in targets[:20]:
            await service.partners(view, target, 10, (), None, None, None)
        warm, returned = [], []
        with Clock() as total:
            for target in targets:
                started = time.perf_counter()
                result = await service.partners(view, target, 10, (), None, None, None)
                warm.append(ms_since(started))
                returned.append(len(result["candidates"]["items"]))
        out["partners"] = {
            "targets": len(targets),
            "cold_ms": summary(cold),
            "warm_ms": percentiles(warm),
            "warm_cpu_ms_mean": round(total.cpu_ms / len(targets), 2),
            "candidates_returned": {"min": min(returned), "median": statistics.median(returned)},
        }

        # Assignment: the same 1,000 x 1,000 the HTTP requests send.
        choice = choose_assignment(indexes[region], size, rng)
        out["assignment"] = {"chosen": choice["chosen"]}
        for name, (k, m) in SETTINGS.items():
            request = AssignmentIn(**assignment_body(region, choice, k, m))
            service, view = RecommendationService(store), GraphViews(store).view(OPERATOR)
            started = time.perf_counter()
            result = await service.assignment(view, request)
            service_cold = ms_since(started)
            service_warm, service_cpu = [], []
            for _ in range(repeat):
                with Clock() as clock:
                    result = await service.assignment(view, request)
                service_warm.append(clock.ms)
                service_cpu.append(clock.cpu_ms)
            plan_wall, plan_cpu = [], []
            calls: list[dict[str, Any]] = []
            with capture_assign(calls):
                for _ in range(repeat):
                    with Clock() as clock:
                        plan = assignment.plan_region(
                            indexes[region],
                            choice["villages"],
                            choice["helpers"],
                            k=k,
                            m=m,
                            top_candidates=TOP_CANDIDATES,
                        )
                    plan_wall.append(clock.ms)
                    plan_cpu.append(clock.cpu_ms)
            in_plan = [c["ms"] for c in calls]
            alone, alone_cpu = [], []
            for _ in range(repeat):
                with Clock() as clock:
                    assignment.assign(*calls[0]["args"], **calls[0]["kwargs"])
                alone.append(clock.ms)
                alone_cpu.append(clock.cpu_ms)
            out["assignment"][name] = {
                "k": k,
                "m": m,
                "service_cold_ms": round(service_cold, 1),
                "service_warm_ms": summary(service_warm),
                "service_warm_cpu_ms": summary(service_cpu),
                "plan_region_ms": summary(plan_wall),
                "plan_region_cpu_ms": summary(plan_cpu),
                "assign_within_plan_region_ms": summary(in_plan),
                "scoring_ms_median": round(
                    statistics.median(plan_wall) - statistics.median(in_plan), 1
                ),
                "assign_alone_ms": summary(alone),
                "assign_alone_cpu_ms": summary(alone_cpu),
                "villages": plan.villages,
                "helpers": plan.helpers,
                "candidate_pairs": plan.candidate_pairs,
                "pairs": len(plan.pairs),
                "covered": plan.covered,
                "total_score": round(plan.total_score, 6),
                "service_same_as_plan_region": plan_signature(
                    result["total_score"],
                    result["covered"],
                    [(p["helper"]["id"], p["village"]["id"]) for p in result["pairs"]],
                )
                == plan_signature(
                    plan.total_score, plan.covered, [(h, v) for h, v, _ in plan.pairs]
                ),
                "signature": plan_signature(
                    plan.total_score, plan.covered, [(h, v) for h, v, _ in plan.pairs]
                ),
            }
        out["partner_targets"] = targets
        out["choice"] = choice
    finally:
        await store.close()
    return out


# ------------------------------------------------------------------------------ HTTP


class Server:
    """A uvicorn server on 127.0.0.1 over the embedded store in ``data``, one client;
    ``warm``: the regions whose recommender indexes it builds before it is ready (none: the
    warm-up is off, as before issue 16)."""

    def __init__(self, data: Path, warm: list[str] | None = None) -> None:
        self.data = data
        self.warm = warm
        self.key = secrets.token_hex(16)
        self.failures: list[dict[str, Any]] = []
        self.last_cpu_ms = 0.0

    def __enter__(self) -> Server:
        port = free_port()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GRAPH_SERVICE_", "NEO4J_"))
        }
        env["GRAPH_SERVICE_DATA_DIR"] = str(self.data)
        env["GRAPH_SERVICE_API_KEY_HASHES"] = json.dumps([f"bench={hash_api_key(self.key)}"])
        # One client sends every request: the per-client rate limit would answer most
        # with 429; on a shared machine the 5 s budget would answer slow ones with 503.
        env["GRAPH_SERVICE_RATE_LIMIT_ENABLED"] = "false"
        env["GRAPH_SERVICE_REQUEST_BUDGET_SECONDS"] = "120"
        if self.warm is None:
            env["GRAPH_SERVICE_RECOMMEND_WARM_MAX"] = "0"
        else:
            env["GRAPH_SERVICE_RECOMMEND_WARM_REGIONS"] = json.dumps(self.warm)
        # Regions asked for are recorded in the data directory: each server starts afresh.
        (self.data / "recommend_regions.json").unlink(missing_ok=True)
        started = time.perf_counter()
        self.process = subprocess.Popen(
            server_command(port),
            env=env,
            cwd=ROOT,
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
        deadline = time.monotonic() + 120
        while True:
            try:
                if self.client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready")
            time.sleep(0.1)
        self.ready_s = round(time.perf_counter() - started, 2)
        self.ready_indexes = self.client.get("/readyz").json()["indexes"]
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=30)

    def rss_mb(self) -> float:
        return round(_rss_kb(self.process.pid) / 1024, 1)

    def cpu_ms(self) -> float:
        """The server's CPU time so far (user + system, 10 ms ticks)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    def touch(self, node_id: str, change: str | None = None) -> None:
        """Write a node back unchanged: the store's version moves, every cached scope and
        index goes cold (as after any write), the data stays the same. With ``change``, an
        alias added (a change the scopes of the node's region must see)."""
        _, doc = self.timed("GET", f"/v1/nodes/{node_id}")
        if doc is not None and change is not None:
            doc["aliases"] = [*(doc.get("aliases") or []), change]
        self.timed("PUT", f"/v1/nodes/{node_id}", body=doc, headers={"X-API-Key": self.key})

    def index_builds(self) -> int:
        """Recommender index builds so far (warm-up and requests), from /readyz."""
        return sum(self.client.get("/readyz").json()["indexes"]["builds"].values())

    def settle(self, builds: int, timeout: float = 120) -> float:
        """Wait until ``builds`` index builds happened; the seconds it took."""
        started = time.perf_counter()
        while self.index_builds() < builds:
            if time.perf_counter() - started > timeout:
                raise RuntimeError("the index rebuild did not end")
            time.sleep(0.02)
        return time.perf_counter() - started

    def timed(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[float, dict[str, Any] | None]:
        cpu = self.cpu_ms()
        started = time.perf_counter()
        response = self.client.request(method, path, params=params, json=body, headers=headers)
        elapsed = ms_since(started)
        self.last_cpu_ms = self.cpu_ms() - cpu
        if response.status_code != 200:
            shown = body
            if body is not None and "villages" in body:
                shown = {
                    **body,
                    "villages": f"[{len(body['villages'])} ids]",
                    "helpers": f"[{len(body['helpers'])} ids]",
                }
            self.failures.append(
                {
                    "request": {"method": method, "path": path, "params": params, "body": shown},
                    "status": response.status_code,
                    "response": response.text[:4000],
                }
            )
            return elapsed, None
        data: dict[str, Any] = response.json()
        return elapsed, data


def http_signature(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    pairs = [(p["helper"]["id"], p["village"]["id"]) for p in data["pairs"]]
    return plan_signature(data["total_score"], data["covered"], pairs)


def bench_http(
    data: Path,
    county: str,
    region: str,
    targets: list[str],
    choice: dict[str, Any],
    repeat: int,
    cold_restarts: int,
    bare_repeat: int,
) -> dict[str, Any]:
    """Every server but the peer warms the county's and the region's indexes (both
    audiences) before it is ready (``GRAPH_SERVICE_RECOMMEND_WARM_REGIONS``)."""
    warm_regions = [county, region]
    out: dict[str, Any] = {"failures": [], "warm_regions": warm_regions}
    partners_cold: list[float] = []
    assignment_cold: dict[str, list[float]] = {name: [] for name in SETTINGS}
    partners_cold_cpu: list[float] = []
    assignment_cold_cpu: dict[str, list[float]] = {name: [] for name in SETTINGS}
    ready: list[float] = []
    request_builds: list[int] = []
    signatures: dict[str, set[str | None]] = {name: set() for name in SETTINGS}
    # Cold after a restart, once ready: a fresh server per sample; its first partners
    # request (the county) and then its first assignment request (the region).
    plan: list[tuple[int, str]] = [(i, name) for i in range(cold_restarts) for name in SETTINGS]
    for n, (_, name) in enumerate(plan):
        with Server(data, warm_regions) as server:
            ready.append(server.ready_s)
            elapsed, _ = server.timed(
                "GET", "/v1/recommendations/partners", params={"target": targets[-1 - n], "top": 10}
            )
            partners_cold.append(elapsed)
            partners_cold_cpu.append(server.last_cpu_ms)
            k, m = SETTINGS[name]
            elapsed, result = server.timed(
                "POST", "/v1/recommendations/assignment", body=assignment_body(region, choice, k, m)
            )
            assignment_cold[name].append(elapsed)
            assignment_cold_cpu[name].append(server.last_cpu_ms)
            signatures[name].add(http_signature(result))
            builds = server.client.get("/readyz").json()["indexes"]["builds"]
            request_builds.append(builds.get("request", 0))
            out["failures"] += server.failures
    out["warm_up"] = {
        "ready_s": summary(ready),
        "index_builds_on_request_path": request_builds,
    }
    # The peer: the same first requests on a server that warms nothing (before issue 16).
    with Server(data) as server:
        peer_ready = server.ready_s
        peer_partners, _ = server.timed(
            "GET", "/v1/recommendations/partners", params={"target": targets[-1], "top": 10}
        )
        peer_assignment, result = server.timed(
            "POST", "/v1/recommendations/assignment", body=assignment_body(region, choice, 1, 1)
        )
        signatures["k1_m1"].add(http_signature(result))
        out["no_warm_up_peer"] = {
            "ready_s": peer_ready,
            "partners_first_ms": round(peer_partners, 1),
            "assignment_k1_m1_first_ms": round(peer_assignment, 1),
        }
        out["failures"] += server.failures
    # Warm: one server, every index built.
    with Server(data, warm_regions) as server:
        ready.append(server.ready_s)
        for target in targets[:20]:
            server.timed(
                "GET", "/v1/recommendations/partners", params={"target": target, "top": 10}
            )
        cpu = server.cpu_ms()
        bare = [server.timed("GET", "/healthz")[0] for _ in range(bare_repeat)]
        bare_cpu = server.cpu_ms() - cpu
        warm, returned = [], []
        cpu = server.cpu_ms()
        for target in targets:
            elapsed, result = server.timed(
                "GET", "/v1/recommendations/partners", params={"target": target, "top": 10}
            )
            warm.append(elapsed)
            if result is not None:
                returned.append(len(result["candidates"]["items"]))
        warm_cpu = server.cpu_ms() - cpu
        cpu = server.cpu_ms()
        bare_after = [server.timed("GET", "/healthz")[0] for _ in range(bare_repeat)]
        bare_cpu += server.cpu_ms() - cpu
        out["partners"] = {
            "targets": len(targets),
            "cold_ms": summary(partners_cold),
            "cold_server_cpu_ms": summary(partners_cold_cpu),
            "warm_ms": percentiles(warm),
            "warm_server_cpu_ms_mean": round(warm_cpu / len(targets), 2),
            "candidates_returned": {
                "min": min(returned, default=0),
                "median": statistics.median(returned) if returned else 0,
            },
        }
        out["bare_endpoint_ms"] = percentiles(bare + bare_after)
        out["bare_endpoint_server_cpu_ms_mean"] = round(bare_cpu / (2 * bare_repeat), 2)
        out["assignment"] = {}
        for name, (k, m) in SETTINGS.items():
            body = assignment_body(region, choice, k, m)
            server.timed("POST", "/v1/recommendations/assignment", body=body)  # first answer
            samples, samples_cpu = [], []
            for _ in range(repeat):
                elapsed, result = server.timed("POST", "/v1/recommendations/assignment", body=body)
                samples.append(elapsed)
                samples_cpu.append(server.last_cpu_ms)
                signatures[name].add(http_signature(result))
            out["assignment"][name] = {
                "k": k,
                "m": m,
                "cold_ms": summary(assignment_cold[name]),
                "cold_server_cpu_ms": summary(assignment_cold_cpu[name]),
                "warm_ms": summary(samples),
                "warm_server_cpu_ms": summary(samples_cpu),
                "request_bytes": len(json.dumps(body)),
                "signatures": signatures[name],
            }
        # After a write elsewhere (the province's node, outside both scopes): the indexes
        # are carried over to the new version.
        touched = f"region:{region[:2]}"
        after_write: dict[str, list[float]] = {"partners": []}
        for i in range(cold_restarts * len(SETTINGS)):
            server.touch(touched)
            elapsed, _ = server.timed(
                "GET",
                "/v1/recommendations/partners",
                params={"target": targets[-10 - i], "top": 10},
            )
            after_write["partners"].append(elapsed)
        out["partners"]["cold_after_write_ms"] = summary(after_write["partners"])
        for name, (k, m) in SETTINGS.items():
            body = assignment_body(region, choice, k, m)
            samples = []
            for _ in range(cold_restarts):
                server.touch(touched)
                elapsed, result = server.timed("POST", "/v1/recommendations/assignment", body=body)
                samples.append(elapsed)
                signatures[name].add(http_signature(result))
            out["assignment"][name]["cold_after_write_ms"] = summary(samples)
        out["touched_node"] = touched

        # After a write inside the scope (an alias added to one of its villages): the
        # warm-up rebuilds the index (both audiences) in the background. The request right
        # after the write waits for the rebuild under way; once it is done, requests are warm.
        def inside(n: int, node: str, request: Any) -> dict[str, float]:
            builds = server.index_builds()
            written = time.perf_counter()
            server.touch(node, change=f"基准写入{n}")
            right_after, _ = request()
            server.settle(builds + 2)
            rebuilt_after = ms_since(written)
            rebuilt, _ = request()
            return {
                "right_after_write_ms": right_after,
                "rebuild_done_after_write_ms": rebuilt_after,
                "after_rebuild_ms": rebuilt,
            }

        rows = [
            inside(
                i,
                targets[i],
                lambda i=i: server.timed(
                    "GET",
                    "/v1/recommendations/partners",
                    params={"target": targets[-20 - i], "top": 10},
                ),
            )
            for i in range(cold_restarts * len(SETTINGS))
        ]
        out["partners"]["after_write_inside"] = {
            key: summary([r[key] for r in rows]) for key in rows[0]
        }
        for name, (k, m) in SETTINGS.items():
            body = assignment_body(region, choice, k, m)
            rows = [
                inside(
                    100 + i,
                    choice["villages"][i],
                    lambda body=body: server.timed(
                        "POST", "/v1/recommendations/assignment", body=body
                    ),
                )
                for i in range(cold_restarts)
            ]
            out["assignment"][name]["after_write_inside"] = {
                key: summary([r[key] for r in rows]) for key in rows[0]
            }
        out["server_rss_mb"] = server.rss_mb()
        out["failures"] += server.failures
    out["server_ready_s"] = summary(ready)
    return out


# ------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1, help="Generator seed.")
    parser.add_argument("--county", default="370302", help="County of the partners requests.")
    parser.add_argument("--region", default="6208", help="Region of the assignment.")
    parser.add_argument("--size", type=int, default=1000, help="Villages and helpers assigned.")
    parser.add_argument("--assign-repeat", type=int, default=3)
    parser.add_argument("--cold-restarts", type=int, default=2, help="Per k/m setting.")
    parser.add_argument("--bare-repeat", type=int, default=150, help="Before and after.")
    parser.add_argument("--register", type=Path, default=ROOT / "seed" / "register")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "recommend.json")
    args = parser.parse_args()
    rng = random.Random(20261122)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
        },
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python bench/recommend.py", *sys.argv[1:]]),
        "seed": args.seed,
        "county": args.county,
        "region": args.region,
        "top_candidates": TOP_CANDIDATES,
    }
    tmp = Path(tempfile.mkdtemp(prefix="graph-bench-recommend-"))
    started = time.perf_counter()
    try:
        data = tmp / "data"
        data.mkdir()
        results["store"] = asyncio.run(
            build_store(data, [args.county, args.region], args.seed, args.register)
        )
        local = asyncio.run(
            bench_in_process(data, args.county, args.region, args.size, args.assign_repeat, rng)
        )
        targets, choice = local.pop("partner_targets"), local.pop("choice")
        results["in_process"] = local
        http = bench_http(
            data,
            args.county,
            args.region,
            targets,
            choice,
            args.assign_repeat,
            args.cold_restarts,
            args.bare_repeat,
        )
        results["http"] = http
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    results["wall_s"] = round(time.perf_counter() - started, 1)

    # Same plan over HTTP as in process; ratios.
    for name in SETTINGS:
        ours = local["assignment"][name]
        theirs = http["assignment"][name]
        seen = theirs.pop("signatures")
        theirs["same_plan_as_in_process"] = seen == {ours.pop("signature")}
        theirs["warm_over_plan_region"] = round(
            theirs["warm_ms"]["median"] / ours["plan_region_ms"]["median"], 2
        )
        theirs["warm_over_service_in_process"] = round(
            theirs["warm_ms"]["median"] / ours["service_warm_ms"]["median"], 2
        )
    partners = http["partners"]
    bare = http["bare_endpoint_ms"]
    partners["warm_p50_over_bare_p50"] = round(partners["warm_ms"]["p50"] / bare["p50"], 2)
    partners["warm_p50_over_in_process_p50"] = round(
        partners["warm_ms"]["p50"] / local["partners"]["warm_ms"]["p50"], 2
    )
    partners["warm_p95_minus_in_process_p95_ms"] = round(
        partners["warm_ms"]["p95"] - local["partners"]["warm_ms"]["p95"], 2
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(results, args)
    return 0


def print_table(results: dict[str, Any], args: argparse.Namespace) -> None:
    local, http = results["in_process"], results["http"]
    county, region = local[args.county], local[args.region]

    def row(*cells: Any) -> None:
        print(f"{cells[0]:<46} " + " ".join(f"{c!s:>9}" for c in cells[1:]))

    print(
        f"county {args.county}: {county['candidates']} candidates, "
        f"{county['by_label'].get('Village', 0)} villages; region {args.region}: "
        f"{region['candidates']} candidates, {region['by_label'].get('Village', 0)} villages, "
        f"{region['weak_villages']} weak"
    )
    row("latency (ms)", "p50", "p95", "p99", "CPU mean")
    for label, m, cpu in (
        (
            "partners top-10, HTTP, warm",
            http["partners"]["warm_ms"],
            http["partners"]["warm_server_cpu_ms_mean"],
        ),
        (
            "partners top-10, in process (service), warm",
            local["partners"]["warm_ms"],
            local["partners"]["warm_cpu_ms_mean"],
        ),
        (
            "bare endpoint /healthz, HTTP (peer)",
            http["bare_endpoint_ms"],
            http["bare_endpoint_server_cpu_ms_mean"],
        ),
    ):
        row(label, m["p50"], m["p95"], m["p99"], cpu)
    row("time (ms)", "median", "min", "max", "CPU med.")
    for label, m, cpu in (
        (
            "server start until ready, s (warm-up included)",
            http["warm_up"]["ready_s"],
            None,
        ),
        (
            "partners, HTTP, first after start, once ready",
            http["partners"]["cold_ms"],
            http["partners"]["cold_server_cpu_ms"],
        ),
        (
            "partners, HTTP, first after a write elsewhere",
            http["partners"]["cold_after_write_ms"],
            None,
        ),
        *(
            (f"partners, HTTP, write inside: {key}", m, None)
            for key, m in http["partners"]["after_write_inside"].items()
        ),
        ("partners, in process, cold", local["partners"]["cold_ms"], None),
        (f"county {args.county} export", county["export_ms"], None),
        (
            f"county {args.county} index build",
            county["index_build_ms"],
            county["index_build_cpu_ms"],
        ),
        (f"region {args.region} export", region["export_ms"], None),
        (
            f"region {args.region} index build",
            region["index_build_ms"],
            region["index_build_cpu_ms"],
        ),
    ):
        row(label, m["median"], m["min"], m["max"], cpu["median"] if cpu else "")
    for name in SETTINGS:
        ours, theirs = local["assignment"][name], http["assignment"][name]
        for label, m, cpu in (
            ("HTTP, first after start, ready", theirs["cold_ms"], theirs["cold_server_cpu_ms"]),
            ("HTTP, first after a write elsewhere", theirs["cold_after_write_ms"], None),
            *(
                (f"HTTP, write inside: {key}", m, None)
                for key, m in theirs["after_write_inside"].items()
            ),
            ("HTTP, warm", theirs["warm_ms"], theirs["warm_server_cpu_ms"]),
            ("service in process, warm", ours["service_warm_ms"], ours["service_warm_cpu_ms"]),
            ("plan_region, prebuilt index", ours["plan_region_ms"], ours["plan_region_cpu_ms"]),
            ("assign alone", ours["assign_alone_ms"], ours["assign_alone_cpu_ms"]),
        ):
            row(
                f"assignment {name}, {label}",
                m["median"],
                m["min"],
                m["max"],
                cpu["median"] if cpu else "",
            )
        print(
            f"assignment {name}: {ours['candidate_pairs']} candidate pairs, {ours['pairs']} "
            f"pairs, covered {ours['covered']}/{ours['villages']}, same plan over HTTP: "
            f"{theirs['same_plan_as_in_process']}"
        )
    peer = http["no_warm_up_peer"]
    print(
        f"peer without warm-up: ready in {peer['ready_s']} s, first partners "
        f"{peer['partners_first_ms']} ms, first assignment k1_m1 "
        f"{peer['assignment_k1_m1_first_ms']} ms; index builds on the request path of the "
        f"warmed servers: {http['warm_up']['index_builds_on_request_path']}"
    )
    if http["failures"]:
        print(f"{len(http['failures'])} failed requests: see {args.out}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    raise SystemExit(main())
