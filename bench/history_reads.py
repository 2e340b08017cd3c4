"""Record-time reads (``recorded_as_of``) against current reads, and history pages, on the
seed graph, in process (FastAPI's test client), for one backend.

    .venv/bin/python bench/history_reads.py embedded
    NEO4J_TEST_URI=bolt://127.0.0.1:7687 NEO4J_TEST_PASSWORD=… \\
        .venv/bin/python bench/history_reads.py neo4j

Each read is timed ``--repeat`` times (median, milliseconds): now, at a moment after the last
write (nothing to replay), and at a moment before every village of the seed is renamed (one
history entry each to replay). The Neo4j database is wiped and loaded with the seed first.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import AUTH, _prepare, make_settings  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from graph_service.api.app import create_app  # noqa: E402

READS: list[tuple[str, str, dict[str, Any]]] = [
    ("a node", "/v1/nodes/org:pingyuan-cangkangshi", {}),
    (
        "neighbourhood, joint body, depth 2",
        "/v1/nodes/org:pingyuan-cangkangshi/neighbourhood",
        {"depth": 2},
    ),
    (
        "neighbourhood, village, depth 3",
        "/v1/nodes/village:370302112206/neighbourhood",
        {"depth": 3},
    ),
    ("neighbourhood, county, depth 2", "/v1/nodes/region:371426/neighbourhood", {"depth": 2}),
    ("region coverage, county", "/v1/regions/371426/coverage", {}),
    ("region coverage, province", "/v1/regions/37/coverage", {}),
    ("coverage analysis, county", "/v1/analysis/coverage", {"region": "371426"}),
]
PAGES: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    ("history, 100 entries", "/v1/history", {"limit": 100}, AUTH),
    ("history, 1000 entries", "/v1/history", {"limit": 1000}, AUTH),
    ("history, 1000 entries, public", "/v1/history", {"limit": 1000}, {}),
    ("history, a county, 100", "/v1/history", {"limit": 100, "region": "371426"}, AUTH),
    ("a node's history", "/v1/nodes/org:pingyuan-cangkangshi/history", {}, AUTH),
]


def timed(
    client: TestClient, path: str, params: dict[str, Any], headers: dict[str, str], repeat: int
) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path, params=params, headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:300]
    return statistics.median(times) * 1000


def moment() -> str:
    time.sleep(0.01)
    return dt.datetime.now(dt.UTC).isoformat()


def rename_every_village(client: TestClient) -> int:
    villages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"label": "Village", "limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/nodes", params=params, headers=AUTH).json()
        villages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    for start in range(0, len(villages), 1000):
        chunk = [{**v, "name": v["name"] + "（改）"} for v in villages[start : start + 1000]]
        response = client.post("/v1/batch", json={"nodes": chunk}, headers=AUTH)
        assert response.status_code == 200, response.text[:300]
    return len(villages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["embedded", "neo4j"])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp())
    settings = make_settings(args.backend, data)
    asyncio.run(_prepare(args.backend, data, "seed"))
    repeat = args.repeat
    with TestClient(create_app(settings)) as client:
        rows = {name: [timed(client, p, q, AUTH, repeat)] for name, p, q in READS}
        now = moment()
        for name, path, params in READS:
            rows[name].append(timed(client, path, {**params, "recorded_as_of": now}, AUTH, repeat))
        pages = {name: timed(client, p, q, h, repeat) for name, p, q, h in PAGES}
        before = moment()
        renamed = rename_every_village(client)
        for name, path, params in READS:
            at = {**params, "recorded_as_of": before}
            rows[name].append(timed(client, path, at, AUTH, repeat))
    print(f"{args.backend}: median of {repeat}, ms: now | at T, nothing since | {renamed} since")
    for name, (current, empty, replayed) in rows.items():
        print(f"  {name:38s} {current:8.1f} | {empty:8.1f} | {replayed:8.1f}")
    for name, value in pages.items():
        print(f"  {name:38s} {value:8.1f}")


if __name__ == "__main__":
    main()
