"""The situation page (/dashboard): its files without a browser, then end to end in Chromium.

Without a browser: the page is served with the explorer's strict Content-Security-Policy, loads
only this service's files (its own and the vendored ECharts, the locked npm version), and no
file of it names another host.

In Chromium (the system browser through Playwright, like tests/test_explorer_e2e.py), over a
real server holding a writable copy of the seed graph with the planner key ``王科长``:

- 平原县 (371426): every chart's ECharts option carries exactly the values that
  ``GET /v1/dashboard?region=371426`` answers, the five cards say the API's values, the three
  action lists hold the API's rows, every chart has role=img and a summary, every control a
  name, and each chart and row links into the explorer at its nodes (one link is followed: the
  explorer draws and selects them). Screenshot ``test-artifacts/dashboard.png``, the A4 print
  ``test-artifacts/dashboard-report.pdf``.
- 对比日期 and 中心度 (since, measure) change the cards' changes and the top-N chart; the state is
  in the URL hash; a saved view (``POST /v1/views``) is listed and opens from ``#view=ID``.
- Keyboard: Tab walks the region selects, the inputs, the buttons and the links in order with a
  visible focus, and Enter activates.
- 导出 Excel downloads the workbook of the same answer: its sheets hold the rows of the page's
  tables.
- 接受 on the first proposed pairing and 否决 on another write the planner's judgements.

A second server holds the register extract of 静宁县 (620826) and its generated network: the
charts and lists show that county's answer.

Every request the page makes must go to the server itself. Without ``/usr/bin/chromium`` (or
``CHROMIUM``) or the ``playwright`` package the browser tests are skipped, except under CI.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import SEED_DIR, make_settings
from fastapi.testclient import TestClient
from test_explorer_e2e import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PLANNER,
    PLANNER_KEY,
    ROOT,
    STATIC,
    _api,
    _browser_or_skip,
    _serve,
    _server_env,
    _wait,
)

from graph_service.services.divisions import load_divisions
from graph_service.services.loading import load_seed
from graph_service.services.synthetic.into_store import generate_into
from graph_service.settings import hash_api_key
from graph_service.store.embedded import EmbeddedGraphStore

REGION = "371426"  # 平原县
COUNTY = "620826"  # 静宁县, generated
SEED = 1
FOCUS_MAX = 50  # nodes of one #nodes= link (the explorer's FOCUS_MAX)
SHEETS = [
    "概况",
    "各镇覆盖",
    "联系逐年",
    "联系强度分布",
    "中心度",
    "社区",
    "待结对薄弱村",
    "推荐结对",
    "规则违反",
]


# ------------------------------------------------------------------------- without a browser


def test_dashboard_page_is_served_with_a_strict_policy(seed_client: TestClient) -> None:
    response = seed_client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "connect-src 'self'" in csp
    html = response.text
    assert html == (STATIC / "dashboard" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    for word in ("截至", "对比日期", "中心度", "导出 Excel", "打印", "保存视图", "推荐结对"):
        assert word in html
    assert "<script>" not in html  # no inline script: the policy would refuse it
    assert not re.search(r"<[^>]*\son[a-z]+=", html)  # no inline handler (onclick=…)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/explorer/static/vendor/echarts.min.js" in scripts
    for asset in assets:
        if asset.startswith("data:") or asset in ("/explorer", "/review"):
            continue
        if asset.startswith("/v1/dashboard/report.xlsx"):  # the export, a link of the page
            continue
        assert asset.startswith("/explorer/static/"), asset
        fetched = seed_client.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.headers["x-content-type-options"] == "nosniff"


def test_no_file_of_the_dashboard_names_another_host() -> None:
    files = list((STATIC / "dashboard").iterdir())
    assert {p.name for p in files} >= {"index.html", "dashboard.js", "dashboard.css", "print.css"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
        assert "eval(" not in text, path
        assert "new Function" not in text, path


def test_vendored_echarts_matches_the_lockfile() -> None:
    """The committed copy is the locked npm version (scripts/build-frontend refreshes it)."""
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text(encoding="utf-8"))
    version = lock["packages"]["node_modules/echarts"]["version"]
    package = json.loads((ROOT / "frontend" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["echarts"] == version
    vendored = (STATIC / "vendor" / "echarts.min.js").read_text(encoding="utf-8")
    assert f'version:"{version}"' in vendored.replace(" ", "")
    assert (STATIC / "vendor" / "echarts.LICENSE").is_file()
    assert (STATIC / "vendor" / "echarts.NOTICE").is_file()
    build = (ROOT / "scripts" / "build-frontend").read_text(encoding="utf-8")
    assert "node_modules/echarts/dist/echarts.min.js:echarts.min.js" in build


# ------------------------------------------------------------------------- servers


def _run(work: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to its end in a thread of its own: the module's browser (Playwright's
    sync API) keeps an event loop running in this one, where asyncio.run refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work).result()


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over its own, writable copy of the seed graph that accepts the planner
    key ``王科长``; its base URL."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("dashboard")
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

    _run(fill())
    env = _server_env(settings.data_dir)
    env["GRAPH_SERVICE_API_KEY_HASHES"] = json.dumps(settings.api_key_hashes, ensure_ascii=False)
    # The page reloads right after a judgement: exact analyses, not the served second of
    # staleness (tests/test_workers.py tests the bound itself).
    env["GRAPH_SERVICE_SCOPE_GRAPH_MAX_STALE_S"] = "0"
    with _serve(work, env) as base:
        yield base


@pytest.fixture(scope="module")
def county_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over the register extract of 静宁县 and its generated network."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("dashboard-county")
    settings = make_settings("embedded", work / "data")
    settings.data_dir.mkdir(parents=True)

    async def fill() -> None:
        store = EmbeddedGraphStore(settings.embedded_path)
        await store.open()
        try:
            register = SEED_DIR / "register"
            await load_divisions(store, register, work / "divisions.json", scope=[COUNTY])
            await generate_into(store, [COUNTY], SEED)
        finally:
            await store.close()

    _run(fill())
    with _serve(work, _server_env(settings.data_dir)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests (each opens its own context)."""
    sync_api = _browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# ------------------------------------------------------------------------- helpers


