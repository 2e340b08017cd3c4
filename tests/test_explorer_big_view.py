"""The explorer draws a whole generated city (≥ 5k nodes) with the server's positions.

A real server over an embedded store holding the register extract of 平凉市 (6208) and its
generated network (``generate_into``, seed 1: about 5,100 nodes and 16,000 links in the
region's graph); headless Chromium opens ``/explorer#region=6208``. The page must draw every
node where ``GET /v1/layout`` placed it (a ``preset`` layout, no client-side layout), with
level of detail on: labels not drawn while zoomed out (``min-zoomed-font-size``), drawn when
zoomed in, edges hidden and the view textured while it moves, haystack edges. The renderer
is Cytoscape's WebGL one only with a hardware WebGL 2 (headless Chromium here has SwiftShader,
software: the canvas); ``webgl=1`` forces WebGL, which must then really draw (a live WebGL 2
context of Cytoscape's own). Leaving for a neighbourhood turns it all off again.
Timings are measured in ``bench/explorer_view.py``, not asserted here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import SEED_DIR, make_settings
from test_explorer_e2e import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    _api,
    _browser_or_skip,
    _idle,
    _serve,
    _server_env,
    _wait,
)

from graph_service.services.divisions import load_divisions
from graph_service.services.synthetic.into_store import generate_into
from graph_service.store.embedded import EmbeddedGraphStore

SOFTWARE_GL = re.compile(r"swiftshader|llvmpipe|softpipe|software|microsoft basic render", re.I)
GL_PROBE = """() => {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return null;
  const debug = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}"""
CITY = "6208"  # 平凉市: seven counties, 1,559 villages in the register extract
SEED = 1


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over the register and generated network of 平凉市; its base URL."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("explorer-big")
    settings = make_settings("embedded", work / "data")
    settings.data_dir.mkdir(parents=True)

    async def fill() -> None:
        store = EmbeddedGraphStore(settings.embedded_path)
        await store.open()
        try:
            register = SEED_DIR / "register"
            await load_divisions(store, register, work / "divisions.json", scope=[CITY])
            await generate_into(store, [CITY], SEED)
        finally:
            await store.close()

    asyncio.run(fill())
    with _serve(work, _server_env(settings.data_dir)) as base:
        yield base


def test_a_city_is_drawn_with_server_positions_and_level_of_detail(big_server: str) -> None:
    sync_api = _browser_or_skip()
    layout = _api(big_server, f"/v1/layout?region={CITY}")
    assert len(layout["nodes"]) >= 5000
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{big_server}/explorer#region={CITY}")
            _wait(page, "window.__explorer && window.__explorer.region()", timeout=120)
            _idle(page)
            region: dict[str, Any] = page.evaluate("window.__explorer.region()")
            assert region["region"] == CITY
            assert region["layout"] == "server"
            assert page.evaluate("window.__explorer.nodeCount()") == len(layout["nodes"])
            assert page.evaluate("window.__explorer.edgeCount()") == len(layout["links"])
            assert page.evaluate("document.body.dataset.view") == "region"

            # Every node where the server put it (a preset layout moves nothing).
            sample = layout["nodes"][:: max(1, len(layout["nodes"]) // 50)]
            drawn = page.evaluate(
                "(ids) => window.__explorer.positions(ids)", [n["id"] for n in sample]
            )
            for node in sample:
                assert drawn[node["id"]]["x"] == pytest.approx(node["x"])
                assert drawn[node["id"]]["y"] == pytest.approx(node["y"])

            # Zoomed out to the whole city: no labels; edges hidden while the view moves.
            lod = page.evaluate("window.__explorer.levelOfDetail()")
            assert lod["labelsDrawn"] is False, lod
            assert lod["fontSize"] * lod["zoom"] < lod["minZoomedFontSize"]
            assert lod["hideEdgesOnViewport"] is True
            assert lod["textureOnViewport"] is True
            assert lod["edgeCurveStyle"] == "haystack"
            # The renderer follows the browser's WebGL: software (SwiftShader) → canvas.
            gl = page.evaluate(GL_PROBE)
            expect_webgl = gl is not None and not SOFTWARE_GL.search(gl)
            assert region["renderer"] == ("webgl" if expect_webgl else "canvas"), (region, gl)
            assert lod["webgl"] is expect_webgl
            page.screenshot(path=str(ARTIFACTS / "explorer-big-view.png"))
            # Zoomed in: labels again.
            page.evaluate("window.__explorer.zoomTo(2)")
            assert page.evaluate("window.__explorer.levelOfDetail()")["labelsDrawn"] is True

            # A click reads the full document of what was drawn from short rows.
            village = next(n for n in layout["nodes"] if n["label"] == "Village")
            page.evaluate("(id) => window.__explorer.select(id)", village["id"])
            _idle(page)
            _wait(
                page,
                "document.querySelector('#detail-panel .sources, #detail-panel .muted') !== null",
            )
            assert (
                page.evaluate("document.querySelector('#detail-title').textContent")
                == (village["name"])
            )

            # A neighbourhood view afterwards is the small view, level of detail off.
            assert page.evaluate("(id) => window.__explorer.load(id)", village["id"])
            _idle(page)
            assert page.evaluate("window.__explorer.region()") is None
            lod = page.evaluate("window.__explorer.levelOfDetail()")
            assert lod["hideEdgesOnViewport"] is False
            assert lod["minZoomedFontSize"] == 0
            assert lod["webgl"] is False
            assert lod["edgeCurveStyle"] == "bezier"
            assert page.evaluate("window.__explorer.nodeCount()") < 500
        finally:
            browser.close()
    assert requests
    assert all(url.startswith(big_server) for url in requests), requests


def test_a_city_can_be_drawn_by_the_webgl_renderer(big_server: str) -> None:
    """``webgl=1``: Cytoscape's WebGL renderer draws the city (when the browser has WebGL 2),
    every element, the same positions; a neighbourhood afterwards is back on the canvas."""
    sync_api = _browser_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{big_server}/explorer#region={CITY}&webgl=1")
            _wait(page, "(window.__explorer && window.__explorer.region() || {}).drawnMs", 180)
            _idle(page)
            if page.evaluate(GL_PROBE) is None:
                pytest.skip("this Chromium has no WebGL 2")
            region: dict[str, Any] = page.evaluate("window.__explorer.region()")
            assert region["renderer"] == "webgl"
            lod = page.evaluate("window.__explorer.levelOfDetail()")
            assert lod["webgl"] is True, lod
            assert lod["edgeCurveStyle"] == "haystack"
            assert page.evaluate("window.__explorer.nodeCount()") >= 5000
            page.screenshot(path=str(ARTIFACTS / "explorer-big-view-webgl.png"))
            village = page.evaluate(
                "window.__explorer.nodeIds().find((id) => id.startsWith('village:'))"
            )
            assert page.evaluate("(id) => window.__explorer.load(id)", village)
            _idle(page)
            lod = page.evaluate("window.__explorer.levelOfDetail()")
            assert lod["webgl"] is False
            assert errors == []
        finally:
            browser.close()
