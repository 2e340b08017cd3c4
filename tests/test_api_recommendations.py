"""Recommendations over HTTP on every backend: ranked partners, judgements (accept writes
the link, reject keeps the pair out), region-wide assignment and what-if.

The hand-made county (``COUNTY``): two towns; in 甲镇 the weak villages 甲一村 (with its
branch) and 甲二村, the strong 甲三村, 甲公司 and the joint body 甲镇联合党委; 乙公司 in
乙镇.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import AUTH
from fastapi.testclient import TestClient

from graph_service.settings import hash_api_key

PROBLEM = "application/problem+json"
NAMED_KEY = "planner-key-0001"
PLANNER = {"X-API-Key": NAMED_KEY}
COUNTY, TOWN_A, TOWN_B = "370302", "370302112", "370302113"
V1, V2, V3 = (f"village:{TOWN_A}00{i}" for i in (1, 2, 3))
V1_ORG, E1, E2, BODY = "org:v1", "ent:e1", "ent:e2", "org:body"
PROGRAM = "program:bqbbc"
README = Path(__file__).resolve().parent.parent / "README.md"


def _nodes() -> list[dict[str, Any]]:
    def region(code: str, name: str, kind: str) -> dict[str, Any]:
        return {
            "id": f"region:{code}",
            "label": "Region",
            "kind": kind,
            "name": name,
            "region_code": code,
        }

    def village(id_: str, name: str, **attributes: Any) -> dict[str, Any]:
        return {
            "id": id_,
            "label": "Village",
            "kind": "行政村",
            "name": name,
            "region_code": id_.split(":")[1],
            "attributes": attributes,
        }

    return [
        region(COUNTY, "测试区", "县"),
        region(TOWN_A, "甲镇", "乡镇"),
        region(TOWN_B, "乙镇", "乡镇"),
        village(V1, "甲一村", weak=True, collective_income_yuan=50_000),
        village(V2, "甲二村", weak=True, collective_income_yuan=80_000),
        village(V3, "甲三村", weak=False, collective_income_yuan=3_000_000),
        {"id": V1_ORG, "label": "PartyOrganization", "kind": "党支部", "name": "甲一村党支部"},
        {
            "id": E1,
            "label": "Enterprise",
            "kind": "公司",
            "name": "甲公司",
            "region_code": TOWN_A,
        },
        {
            "id": E2,
            "label": "Enterprise",
            "kind": "公司",
            "name": "乙公司",
            "region_code": TOWN_B,
        },
        {
            "id": BODY,
            "label": "PartyOrganization",
            "kind": "联合党委",
            "name": "甲镇联合党委",
            "region_code": TOWN_A,
        },
        {"id": PROGRAM, "label": "Program", "kind": "行动", "name": "百企帮百村"},
    ]


def _links() -> list[dict[str, Any]]:
    return [
        {"type": "ORGANIZATION_OF", "source": V1_ORG, "target": V1},
        {"type": "PART_OF_PROGRAM", "source": E1, "target": PROGRAM},
        {"type": "PART_OF_PROGRAM", "source": E2, "target": PROGRAM},
    ]


@pytest.fixture
def api(client: TestClient) -> TestClient:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    hashes = [*settings.api_key_hashes, "王科长=" + hash_api_key(NAMED_KEY)]
    client.app.state.settings = settings.model_copy(update={"api_key_hashes": hashes})  # type: ignore[attr-defined]
    r = client.post("/v1/batch", json={"nodes": _nodes(), "links": _links()}, headers=AUTH)
    assert r.status_code == 200, r.text
    return client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    if field is not None:
        assert body.get("field") == field, body
    return body


def partners(api: TestClient, target: str, **params: Any) -> dict[str, Any]:
    return ok(api.get("/v1/recommendations/partners", params={"target": target, **params}))  # type: ignore[no-any-return]


def judge(api: TestClient, status: int = 201, **body: Any) -> Any:
    return ok(api.post("/v1/recommendations/judgements", json=body, headers=PLANNER), status)


def refused_acceptance(api: TestClient, target: str, partner: str) -> dict[str, Any]:
    """Accepting a pair that are partners already: 409 naming the partner."""
    body = {"target": target, "partner": partner, "decision": "accept"}
    return problem(
        api.post("/v1/recommendations/judgements", json=body, headers=PLANNER), 409, "partner"
    )


def judgements(api: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return ok(api.get("/v1/recommendations/judgements", params=params, headers=headers or {}))


# ------------------------------------------------------------------------------ partners


def test_a_weak_village_is_offered_helpers_but_never_weak_villages(api: TestClient) -> None:
    result = partners(api, V1_ORG, top=10)  # its branch stands for the village
    assert result["target"] == V1
    offered = {c["partner_id"] for c in result["candidates"]["items"]}
    assert offered == {E1, E2, V3, BODY}  # 甲二村 is weak: 以强带弱 leaves it out
    assert result["candidates"]["items"][0]["judgement"] is None
    same_town = {
        c["partner_id"] for c in partners(api, V1, max_distance="town")["candidates"]["items"]
    }
    assert same_town == {E1, V3, BODY}


def test_reject_keeps_a_pair_out_and_unsure_brings_it_back_marked(api: TestClient) -> None:
    rejected = judge(api, target=V1, partner=E1, decision="reject", note="产业不对口")
    record = rejected["judgement"]
    assert rejected["link"] is None
    assert (record["target"], record["partner"], record["decision"]) == (V1, E1, "reject")
    assert record["decided_by"] == record["recorded_by"] == "王科长"  # the key's name
    assert record["recommendation"]["rank"] >= 1
    assert set(record["recommendation"]["components"]) >= {"industry", "proximity", "capacity"}

    after = partners(api, V1)
    assert E1 not in {c["partner_id"] for c in after["candidates"]["items"]}
    assert after["excluded_rejected"] == 1
    # From the other side too: the pair is unordered.
    assert V1 not in {c["partner_id"] for c in partners(api, E1)["candidates"]["items"]}

    unsure = judge(api, target=E1, partner=V1_ORG, decision="unsure", decided_by="李书记")
    assert unsure["judgement"]["supersedes"] == record["id"]
    assert unsure["judgement"]["decided_by"] == "李书记"
    assert unsure["judgement"]["recorded_by"] == "王科长"
    back = {c["partner_id"]: c for c in partners(api, V1)["candidates"]["items"]}
    assert back[E1]["judgement"]["decision"] == "unsure"


def test_accept_writes_the_pairing_with_planner_provenance(api: TestClient) -> None:
    version = ok(api.get("/v1/stats"))["version"]
    result = judge(api, target=V1, partner=E2, decision="accept", program=PROGRAM, note="签约")
    link = result["link"]
    assert (link["type"], link["source"], link["target"]) == ("PAIRS_WITH", E2, V1)
    assert link["attributes"] == {"program": PROGRAM}
    (source,) = link["sources"]
    assert source["kind"] == "planner_decision"
    assert source["document"] == result["judgement"]["id"]
    assert (source["by"], source["quote"]) == ("王科长", "签约")
    stored = ok(api.get(f"/v1/links/{link['id']}"))
    assert stored["sources"][0]["kind"] == "planner_decision"
    assert result["judgement"]["link_id"] == link["id"]
    assert ok(api.get("/v1/stats"))["version"] != version
    # Partners now: never proposed again, and accepting again is a conflict that adds nothing.
    assert E2 not in {c["partner_id"] for c in partners(api, V1)["candidates"]["items"]}
    refused_acceptance(api, V1, E2)
    assert len(judgements(api)["items"]) == 1


def test_within_the_staleness_bound_a_judgement_and_an_export_see_every_write(
    api: TestClient,
) -> None:
    """Recommendations may serve the county's index for up to ``scope_graph_max_stale_s``
    after a write (1 s by default); a judgement is a write and an export a download: both
    read the graph as it is."""
    api.app.state.views.graphs.max_stale_s = 60.0  # type: ignore[attr-defined]

    def offered() -> set[str]:  # as the planner sees them (graphs are kept per audience)
        response = api.get("/v1/recommendations/partners", params={"target": V1}, headers=PLANNER)
        return {c["partner_id"] for c in ok(response)["candidates"]["items"]}

    assert E2 in offered()
    pairing = {"type": "PAIRS_WITH", "source": E2, "target": V1}
    ok(api.post("/v1/links", json=pairing, headers=AUTH), 201)
    # The index built before the pairing still serves: 乙公司 is offered again ...
    assert E2 in offered()
    # ... but accepting it is refused as the pair they are now, and nothing is recorded.
    assert "partners already" in refused_acceptance(api, V1, E2)["detail"]
    assert judgements(api)["items"] == []
    scope = {"scope": f"region:{COUNTY}", "format": "node-link"}
    exported = ok(api.get("/v1/export", params=scope))
    assert any(
        (link["source"], link["target"], link["type"]) == (E2, V1, "PAIRS_WITH")
        for link in exported["links"]
    ), exported["links"]


def test_accepting_a_joint_body_joins_it_through_the_village_branch(api: TestClient) -> None:
    link = judge(api, target=V1, partner=BODY, decision="accept")["link"]
    assert (link["type"], link["source"], link["target"]) == ("MEMBER_OF", V1_ORG, BODY)


def test_a_helper_accepting_a_village_pairs_helper_to_village(api: TestClient) -> None:
    offered = {c["partner_id"] for c in partners(api, E1)["candidates"]["items"]}
    assert offered == {V1, V2, V3}
    link = judge(api, target=E1, partner=V2, decision="accept")["link"]
    assert (link["type"], link["source"], link["target"]) == ("PAIRS_WITH", E1, V2)
    co = judge(api, target=V3, partner=E2, decision="accept", relation="co_building")["link"]
    assert (co["type"], co["source"], co["target"]) == ("CO_BUILDS", V3, E2)


def test_judgements_are_listable_filterable_and_private_fields_need_a_key(
    api: TestClient,
) -> None:
    first = judge(api, target=V1, partner=E1, decision="reject", note="太远")["judgement"]
    second = judge(api, target=V2, partner=E1, decision="unsure")["judgement"]
    third = judge(api, target=V1, partner=E1, decision="unsure")["judgement"]
    every = judgements(api, headers=AUTH)["items"]
    assert [j["id"] for j in every] == [first["id"], second["id"], third["id"]]
    assert every[0]["note"] == "太远"
    assert every[0]["target_node"]["name"] == "甲一村"
    assert every[0]["partner_node"]["name"] == "甲公司"
    anonymous = judgements(api)["items"]
    assert all(j["decided_by"] is None and j["note"] is None for j in anonymous)
    assert [j["id"] for j in judgements(api, current="true")["items"]] == [
        second["id"],
        third["id"],
    ]
    assert [j["id"] for j in judgements(api, decision="reject")["items"]] == [first["id"]]
    assert [j["id"] for j in judgements(api, node=V2)["items"]] == [second["id"]]
    assert judgements(api, decided_by="nobody")["items"] == []
    page = judgements(api, limit=2)
    assert len(page["items"]) == 2
    rest = judgements(api, limit=2, cursor=page["next_cursor"])
    assert [j["id"] for j in rest["items"]] == [third["id"]]
    one = ok(api.get(f"/v1/recommendations/judgements/{first['id']}", headers=AUTH))
    assert one["note"] == "太远"
    problem(api.get("/v1/recommendations/judgements/judgement:nope"), 404, "judgement_id")


def test_judgements_alone_leave_the_graph_version_alone(api: TestClient) -> None:
    version = ok(api.get("/v1/stats"))["version"]
    judge(api, target=V1, partner=E1, decision="reject")
    assert ok(api.get("/v1/stats"))["version"] == version


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"target": V1, "partner": E1, "decision": "maybe"}, 422, "decision"),
        ({"target": V1, "partner": "ent:ghost", "decision": "reject"}, 404, "partner"),
        ({"target": "village:ghost", "partner": E1, "decision": "reject"}, 404, "target"),
        ({"target": V1, "partner": f"region:{TOWN_A}", "decision": "reject"}, 422, "partner"),
        ({"target": V1, "partner": V1_ORG, "decision": "accept"}, 422, "partner"),
        ({"target": E1, "partner": E2, "decision": "accept"}, 422, "partner"),
        ({"target": V1, "partner": E1, "decision": "accept", "program": E2}, 422, "program"),
        ({"target": V1, "partner": E1, "decision": "reject", "extra": 1}, 422, "extra"),
        ({"target": V1, "partner": E1, "decision": "reject", "decided_by": " "}, 422, None),
    ],
)
def test_bad_judgements_are_problems_and_store_nothing(
    api: TestClient, body: dict[str, Any], status: int, field: str | None
) -> None:
    r = api.post("/v1/recommendations/judgements", json=body, headers=PLANNER)
    found = problem(r, status, field)
    if field is None:
        assert found["errors"][0]["field"] == "decided_by"
    assert judgements(api)["items"] == []
    assert len(ok(api.get("/v1/links", params={"limit": 100}))["items"]) == len(_links())


def test_judging_needs_a_key(api: TestClient) -> None:
    body = {"target": V1, "partner": E1, "decision": "reject"}
    problem(api.post("/v1/recommendations/judgements", json=body), 401)
    assert judgements(api)["items"] == []


# ---------------------------------------------------------------------------- assignment


def _best_total(api: TestClient, villages: list[str], helpers: list[str]) -> float:
    """Brute force over every one-to-one plan (k = m = 1, every village needs one)."""
    scores = {}
    for v in villages:
        for c in partners(api, v, top=100, include_full="true")["candidates"]["items"]:
            if c["partner_id"] in helpers:
                scores[(c["partner_id"], v)] = c["score"]
    best = -1.0
    for chosen in itertools.permutations(helpers, len(villages)):
        pairs = list(zip(chosen, villages, strict=True))
        if all(p in scores for p in pairs):
            best = max(best, sum(scores[p] for p in pairs))
    return best


def test_assignment_is_optimal_deterministic_and_skips_rejected_pairs(api: TestClient) -> None:
    body = {"region": COUNTY, "k": 1, "m": 1}
    plan = ok(api.post("/v1/recommendations/assignment", json=body))
    assert plan["villages"] == 2  # the weak villages by default
    assert {p["village"]["id"] for p in plan["pairs"]} == {V1, V2}
    helpers = [p["helper"]["id"] for p in plan["pairs"]]
    assert len(helpers) == len(set(helpers))  # k = 1
    assert plan["unassigned"] == []
    assert plan["total_score"] == pytest.approx(_best_total(api, [V1, V2], [E1, E2, V3]))
    assert ok(api.post("/v1/recommendations/assignment", json=body)) == plan
    assert {p["helper"]["name"] for p in plan["pairs"]} <= {"甲公司", "乙公司", "甲三村"}

    chosen = {p["village"]["id"]: p["helper"]["id"] for p in plan["pairs"]}
    judge(api, target=V1, partner=chosen[V1], decision="reject")
    again = ok(api.post("/v1/recommendations/assignment", json=body))
    assert (chosen[V1], V1) not in {(p["helper"]["id"], p["village"]["id"]) for p in again["pairs"]}
    assert again["excluded_rejected_pairs"] == 1


def test_assignment_reports_villages_left_over_and_why(api: TestClient) -> None:
    body = {"region": COUNTY, "villages": [V1, V2], "helpers": [E1], "k": 1}
    plan = ok(api.post("/v1/recommendations/assignment", json=body))
    assert len(plan["pairs"]) == 1
    ((left),) = plan["unassigned"]
    assert left["reason"] == "capacity_exhausted"
    assert left["explanation"] == (
        "有空余名额的帮扶方候选 1 个, 但其名额分给了使整个方案总分更高的其他村; "
        "该村分到 0 个, 至少需要 1 个"
    )
    assert left["village"]["name"] in {"甲一村", "甲二村"}
    two = ok(api.post("/v1/recommendations/assignment", json={**body, "k": 2}))
    assert len(two["pairs"]) == 2
    assert two["unassigned"] == []


def readme_assignment_body() -> dict[str, Any]:
    """The body of the README's assignment example, as written there."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"`POST /v1/recommendations/assignment` `(\{[^`]*\})`", text)
    assert found, "the README lost its assignment example"
    body: dict[str, Any] = json.loads(found.group(1))
    return body


