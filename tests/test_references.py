"""Node references on every route that takes a node, on every backend: a node id, a division
code, or a name or alias only one node has (compared as search compares names). A name several
nodes have is a 422 listing them; one nobody has is a 404 naming the field. Answers carry the
canonical id, never the name given.

The graph is the hand-made county of ``test_api_recommendations`` with a second 甲公司 (in
乙镇), so that one name is ambiguous.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import AUTH
from fastapi.testclient import TestClient
from test_api_recommendations import (
    BODY,
    COUNTY,
    E1,
    E2,
    PLANNER,
    PROGRAM,
    TOWN_A,
    TOWN_B,
    V1,
    V1_ORG,
    V2,
    V3,
    _links,
    _nodes,
    ok,
    problem,
)

from graph_service.settings import hash_api_key

E3 = "ent:e3"
V1_CODE = V1.split(":")[1]


@pytest.fixture
def named(client: TestClient) -> TestClient:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    hashes = [*settings.api_key_hashes, "王科长=" + hash_api_key(PLANNER["X-API-Key"])]
    client.app.state.settings = settings.model_copy(update={"api_key_hashes": hashes})  # type: ignore[attr-defined]
    nodes = _nodes()
    for node in nodes:
        if node["id"] == V1:
            node["aliases"] = ["甲一"]
    nodes.append(
        {"id": E3, "label": "Enterprise", "kind": "公司", "name": "甲公司", "region_code": TOWN_B}
    )
    r = client.post("/v1/batch", json={"nodes": nodes, "links": _links()}, headers=AUTH)
    assert r.status_code == 200, r.text
    return client


@pytest.mark.parametrize(
    ("reference", "node_id"),
    [
        (V1, V1),
        (V1_CODE, V1),  # a village's 12-digit code
        (COUNTY, f"region:{COUNTY}"),  # a region's code
        ("甲一村", V1),
        ("甲一", V1),  # an alias
        (" 甲\u200b一村\ufeff ", V1),  # invisible characters and spaces count for nothing
        ("甲鎮聯合黨委", BODY),  # traditional characters are the simplified ones
        ("百企帮百村", PROGRAM),
    ],
)
def test_a_node_is_read_by_id_code_or_name(named: TestClient, reference: str, node_id: str) -> None:
    assert ok(named.get(f"/v1/nodes/{reference}"))["id"] == node_id
    around = ok(named.get(f"/v1/nodes/{reference}/neighbourhood"))
    assert around["centre"] == node_id


def test_a_name_several_nodes_have_lists_them(named: TestClient) -> None:
    found = problem(named.get("/v1/nodes/甲公司"), 422, "id")
    assert found["code"] == "ambiguous_reference"
    assert "甲公司 names 2 nodes" in found["detail"]
    assert found["errors"] == [{"field": "id", "message": found["detail"]}]
    candidates = found["details"]["candidates"]
    assert [(c["id"], c["name"], c["label"], c["region"]) for c in candidates] == [
        (E1, "甲公司", "Enterprise", "测试区甲镇"),
        (E3, "甲公司", "Enterprise", "测试区乙镇"),
    ]
    assert [(c["region_code"], c["region_name"]) for c in candidates] == [
        (TOWN_A, "甲镇"),
        (TOWN_B, "乙镇"),
    ]
    found = problem(named.get("/v1/recommendations/partners", params={"target": "甲公司"}), 422)
    assert (found["field"], found["code"]) == ("target", "ambiguous_reference")
    # Either of them by id still works.
    assert ok(named.get(f"/v1/nodes/{E3}"))["region_code"] == TOWN_B


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/nodes/无此村", {}, "id"),
        ("/v1/nodes/无此村/neighbourhood", {}, "id"),
        ("/v1/nodes/370302112999", {}, "id"),  # a code no village has
        ("/v1/paths", {"source": "甲一村", "target": "无此村"}, "target"),
        ("/v1/analysis/link-strength", {"source": "无此村", "target": V2}, "source"),
        ("/v1/analysis/brokers", {"scope": "node:无此村"}, "scope"),
        ("/v1/analysis/brokers", {"scope": "body:无此联合党委"}, "body"),
        ("/v1/export", {"scope": "node:无此村"}, "scope"),
        ("/v1/recommendations/partners", {"target": "无此村"}, "target"),
        ("/v1/recommendations/partners", {"target": V1, "program": "无此行动"}, "program"),
    ],
)
def test_a_name_nobody_has_is_a_404_naming_the_field(
    named: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    found = problem(named.get(path, params=params), 404, field)
    assert found["code"] == "not_found"


def test_paths_and_link_strength_take_names_and_answer_ids(named: TestClient) -> None:
    found = ok(named.get("/v1/paths", params={"source": "甲一村党支部", "target": V1_CODE}))
    assert (found["source"], found["target"]) == (V1_ORG, V1)
    assert found["paths"][0]["nodes"] == [V1_ORG, V1]
    strength = ok(
        named.get("/v1/analysis/link-strength", params={"source": "甲一村党支部", "target": "甲一"})
    )
    assert (strength["source"], strength["target"]) == (V1_ORG, V1)


def test_scopes_take_names_and_describe_ids(named: TestClient) -> None:
    params = {"scope": "node:甲一村", "measure": "degree", "include_structural": "true"}
    report = ok(named.get("/v1/analysis/centrality", params=params))
    assert report["scope"]["value"] == V1
    report = ok(named.get("/v1/analysis/rules", params={"scope": "body:甲镇联合党委"}))
    assert (report["scope"]["kind"], report["scope"]["value"]) == ("body", BODY)
    exported = named.get(
        "/v1/export", params={"scope": "node:甲一村", "format": "node-link", "download": "true"}
    )
    assert ok(exported)["graph"]["scope"]["value"] == V1
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="graph-node_{V1.replace(":", "_")}.node-link.json"'
    )


def test_recommendations_take_names_everywhere(named: TestClient) -> None:
    params = {"target": "甲一村", "program": "百企帮百村"}
    result = ok(named.get("/v1/recommendations/partners", params=params))
    assert result["target"] == V1
    assert {c["partner_id"] for c in result["candidates"]["items"]} == {E1, E2}  # the program's

    body = {"proposed": [{"helper": "乙公司", "village": "甲一村党支部"}], "program": "百企帮百村"}
    report = ok(named.post("/v1/recommendations/what-if", json=body, headers=PLANNER))
    assert [v["id"] for v in report["newly_paired"]] == [V1]

    body = {"region": COUNTY, "villages": ["甲一村", V2], "helpers": ["乙公司", V3.split(":")[1]]}
    plan = ok(named.post("/v1/recommendations/assignment", json=body))
    assert {p["village"]["id"] for p in plan["pairs"]} == {V1, V2}
    assert {p["helper"]["id"] for p in plan["pairs"]} <= {E2, V3}

    body = {"target": "甲一", "partner": "乙公司", "decision": "reject", "program": "百企帮百村"}
    judged = ok(named.post("/v1/recommendations/judgements", json=body, headers=PLANNER), 201)
    record = judged["judgement"]
    assert (record["target"], record["partner"], record["program"]) == (V1, E2, PROGRAM)
    assert record["asked"] == {"target": "甲一", "partner": "乙公司"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("what-if", {"proposed": [{"helper": "甲公司", "village": V1}]}, "proposed.0.helper"),
        ("assignment", {"region": COUNTY, "helpers": [E2, "甲公司"]}, "helpers.1"),
        ("judgements", {"target": V1, "partner": "甲公司", "decision": "reject"}, "partner"),
    ],
)
def test_ambiguous_names_in_bodies_name_the_field(
    named: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    url = f"/v1/recommendations/{path}"
    found = problem(named.post(url, json=body, headers=PLANNER), 422, field)
    assert found["code"] == "ambiguous_reference"
    assert len(found["details"]["candidates"]) == 2
