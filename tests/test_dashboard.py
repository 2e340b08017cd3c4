"""GET /v1/dashboard: every part equals what the matching analysis route answers, on each
backend; dates compare; judgements change the action lists at once; saved views per account;
the CLI report. (The page in Chromium: tests/test_dashboard_e2e.py; the workbook:
tests/test_report.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import _NEO4J_STATE, AUTH, SEED_DIR, account_headers, make_settings, open_store
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service.api.app import create_app
from graph_service.cli import app as cli_app
from graph_service.schema import JOINT_BODY_KINDS
from graph_service.services.loading import load_seed
from graph_service.services.report import REPORT_SHEETS
from graph_service.settings import Settings, get_settings

PINGYUAN = "371426"
ZICHUAN = "370302"  # 淄川区: 龙泉镇's joint bodies and pairings are dated (2019–2022)


def _get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _today(client: TestClient, path: str, **params: Any) -> Any:
    """An analysis route's answer as of today: the day a page without as_of is of."""
    return _get(client, path, as_of=dt.date.today().isoformat(), **params)


@pytest.fixture
def pingyuan(seed_client: TestClient) -> dict[str, Any]:
    return _get(seed_client, "/v1/dashboard", region=PINGYUAN)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ the same as the routes


def test_cards_and_towns_are_the_coverage_and_rule_routes_answers(
    seed_client: TestClient, pingyuan: dict[str, Any]
) -> None:
    coverage = _today(seed_client, "/v1/analysis/coverage", region=PINGYUAN, limit=10_000)
    rules = _today(seed_client, "/v1/analysis/rules", scope=f"region:{PINGYUAN}")
    cards = {c["key"]: c for c in pingyuan["cards"]}
    assert list(cards) == ["villages", "joint_bodies", "coverage", "weak_villages", "rule_breaches"]
    assert cards["villages"]["value"] == coverage["total"]["villages"] == 436
    assert cards["coverage"]["value"] == round(100 * coverage["total"]["joint_body_rate"], 1)
    assert cards["weak_villages"]["value"] == coverage["weak_villages"]["total"]
    assert cards["rule_breaches"]["value"] == rules["breaches"] > 0
    assert all(c["previous"] is None and c["change"] is None for c in cards.values())
    towns = [
        (t["region_code"], t["villages"], t["joint_body"], round(100 * t["joint_body_rate"], 1))
        for t in coverage["children"]
    ]
    shown = [
        (t["code"], t["villages"], t["covered"], t["rate"]) for t in pingyuan["coverage_by_town"]
    ]
    assert shown == towns
    assert len(shown) == 12


