"""/docs (Swagger UI) and /redoc (ReDoc) work offline: their files without a browser, then
end to end in Chromium with every request to another host blocked.

The end-to-end test starts a real server over the seed graph the way
``test_explorer_e2e.py`` does (and with its helpers): Debian's headless Chromium through
Playwright's ``executable_path``, skipped without a browser except under CI. The browser
context aborts any request that is not to the server itself, so a CDN reference, a web font or
a validator badge would show up as a failed request. On /docs Swagger UI must draw the
operations, and 试用 (Try it out → Execute) of ``GET /v1/search`` must answer 200 with
红色硒谷; on /redoc ReDoc must draw the API title and the operations, and its search (a
worker) must find one. Screenshots in ``test-artifacts``: ``docs.png``, ``docs-try-it-out.png``
and ``redoc.png``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_settings
from fastapi.openapi.docs import swagger_ui_default_parameters
from fastapi.testclient import TestClient
from test_explorer_e2e import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    _browser_or_skip,
    _serve,
    _server_env,
    _wait,
)

from graph_service.api.app import create_app
from graph_service.api.routes.docs import SWAGGER_UI_PARAMETERS

TITLE = "graph-service 党建联建知识图谱"
VENDOR = ROOT / "graph_service" / "static" / "vendor"
#: Any absolute or protocol-relative URL naming a host.
OTHER_HOST = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
SEARCH_SUMMARY = "Search names and aliases (exact > prefix > substring)"
REDOC_SEARCH = "tag/graph/operation/search_v1_search_get"


@pytest.fixture
def docs_client(tmp_path: Path) -> Iterator[TestClient]:
    """The app over an empty embedded store: the documentation pages need no data."""
    with TestClient(create_app(make_settings("embedded", tmp_path / "data"))) as client:
        yield client


# ------------------------------------------------------------------------- without a browser


@pytest.mark.parametrize(
    ("path", "title"),
    [("/docs", f"{TITLE} · 接口调试 (Swagger UI)"), ("/redoc", f"{TITLE} · 接口文档 (ReDoc)")],
)
def test_documentation_pages_name_no_other_host(
    docs_client: TestClient, path: str, title: str
) -> None:
    response = docs_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert f"<title>{title}</title>" in html
    assert '<html lang="zh-CN">' in html
    assert not OTHER_HOST.search(html), OTHER_HOST.search(html)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 2, assets
    for asset in assets:
        assert asset.startswith("/explorer/static/vendor/"), asset
        fetched = docs_client.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.headers["x-content-type-options"] == "nosniff"
    assert 'spec-url="/openapi.json"' in html or "url: '/openapi.json'" in html
    assert docs_client.head(path).status_code == 200


def test_documentation_pages_allow_only_this_service(docs_client: TestClient) -> None:
    """The policy names no other source, and allows Swagger UI's start-up script by hash."""
    for path in ("/docs", "/redoc"):
        response = docs_client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "connect-src 'self'" in policy
        assert "font-src 'self'" in policy
        script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert "unsafe" not in script_src
        for inline in re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in script_src
        assert not OTHER_HOST.search(policy)


def test_swagger_ui_keeps_fastapis_settings_without_a_validator() -> None:
    assert swagger_ui_default_parameters.items() <= SWAGGER_UI_PARAMETERS.items()
    assert SWAGGER_UI_PARAMETERS["validatorUrl"] is None


def test_documentation_pages_follow_the_root_path(tmp_path: Path) -> None:
    """Behind a proxy that mounts the service under a prefix, every URL carries it."""
    app = create_app(make_settings("embedded", tmp_path / "data"))
    with TestClient(app, root_path="/graph") as client:
        for path in ("/docs", "/redoc"):
            html = client.get(path).text
            urls = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)
            urls += re.findall(r"url: '([^']+)'", html)
            assert len(urls) >= 3, urls
            assert all(url.startswith("/graph/") for url in urls), urls


def test_the_rest_of_fastapis_documentation_is_still_served(docs_client: TestClient) -> None:
    schema = docs_client.get("/openapi.json").json()
    assert schema["info"]["title"] == TITLE
    assert "/v1/search" in schema["paths"]
    assert not any(p in schema["paths"] for p in ("/docs", "/redoc", "/docs/oauth2-redirect"))
    redirect = docs_client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "swaggerUIRedirectOauth2" in redirect.text