def _call(
    base: str, path: str, method: str = "GET", body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    """A JSON request with an optional API key: (status, body)."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)  # noqa: S310
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Watched:
    """A page with its requests, writes, page errors and console errors recorded."""

    def __init__(self, browser: Any, **context: Any) -> None:
        self.context = browser.new_context(
            viewport={"width": 1440, "height": 1000}, locale="zh-CN", **context
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.writes: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", self._record)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )

    def _record(self, request: Any) -> None:
        self.requests.append(request.url)
        if request.method != "GET":
            self.writes.append(f"{request.method} {request.url}")

    def close(self, base: str) -> None:
        self.context.close()
        assert all(url.startswith(base) for url in self.requests), [
            u for u in self.requests if not u.startswith(base)
        ]


def _ready(page: Any, timeout: float = 60.0) -> None:
    _wait(page, "window.__dashboard && window.__dashboard.ready()", timeout=timeout)


def _query(**params: str | None) -> str:
    return urllib.parse.urlencode({k: v for k, v in params.items() if v})


def _number(value: Any, unit: str) -> str:
    """The page's way of writing a card value (formatNumber in dashboard.js)."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _change(card: dict[str, Any], since: str | None) -> str:
    """The page's line under a card: the change since ``since`` and the value then."""
    if not since:
        return ""
    if card["previous"] is None:
        return "无对比数据"
    unit = card["unit"]
    then = f"{_number(card['previous'], unit)} {unit}"
    change = card["change"] or 0
    if change == 0:
        return f"较 {since} 持平(原 {then})"
    arrow = "↑" if change > 0 else "↓"
    return f"较 {since} {arrow} {_number(abs(change), unit)} {unit}(原 {then})"


def _rows(page: Any, selector: str, script: str) -> list[Any]:
    rows: list[Any] = page.locator(selector).evaluate_all(script)
    return rows


def _hrefs(page: Any, selector: str) -> list[str]:
    return _rows(page, selector, "links => links.map(a => a.getAttribute('href'))")


def _nodes_of(href: str) -> list[str]:
    """The node ids an explorer link is focused on (#node=ID or #nodes=ID,…)."""
    fragment = href.split("#", 1)[1]
    kind, _, value = fragment.partition("=")
    assert kind in ("node", "nodes"), href
    return [urllib.parse.unquote(part) for part in value.split(",")]


def _check_answer_drawn(page: Any, answer: dict[str, Any]) -> None:
    """Every chart's option, card and list row of the page is the API's ``answer``."""
    # Why this is long: one pass over the page in its order (charts, cards, lists, links),
    # each part against its part of the answer; the seed and the generated county share it.
    # The page drew the same answer.
    assert page.evaluate("window.__dashboard.data()") == answer
    option = lambda name: page.evaluate(f"window.__dashboard.chartOption('{name}')")  # noqa: E731

    towns = answer["coverage_by_town"]
    coverage = option("coverage")
    assert coverage["xAxis"][0]["data"] == [t["name"] for t in towns]
    assert coverage["series"][0]["data"] == [t["rate"] for t in towns]

    years = answer["links_by_year"]
    links = option("links")
    assert links["xAxis"][0]["data"] == [str(y) for y in years["years"]]
    assert [(s["name"], s["data"]) for s in links["series"]] == [
        (s["label"], s["counts"]) for s in years["series"]
    ]

    histogram = answer["strength_histogram"]
    strength = option("strength")
    assert strength["series"][0]["data"] == [b["count"] for b in histogram["bins"]]
    assert strength["xAxis"][0]["data"] == [
        f"{b['from']:.1f}–{b['to']:.1f}" for b in histogram["bins"]
    ]
    assert f"共 {histogram['links']} 条联系" in strength["title"][0]["text"]

    rows = answer["centrality"]["rows"]
    centrality = option("centrality")
    assert centrality["yAxis"][0]["data"] == [r["name"] for r in rows]
    assert [d["value"] for d in centrality["series"][0]["data"]] == [r["score"] for r in rows]

    sankey = answer["communities"]["sankey"]
    communities = option("communities")["series"][0]
    assert communities["links"] == [
        {"source": k["source"], "target": k["target"], "value": k["value"]} for k in sankey["links"]
    ]
    linked = {k["source"] for k in sankey["links"]} | {k["target"] for k in sankey["links"]}
    assert [(d["id"], d["name"]) for d in communities["data"]] == [
        (n["id"], n["name"]) for n in sankey["nodes"] if n["id"] in linked
    ]

    # Every chart: an image with a summary, the data as a table for screen readers.
    charts = _rows(
        page,
        ".chart",
        "cs => cs.map(c => [c.id, c.getAttribute('role'), c.getAttribute('aria-label')])",
    )
    assert [c[0] for c in charts] == [
        "chart-coverage",
        "chart-links",
        "chart-strength",
        "chart-centrality",
        "chart-communities",
    ]
    for chart_id, role, label in charts:
        assert role == "img", chart_id
        assert label, chart_id
        assert label != "加载中", chart_id
        heading = page.locator(f"#{chart_id}").locator("xpath=..").locator("h2")
        assert heading.inner_text().strip(), chart_id
    assert page.locator(".chart-data table").count() == 5
    coverage_rows = _rows(page, "#data-coverage tbody tr", "rs => rs.map(r => r.dataset.code)")
    assert coverage_rows == [t["code"] for t in towns]

    # The five cards.
    cards = _rows(
        page,
        "#cards .card",
        "cs => cs.map(c => [c.dataset.key, c.querySelector('.card-label').textContent, "
        "c.querySelector('.card-value strong').textContent, "
        "c.querySelector('.card-unit').textContent.trim(), "
        "c.querySelector('.card-change').textContent])",
    )
    assert [c[0] for c in cards] == [
        "villages",
        "joint_bodies",
        "coverage",
        "weak_villages",
        "rule_breaches",
    ]
    for (key, label, value, unit, change), card in zip(cards, answer["cards"], strict=True):
        assert (key, label, unit) == (card["key"], card["label"], card["unit"])
        assert value == _number(card["value"], card["unit"]), key
        assert change == _change(card, answer["since"]), key

    # The action lists: the API's rows, in its order, each linked to its nodes.
    weak = answer["unpartnered_weak"]
    listed = _rows(
        page,
        "#weak-list tbody tr",
        "rs => rs.map(r => [r.dataset.id, r.cells[0].textContent, "
        "r.querySelector('a.explorer-link').getAttribute('href')])",
    )
    assert [(i, n) for i, n, _ in listed] == [(w["id"], w["name"]) for w in weak["items"]]
    assert all(_nodes_of(href) == [i] for i, _, href in listed)
    assert str(weak["total"]) in page.inner_text("#weak-total")

    pairings = _rows(
        page,
        "#pairings-list tbody tr",
        "rs => rs.map(r => [r.dataset.village, r.dataset.partner, r.cells[0].textContent, "
        "r.querySelectorAll('.reasons li').length, "
        "r.querySelector('a.explorer-link').getAttribute('href')])",
    )
    assert [(v, p, n, k) for v, p, n, k, _ in pairings] == [
        (p["village"]["id"], p["partner"]["id"], p["village"]["name"], len(p["reasons"]))
        for p in answer["pairings"]
    ]
    assert all(_nodes_of(href) == [v, p] for v, p, _, _, href in pairings)

    breaches = _rows(
        page,
        "#breaches-list tbody tr",
        "rs => rs.map(r => [r.dataset.id, r.dataset.rule, r.cells[0].textContent, "
        "r.cells[3].textContent, r.querySelector('a.explorer-link').getAttribute('href')])",
    )
    assert [(i, r, n, e) for i, r, n, e, _ in breaches] == [
        (b["body"]["id"], b["rule_id"], b["body"]["name"], b["evidence"])
        for b in answer["breaches"]
    ]
    assert all(_nodes_of(href) == [i] for i, _, _, _, href in breaches)

    # Chart links into the explorer: the region and its towns, the top-N nodes, the bodies.
    code = answer["region"]["code"]
    assert page.get_attribute("#link-coverage", "href") == f"/explorer#region={code}"
    assert _hrefs(page, "#data-coverage a.explorer-link") == [
        f"/explorer#region={t['code']}" for t in towns
    ]
    if len(rows) > 1:
        assert _nodes_of(page.get_attribute("#link-centrality", "href")) == [
            r["node"] for r in rows[:FOCUS_MAX]
        ]
    bodies = [n["id"] for n in sankey["nodes"] if n["kind"] == "body"]
    if len(bodies) > 1:  # the explorer draws at most FOCUS_MAX nodes at once
        assert _nodes_of(page.get_attribute("#link-communities", "href")) == bodies[:FOCUS_MAX]


# ------------------------------------------------------------------------- in Chromium


def test_pingyuan_dashboard_shows_the_api_answer(seed_server: str, browser: Any) -> None:
    base = seed_server
    answer = _api(base, f"/v1/dashboard?region={REGION}")
    assert answer["region"]["name"] == "平原县"
    assert answer["pairings"]
    assert answer["breaches"]
    assert answer["unpartnered_weak"]["items"]
    ARTIFACTS.mkdir(exist_ok=True)
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{base}/dashboard#region={REGION}")
    _ready(page)
    assert page.title() == "平原县 · 党建联建态势"
    _check_answer_drawn(page, answer)

    # The picker shows the region's path; the state is in the hash, the export link asks alike.
    assert [page.input_value(f"#{s}") for s in ("province", "city", "county", "town")] == [
        "37",
        "3714",
        REGION,
        "",
    ]
    towns = _rows(page, "#town option", "os => os.map(o => o.value).filter(Boolean)")
    assert towns == [c["code"] for c in answer["region"]["children"]]
    assert page.evaluate("location.hash") == f"#region={REGION}&measure=pagerank"
    assert (
        page.get_attribute("#export-xlsx", "href")
        == f"/v1/dashboard/report.xlsx?region={REGION}&measure=pagerank"
    )
    assert page.get_attribute("#explorer-region", "href") == f"/explorer#region={REGION}"
    assert "平原县" in page.inner_text("#status")
    assert page.get_attribute("#status", "aria-live") == "polite"
    drawn = page.evaluate("performance.getEntriesByName('dashboard-drawn').length")
    assert drawn == 1

    # Accessible names: every input and select has a label, every button a text.
    unnamed = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, button, textarea'))
            .filter(e => !(e.labels && Array.from(e.labels).some(l => l.textContent.trim()))
                      && !(e.getAttribute('aria-label') || '').trim()
                      && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map(e => e.id || e.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
    headings = _rows(page, "h1, h2", "hs => hs.map(h => h.tagName)")
    assert headings[0] == "H1"
    assert headings.count("H1") == 1
    assert len(headings) >= 10

    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    # The A4 report: no controls, the charts as drawn, the lists whole.
    page.emulate_media(media="print")
    hidden = page.evaluate(
        "['.controls', '.views', '.chart-data'].map(s => "
        "getComputedStyle(document.querySelector(s)).display)"
    )
    assert hidden == ["none", "none", "none"]
    assert page.evaluate("getComputedStyle(document.querySelector('#weak-table')).maxHeight") == (
        "none"
    )
    pdf = page.pdf(path=str(ARTIFACTS / "dashboard-report.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 3
    page.emulate_media(media="screen")

    # Following a row's link: the explorer draws and selects that node.
    breach = answer["breaches"][0]["body"]["id"]
    with page.expect_navigation():
        page.locator(f'#breaches-list tr[data-id="{breach}"] a.explorer-link').first.click()
    _wait(page, "window.__explorer && window.__explorer.ready() && window.__explorer.selected()")
    assert page.evaluate("window.__explorer.selected()") == breach
    assert breach in page.evaluate("window.__explorer.nodeIds()")
    # And the top-N chart's link: all of its nodes, each with its neighbourhood, selected.
    page.goto(f"{base}/dashboard#region={REGION}")
    _ready(page)
    top = [r["node"] for r in answer["centrality"]["rows"]]
    with page.expect_navigation():
        page.click("#link-centrality")
    _wait(
        page,
        "window.__explorer && window.__explorer.ready() && window.__explorer.focus()",
        timeout=60,
    )
    assert page.evaluate("window.__explorer.focus()") == top
    assert sorted(page.evaluate("window.__explorer.selectedIds()")) == sorted(top)
    assert set(top) <= set(page.evaluate("window.__explorer.nodeIds()"))
    assert page.evaluate("window.__explorer.nodeCount()") > len(top)
    assert page.evaluate("location.hash").startswith("#nodes=")
    assert not watched.writes
    assert not watched.errors, watched.errors
    watched.close(base)


def test_dates_measure_and_saved_views(seed_server: str, browser: Any) -> None:
    base = seed_server
    since, measure = "2025-01-01", "degree"
    answer = _api(base, f"/v1/dashboard?{_query(region=REGION, since=since, measure=measure)}")
    assert answer["since"] == since
    assert answer["centrality"]["measure"] == measure
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{base}/dashboard#region={REGION}&since={since}&measure={measure}")
    _ready(page)
    _check_answer_drawn(page, answer)
    assert page.input_value("#since") == since
    assert page.input_value("#measure") == measure
    assert answer["centrality"]["label"] in page.inner_text("#centrality-measure")

    # Changing the measure in the page: a new answer, the hash follows.
    page.select_option("#measure", "betweenness")
    _wait(page, "window.__dashboard.params().measure === 'betweenness'")
    _ready(page)
    assert page.evaluate("location.hash") == (f"#region={REGION}&since={since}&measure=betweenness")
    again = _api(base, f"/v1/dashboard?{_query(region=REGION, since=since, measure='betweenness')}")
    assert page.evaluate("window.__dashboard.chartOption('centrality')")["yAxis"][0]["data"] == [
        r["name"] for r in again["centrality"]["rows"]
    ]

    # A town from the picker: the region becomes the town.
    town = answer["region"]["children"][0]
    page.select_option("#town", town["code"])
    _wait(page, f"window.__dashboard.data().region.code === '{town['code']}'")
    _ready(page)
    assert page.evaluate("location.hash").startswith(f"#region={town['code']}&")
    assert page.input_value("#county") == REGION

    # The region search.
    page.fill("#region-search", "平原县")
    page.click("#region-search-button")
    page.click(f'#region-results button[data-code="{REGION}"]')
    _wait(page, f"window.__dashboard.data().region.code === '{REGION}'")
    _ready(page)

    # A saved view: needs the key, is listed, and opens from #view=ID in another tab.
    page.fill("#view-name", "平原县年度")
    page.click("#view-save")
    _wait(page, "!document.querySelector('#views-message').hidden")
    assert "密钥" in page.inner_text("#views-message")
    assert not watched.writes
    page.fill("#api-key", PLANNER_KEY)
    page.click("#view-save")
    _wait(page, "document.querySelectorAll('#views li[data-id]').length === 1")
    assert "已保存" in page.inner_text("#views-message")
    status, mine = _call(base, "/v1/views", key=PLANNER_KEY)
    assert status == 200
    saved = next(v for v in mine["items"] if v["name"] == "平原县年度")
    assert saved["region"] == REGION
    assert saved["since"] == since
    assert saved["filters"]["measure"] == "betweenness"
    assert page.get_attribute("#views li[data-id] a", "href") == f"#view={saved['id']}"
    assert page.evaluate("sessionStorage.getItem('graph_service.explorer.api_key')") == (
        PLANNER_KEY
    )

    other = Watched(browser)
    other.page.goto(f"{base}/dashboard#view={saved['id']}")
    _ready(other.page)
    assert other.page.evaluate("window.__dashboard.params()") == {
        "region": REGION,
        "as_of": "",
        "since": since,
        "measure": "betweenness",
    }
    assert other.page.evaluate("location.hash") == (
        f"#region={REGION}&since={since}&measure=betweenness"
    )
    assert other.page.evaluate("window.__dashboard.data().centrality.measure") == "betweenness"
    assert not other.errors, other.errors
    other.close(base)

    # A region that does not exist: the problem's detail in the status line.
    page.goto(f"{base}/dashboard#region=999999")  # the same document: its hashchange
    _wait(page, "document.querySelector('#status').textContent.includes('无法加载态势')")
    _ready(page)
    assert "404" in page.inner_text("#status")
    assert page.evaluate("location.hash") == "#region=999999&measure=pagerank"
    watched.errors[:] = [e for e in watched.errors if "404" not in e]
    assert not watched.errors, watched.errors
    watched.close(base)


def test_keyboard_reaches_every_control_in_order(seed_server: str, browser: Any) -> None:
    base = seed_server
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{base}/dashboard#region={REGION}")
    _ready(page)
    page.locator("h1").click()  # start from the top of the page

    def focused() -> dict[str, Any]:
        info: dict[str, Any] = page.evaluate(
            """() => { const e = document.activeElement;
                return {id: e.id, tag: e.tagName, text: (e.textContent || '').trim().slice(0, 20),
                        outline: getComputedStyle(e).outlineStyle,
                        summary: e.tagName === 'SUMMARY'}; }"""
        )
        return info

    order: list[str] = []
    unmarked: set[str] = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        now = focused()
        name = now["id"] or f"{now['tag']}:{now['text']}"
        if not order or order[-1] != name:
            order.append(name)
        if now["outline"] == "none":
            unmarked.add(name)
    expected = [
        "province",
        "city",
        "county",
        "town",
        "region-search",
        "region-search-button",
        "as-of",
        "since",
        "measure",
        "apply",
        "export-xlsx",
        "print",
        "explorer-region",
        "api-key",
        "api-key-clear",
        "link-coverage",
        "SUMMARY:查看数据",
        "link-links",
    ]
    positions = [order.index(name) for name in expected]
    assert positions == sorted(positions), order
    assert not unmarked  # the focus is always drawn

    # Enter activates: a link's 查看数据 opens, the 查询 button reloads.
    page.focus("#link-coverage")
    page.keyboard.press("Tab")
    assert focused()["summary"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.querySelector('#data-coverage').closest('details').open")
    before = len(watched.requests)
    page.focus("#apply")
    page.keyboard.press("Enter")
    _wait(page, f"window.__dashboard.ready() && {len(watched.requests)} > {before}")
    assert any("/v1/dashboard?" in url for url in watched.requests[before:])
    # A town chosen with the keyboard alone.
    page.focus("#town")
    page.keyboard.press("ArrowDown")
    _wait(page, "window.__dashboard.data().region.level === '乡镇'")
    _ready(page)
    # Enter on a focused explorer link follows it.
    page.focus("#explorer-region")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _wait(page, "window.__explorer && window.__explorer.ready() && window.__explorer.region()")
    assert page.evaluate("window.__explorer.region().region").startswith(REGION)
    assert not watched.errors, watched.errors
    watched.close(base)


def test_excel_export_holds_the_rows_of_the_page(seed_server: str, browser: Any) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    base = seed_server
    watched = Watched(browser, accept_downloads=True)
    page = watched.page
    page.goto(f"{base}/dashboard#region={REGION}")
    _ready(page)
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    download = download_info.value
    path = ARTIFACTS / "dashboard-report.xlsx"
    ARTIFACTS.mkdir(exist_ok=True)
    download.save_as(str(path))
    workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    assert workbook.sheetnames == SHEETS

    def sheet(name: str) -> list[list[Any]]:
        return [list(r) for r in workbook[name].iter_rows(values_only=True)]

    def table(selector: str, columns: list[int]) -> list[list[str]]:
        return _rows(
            page,
            f"{selector} tbody tr",
            f"rs => rs.map(r => {json.dumps(columns)}.map(i => r.cells[i].textContent))",
        )

    coverage = sheet("各镇覆盖")
    assert coverage[0][:2] == ["乡镇代码", "乡镇"]
    assert [[str(r[0]), r[1]] for r in coverage[1:]] == table("#data-coverage", [1, 0])
    assert [f"{r[4]:.1f}" for r in coverage[1:]] == [row[0] for row in table("#data-coverage", [4])]
    weak = sheet("待结对薄弱村")
    assert [[r[0], r[1]] for r in weak[1:]] == table("#weak-list", [0, 1])
    pairings = sheet("推荐结对")
    assert [r[0] for r in pairings[1:]] == [row[0] for row in table("#pairings-list", [0])]
    ids = _rows(
        page, "#pairings-list tbody tr", "rs => rs.map(r => [r.dataset.village, r.dataset.partner])"
    )
    assert [[r[5], r[6]] for r in pairings[1:]] == ids
    breaches = sheet("规则违反")
    assert [[r[0], r[1], r[2], r[3]] for r in breaches[1:]] == table("#breaches-list", [0, 1, 2, 3])
    centrality = sheet("中心度")
    names = _rows(page, "#data-centrality tbody tr", "rs => rs.map(r => r.cells[1].textContent)")
    assert [r[1] for r in centrality[1:]] == names
    communities = sheet("社区")
    sankey = table("#data-communities", [0, 1, 2])
    assert [[r[0], r[1], str(r[2])] for r in communities[1:]] == [
        row for row in sankey if row[1] != "(成员不在所列社区)"
    ]
    workbook.close()
    watched.close(base)


def test_planner_accepts_and_rejects_pairings(seed_server: str, browser: Any) -> None:
    base = seed_server
    answer = _api(base, f"/v1/dashboard?region={REGION}")
    assert len(answer["pairings"]) >= 3
    first = answer["pairings"][0]
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{base}/dashboard#region={REGION}")
    _ready(page)
    page.evaluate("sessionStorage.clear()")
    page.fill("#api-key", "")

    def row(pairing: dict[str, Any]) -> Any:
        village, partner = pairing["village"]["id"], pairing["partner"]["id"]
        return page.locator(
            f'#pairings-list tr[data-village="{village}"][data-partner="{partner}"]'
        )

    message = page.locator("#pairings-message")
    # Without a key nothing is sent; a wrong key shows the 401 problem's detail.
    row(first).locator("button.judge-accept").click()
    assert message.is_visible()
    assert "API 密钥" in message.inner_text()
    assert not watched.writes
    page.fill("#api-key", "not-a-key")
    row(first).locator("button.judge-accept").click()
    _wait(page, "document.querySelector('#pairings-message').textContent.includes('401')")
    assert message.get_attribute("data-kind") == "error"
    assert len(watched.writes) == 1

    # 接受 with the planner's key: a judgement, the row marked, the page reloaded.
    page.fill("#api-key", PLANNER_KEY)
    row(first).locator("button.judge-accept").click()
    _wait(page, "window.__dashboard.decisions().length === 1")
    _ready(page)
    assert "已接受" in message.inner_text()
    assert page.locator("#decisions li[data-decision='accept']").count() == 1
    query = _query(target=first["village"]["id"], partner=first["partner"]["id"])
    status, judged = _call(base, f"/v1/recommendations/judgements?{query}", key=PLANNER_KEY)
    assert status == 200
    assert [(j["decision"], j["decided_by"]) for j in judged["items"]] == [("accept", PLANNER)]
    # The page reloaded: the pair is no longer proposed.
    after = page.evaluate("window.__dashboard.data()")
    assert after == _api(base, f"/v1/dashboard?region={REGION}")
    pairs = [(p["village"]["id"], p["partner"]["id"]) for p in after["pairings"]]
    assert (first["village"]["id"], first["partner"]["id"]) not in pairs

    # 否决 on another proposed pair: a reject judgement.
    other = after["pairings"][1]
    row(other).locator("button.judge-reject").click()
    _wait(page, "window.__dashboard.decisions().length === 2")
    _ready(page)
    assert "已否决" in message.inner_text()
    query = _query(target=other["village"]["id"], partner=other["partner"]["id"])
    status, judged = _call(base, f"/v1/recommendations/judgements?{query}", key=PLANNER_KEY)
    assert [(j["decision"], j["decided_by"]) for j in judged["items"]] == [("reject", PLANNER)]
    pairs = [
        (p["village"]["id"], p["partner"]["id"])
        for p in page.evaluate("window.__dashboard.data()")["pairings"]
    ]
    assert (other["village"]["id"], other["partner"]["id"]) not in pairs
    assert len(watched.writes) == 3
    page.screenshot(path=str(ARTIFACTS / "dashboard-judgements.png"))
    assert not [e for e in watched.errors if "401" not in e], watched.errors
    watched.close(base)

    # The accepted village (no link before) now counts as covered in its town, on the page
    # drawn after the judgement as in the API's answer.
    covered = {t["code"]: t["covered"] for t in answer["coverage_by_town"]}
    town = first["village"]["id"].split(":")[1][:9]
    assert {t["code"]: t["covered"] for t in after["coverage_by_town"]} == {
        code: n + (1 if code == town else 0) for code, n in covered.items()
    }


def test_generated_county_dashboard(county_server: str, browser: Any) -> None:
    base = county_server
    started = time.monotonic()
    answer = _api(base, f"/v1/dashboard?region={COUNTY}")
    assert answer["region"]["name"] == "静宁县"
    assert len(answer["coverage_by_town"]) >= 10
    assert answer["cards"][0]["value"] >= 100
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{base}/dashboard#region={COUNTY}")
    _ready(page, timeout=120)
    _check_answer_drawn(page, answer)
    assert [page.input_value(f"#{s}") for s in ("province", "city", "county")] == [
        "62",
        "6208",
        COUNTY,
    ]
    page.screenshot(path=str(ARTIFACTS / "dashboard-county.png"), full_page=True)
    assert not watched.errors, watched.errors
    watched.close(base)
    assert time.monotonic() - started < 120


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over 静宁县's generated network that answers nothing within its time
    budget (50 ms): every first request for a page is a 503 with Retry-After."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("dashboard-busy")
    settings = make_settings("embedded", work / "data")
    settings.data_dir.mkdir(parents=True)

    async def fill() -> None:
        store = EmbeddedGraphStore(settings.embedded_path)
        await store.open()
        try:
            register = SEED_DIR / "register"
            await load_divisions(store, register, work / "divisions.json", scope=[COUNTY])
            await generate_into(store, [COUNTY], SEED)
        finally:
            await store.close()

    _run(fill())
    env = _server_env(settings.data_dir)
    env["GRAPH_SERVICE_REQUEST_BUDGET_SECONDS"] = "0.05"
    with _serve(work, env) as base:
        yield base


def test_the_page_asks_early_and_again_while_the_server_computes(
    busy_server: str, browser: Any
) -> None:
    """The answer is asked for before the chart library loads (prefetch.js); a 503 while it
    is computed is asked again after Retry-After, and the page then draws it."""
    base = busy_server
    watched = Watched(browser)
    page = watched.page
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if "/v1/dashboard?" in r.url else None,
    )
    page.goto(f"{base}/dashboard#region={COUNTY}")
    _wait(page, "document.getElementById('status').textContent.includes('自动重试')", 60)
    _ready(page, timeout=120)
    assert statuses[0] == 503
    assert statuses[-1] == 200
    # Asked before the chart library was parsed and the page's own script began.
    asked, booted = page.evaluate(
        """() => [
          performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("/v1/dashboard?"))[0].startTime,
          performance.getEntriesByName("dashboard-start")[0].startTime,
        ]"""
    )
    assert asked < booted
    # The prefetched request was taken over, not sent twice: one 503, then the retry.
    assert statuses == [503, 200]
    answer = _api(base, f"/v1/dashboard?region={COUNTY}")  # cached now: within the budget
    _check_answer_drawn(page, answer)
    # Chromium logs each 503 it received; nothing else went wrong.
    assert [e for e in watched.errors if "status of 503" not in e] == []
    watched.close(base)
