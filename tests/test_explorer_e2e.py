"""The explorer page (/explorer): its files without a browser, then end to end in Chromium.

The end-to-end test starts a real server (uvicorn over an embedded store that
``graph-service load-seed`` filled) and drives the page in Debian's headless Chromium through
Playwright, using the system browser (``executable_path``; no ``playwright install``). It
searches 红色硒谷, waits for the body and its nine members, clicks a member on the canvas,
reads its provenance in the side panel, opens a village's 推荐结对 panel, saves a screenshot to
``test-artifacts/explorer.png`` and downloads the view as PNG.

The judgement test runs its own server over a writable copy of the seed graph that accepts
the planner key ``王科长``: in 台头村's 推荐结对 panel, 否决 without a key sends nothing, a
wrong key shows the 401 problem, then with the key it rejects the first candidate (gone from
the list), accepts the next (a 结对帮扶 link with ``planner_decision`` provenance, drawn at
once), meets the 409 of a pair already partnered, marks the last 待定, and reads the
village's 决策记录; screenshot ``test-artifacts/explorer-judgements.png``.

Every request the page makes must go to the server itself.

Without ``/usr/bin/chromium`` (or ``CHROMIUM``) or the ``playwright`` package the browser test
is skipped, except under CI (``CI`` set, e.g. ``CI=true``), where that is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEED_DIR, make_settings
from fastapi.testclient import TestClient

from graph_service.services.loading import load_seed
from graph_service.settings import hash_api_key
from graph_service.store.embedded import EmbeddedGraphStore

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
APP_FACTORY = "graph_service.api.app:create_app"
BODY = "org:longquan-hongse-xigu"  # “红色硒谷”党建联盟
MEMBER = "org:longquan-taitou-dangzhibu"  # 台头村党支部
VILLAGE = "village:370302112206"  # 台头村
PLANNER = "王科长"
PLANNER_KEY = "e2e-planner-key-taitou"
STATIC = ROOT / "graph_service" / "static"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
]


# ------------------------------------------------------------------------- without a browser


def test_explorer_page_is_served_with_a_strict_policy(seed_client: TestClient) -> None:
    response = seed_client.get("/explorer")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "connect-src 'self'" in csp
    html = response.text
    assert '<html lang="zh-CN">' in html
    for word in (
        "搜索",
        "按类型着色",
        "按中心性大小",
        "连线宽度=联系强度",
        "关系类型筛选",
        "保存为PNG",
    ):
        assert word in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        if asset.startswith("data:"):
            continue
        if asset == "/review":  # the review page, a link beside the explorer's assets
            continue
        assert asset.startswith("/explorer/static/"), asset
        fetched = seed_client.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.headers["x-content-type-options"] == "nosniff"


def test_no_file_of_the_page_names_another_host() -> None:
    for path in (STATIC / "explorer").iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path


def test_static_files_stay_inside_the_static_folder(seed_client: TestClient) -> None:
    for path in (
        "/explorer/static/../../api/app.py",
        "/explorer/static/%2e%2e/%2e%2e/api/app.py",
        "/explorer/static/explorer/missing.js",
        "/explorer/static/vendor",
    ):
        assert seed_client.get(path).status_code == 404, path
    response = seed_client.get("/explorer/static/vendor/cytoscape.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")


def test_vendored_cytoscape_matches_the_lockfile() -> None:
    """The committed copy is the locked npm version (scripts/build-frontend refreshes it)."""
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text(encoding="utf-8"))
    version = lock["packages"]["node_modules/cytoscape"]["version"]
    package = json.loads((ROOT / "frontend" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["cytoscape"] == version
    vendored = (STATIC / "vendor" / "cytoscape.min.js").read_text(encoding="utf-8")
    assert f'"{version}"' in vendored
    assert (STATIC / "vendor" / "cytoscape.LICENSE").is_file()


def test_explorer_config_shares_the_export_palette(seed_client: TestClient) -> None:
    from graph_service.visual.formats import LABEL_COLOURS

    config = seed_client.get("/explorer/config.json").json()
    assert config["label_colours"] == LABEL_COLOURS
    assert "党建联盟" in config["joint_body_kinds"]


def test_explorer_asks_with_the_domain_limits_and_names(seed_client: TestClient) -> None:
    from graph_service import domain

    config = seed_client.get("/explorer/config.json").json()
    assert config["limits"] == {"top": domain.MAX_TOP, "neighbourhood": 500}
    assert config["measures"]["betweenness"] == "中介中心性"
    assert set(config["measures"]) == set(domain.CENTRALITY_MEASURES)
    script = (STATIC / "explorer" / "explorer.js").read_text(encoding="utf-8")
    assert "top: 500" not in script
    assert "limit: 500" not in script


# ------------------------------------------------------------------------- in Chromium


def _browser_or_skip() -> Any:
    """The ``playwright.sync_api`` module, or skip (fail under CI) when it cannot run."""
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api as sync_api
        except ImportError:
            missing = "the playwright package is missing (pip install -e '.[dev]')"
    if missing:
        if in_ci:
            pytest.fail(f"CI needs the end-to-end test: {missing}")
        pytest.skip(missing)
    return sync_api


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRAPH_SERVICE_", "NEO4J_")) or k.startswith("NEO4J_TEST_")
    }
    env.update(GRAPH_SERVICE_DATA_DIR=str(data_dir), GRAPH_SERVICE_SEED_DIR=str(SEED_DIR))
    return env


@contextlib.contextmanager
def _serve(work: Path, env: dict[str, str]) -> Iterator[str]:
    """Run uvicorn (the app factory, configured by ``env``) on a free 127.0.0.1 port in
    ``work`` until the block ends; yield its base URL once ``/readyz`` answers."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "server.log").open("wb")
    factory = os.environ.get("GRAPH_SERVICE_E2E_APP", APP_FACTORY)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", factory),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (work / "server.log").read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"the server did not start:\n{output[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on a free 127.0.0.1 port over the seed graph; its base URL."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("explorer")
    env = _server_env(work / "data")
    subprocess.run(
        [sys.executable, "-c", "from graph_service.cli import main; main()", "load-seed"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    with _serve(work, env) as base:
        yield base


@pytest.fixture(scope="module")
def writable_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over its own, writable copy of the seed graph (embedded store) that
    accepts the named key ``王科长`` for writes; its base URL."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("explorer-judgements")
    settings = make_settings(
        "embedded", work / "data", api_key_hashes=[f"{PLANNER}={hash_api_key(PLANNER_KEY)}"]
    )
    settings.data_dir.mkdir(parents=True)

    async def fill() -> None:
        store = EmbeddedGraphStore(settings.embedded_path)
        await store.open()
        try:
            await load_seed(store, SEED_DIR)
        finally:
            await store.close()

    asyncio.run(fill())
    env = _server_env(settings.data_dir)
    env["GRAPH_SERVICE_API_KEY_HASHES"] = json.dumps(settings.api_key_hashes, ensure_ascii=False)
    with _serve(work, env) as base:
        yield base


def _api(base: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base}{path}", timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def _wait(page: Any, script: str, timeout: float = 30.0) -> Any:
    """Poll ``script`` until it is truthy. (``page.wait_for_function`` compiles its predicate
    with eval, which the page's Content-Security-Policy forbids, and rightly so.)"""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {script}")
        time.sleep(0.1)


def _idle(page: Any) -> None:
    _wait(page, "window.__explorer && window.__explorer.ready()")


FAKE_RECOMMENDATIONS = {
    "target": VILLAGE,
    "candidates": {
        "total": 2,
        "truncated": False,
        "more": None,
        "items": [
            {
                "partner": {
                    "id": "ent:longquan-jiurun-hezuoshe",
                    "name": "久润合作社",
                    "label": "Enterprise",
                },
                "score": 0.82,
                "reasons": [
                    {"name": "产业互补", "value": 0.9, "explanation": "同属富硒农业产业链"},
                    {"name": "距离", "value": 0.7, "explanation": "同在龙泉镇"},
                ],
            },
            {
                "partner": {
                    "id": "org:longquan-zhen-dangwei",
                    "name": "龙泉镇党委",
                    "label": "PartyOrganization",
                },
                "score": 0.61,
                "reasons": [
                    {"name": "组织隶属", "value": 0.6, "explanation": "上级党组织"},
                    {"name": "priority", "value": 0.75, "explanation": "薄弱村, 未记录村集体收入"},
                ],
            },
        ],
    },
}


def test_explorer_end_to_end(server: str) -> None:
    sync_api = _browser_or_skip()
    base = server
    members = {
        n["id"]
        for n in _api(
            base, f"/v1/nodes/{BODY}/neighbourhood?depth=1&link_type=MEMBER_OF&direction=in"
        )["nodes"]
        if n["id"] != BODY
    }
    assert len(members) == 9
    assert MEMBER in members
    member_doc = _api(base, f"/v1/nodes/{MEMBER}")
    quoted = next(s for s in member_doc["sources"] if "红色硒谷" in s.get("quote", ""))

    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page_errors: list[str] = []
    console_errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True
            )
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.goto(f"{base}/explorer")
            _idle(page)
            assert page.title() == "党建联建知识图谱 · 图谱浏览"
            assert page.locator("#welcome").is_visible()

            # 搜索 by Chinese name, pick the result: the body and its nine members are drawn.
            page.fill("#search-input", "红色硒谷")
            page.click("#search-button")
            page.wait_for_selector(f'#search-results button[data-id="{BODY}"]')
            page.click(f'#search-results button[data-id="{BODY}"]')
            _wait(page, f"window.__explorer.nodeIds().includes('{BODY}')")
            _idle(page)
            drawn = set(page.evaluate("window.__explorer.nodeIds()"))
            assert {BODY} | members <= drawn
            listed = set(
                page.locator("#node-list button").evaluate_all("bs => bs.map(b => b.dataset.id)")
            )
            assert listed == drawn
            assert page.evaluate("window.__explorer.edgeCount()") >= 9
            assert not page.locator("#welcome").is_visible()
            assert "已显示" in page.inner_text("#status")

            # A real click on the canvas selects a member; its panel shows the provenance.
            point = page.evaluate(f"window.__explorer.renderedPosition('{MEMBER}')")
            box = page.locator("#graph").bounding_box()
            assert box is not None
            assert point is not None
            page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
            _wait(page, f"window.__explorer.selected() === '{MEMBER}'", timeout=10)
            panel = page.locator("#detail-panel")
            assert panel.is_visible()
            assert page.inner_text("#detail-title") == "台头村党支部"
            quotes = panel.locator("blockquote.quote").all_inner_texts()
            assert quoted["quote"] in quotes
            assert any("红色硒谷" in q for q in quotes)
            links = panel.locator("a.document-link")
            assert quoted["document"] in links.all_inner_texts()
            assert links.first.get_attribute("href") == f"/v1/documents/{quoted['document']}"
            assert "属性" in panel.inner_text()
            assert "来源" in panel.inner_text()

            # 查看原文: the document with the quote marked.
            panel.locator("button", has_text="查看原文").first.click()
            page.wait_for_selector("#doc-dialog[open] #doc-text mark")
            assert page.inner_text("#doc-text mark") == quoted["quote"]
            page.click("#doc-close")

            # The hook selects too (and so does the DOM list of drawn nodes).
            assert page.evaluate(f"window.__explorer.select('{BODY}')")
            page.click(f'#node-list button[data-id="{MEMBER}"]')
            assert page.evaluate("window.__explorer.selected()") == MEMBER

            # 展开 the member: its village appears; 推荐结对 for the village.
            page.click("#action-expand")
            _wait(page, f"window.__explorer.nodeIds().includes('{VILLAGE}')")
            _idle(page)
            # 按中心性大小: the body is the biggest node by PageRank.
            page.select_option("#size-metric", "pagerank")
            _wait(page, f"window.__explorer.nodeStyle('{BODY}').size > 40")
            _idle(page)
            sizes = {
                node: page.evaluate(f"window.__explorer.nodeStyle('{node}').size")
                for node in (BODY, *members)
            }
            assert max(sizes, key=lambda n: sizes[n]) == BODY
            page.check("#width-by-strength")
            _idle(page)

            assert page.evaluate(f"window.__explorer.select('{VILLAGE}')")
            page.click("#action-recommend")
            recommend = page.locator("#recommend-panel")
            assert recommend.is_visible()
            state = _wait(
                page,
                "(s => s !== 'loading' && s)"
                "(document.querySelector('#recommend-panel').dataset.state)",
            )
            assert "台头村" in page.inner_text("#recommend-target")
            # The recommendation service may not be deployed yet: either answer is fine.
            assert state in ("ok", "empty", "unavailable"), page.inner_text("#recommend-body")
            if state == "unavailable":
                assert "暂无推荐服务" in page.inner_text("#recommend-body")
            elif state == "ok":
                assert recommend.locator("li.candidate").count() >= 1
                # Every reason reads in Chinese: its name and its explanation.
                reasons = recommend.locator("ul.reasons li").all_inner_texts()
                assert reasons
                assert all(re.search(r"^[\u4e00-\u9fff]+\(", r) for r in reasons), reasons
                assert not any("None" in r for r in reasons), reasons

            # What the service answers, drawn: the screenshot CI keeps.
            page.screenshot(path=str(ARTIFACTS / "explorer.png"))

            # Ranked partners with their reasons, as the service will answer them.
            def fulfil(route: Any) -> None:
                route.fulfill(
                    status=200,
                    content_type="application/json",
                    body=json.dumps(FAKE_RECOMMENDATIONS, ensure_ascii=False),
                )

            page.route("**/v1/recommendations/partners?*", fulfil)
            page.click("#action-recommend")
            _wait(page, "document.querySelector('#recommend-panel').dataset.state === 'ok'")
            candidates = recommend.locator("li.candidate")
            assert candidates.count() == 2
            assert "久润合作社" in candidates.nth(0).inner_text()
            assert "同属富硒农业产业链" in candidates.nth(0).inner_text()
            assert "0.82" in candidates.nth(0).inner_text()
            assert "帮扶需求(0.75):薄弱村" in candidates.nth(1).inner_text()
            page.unroute("**/v1/recommendations/partners?*")

            # 保存为PNG downloads the drawing.
            with page.expect_download() as download_info:
                page.click("#save-png")
            download = download_info.value
            assert download.suggested_filename.endswith(".png")
            target = ARTIFACTS / "explorer-download.png"
            download.save_as(str(target))
            assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

            # 关系类型筛选: only membership links → the body and its nine members.
            page.click("#filters-none")
            _idle(page)
            page.check('#link-type-filters input[value="MEMBER_OF"]')
            _wait(page, "window.__explorer.nodeCount() === 10")
            _idle(page)
            assert set(page.evaluate("window.__explorer.nodeIds()")) == {BODY} | members

            # 日期: before the body was founded (2020-04-28) there is nothing to draw.
            page.fill("#as-of", "2019-12-31")
            _wait(page, "document.querySelector('#status').classList.contains('error')")
            page.fill("#as-of", "2021-01-01")
            _wait(page, "!document.querySelector('#status').classList.contains('error')")
            _idle(page)
            assert page.evaluate("window.__explorer.nodeCount()") == 10
        finally:
            browser.close()

    assert not page_errors, page_errors
    # The only expected console errors are the 404s of a missing recommendation service
    # and of a date before the body existed.
    assert all("404" in text for text in console_errors), console_errors
    outside = [
        url
        for url in requests
        if not (url.startswith(f"{base}/") or url.startswith((f"blob:{base}/", "data:")))
    ]
    assert not outside, outside


def test_planner_judges_recommendations_in_the_explorer(writable_server: str) -> None:
    """推荐结对 → 否决 / 采纳 / 待定 with the planner's key, on a writable seed graph: no key,
    no request; a rejected partner leaves the list; an accepted one becomes a 结对帮扶 link
    with 规划决定 provenance, drawn at once; a 409 problem shows its detail; 决策记录 lists
    the decisions with the planner's name."""
    sync_api = _browser_or_skip()
    base = writable_server
    proposed = _api(base, f"/v1/recommendations/partners?target={VILLAGE}")
    assert proposed["excluded_rejected"] == 0
    ranked = [c["partner"] for c in proposed["candidates"]["items"]]
    assert len(ranked) >= 3, ranked
    rejected, accepted, unsure = ranked[:3]
    pairs_before = {
        link["id"] for link in _api(base, "/v1/links?type=PAIRS_WITH&limit=1000")["items"]
    }

    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    writes: list[str] = []
    page_errors: list[str] = []
    console_errors: list[str] = []

    def record(request: Any) -> None:
        requests.append(request.url)
        if request.method != "GET":
            writes.append(f"{request.method} {request.url}")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            page.on("request", record)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.goto(f"{base}/explorer")
            _idle(page)

            # 台头村 → 推荐结对: every candidate has 采纳 / 否决 / 待定 and a 备注 field.
            page.fill("#search-input", "台头村")
            page.click("#search-button")
            page.click(f'#search-results button[data-id="{VILLAGE}"]')
            _wait(page, f"window.__explorer.selected() === '{VILLAGE}'")
            _idle(page)
            page.click("#action-recommend")
            recommend = page.locator("#recommend-panel")
            message = page.locator("#recommend-message")
            _wait(page, "document.querySelector('#recommend-panel').dataset.state === 'ok'")
            _idle(page)

            def row(partner: dict[str, Any]) -> Any:
                return recommend.locator(f'li.candidate[data-id="{partner["id"]}"]')

            def listed() -> list[str]:
                ids: list[str] = recommend.locator("li.candidate").evaluate_all(
                    "rows => rows.map(r => r.dataset.id)"
                )
                return ids

            assert listed() == [p["id"] for p in ranked]
            for partner in ranked:
                buttons = row(partner).locator(".judge button").all_inner_texts()
                assert buttons == ["采纳", "否决", "待定"], buttons
                assert row(partner).locator("input.judge-note").count() == 1
            assert recommend.locator(".badge.unsure").count() == 0

            # Without a key nothing is sent: the panel says writing needs one.
            assert page.input_value("#api-key") == ""
            row(rejected).locator("button.judge-reject").click()
            assert message.is_visible()
            assert "需要 API 密钥" in message.inner_text()
            assert message.get_attribute("data-kind") == "error"
            time.sleep(0.5)
            _idle(page)
            assert not writes, writes
            assert listed() == [p["id"] for p in ranked]

            # A wrong key: the service's 401 problem, shown with its detail; nothing written.
            page.fill("#api-key", "not-the-planner-key")
            row(unsure).locator("button.judge-unsure").click()
            _wait(page, "document.querySelector('#recommend-message').textContent.includes('401')")
            _idle(page)
            assert "invalid API key" in message.inner_text()
            assert message.get_attribute("data-kind") == "error"
            assert listed() == [p["id"] for p in ranked]
            assert recommend.locator(".badge.unsure").count() == 0

            # The key: kept in this tab's sessionStorage, never localStorage or the URL.
            page.fill("#api-key", PLANNER_KEY)
            assert (
                page.evaluate("sessionStorage.getItem('graph_service.explorer.api_key')")
                == PLANNER_KEY
            )
            assert page.evaluate("localStorage.length") == 0

            # 否决 the first, with a note: it leaves the list, which counts the rejection.
            row(rejected).locator("input.judge-note").fill("距离较远,暂不考虑")
            row(rejected).locator("button.judge-reject").click()
            _wait(
                page, "document.querySelector('#recommend-message').textContent.includes('已否决')"
            )
            _idle(page)
            assert rejected["name"] in message.inner_text()
            assert recommend.get_attribute("data-state") == "ok"
            assert listed() == [p["id"] for p in ranked[1:]]
            assert "已排除 1 个否决" in page.inner_text("#recommend-body")

            # 采纳 the next: a 结对帮扶 link with planner provenance, drawn and shown at once.
            row(accepted).locator("button.judge-accept").click()
            _wait(
                page, "document.querySelector('#recommend-message').textContent.includes('已采纳')"
            )
            _idle(page)
            assert "写入 结对帮扶 关系" in message.inner_text()
            assert message.get_attribute("data-kind") == "ok"
            links = page.evaluate(
                "fetch('/v1/links?type=PAIRS_WITH&limit=1000').then(r => r.json())"
            )["items"]
            new = [link for link in links if link["id"] not in pairs_before]
            assert len(new) == 1, new
            link = new[0]
            assert (link["source"], link["target"]) == (accepted["id"], VILLAGE)
            assert [s["kind"] for s in link["sources"]] == ["planner_decision"]
            assert link["sources"][0]["by"] == PLANNER
            assert link["id"] in page.evaluate("window.__explorer.edgeIds()")
            assert accepted["id"] in page.evaluate("window.__explorer.nodeIds()")
            detail = page.locator("#detail-panel")
            assert page.inner_text("#detail-title") == "结对帮扶"
            assert "规划决定" in detail.inner_text()
            assert PLANNER in detail.inner_text()
            assert accepted["id"] not in listed()
            assert PLANNER_KEY not in page.url

            # A pair that is already partnered: the service's 409 problem, with its detail.
            already = {
                "target": VILLAGE,
                "relation": "pairing",
                "excluded_rejected": 1,
                "candidates": {
                    "items": [
                        {"partner": accepted, "score": 0.5, "reasons": [], "judgement": None}
                    ],
                    "total": 1,
                    "truncated": False,
                    "more": None,
                },
            }
            page.route(
                "**/v1/recommendations/partners?*",
                lambda route: route.fulfill(
                    status=200,
                    content_type="application/json",
                    body=json.dumps(already, ensure_ascii=False),
                ),
            )
            page.evaluate(f"window.__explorer.openRecommendations('{VILLAGE}')")
            _wait(page, "document.querySelector('#recommend-panel').dataset.state === 'ok'")
            page.unroute("**/v1/recommendations/partners?*")
            row(accepted).locator("button.judge-accept").click()
            _wait(page, "document.querySelector('#recommend-message').dataset.kind === 'error'")
            _idle(page)
            assert "409" in message.inner_text()
            assert "partners already" in message.inner_text()

            # 待定 the last: it stays, with a 待定 badge.
            page.evaluate(f"window.__explorer.openRecommendations('{VILLAGE}')")
            _wait(page, "document.querySelector('#recommend-panel').dataset.state === 'ok'")
            _idle(page)
            assert listed() == [unsure["id"]]
            row(unsure).locator("button.judge-unsure").click()
            _wait(
                page,
                "document.querySelector('#recommend-message').textContent.includes('已标记待定')",
            )
            _idle(page)
            assert listed() == [unsure["id"]]
            assert row(unsure).locator(".badge.unsure").inner_text() == "待定"

            # 决策记录 of the village: the three decisions, in order, with the planner's name.
            assert page.evaluate(f"window.__explorer.select('{VILLAGE}')")
            page.click("#action-history")
            _wait(page, "document.querySelector('#history-panel').dataset.state === 'ok'")
            _idle(page)
            history = page.locator("#history-panel li.judgement")
            assert history.evaluate_all("rows => rows.map(r => r.dataset.decision)") == [
                "reject",
                "accept",
                "unsure",
            ]
            texts = history.all_inner_texts()
            for text, partner, word in zip(
                texts, (rejected, accepted, unsure), ("否决", "采纳", "待定"), strict=True
            ):
                assert partner["name"] in text, text
                assert word in text, text
                assert f"决策人:{PLANNER}" in text, text
            assert "距离较远" in texts[0]
            assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", texts[0]), texts[0]

            page.screenshot(path=str(ARTIFACTS / "explorer-judgements.png"))
            assert page.evaluate("localStorage.length") == 0
            assert PLANNER_KEY not in page.url
        finally:
            browser.close()

    assert not page_errors, page_errors
    # The expected console errors: the 401 of the wrong key and the 409 of the pair that
    # is already partnered.
    assert all(("401" in text or "409" in text) for text in console_errors), console_errors
    judgements = f"POST {base}/v1/recommendations/judgements"
    assert writes == [judgements] * 5, writes
    assert all(PLANNER_KEY not in url for url in requests)
    outside = [
        url
        for url in requests
        if not (url.startswith(f"{base}/") or url.startswith((f"blob:{base}/", "data:")))
    ]
    assert not outside, outside
