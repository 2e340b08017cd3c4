"""Big views in the explorer (issue 16): first paint and pan frame times in Chromium.

    .venv/bin/python bench/explorer_view.py [--region 6208] [--small 620802] [--seed 1]
                                            [--repeat 3] [--cose-iterations 30]
                                            [--variants server_lod,server_canvas,...]

An embedded store in a temporary folder gets the register extract (``seed/register``) of
``--region`` and its generated network (``generate_into``), as ``graph-service
load-divisions`` / ``graph-service generate`` would write them; a real uvicorn server serves
it, and Debian's headless Chromium (Playwright, ``/usr/bin/chromium``, 1400×900) opens
``/explorer#region=…`` in a fresh page per sample. Variants, all in the same run:

- ``server_lod``: server positions (``GET /v1/layout``, a ``preset`` layout) with level of
  detail (labels hidden when zoomed out, no edges and a texture while the view moves,
  haystack edges), with the renderer the explorer picks (``webgl=auto``: WebGL with a
  hardware WebGL 2, else the canvas; headless Chromium here has SwiftShader, a software
  rasteriser, so the canvas). The first sample is cold (the server lays the region out).
- ``server_webgl``: the same, Cytoscape's WebGL renderer forced (``webgl=1``: the renderer
  peer; on SwiftShader here).
- ``server_canvas``: the same, the canvas renderer forced (``webgl=0``).
- ``server_full_detail``: the same positions, level of detail off (the pan peer).
- ``client_cose``: the same view laid out in the browser by Cytoscape's cose with only
  ``--cose-iterations`` iterations (the first-paint peer; the explorer's small views use
  cose with 1,500, which does not finish on 5k nodes in minutes).
- ``small_server_lod``: ``--small`` (a county inside the region), server positions.

First paint: navigation start → the graph drawn (``performance.mark("region-drawn")``, set
after the first frame rendered with every element; also the fetch of the layout, marks
``region-start`` / ``region-fetched``). Pan: a scripted mouse drag on the canvas background
(40 moves 25 ms apart, 400 px), frames timed by ``requestAnimationFrame`` deltas in the
page: median and p95 frame ms, frames dropped (a delta of k·16.7 ms counts k − 1).

Each sample also records the renderer Cytoscape drew with and the first paint's parts: adding
the elements (``region-elements`` → ``region-added``) and the first frame (``region-fitted`` →
``region-drawn``). ``--variants`` runs a subset (the client cose peer takes minutes).

Results go to ``bench/results/explorer_view.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import free_port  # noqa: E402
from graph_service.services.divisions import load_divisions  # noqa: E402
from graph_service.services.synthetic.into_store import generate_into  # noqa: E402
from graph_service.store.embedded import EmbeddedGraphStore  # noqa: E402

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]
FRAME_MS = 1000 / 60
# The region is on screen once loadRegion has stamped drawnMs (after its first full frame).
DRAWN = "Boolean(window.__explorer && (window.__explorer.region() || {}).drawnMs)"

FRAME_RECORDER = """() => {
  window.__frames = [];
  let last = performance.now();
  window.__recording = true;
  const tick = (now) => {
    window.__frames.push(now - last);
    last = now;
    if (window.__recording) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


async def build_store(data: Path, region: str, seed: int) -> dict[str, Any]:
    store = EmbeddedGraphStore(data / "graph.sqlite3")
    await store.open()
    try:
        started = time.perf_counter()
        register = ROOT / "seed" / "register"
        divisions = await load_divisions(store, register, data / "divisions.json", scope=[region])
        generated = await generate_into(store, [region], seed)
        return {
            "register_nodes": divisions.nodes,
            "generated_nodes": generated.nodes,
            "generated_links": generated.links,
            "load_s": round(time.perf_counter() - started, 2),
        }
    finally:
        await store.close()


def serve(data: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPH_SERVICE_", "NEO4J"))}
    env.update(GRAPH_SERVICE_DATA_DIR=str(data), GRAPH_SERVICE_SEED_DIR=str(ROOT / "seed"))
    command = [sys.executable, "-m", "uvicorn", "--factory", "graph_service.api.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sample(browser: Any, url: str, timeout_s: float) -> dict[str, Any]:
    """One fresh page: open ``url``, wait for the graph, then pan it by mouse."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url)
        deadline = time.monotonic() + timeout_s
        while not page.evaluate(DRAWN):
            if time.monotonic() > deadline:
                return {"timed_out": True}
            time.sleep(0.05)
        marks = page.evaluate(
            "Object.fromEntries(performance.getEntriesByType('mark')"
            ".map((m) => [m.name, m.startTime]))"
        )
        nodes = page.evaluate("window.__explorer.nodeCount()")
        lod = page.evaluate("window.__explorer.levelOfDetail()")
        edges = page.evaluate("window.__explorer.edgeCount()")
        time.sleep(0.5)  # let the page settle (node list, styles) before panning
        box = page.locator("#graph").bounding_box()
        x, y = box["x"] + 6, box["y"] + 6  # the fitted drawing leaves the corner empty
        page.evaluate(FRAME_RECORDER)
        page.mouse.move(x, y)
        page.mouse.down()
        for step in range(1, 41):
            page.mouse.move(x + 10 * step, y + 5 * step)
            time.sleep(0.025)
        page.mouse.up()
        time.sleep(0.2)
        frames: list[float] = page.evaluate("window.__recording = false; window.__frames")
        frames = frames[1:]  # the first delta starts before the recorder did
        dropped = sum(max(0, round(f / FRAME_MS) - 1) for f in frames)
        return {
            "nodes": nodes,
            "edges": edges,
            "fetch_ms": round(marks["region-fetched"] - marks["region-start"], 1),
            "first_paint_ms": round(marks["region-drawn"], 1),
            "add_ms": round(marks["region-added"] - marks["region-elements"], 1),
            "first_frame_ms": round(marks["region-drawn"] - marks["region-fitted"], 1),
            "renderer": "webgl" if lod and lod.get("webgl") else "canvas",
            "frames": len(frames),
            "frame_median_ms": round(statistics.median(frames), 1) if frames else None,
            "frame_p95_ms": round(percentile(frames, 0.95), 1) if frames else None,
            "frames_dropped": dropped,
            "page_errors": errors,
        }
    finally:
        page.close()


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    done = [s for s in samples if not s.get("timed_out")]
    out: dict[str, Any] = {"samples": samples}
    keys = ("first_paint_ms", "fetch_ms", "add_ms", "first_frame_ms")
    for key in (*keys, "frame_median_ms", "frame_p95_ms", "frames_dropped"):
        values = [s[key] for s in done if s.get(key) is not None]
        out[key] = round(statistics.median(values), 1) if values else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", default="6208")
    parser.add_argument("--small", default="620802")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cose-iterations", type=int, default=30)
    parser.add_argument(
        "--variants",
        default="server_lod,server_webgl,server_full_detail,client_cose,small_server_lod",
        help="comma-separated variants to run (server_lod always runs first: the peer)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/explorer_view.json")
    args = parser.parse_args()
    import playwright.sync_api as sync_api

    load_start = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="explorer-view-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        store = asyncio.run(build_store(data, args.region, args.seed))
        process, base = serve(data, work)
        every = {
            "server_lod": f"#region={args.region}",
            "server_webgl": f"#region={args.region}&webgl=1",
            "server_canvas": f"#region={args.region}&webgl=0",
            "server_full_detail": f"#region={args.region}&lod=0",
            "client_cose": f"#region={args.region}&layout=client&iterations={args.cose_iterations}",
            "small_server_lod": f"#region={args.small}",
        }
        chosen = {"server_lod", *args.variants.split(",")}
        variants = {name: fragment for name, fragment in every.items() if name in chosen}
        results: dict[str, Any] = {}
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    for name, fragment in variants.items():
                        runs = [
                            sample(browser, f"{base}/explorer{fragment}", 300)
                            for _ in range(args.repeat)
                        ]
                        results[name] = summarise(runs)
                        print(name, json.dumps(results[name], ensure_ascii=False), flush=True)
                finally:
                    browser.close()
        finally:
            process.terminate()
            process.wait(timeout=15)
    peer = results["server_lod"]
    ratios = {}
    for name, other in results.items():
        if name == "server_lod":
            continue
        for key in ("first_paint_ms", "first_frame_ms", "frame_median_ms", "frame_p95_ms"):
            if peer.get(key) and other.get(key):
                ratios[f"{name}/{key}"] = round(other[key] / peer[key], 2)
    report = {
        "machine": platform.node(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "region": args.region,
        "small": args.small,
        "seed": args.seed,
        "store": store,
        "cose_iterations": args.cose_iterations,
        "load_average_start": load_start,
        "load_average": os.getloadavg(),
        "results": results,
        "ratios_against_server_lod": ratios,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(ratios, indent=2))


if __name__ == "__main__":
    main()