def test_joint_bodies_are_those_registered_in_the_region(
    seed_client: TestClient, pingyuan: dict[str, Any]
) -> None:
    found, cursor = [], None
    while True:
        params: dict[str, Any] = {"label": "PartyOrganization", "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = _get(seed_client, f"/v1/regions/{PINGYUAN}/nodes", **params)
        found += [n for n in page["items"] if n["kind"] in JOINT_BODY_KINDS]
        if not (cursor := page["next_cursor"]):
            break
    card = next(c for c in pingyuan["cards"] if c["key"] == "joint_bodies")
    assert card["value"] == len(found) > 0


def test_breaches_are_the_broken_outcomes_with_their_evidence(
    seed_client: TestClient, pingyuan: dict[str, Any]
) -> None:
    rules = _today(seed_client, "/v1/analysis/rules", scope=f"region:{PINGYUAN}")
    broken = [
        (body["body_id"], o["rule_id"], o["evidence"])
        for body in rules["bodies"]
        for o in body["outcomes"]
        if o["status"] == "broken"
    ]
    shown = [(b["body"]["id"], b["rule_id"], b["evidence"]) for b in pingyuan["breaches"]]
    assert shown == broken
    assert len(shown) == rules["breaches"]
    described = {r["rule_id"]: r["description_zh"] for r in rules["rules"]}
    assert all(b["description"] == described[b["rule_id"]] for b in pingyuan["breaches"])


def test_the_centrality_chart_is_the_centrality_routes_top_rows(
    seed_client: TestClient, pingyuan: dict[str, Any]
) -> None:
    routed = _today(
        seed_client,
        "/v1/analysis/centrality",
        scope=f"region:{PINGYUAN}",
        measure="pagerank",
        top=20,
    )
    rows = routed["measures"]["pagerank"]["rows"]["items"]
    assert [(r["node"], r["score"]) for r in pingyuan["centrality"]["rows"]] == [
        (r["node"], r["score"]) for r in rows
    ]
    assert pingyuan["centrality"]["label"] == "PageRank"
    degree = _get(seed_client, "/v1/dashboard", region=PINGYUAN, measure="degree", top=5)
    assert degree["centrality"]["measure"] == "degree"
    assert len(degree["centrality"]["rows"]) == 5


def test_the_sankey_spreads_each_body_over_its_communities(
    seed_client: TestClient, pingyuan: dict[str, Any]
) -> None:
    routed = _today(seed_client, "/v1/analysis/communities", scope=f"region:{PINGYUAN}", limit=200)
    expected = sorted(
        (b["body"], f"community:{index}", count)
        for b in routed["joint_bodies"]["bodies"]
        for index, count in b["spread"].items()
    )
    sankey = pingyuan["communities"]["sankey"]
    assert sorted((x["source"], x["target"], x["value"]) for x in sankey["links"]) == expected
    ids = {n["id"] for n in sankey["nodes"]}
    assert {x["source"] for x in sankey["links"]} | {x["target"] for x in sankey["links"]} <= ids
    members = {f"community:{c['index']}": c["members"]["items"] for c in routed["communities"]}
    sizes = {f"community:{c['index']}": c["size"] for c in routed["communities"]}
    for node in sankey["nodes"]:
        if node["kind"] == "community":
            listed = node["members"]
            assert [m["id"] for m in listed["items"]] == [m["id"] for m in members[node["id"]]]
            assert listed["total"] == sizes[node["id"]]
    assert pingyuan["communities"]["count"] == len(routed["communities"])


def test_weak_villages_without_partners_and_their_best_partner(
    seed_client: TestClient, pingyuan: dict[str, Any]
) -> None:
    coverage = _today(seed_client, "/v1/analysis/coverage", region=PINGYUAN, limit=10_000)
    outside = {v["id"] for v in coverage["total"]["without_joint_body"]["items"]}
    alone = [
        v["village_id"]
        for v in coverage["weak_villages"]["items"]
        if not v["partners"] and v["village_id"] in outside
    ]
    listed = pingyuan["unpartnered_weak"]
    assert listed["total"] == len(alone)
    assert [v["id"] for v in listed["items"]] == alone[:200]
    assert listed["truncated"] == (len(alone) > 200)
    assert len(pingyuan["pairings"]) == 20
    for pairing in pingyuan["pairings"][:5]:
        village = pairing["village"]["id"]
        best = _today(seed_client, "/v1/recommendations/partners", target=village, top=1)
        (top,) = best["candidates"]["items"]
        assert pairing["partner"]["id"] == top["partner_id"]
        assert pairing["score"] == top["score"]
        assert [r["name"] for r in pairing["reasons"]] == [r["name"] for r in top["reasons"]]
    assert [p["village"]["id"] for p in pingyuan["pairings"]] == alone[:20]


def test_the_strength_histogram_scores_every_linked_pair(
    seed_client: TestClient, pingyuan: dict[str, Any]
) -> None:
    histogram = pingyuan["strength_histogram"]
    strongest = _today(seed_client, "/v1/analysis/links/strongest", scope=f"region:{PINGYUAN}")
    weakest = _today(seed_client, "/v1/analysis/links/weakest", scope=f"region:{PINGYUAN}", top=1)
    assert sum(b["count"] for b in histogram["bins"]) == histogram["links"]
    assert histogram["links"] == strongest["links"]["total"] > 0
    top = strongest["links"]["items"][0]["score"]
    bottom = weakest["links"]["items"][0]["score"]
    filled = [b for b in histogram["bins"] if b["count"]]
    assert filled[-1]["from"] <= top <= filled[-1]["to"]
    assert filled[0]["from"] <= bottom <= filled[0]["to"]
    assert [b["from"] for b in histogram["bins"]] == [i / 10 for i in range(10)]


def test_links_by_year_and_the_change_since_an_earlier_date(seed_client: TestClient) -> None:
    page = _get(seed_client, "/v1/dashboard", region=ZICHUAN, since="2019-06-01")
    before = _get(seed_client, "/v1/dashboard", region=ZICHUAN, as_of="2019-06-01")
    for card, earlier in zip(page["cards"], before["cards"], strict=True):
        assert card["previous"] == earlier["value"]
        assert card["change"] == pytest.approx(card["value"] - earlier["value"])
    changed = {c["key"] for c in page["cards"] if c["change"]}
    # 龙泉镇's joint body and its members date from 2020.
    assert {"joint_bodies", "coverage", "weak_villages"} <= changed
    years = page["links_by_year"]["years"]
    assert years[0] == 2019
    assert years[-1] == int(page["as_of"][:4])
    members = next(s for s in page["links_by_year"]["series"] if s["type"] == "MEMBER_OF")
    assert members["label"] == "加入联建组织"
    assert members["counts"][0] == 0 < members["counts"][1]  # none in 2019, some in 2020


def test_a_town_and_a_province_have_pages_too(seed_client: TestClient) -> None:
    town = _get(seed_client, "/v1/dashboard", region="370302112", pairings=2)
    assert [p["name"] for p in town["region"]["path"]] == ["山东省", "淄博市", "淄川区"]
    assert town["region"]["name"] == "龙泉镇"
    province = _get(seed_client, "/v1/dashboard", region="37", pairings=0, top=3)
    assert province["region"]["path"] == []
    assert {c["code"] for c in province["region"]["children"]} >= {"3714", "3703"}
    assert province["pairings"] == []


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"region": "999999"}, 404, None),
        ({"region": "37x"}, 422, "region"),
        ({}, 422, "region"),
        ({"region": PINGYUAN, "since": "2030-01-01"}, 422, "since"),
        ({"region": PINGYUAN, "as_of": "2020-01-01", "since": "2021-01-01"}, 422, "since"),
        ({"region": PINGYUAN, "measure": "fame"}, 422, "measure"),
        ({"region": PINGYUAN, "limit": 100_000}, 422, "limit"),  # above the cap below admin
        ({"region": PINGYUAN, "pairings": 101}, 422, "pairings"),
    ],
)
def test_bad_requests_are_problems_naming_the_field(
    seed_client: TestClient, params: dict[str, Any], status: int, field: str | None
) -> None:
    response = seed_client.get("/v1/dashboard", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        body = response.json()
        fields = {body.get("field"), *(e.get("field") for e in body.get("errors", []))}
        assert field in fields, body


def test_the_page_can_run_as_a_job(seed_client: TestClient) -> None:
    body = {"operation": "dashboard", "parameters": {"region": ZICHUAN, "pairings": 1}}
    started = seed_client.post("/v1/jobs", json=body, headers=AUTH)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    deadline = time.monotonic() + 60
    while (job := seed_client.get(f"/v1/jobs/{job_id}", headers=AUTH).json())["state"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["state"] == "done", job
    result = seed_client.get(f"/v1/jobs/{job_id}/result", headers=AUTH).json()
    assert result["region"]["code"] == ZICHUAN
    assert len(result["pairings"]) == 1


# ------------------------------------------------------------------ writes


async def _load(settings: Settings) -> None:
    store = open_store(settings)
    await store.open()
    try:
        await load_seed(store, SEED_DIR)
    finally:
        await store.close()


@pytest.fixture
def api(empty_settings: Settings) -> Iterator[TestClient]:
    """The app on a writable copy of the seed graph."""
    asyncio.run(_load(empty_settings))
    if empty_settings.neo4j_uri:
        _NEO4J_STATE["content"] = "dirty"
    with TestClient(create_app(empty_settings), raise_server_exceptions=False) as client:
        yield client


def test_judgements_change_the_action_lists_at_once(api: TestClient) -> None:
    planner = account_headers(api, "李干事", "planner", PINGYUAN)
    page = _get(api, "/v1/dashboard", region=PINGYUAN, pairings=3)
    first, second = page["pairings"][:2]
    accept = {
        "target": first["village"]["id"],
        "partner": first["partner"]["id"],
        "decision": "accept",
    }
    assert api.post("/v1/recommendations/judgements", json=accept).status_code == 401
    done = api.post("/v1/recommendations/judgements", json=accept, headers=planner)
    assert done.status_code == 201, done.text
    reject = {
        "target": second["village"]["id"],
        "partner": second["partner"]["id"],
        "decision": "reject",
    }
    done = api.post("/v1/recommendations/judgements", json=reject, headers=planner)
    assert done.status_code == 201, done.text
    after = _get(api, "/v1/dashboard", region=PINGYUAN, pairings=3)
    alone = [v["id"] for v in after["unpartnered_weak"]["items"]]
    # Accepted: the village has a partner now (on the seed graph the best partner is a joint
    # body: it joins it), off both lists.
    assert first["partner"]["kind"] in JOINT_BODY_KINDS
    assert first["village"]["id"] not in alone
    assert after["unpartnered_weak"]["total"] == page["unpartnered_weak"]["total"] - 1
    assert first["village"]["id"] not in [p["village"]["id"] for p in after["pairings"]]
    # Rejected: the village is still waiting, with another partner proposed.
    again = next(p for p in after["pairings"] if p["village"]["id"] == second["village"]["id"])
    assert again["partner"]["id"] != second["partner"]["id"]


def test_views_are_saved_per_account_and_shared_by_id(api: TestClient) -> None:
    li = account_headers(api, "李干事", "viewer", PINGYUAN)
    wang = account_headers(api, "王科长", "planner", PINGYUAN)
    view = {
        "name": "平原县年度对比",
        "region": PINGYUAN,
        "since": "2025-12-31",
        "filters": {"measure": "degree", "top": 10},
    }
    assert api.post("/v1/views", json=view).status_code == 401
    saved = api.post("/v1/views", json=view, headers=li)
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert saved.headers["location"] == f"/v1/views/{body['id']}"
    assert body["owner"] == "李干事"
    assert body["url"] == f"/dashboard#view={body['id']}"
    assert body["filters"] == {"measure": "degree", "top": 10, "pairings": 20}
    assert "since=2025-12-31" in body["parameters_url"]
    # Listed for its owner only; readable by anyone with the id (no data in it).
    assert [v["id"] for v in api.get("/v1/views", headers=li).json()["items"]] == [body["id"]]
    assert api.get("/v1/views", headers=wang).json()["items"] == []
    assert api.get(f"/v1/views/{body['id']}").json()["name"] == "平原县年度对比"
    # Only its owner (or an admin) changes or removes it.
    changed = {**view, "name": "平原县月报"}
    assert api.put(f"/v1/views/{body['id']}", json=changed, headers=wang).status_code == 403
    assert api.delete(f"/v1/views/{body['id']}", headers=wang).status_code == 403
    replaced = api.put(f"/v1/views/{body['id']}", json=changed, headers=li)
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "平原县月报"
    by_admin = api.put(f"/v1/views/{body['id']}", json={**view, "name": "管理员改"}, headers=AUTH)
    assert by_admin.status_code == 200
    assert by_admin.json()["owner"] == "李干事"
    assert api.delete(f"/v1/views/{body['id']}", headers=li).status_code == 204
    assert api.get(f"/v1/views/{body['id']}").status_code == 404
    assert api.get("/v1/views", headers=li).json()["items"] == []
    # Every save, change and removal is in the history, with its account.
    history = api.get("/v1/history", params={"limit": 50}, headers=AUTH).json()["items"]
    operations = [
        (h["account"], h["operation"]) for h in history if h["operation"].startswith("view.")
    ]
    assert ("李干事", "view.saved") in operations
    assert ("李干事", "view.removed") in operations


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "region": "37x"}, "region"),
        ({"name": "", "region": PINGYUAN}, "name"),
        ({"name": "a\nb", "region": PINGYUAN}, "name"),
        ({"name": "x", "region": PINGYUAN, "as_of": "2020-01-01", "since": "2021-01-01"}, "since"),
        ({"name": "x", "region": PINGYUAN, "filters": {"measure": "fame"}}, "filters.measure"),
        ({"name": "x", "region": PINGYUAN, "colour": "red"}, "colour"),
    ],
)
def test_bad_views_are_refused_and_nothing_is_saved(
    api: TestClient, body: dict[str, Any], field: str
) -> None:
    li = account_headers(api, "李干事", "viewer", PINGYUAN)
    response = api.post("/v1/views", json=body, headers=li)
    assert response.status_code == 422, response.text
    problem = response.json()
    fields = {problem.get("field"), *(e.get("field") for e in problem.get("errors", []))}
    assert field in fields, problem
    assert api.get("/v1/views", headers=li).json()["items"] == []