def test_the_readme_assignment_is_a_real_plan_on_the_seed_graph(seed_client: TestClient) -> None:
    body = readme_assignment_body()
    plan = ok(seed_client.post("/v1/recommendations/assignment", json=body))
    assert plan["pairs"], plan["funnel"]
    steps = {step["step"]: step for step in plan["funnel"]}
    coverage = ok(seed_client.get("/v1/analysis/coverage", params={"region": body["region"]}))
    # One definition of weak: the plan starts from the villages coverage calls weak.
    assert steps["weak"]["count_in"] == coverage["total"]["villages"] == 436
    assert steps["weak"]["count_out"] == coverage["weak_villages"]["total"] == 427
    assert plan["villages"] == steps["not_paired"]["count_out"] == 427  # none paired yet
    assert plan["helpers"] == steps["has_places"]["count_out"] > 0
    assert len(plan["pairs"]) == plan["covered"] == steps["assigned"]["count_out"]
    assert [step["step"] for step in plan["funnel"]] == [
        "weak",
        "not_paired",
        "can_help",
        "has_places",
        "has_candidates",
        "within_limits",
        "not_rejected",
        "assigned",
    ]
    examples = [e for step in plan["funnel"] for e in step["removed_examples"]]
    assert examples
    assert all(e["name"] for e in examples)


