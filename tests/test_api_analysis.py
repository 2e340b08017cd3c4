"""Analyses over HTTP on the seed graph of every store."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

BODY = "org:longquan-hongse-xigu"  # 红色硒谷党建联盟: nine members, founded 2020-04-28


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if field is not None:
        assert body["field"] == field
    return body


def test_coverage_matches_the_store_and_shows_stated_figures(seed_client: TestClient) -> None:
    store_view = ok(seed_client.get("/v1/regions/371426/coverage"))
    report = ok(seed_client.get("/v1/analysis/coverage", params={"region": "371426"}))
    assert report["total"]["villages"] == store_view["total"]["villages"] == 436
    assert report["total"]["joint_body"] == store_view["total"]["covered"]
    assert report["total"]["without_joint_body"]["total"] == 436 - report["total"]["joint_body"]
    assert {f["metric"]: f["value"] for f in report["stated_figures"]}["joint_bodies"] == 62
    assert "villages" not in report
    assert len(report["children"]) == 12
    detailed = ok(
        seed_client.get("/v1/analysis/coverage", params={"region": "371426", "details": "true"})
    )
    assert len(detailed["villages"]) == 436


def test_rules_report_breaches_with_evidence(seed_client: TestClient) -> None:
    report = ok(seed_client.get("/v1/analysis/rules", params={"scope": "region:371426"}))
    assert report["bodies"], "平原县's joint bodies are checked"
    statuses = {o["status"] for b in report["bodies"] for o in b["outcomes"]}
    assert "unknown" in statuses  # the articles give no talent counts
    assert report["breaches"] >= 1
    for body in report["bodies"]:
        for outcome in body["outcomes"]:
            assert outcome["evidence"]


def test_link_strength_is_explained(seed_client: TestClient) -> None:
    params = {"source": "org:wanggaopu-tianshangtian", "target": "ent:yihai-jiali"}
    result = ok(seed_client.get("/v1/analysis/link-strength", params=params))
    assert 0 <= result["score"] <= 1
    assert 0 < result["confidence"] <= 1
    names = {c["name"] for c in result["components"]}
    assert {"duration", "intensity", "formality", "reciprocity", "outcomes"} <= names
    assert "SUPPLIES" in result["link_types"]
    total = sum(c["contribution"] for c in result["components"])
    assert abs(total - result["score"]) < 1e-6
    heavier = ok(
        seed_client.get("/v1/analysis/link-strength", params={**params, "w_multiplexity": 50})
    )
    assert heavier["score"] != result["score"]
    problem(
        seed_client.get("/v1/analysis/link-strength", params={**params, "target": "nope"}),
        404,
        "target",
    )


def test_weakest_and_strongest_links(seed_client: TestClient) -> None:
    weak = ok(
        seed_client.get("/v1/analysis/links/weakest", params={"scope": "region:370302", "top": 5})
    )
    strong = ok(
        seed_client.get("/v1/analysis/links/strongest", params={"scope": "region:370302", "top": 5})
    )
    assert 0 < len(weak["links"]["items"]) <= 5
    assert strong["links"]["items"][0]["score"] >= weak["links"]["items"][0]["score"]


def test_change_between_dates_sees_the_alliance_founded(seed_client: TestClient) -> None:
    params = {"scope": "region:370302", "from": "2019-01-01", "to": "2021-01-01"}
    report = ok(seed_client.get("/v1/analysis/change", params=params))
    new = {(link["type"], link["target"]) for link in report["new_links"]}
    assert ("MEMBER_OF", BODY) in new
    assert report["lost_links"] == []
    problem(
        seed_client.get("/v1/analysis/change", params={**params, "to": "2018-01-01"}), 422, "to"
    )


def test_bad_scopes_are_problems(seed_client: TestClient) -> None:
    for scope in ("bogus", "region:12a", "region:", "node:"):
        problem(seed_client.get("/v1/analysis/rules", params={"scope": scope}), 422, "scope")
    problem(seed_client.get("/v1/analysis/rules", params={"scope": "region:99"}), 404, "region")
    problem(seed_client.get("/v1/analysis/rules", params={"scope": "body:nope"}), 404, "body")
    problem(seed_client.get("/v1/analysis/coverage"), 422, "region")


def test_centrality_of_a_joint_body_scope(seed_client: TestClient) -> None:
    params = {"scope": f"body:{BODY}", "measure": ["degree", "pagerank", "betweenness"], "top": 3}
    report = ok(seed_client.get("/v1/analysis/centrality", params=params))
    assert report["scope"]["kind"] == "body"
    for measure in ("degree", "pagerank", "betweenness"):
        rows = report["measures"][measure]["rows"]["items"]
        assert [r["rank"] for r in rows] == [1, 2, 3]
        assert rows[0]["node"] == BODY  # the alliance is the hub of its own scope
    assert report["measures"]["betweenness"]["method"]["method"] == "exact"
    sampled = ok(
        seed_client.get(
            "/v1/analysis/centrality",
            params={**params, "measure": "betweenness", "exact_max": 10, "k": 5, "seed": 1},
        )
    )
    method = sampled["measures"]["betweenness"]["method"]
    assert (method["method"], method["k"], method["seed"]) == ("sampled", 5, 1)
    problem(seed_client.get("/v1/analysis/centrality", params={"measure": "fame"}), 422, "measure")


def test_communities_brokers_and_fragility(seed_client: TestClient) -> None:
    scope = {"scope": "region:370302"}
    found = ok(seed_client.get("/v1/analysis/communities", params={**scope, "seed": 3}))
    assert sum(c["size"] for c in found["communities"]) == found["scope"]["nodes"]
    assert -0.5 <= found["modularity"] <= 1
    again = ok(seed_client.get("/v1/analysis/communities", params={**scope, "seed": 3}))
    assert again["communities"] == found["communities"]  # deterministic for a seed
    # The alliance's nine member branches and, through ORGANIZATION_OF, the eight villages
    # they are the branches of: members even though communities ran without structural links.
    (alliance,) = [b for b in found["joint_bodies"]["bodies"] if b["body"] == BODY]
    assert alliance["members"] + alliance["missing"] == 17
    brokers = ok(seed_client.get("/v1/analysis/brokers", params={**scope, "top": 5}))["brokers"]
    constraints = [b["constraint"] for b in brokers["items"]]
    assert constraints == sorted(constraints)
    fragile = ok(seed_client.get("/v1/analysis/fragility", params=scope))
    # its members hang on the alliance
    assert BODY in {p["id"] for p in fragile["articulation_points"]}


def test_partner_recommendations_for_a_village(seed_client: TestClient) -> None:
    params = {"target": "village:370302112206", "top": 3}
    result = ok(seed_client.get("/v1/recommendations/partners", params=params))
    assert result["target"] == "village:370302112206"
    assert 0 < len(result["candidates"]["items"]) <= 3
    scores = [c["score"] for c in result["candidates"]["items"]]
    assert scores == sorted(scores, reverse=True)
    for candidate in result["candidates"]["items"]:
        assert candidate["partner"]["id"] == candidate["partner_id"]
        assert candidate["partner_id"] != "village:370302112206"
        assert candidate["reasons"]
        assert all(r["explanation"] for r in candidate["reasons"])
    problem(
        seed_client.get("/v1/recommendations/partners", params={"target": "nope"}), 404, "target"
    )
    problem(
        seed_client.get("/v1/recommendations/partners", params={**params, "max_distance": "moon"}),
        422,
        "max_distance",
    )
