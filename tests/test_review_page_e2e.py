"""The review page (/review): its files without a browser, then end to end in Chromium.

The browser test runs its own server (uvicorn over a writable copy of the seed graph in the
embedded store, as ``tests/test_explorer_e2e.py`` does) with a bootstrap key of the reviewer
``审核员``. Through the API it makes a second 森力 company and scans 平原县 for duplicates;
on the page it enters the key, finds the pair, reads both nodes side by side with the score
and the Chinese explanation, keeps the register's node and accepts with the keyboard: the
API then resolves the duplicate id to it and the item is accepted. Then an article goes in:
the page rejects 平原县 (r), accepts 森力 with its candidate chosen (the button), marks
王杲铺镇 unsure (u), each read back through the API; accepting the link whose end is still
open shows the 409 problem's detail in the status region. j / k move through the list and
every control has a name. Every request the page makes goes to the server itself.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from conftest import ROOT, SEED_DIR, make_settings
from fastapi.testclient import TestClient
from test_explorer_e2e import CHROMIUM, CHROMIUM_ARGS, _browser_or_skip, _serve, _server_env, _wait

from graph_service.api.routes.explorer import CSP
from graph_service.services.loading import load_seed
from graph_service.settings import hash_api_key
from graph_service.store.embedded import EmbeddedGraphStore

ARTIFACTS = ROOT / "test-artifacts"
PAGE_DIR = ROOT / "graph_service" / "static" / "explorer"
REVIEWER = "审核员"
REVIEWER_KEY = "e2e-reviewer-key-pingyuan"
PINGYUAN = "371426"
SENLI = "ent:encheng-senli-pijiu"  # 森力啤酒饮料有限公司
DUPLICATE = {
    "id": "ent:senli-dup",
    "label": "Enterprise",
    "name": "平原县森力啤酒饮料公司",
    "region_code": "371426103",
}
ARTICLE = "2023年，平原县王杲铺镇组织森力啤酒饮料有限公司与林庄村党支部结对共建。"


# ------------------------------------------------------------------------- without a browser


def test_review_page_is_served_with_the_explorer_policy(seed_client: TestClient) -> None:
    response = seed_client.get("/review")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert seed_client.head("/review").status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    for word in ("审核队列", "状态", "类型", "来源", "区划代码", "接受", "拒绝", "不确定"):
        assert word in html, word
    assert 'role="list"' in html
    assert 'role="status" aria-live="polite"' in html
    assets = re.findall(r'(?:src|href)="(/[^"]*)"', html)
    assert "/explorer/static/explorer/review.js" in assets
    for asset in assets:
        if asset == "/explorer":  # the link back to the explorer
            continue
        assert asset.startswith("/explorer/static/"), asset
        fetched = seed_client.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.headers["x-content-type-options"] == "nosniff"


def test_review_files_name_no_other_host_and_write_no_markup() -> None:
    for name in ("review.html", "review.js", "review.css"):
        text = (PAGE_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), name
    script = (PAGE_DIR / "review.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert "localStorage" not in script


# ------------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over its own writable copy of the seed graph (embedded store) that
    accepts the bootstrap key of ``审核员``; its base URL."""
    _browser_or_skip()
    work = tmp_path_factory.mktemp("review-page")
    settings = make_settings(
        "embedded", work / "data", api_key_hashes=[f"{REVIEWER}={hash_api_key(REVIEWER_KEY)}"]
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


def _idle(page: Any) -> None:
    _wait(page, "window.__review && window.__review.ready()")


def _status(page: Any) -> tuple[str, str]:
    box = page.locator("#status")
    return box.get_attribute("data-kind") or "", box.inner_text()


def _wait_status(page: Any, kind: str, words: str) -> str:
    wanted = json.dumps(kind), json.dumps(words, ensure_ascii=False)
    script = (
        f"(b => b.dataset.kind === {wanted[0]} && b.textContent.includes({wanted[1]}))"
        "(document.querySelector('#status'))"
    )
    try:
        _wait(page, script, timeout=20)
    except AssertionError:
        raise AssertionError(f"status is {_status(page)}, not {kind}: {words}") from None
    _idle(page)
    text: str = page.inner_text("#status")
    return text


def test_a_reviewer_judges_the_queue_in_the_browser(review_server: str) -> None:
    sync_api = _browser_or_skip()
    base = review_server
    api = httpx.Client(base_url=base, headers={"X-API-Key": REVIEWER_KEY}, timeout=60)

    # A second 森力, as a careless import makes it; a scan of 平原县 proposes the pair.
    assert api.post("/v1/nodes", json=DUPLICATE).status_code == 201
    scan = api.post("/v1/dedup/scan", params={"region": PINGYUAN, "label": "Enterprise"})
    assert scan.status_code == 200, scan.text
    (pair,) = [
        i
        for i in scan.json()["items"]
        if {i["subject"]["a"]["id"], i["subject"]["b"]["id"]} == {DUPLICATE["id"], SENLI}
    ]
    explanation = pair["subject"]["match"]["explanation"]
    assert explanation

    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page_errors: list[str] = []
    console_errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.goto(f"{base}/review")
            _idle(page)
            assert page.title() == "党建联建知识图谱 · 审核队列"
            assert "API 密钥" in page.inner_text("#status")
            assert page.locator("#queue-list li").count() == 0

            # Labelled controls: the key, the filters, the list, the buttons, the live region.
            page.get_by_label("API 密钥").fill(REVIEWER_KEY)
            assert (
                page.evaluate("sessionStorage.getItem('graph_service.explorer.api_key')")
                == REVIEWER_KEY
            )
            for name in ("类型", "来源", "区划代码", "备注"):
                assert page.get_by_label(name).count() == 1, name
            for name in ("待审", "不确定", "已接受", "已拒绝"):
                assert page.get_by_role("checkbox", name=name).count() == 1, name
            page.get_by_role("button", name="刷新队列").click()
            _idle(page)
            queue = page.get_by_role("list", name="待审条目")
            assert queue.count() == 1
            unnamed = page.evaluate(
                """() => [...document.querySelectorAll('input, select, button')]
                    .filter(e => !e.closest('[hidden]'))
                    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                                 && !e.textContent.trim())
                    .map(e => e.outerHTML)"""
            )
            assert not unnamed, unnamed
            status_box = page.get_by_role("status")
            assert status_box.get_attribute("aria-live") == "polite"
            shortcuts = page.inner_text(".shortcuts")
            for key in ("j", "k", "a", "r", "u"):
                assert key in shortcuts, key

            # The duplicate: both nodes side by side, the score, the Chinese explanation.
            button = page.locator(f'#queue-list button[data-id="{pair["id"]}"]')
            assert button.count() == 1
            button.click()
            _wait(page, f"window.__review.current() === '{pair['id']}'")
            title = page.inner_text("#item-title")
            assert DUPLICATE["name"] in title
            assert "森力啤酒饮料有限公司" in title
            columns = {page.inner_text("#evidence"), page.inner_text("#candidates")}
            assert any(DUPLICATE["name"] in c and SENLI not in c for c in columns), columns
            assert any("森力啤酒饮料有限公司" in c and SENLI in c for c in columns), columns
            assert page.inner_text("#evidence-heading") == "节点 A"
            assert page.inner_text("#candidates-heading") == "节点 B"
            extra = page.inner_text("#item-extra")
            assert f"{pair['subject']['match']['score']:.2f}" in extra
            for line in explanation:
                assert line in extra, (line, extra)
            # The explorer opens a node given as #node=<id> (explorer.js, at its start).
            href = f"/explorer#node={quote(SENLI, safe='')}"
            assert page.locator(f'#item a.explorer-link[href="{href}"]').count() == 1

            page.screenshot(path=str(ARTIFACTS / "review-duplicate.png"), full_page=True)

            # Keep the register's node; accept with the keyboard (a) from the list.
            page.check(f'#item-extra input[name="canonical"][value="{SENLI}"]')
            button.focus()
            page.keyboard.press("a")
            message = _wait_status(page, "ok", "合并")
            assert "已接受" in message
            assert DUPLICATE["id"] in message
            assert pair["id"] not in page.evaluate("window.__review.itemIds()")
            assert api.get(f"/v1/nodes/{DUPLICATE['id']}").json()["id"] == SENLI
            decided = api.get(f"/v1/review/{pair['id']}").json()
            assert decided["status"] == "accepted"
            assert decided["decision"]["by"] == REVIEWER
            assert decided["decision"]["canonical"] == SENLI

            # An article: its proposals join the queue; only the article's, by 来源.
            made = api.post("/v1/documents", json={"text": ARTICLE, "region_code": PINGYUAN})
            assert made.status_code == 201, made.text
            body = made.json()
            entities = {e["name"]: e for e in body["entities"]}
            assert {"平原县", "王杲铺镇", "森力啤酒饮料有限公司", "林庄村党支部"} <= set(entities)
            co_builds = next(link for link in body["links"] if link["type"] == "CO_BUILDS")
            page.select_option("#filter-origin", "extraction")
            page.get_by_role("button", name="刷新队列").click()
            _idle(page)
            assert set(page.evaluate("window.__review.itemIds()")) == set(body["review_items"])

            def open_item(item_id: str) -> None:
                page.click(f'#queue-list button[data-id="{item_id}"]')
                _wait(page, f"window.__review.current() === '{item_id}'")
                _idle(page)

            # 平原县: the mention marked in the sentence; rejected with r.
            region = entities["平原县"]["review_item"]
            open_item(region)
            assert page.inner_text("#evidence blockquote.sentence mark") == "平原县"
            assert "2023年" in page.inner_text("#evidence blockquote.sentence")
            page.keyboard.press("r")
            assert "已拒绝" in _wait_status(page, "ok", "已拒绝")
            assert api.get(f"/v1/review/{region}").json()["status"] == "rejected"
            assert region not in page.evaluate("window.__review.itemIds()")

            # 森力: its candidate chosen in the table, accepted with the button.
            senli = entities["森力啤酒饮料有限公司"]["review_item"]
            open_item(senli)
            assert page.inner_text("#evidence mark") == "森力啤酒饮料有限公司"
            row = page.locator(f'#candidates tr[data-id="{SENLI}"]')
            assert "名称相同" in row.inner_text()
            assert "1.00" in row.inner_text()
            assert page.locator('#candidates input[name="choice"][value="new"]').count() == 1
            row.locator('input[name="choice"]').check()
            page.get_by_role("button", name="接受 (a)").click()
            message = _wait_status(page, "ok", "写入 1 个节点")
            assert SENLI in message
            decided = api.get(f"/v1/review/{senli}").json()
            assert decided["status"] == "accepted"
            assert decided["decision"]["node"] == SENLI
            sources = api.get(f"/v1/nodes/{SENLI}").json()["sources"]
            assert any(s.get("document") == body["document_id"] for s in sources)

            # 王杲铺镇: unsure (u); it stays in the list, marked.
            town = entities["王杲铺镇"]["review_item"]
            open_item(town)
            page.keyboard.press("u")
            _wait_status(page, "ok", "不确定")
            assert api.get(f"/v1/review/{town}").json()["status"] == "unsure"
            assert town in page.evaluate("window.__review.itemIds()")
            assert (
                page.locator(f'#queue-list button[data-id="{town}"]').get_attribute("data-status")
                == "unsure"
            )

            # The link 森力 → 林庄村党支部 before its second end is accepted: the 409's detail.
            open_item(co_builds["review_item"])
            assert page.inner_text("#candidates-heading") == "两端"
            _wait(page, "document.querySelectorAll('#candidates .end[data-status]').length === 2")
            ends = page.locator("#candidates .end")
            assert ends.nth(0).get_attribute("data-status") == "accepted"
            assert ends.nth(1).get_attribute("data-status") == "open"
            marks = page.locator("#evidence mark").all_inner_texts()
            assert {"森力啤酒饮料有限公司", "林庄村党支部"} <= set(marks), marks
            page.get_by_role("button", name="接受 (a)").click()
            message = _wait_status(page, "error", "409")
            assert "accept the link's ends first" in message
            assert entities["林庄村党支部"]["review_item"] in message
            assert api.get(f"/v1/review/{co_builds['review_item']}").json()["status"] == "open"
            assert co_builds["review_item"] in page.evaluate("window.__review.itemIds()")

            # j / k move the selection and the focus through the list; not while typing.
            ids = page.evaluate("window.__review.itemIds()")
            assert len(ids) >= 3
            page.locator(f'#queue-list button[data-id="{ids[0]}"]').click()
            _idle(page)
            focused = "document.activeElement && document.activeElement.dataset.id"
            assert page.evaluate(focused) == ids[0]
            page.keyboard.press("j")
            _idle(page)
            assert page.evaluate("window.__review.selected()") == ids[1]
            assert page.evaluate(focused) == ids[1]
            assert page.evaluate("window.__review.current()") == ids[1]
            page.keyboard.press("j")
            _idle(page)
            assert page.evaluate("window.__review.selected()") == ids[2]
            page.keyboard.press("k")
            _idle(page)
            assert page.evaluate("window.__review.selected()") == ids[1]
            assert page.evaluate(focused) == ids[1]
            assert (
                page.locator(f'#queue-list button[data-id="{ids[1]}"]').get_attribute(
                    "aria-current"
                )
                == "true"
            )
            page.focus("#decision-note")
            page.keyboard.type("jk")
            assert page.evaluate("window.__review.selected()") == ids[1]
            assert page.input_value("#decision-note") == "jk"

            page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
            assert page.evaluate("localStorage.length") == 0
            assert REVIEWER_KEY not in page.url
        finally:
            browser.close()
            api.close()

    assert not page_errors, page_errors
    # The one expected console error: the 409 of the link accepted before its ends.
    assert all("409" in text for text in console_errors), console_errors
    assert all(REVIEWER_KEY not in url for url in requests)
    outside = [url for url in requests if not url.startswith((f"{base}/", "data:"))]
    assert not outside, outside


def test_the_page_files_are_packaged() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"static/explorer/*"' in pyproject
    files = ("review.html", "review.js", "review.css", "dom.js")
    assert all((PAGE_DIR / name).is_file() for name in files)
    # The shared DOM helpers, then the page's own script: nothing else.
    assert Path(PAGE_DIR / "review.html").read_text(encoding="utf-8").count("<script") == 2