def test_an_empty_plan_carries_its_funnel(api: TestClient) -> None:
    body = {"region": COUNTY, "helpers": [E2], "max_distance": "town"}  # 乙公司 is in 乙镇
    plan = ok(api.post("/v1/recommendations/assignment", json=body))
    assert plan["pairs"] == []
    within = next(step for step in plan["funnel"] if step["step"] == "within_limits")
    assert (within["label"], within["count_in"], within["count_out"]) == (
        "在项目与距离限制内仍有帮扶方",
        2,
        0,
    )
    assert {e["name"] for e in within["removed_examples"]} == {"甲一村", "甲二村"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"region": COUNTY, "villages": ["village:ghost"]}, 404, "villages.0"),
        ({"region": COUNTY, "villages": [V1, E1]}, 422, "villages.1"),
        ({"region": COUNTY, "helpers": [f"region:{TOWN_A}"]}, 422, "helpers.0"),
        ({"region": COUNTY, "m": 1, "min_helpers": 2}, 422, "min_helpers"),
        ({"region": "3703021"}, 422, "region"),
        ({"region": "110101"}, 404, "region"),
        ({"region": COUNTY, "k": -1}, 422, "k"),
        ({"region": COUNTY, "program": "program:none"}, 422, "program"),
    ],
)
def test_bad_assignments_are_problems(
    api: TestClient, body: dict[str, Any], status: int, field: str
) -> None:
    problem(api.post("/v1/recommendations/assignment", json=body), status, field)