def test_vendored_documentation_libraries_match_the_lockfile() -> None:
    """The committed copies are the locked npm versions, with their licences
    (scripts/build-frontend refreshes them)."""
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text(encoding="utf-8"))
    package = json.loads((ROOT / "frontend" / "package.json").read_text(encoding="utf-8"))
    for name, bundle in (
        ("swagger-ui-dist", "swagger-ui-bundle.js"),
        ("redoc", "redoc.standalone.js"),
    ):
        version = lock["packages"][f"node_modules/{name}"]["version"]
        assert package["dependencies"][name] == version
        text = (VENDOR / bundle).read_text(encoding="utf-8")
        assert f'"{version}"' in text, (name, version)
        assert (VENDOR / f"{bundle}.LICENSE.txt").is_file()
    assert "Apache License" in (VENDOR / "swagger-ui.LICENSE").read_text(encoding="utf-8")
    assert (VENDOR / "swagger-ui.NOTICE").is_file()
    assert "MIT License" in (VENDOR / "redoc.LICENSE").read_text(encoding="utf-8")


def test_vendored_redoc_loads_no_logo_from_its_cdn() -> None:
    """scripts/build-frontend's one patch: the side menu's logo URL is "data:", not the CDN."""
    text = (VENDOR / "redoc.standalone.js").read_text(encoding="utf-8")
    assert "cdn.redoc.ly" not in text
    assert 'src:"data:,"' in text


# ------------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on a free 127.0.0.1 port over the seed graph; its base URL."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("docs")
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


class OfflineBrowser:
    """A Chromium page that can reach only ``base``; it records what went wrong."""

    def __init__(self, playwright: Any, base: str) -> None:
        self.base = base
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = self.browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.route("**/*", self._only_this_service)
        self.page = context.new_page()
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )

    def _only_this_service(self, route: Any) -> None:
        url = route.request.url
        if url.startswith((f"{self.base}/", "data:", f"blob:{self.base}/")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def assert_clean(self) -> None:
        assert not self.blocked, self.blocked
        assert not self.failed, self.failed
        assert not self.page_errors, self.page_errors
        assert not self.console_errors, self.console_errors


def test_swagger_ui_renders_offline(server: str) -> None:
    sync_api = _browser_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        offline = OfflineBrowser(playwright, server)
        try:
            page = offline.page
            page.goto(f"{server}/docs")
            assert page.title() == f"{TITLE} · 接口调试 (Swagger UI)"
            search = page.locator("#operations-graph-search_v1_search_get")
            search.wait_for(state="visible", timeout=30_000)
            assert TITLE in page.locator(".information-container .title").inner_text()
            assert page.locator(".opblock").count() >= 20
            summary = search.locator(".opblock-summary")
            assert "/v1/search" in summary.inner_text()
            assert SEARCH_SUMMARY in summary.inner_text()
            _wait(page, "document.fonts.status === 'loaded'")
            page.screenshot(path=str(ARTIFACTS / "docs.png"))

            # 试用: Try it out → q=红色硒谷 → Execute; the answer comes from this service.
            summary.locator(".opblock-summary-control").click()
            search.locator("button.try-out__btn").click()
            search.locator('tr[data-param-name="q"] input').fill("红色硒谷")
            search.locator("button.execute").click()
            answer = search.locator(".live-responses-table tr.response")
            answer.wait_for(state="visible", timeout=30_000)
            assert answer.locator(".response-col_status").inner_text().strip() == "200"
            assert "红色硒谷" in answer.locator(".response-col_description").inner_text()
            page.screenshot(path=str(ARTIFACTS / "docs-try-it-out.png"))
        finally:
            offline.browser.close()
    offline.assert_clean()


def test_redoc_renders_offline(server: str) -> None:
    sync_api = _browser_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        offline = OfflineBrowser(playwright, server)
        try:
            page = offline.page
            page.goto(f"{server}/redoc")
            assert page.title() == f"{TITLE} · 接口文档 (ReDoc)"
            heading = page.locator(".api-info h1")
            heading.wait_for(state="visible", timeout=30_000)
            assert TITLE in heading.inner_text()
            operation = page.locator(f'[data-section-id="{REDOC_SEARCH}"]')
            operation.wait_for(state="visible", timeout=30_000)
            assert operation.locator("h2").first.inner_text() == SEARCH_SUMMARY
            assert "/v1/search" in operation.inner_text()
            assert page.locator('[data-section-id^="tag/"] h2').count() >= 20
            assert page.locator('.menu-content li[data-item-id^="tag/"]').count() >= 5
            # The side menu's CDN logo (patched to "data:," by scripts/build-frontend) hid.
            assert page.locator('img[alt="redocly logo"]').count() == 0

            # ReDoc's search (an index in a blob: worker) finds the operation.
            page.locator("input.search-input").fill("aliases")
            found = page.locator(f'[data-role="search:results"] li[data-item-id="{REDOC_SEARCH}"]')
            found.wait_for(state="visible", timeout=30_000)
            assert found.inner_text().strip().endswith(SEARCH_SUMMARY)
            page.locator("input.search-input").fill("")
            _wait(page, "document.fonts.status === 'loaded'")
            page.screenshot(path=str(ARTIFACTS / "redoc.png"))
        finally:
            offline.browser.close()
    offline.assert_clean()