# ------------------------------------------------------------------ the CLI report


def test_the_cli_writes_the_report(
    seed_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("graph_service.cli.runtime.get_settings", lambda: seed_settings)
    get_settings.cache_clear()
    out = tmp_path / "平原县.xlsx"
    result = CliRunner().invoke(
        cli_app, ["report", "--region", PINGYUAN, "--since", "2020-01-01", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    assert tuple(book.sheetnames) == REPORT_SHEETS
    overview = [row for row in book[REPORT_SHEETS[0]].iter_rows(values_only=True)]
    assert any("平原县" in str(cell) for row in overview for cell in row)
    bad = CliRunner().invoke(cli_app, ["report", "--region", "999999", "--out", str(out)])
    assert bad.exit_code == 1
    assert "no node region:999999" in bad.output
    bad = CliRunner().invoke(cli_app, ["report", "--region", "37x"])
    assert bad.exit_code == 2


# ------------------------------------------------------------------ pages warm at start


def test_default_pages_are_recorded_and_computed_after_the_next_start(tmp_path: Path) -> None:
    settings = make_settings("embedded", tmp_path / "data", dashboard_warm_max=4)
    settings.data_dir.mkdir(parents=True)
    asyncio.run(_load(settings))
    with TestClient(create_app(settings), raise_server_exceptions=False) as first:
        _get(first, "/v1/dashboard", region=ZICHUAN)
        _get(first, "/v1/dashboard", region=PINGYUAN, since="2020-01-01")  # not the default
        response = first.get("/v1/dashboard", params={"region": PINGYUAN}, headers=AUTH)
        assert response.status_code == 200
    recorded = json.loads((settings.data_dir / "dashboard_regions.json").read_text("utf-8"))
    assert recorded == [[PINGYUAN, "full"], [ZICHUAN, "public"]]
    with TestClient(create_app(settings), raise_server_exceptions=False) as second:
        warmer = second.app.state.page_warmer  # type: ignore[attr-defined]
        deadline = time.monotonic() + 120
        while warmer.warmed is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert warmer.warmed == 2

        async def computed_again(*_: Any) -> Any:
            raise AssertionError("the page was not warm")

        service = second.app.state.dashboard  # type: ignore[attr-defined]
        service._graph_part = computed_again
        page = _get(second, "/v1/dashboard", region=ZICHUAN)  # from the warm cache
        assert page["region"]["name"] == "淄川区"