# ------------------------------------------------------------------------------- what-if


def test_what_if_reports_the_change_and_writes_nothing(api: TestClient) -> None:
    version = ok(api.get("/v1/stats"))["version"]
    body = {"proposed": [{"helper": E2, "village": V1_ORG}, {"helper": V3, "village": V2}]}
    report = ok(api.post("/v1/recommendations/what-if", json=body, headers=PLANNER))
    assert report["written"] is False
    assert report["region_code"] == COUNTY
    assert report["coverage_before"]["paired"] == 0
    assert report["coverage_after"]["paired"] == 2
    assert sorted(v["id"] for v in report["newly_paired"]) == [V1, V2]
    assert report["components_after"] < report["components_before"]
    assert report["summary"].startswith("拟新增结对 2 对 (仅模拟, 不写入数据): 乙公司 → 甲一村、")
    assert ok(api.get("/v1/stats"))["version"] == version
    assert ok(api.get("/v1/links", params={"type": "PAIRS_WITH"}))["items"] == []


@pytest.mark.parametrize(
    ("proposed", "status", "field"),
    [
        ([{"helper": "ent:ghost", "village": V1}], 404, "proposed.0.helper"),
        ([{"helper": E1, "village": V1}, {"helper": E1, "village": E2}], 422, "proposed.1.village"),
        ([{"helper": f"region:{TOWN_A}", "village": V1}], 422, "proposed.0.helper"),
        ([{"helper": V1_ORG, "village": V1}], 422, "proposed.0.helper"),
        ([], 422, "proposed"),
    ],
)
def test_bad_what_ifs_are_problems(
    api: TestClient, proposed: list[dict[str, str]], status: int, field: str
) -> None:
    body = {"proposed": proposed, "region": COUNTY}
    problem(api.post("/v1/recommendations/what-if", json=body, headers=PLANNER), status, field)


