"""A real server stays responsive while heavy analyses run: ``/healthz`` answers within a
second (it used to wait 3–13 s) during four concurrent exact centralities of the seed
graph's whole scope with its structural links, each one its own computation.

The measured latencies (p50/p99, before and after the worker pool) come from
``bench/healthz.py``; this test holds a generous bound.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from test_live_server import VENV_BIN, _env, _free_port, _wait_ready

from graph_service.settings import hash_api_key

ADMIN_KEY = "responsive-admin-key"
#: Every healthz must answer within this (the goal is 50 ms; machines running the suite are
#: shared, so the test holds a bound no stalled event loop can meet).
HEALTHZ_BOUND_S = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("responsive")
    env = _env(work / "data")
    env.update(
        GRAPH_SERVICE_API_KEY_HASHES=json.dumps([f"admin={hash_api_key(ADMIN_KEY)}"]),
        # Every analysis finishes: the point is the server's responsiveness, not the budget.
        GRAPH_SERVICE_REQUEST_BUDGET_SECONDS="300",
    )
    port = _free_port()
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "graph-service"), "serve", "--seed", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def test_healthz_answers_while_four_heavy_analyses_run(server: str, tmp_path: Path) -> None:
    params = {"scope": "all", "include_structural": "true", "exact_max": 200_000}
    headers = {"X-API-Key": ADMIN_KEY}

    def analysis(seed: int) -> tuple[int, float]:
        started = time.perf_counter()
        with httpx.Client(base_url=server, timeout=600) as client:
            response = client.get(
                "/v1/analysis/centrality", params={**params, "seed": seed}, headers=headers
            )
        return response.status_code, time.perf_counter() - started

    probes: list[float] = []
    with ThreadPoolExecutor(4) as pool, httpx.Client(base_url=server, timeout=60) as probe:
        running = [pool.submit(analysis, seed) for seed in range(4)]
        time.sleep(0.1)
        while not all(f.done() for f in running):
            started = time.perf_counter()
            assert probe.get("/healthz").status_code == 200
            probes.append(time.perf_counter() - started)
            time.sleep(0.02)
        results = [f.result() for f in running]
    assert [status for status, _ in results] == [200] * 4
    slowest = max(seconds for _, seconds in results)
    assert slowest > 1.0, "the analyses were not heavy enough to prove anything"
    assert len(probes) >= 10
    assert max(probes) < HEALTHZ_BOUND_S, sorted(probes)[-5:]