# ---------------------------------------------------------------------------- seed graph


def test_a_cooperative_the_village_branch_leads_is_not_offered(seed_client: TestClient) -> None:
    """台头村's branch leads 芳草园专业合作社 (LEADS_COOPERATIVE): partners already."""
    result = ok(
        seed_client.get(
            "/v1/recommendations/partners",
            params={"target": "village:370302112206", "top": 100, "include_full": "true"},
        )
    )
    offered = {c["partner_id"] for c in result["candidates"]["items"]}
    assert "ent:longquan-taitou-fangcaoyuan-hezuoshe" not in offered
    assert result["excluded_partners"] >= 1


def test_a_write_frees_the_cached_graphs_of_the_old_version(api: TestClient) -> None:
    partners(api, V1)
    graphs = api.app.state.views.graphs  # type: ignore[attr-defined]
    (old,) = list(graphs._cache)
    judge(api, target=V1, partner=E2, decision="accept")  # writes a link: a new version
    partners(api, V1)
    assert old not in graphs._cache
    assert old not in graphs.derived
    assert len(graphs._cache) == 1


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"target": f"region:{TOWN_A}"}, 422, "target"),
        ({"target": "village:ghost"}, 404, "target"),
        ({"target": V1, "program": "program:none"}, 422, "program"),
        ({"target": V1, "relation": "sideways"}, 422, "relation"),
        ({"target": V1, "top": 0}, 422, "top"),
    ],
)
def test_bad_partner_queries_are_problems(
    api: TestClient, params: dict[str, Any], status: int, field: str
) -> None:
    found = problem(api.get("/v1/recommendations/partners", params=params), status, field)
    if field == "target" and status == 422:
        assert found["detail"].startswith(f"'region:{TOWN_A}' cannot be a target")


def test_the_tie_weight_setting_reaches_the_index(empty_settings: Any) -> None:
    from graph_service.api.app import create_app

    settings = empty_settings.model_copy(update={"recommend_tie_weight": "count"})
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        ok(c.post("/v1/batch", json={"nodes": _nodes(), "links": _links()}, headers=AUTH))
        ok(c.get("/v1/recommendations/partners", params={"target": V1}))
        graphs = c.app.state.views.graphs  # type: ignore[attr-defined]
        (derived,) = [d for d in graphs.derived.values() if "recommender" in d]
        assert derived["recommender"].tie_weight == "count"
