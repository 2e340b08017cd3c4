"""Accounts, roles and region scopes on both stores: who may write what, attested
provenance, and the history each change leaves (issue 14's security tests).

Two counties: 平原县 (371426) and 张店区 (370303). An editor of 平原县 writes there, links a
张店区 village to a 平原县 enterprise, and is refused everything else with a 403 naming the
region and its scope.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from conftest import AUTH, account_headers, open_store
from fastapi.testclient import TestClient

from graph_service.settings import Settings, hash_api_key
from graph_service.store.protocol import HistoryQuery, WriteBatch

PINGYUAN, ZHANGDIAN = "371426", "370303"
V_A = {
    "id": "village:371426101201",
    "label": "Village",
    "kind": "行政村",
    "name": "甲村",
    "region_code": "371426101201",
}
V_B = {
    "id": "village:370303101201",
    "label": "Village",
    "kind": "行政村",
    "name": "乙村",
    "region_code": "370303101201",
}
ENT_A = {
    "id": "ent:pingyuan-a",
    "label": "Enterprise",
    "kind": "公司",
    "name": "平原甲公司",
    "region_code": PINGYUAN,
}
ENT_B = {
    "id": "ent:zhangdian-b",
    "label": "Enterprise",
    "kind": "公司",
    "name": "张店乙公司",
    "region_code": ZHANGDIAN,
}
REGIONS = [
    {"id": f"region:{code}", "label": "Region", "kind": kind, "name": name, "region_code": code}
    for code, kind, name in (
        ("3714", "市", "德州市"),
        (PINGYUAN, "县", "平原县"),
        (ZHANGDIAN, "县", "张店区"),
    )
]
PROVINCE = {
    "id": "region:37",
    "label": "Region",
    "kind": "省",
    "name": "山东省",
    "region_code": "37",
}


def pairs(helper: str, village: str) -> dict[str, Any]:
    return {"type": "PAIRS_WITH", "source": helper, "target": village}


def problem(response: Any, status: int, code: str | None = None, field: str | None = None) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert body["field"] == field, body
    return body


@pytest.fixture
def county(client: TestClient) -> dict[str, dict[str, str]]:
    """Both counties' nodes, and one account of each role."""
    written = client.post(
        "/v1/batch", json={"nodes": [PROVINCE, *REGIONS, V_A, V_B, ENT_A, ENT_B]}, headers=AUTH
    )
    assert written.status_code == 200, written.text
    return {
        "editor_a": account_headers(client, "平原县委组织部", "editor", PINGYUAN),
        "editor_b": account_headers(client, "张店区委组织部", "editor", ZHANGDIAN),
        "viewer": account_headers(client, "德州市委组织部", "viewer", "3714"),
        "planner": account_headers(client, "平原县规划", "planner", PINGYUAN),
    }


def node_of(client: TestClient, node_id: str) -> Any:
    return client.get(f"/v1/nodes/{node_id}", headers=AUTH).json()


# ------------------------------------------------------------------------------ roles


def test_a_viewer_cannot_write_and_is_told_its_role(client: TestClient, county: Any) -> None:
    viewer = county["viewer"]
    body = problem(
        client.put(f"/v1/nodes/{V_A['id']}", json={**V_A, "name": "改名"}, headers=viewer),
        403,
        "role_required",
    )
    assert body["details"] == {
        "required_role": "editor",
        "role": "viewer",
        "account": "德州市委组织部",
    }
    problem(client.delete(f"/v1/nodes/{V_A['id']}", headers=viewer), 403, "role_required")
    problem(client.post("/v1/batch", json={"nodes": [V_A]}, headers=viewer), 403)
    assert node_of(client, V_A["id"])["name"] == "甲村"
    # Reads are not region-limited, and a viewer sees what key holders see.
    assert client.get(f"/v1/nodes/{V_B['id']}", headers=viewer).status_code == 200


def test_a_planner_judges_and_runs_what_if_but_does_not_write(
    client: TestClient, county: Any
) -> None:
    planner = county["planner"]
    problem(client.post("/v1/nodes", json={**ENT_A, "id": "ent:x"}, headers=planner), 403)
    body = {"proposed": [{"helper": ENT_A["id"], "village": V_A["id"]}]}
    problem(client.post("/v1/recommendations/what-if", json=body), 401)
    assert client.post("/v1/recommendations/what-if", json=body, headers=planner).status_code in (
        200,
        404,  # the tiny county has no weak-village context; the role passed
    )
    problem(client.post("/v1/recommendations/what-if", json=body, headers=county["viewer"]), 403)


# ------------------------------------------------------------------------------ scopes


def test_an_editor_writes_inside_its_county_only(client: TestClient, county: Any) -> None:
    editor = county["editor_a"]
    changed = client.put(f"/v1/nodes/{V_A['id']}", json={**V_A, "name": "甲村新"}, headers=editor)
    assert changed.status_code == 200, changed.text
    body = problem(
        client.put(f"/v1/nodes/{V_B['id']}", json={**V_B, "name": "乙村改"}, headers=editor),
        403,
        "outside_scope",
        "region_code",
    )
    assert body["details"] == {
        "region": V_B["region_code"],
        "scope": PINGYUAN,
        "account": "平原县委组织部",
    }
    assert "370303101201" in body["detail"]
    assert PINGYUAN in body["detail"]
    problem(client.delete(f"/v1/nodes/{V_B['id']}", headers=editor), 403, "outside_scope", "id")
    new_b = {**V_B, "id": "village:370303101202", "region_code": "370303101202", "name": "丙村"}
    problem(client.post("/v1/nodes", json=new_b, headers=editor), 403, "outside_scope")
    assert node_of(client, V_B["id"])["name"] == "乙村"


def test_the_issue_s_province_delete_is_refused(client: TestClient, county: Any) -> None:
    problem(
        client.delete("/v1/nodes/region:37", params={"detach": "true"}, headers=county["editor_a"]),
        403,
        "outside_scope",
    )
    assert client.get("/v1/nodes/region:37").status_code == 200


def test_a_node_cannot_be_moved_into_or_out_of_a_scope(client: TestClient, county: Any) -> None:
    editor = county["editor_a"]
    into = {**V_B, "region_code": "371426101299"}
    problem(client.put(f"/v1/nodes/{V_B['id']}", json=into, headers=editor), 403, "outside_scope")
    away = {**V_A, "region_code": "370303101299"}
    problem(client.put(f"/v1/nodes/{V_A['id']}", json=away, headers=editor), 403, "outside_scope")


def test_a_link_needs_one_end_inside_the_scope(client: TestClient, county: Any) -> None:
    editor = county["editor_a"]
    across = client.post("/v1/links", json=pairs(ENT_A["id"], V_B["id"]), headers=editor)
    assert across.status_code == 201, across.text  # a 平原县 enterprise pairs with a 张店区 village
    outside = client.post("/v1/links", json=pairs(ENT_B["id"], V_B["id"]), headers=editor)
    problem(outside, 403, "outside_scope")
    # The other county's editor may delete the cross-county link too: one end is theirs.
    deleted = client.delete(f"/v1/links/{across.json()['id']}", headers=county["editor_b"])
    assert deleted.status_code == 204


def test_a_batch_is_all_or_nothing_under_the_scope(client: TestClient, county: Any) -> None:
    new_a = {**ENT_A, "id": "ent:pingyuan-new", "name": "平原新公司"}
    batch = {"nodes": [new_a, {**V_B, "name": "乙村改"}]}
    problem(
        client.post("/v1/batch", json=batch, headers=county["editor_a"]),
        403,
        "outside_scope",
        "nodes.1.region_code",
    )
    assert client.get("/v1/nodes/ent:pingyuan-new").status_code == 404
    assert node_of(client, V_B["id"])["name"] == "乙村"


def test_a_national_node_is_written_only_by_a_national_scope(
    client: TestClient, county: Any
) -> None:
    program = {"id": "program:demo", "label": "Program", "name": "示范工程"}
    problem(client.post("/v1/nodes", json=program, headers=county["editor_a"]), 403)
    national = account_headers(client, "中组部示范", "editor", "")
    assert client.post("/v1/nodes", json=program, headers=national).status_code == 201


# ------------------------------------------------------------------------------ keys


def test_keys_are_shown_once_and_stored_hashed(client: TestClient) -> None:
    client.post("/v1/accounts", json={"name": "甲", "role": "viewer"}, headers=AUTH)
    made = client.post("/v1/accounts/甲/keys", headers=AUTH)
    assert made.status_code == 201
    key = made.json()["key"]
    listed = client.get("/v1/accounts/甲/keys", headers=AUTH).json()["items"]
    assert [k["id"] for k in listed] == [made.json()["id"]]
    assert key not in str(listed)
    assert "hash" not in listed[0]
    me = client.get("/v1/accounts/me", headers={"X-API-Key": key}).json()
    assert (me["name"], me["role"], me["scope"]) == ("甲", "viewer", "")


def test_a_revoked_key_fails_on_the_next_request(client: TestClient, county: Any) -> None:
    editor = county["editor_a"]
    key_id = client.get("/v1/accounts/me", headers=editor).json()["name"]
    (key,) = client.get(f"/v1/accounts/{key_id}/keys", headers=editor).json()["items"]
    revoked = client.post(f"/v1/keys/{key['id']}/revoke", headers=editor)  # its own key
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"]
    body = problem(client.get("/v1/accounts/me", headers=editor), 401, "unauthorized", "X-API-Key")
    assert "revoked" in body["detail"]
    problem(client.post(f"/v1/keys/{key['id']}/revoke", headers=AUTH), 409)


def test_an_expired_key_fails(client: TestClient, empty_settings: Settings) -> None:
    client.post("/v1/accounts", json={"name": "过期", "role": "editor"}, headers=AUTH)
    past = "2020-01-01T00:00:00Z"
    key_doc = {
        "id": "key_0123456789ab",
        "account": "过期",
        "hash": hash_api_key("an-expired-key"),
        "created_at": "2019-01-01T00:00:00Z",
        "created_by": "test",
        "expires_at": past,
        "revoked_at": None,
    }

    async def store_key() -> None:
        store = open_store(empty_settings)
        await store.open()
        try:
            await store.write(WriteBatch(keys=[key_doc]))
        finally:
            await store.close()

    asyncio.run(store_key())
    body = problem(client.get("/v1/accounts/me", headers={"X-API-Key": "an-expired-key"}), 401)
    assert "expired" in body["detail"]


def test_a_disabled_account_s_keys_fail(client: TestClient, county: Any) -> None:
    changed = client.patch("/v1/accounts/平原县委组织部", json={"disabled": True}, headers=AUTH)
    assert changed.status_code == 200, changed.text
    problem(client.get("/v1/accounts/me", headers=county["editor_a"]), 401)


def test_only_admins_manage_accounts(client: TestClient, county: Any) -> None:
    editor = county["editor_a"]
    problem(client.get("/v1/accounts", headers=editor), 403, "role_required")
    new = {"name": "冒名", "role": "admin"}
    problem(client.post("/v1/accounts", json=new, headers=editor), 403)
    problem(client.post("/v1/accounts/张店区委组织部/keys", headers=editor), 403)
    problem(client.get("/v1/accounts/张店区委组织部", headers=editor), 403)
    problem(client.get("/v1/accounts"), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "甲", "role": "superuser"}, "role"),
        ({"name": "甲", "role": "editor", "scope": "3714261"}, "scope"),
        ({"name": "甲", "role": "editor", "scope": "山东"}, "scope"),
        ({"name": "甲", "role": "editor", "scope": "999999"}, "scope"),  # no such region
        ({"name": "", "role": "editor"}, "name"),
        ({"name": "a=b", "role": "editor"}, "name"),
        ({"name": "me", "role": "editor"}, "name"),  # /v1/accounts/me is the caller's own
        ({"name": "甲", "role": "editor", "owner": "x"}, "owner"),
    ],
)
def test_bad_accounts_are_problems_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    problem(client.post("/v1/accounts", json=body, headers=AUTH), 422, field=field)
    assert client.get("/v1/accounts", headers=AUTH).json()["items"] == []


def test_bad_keys_are_problems(client: TestClient) -> None:
    problem(client.post("/v1/accounts/无此账户/keys", headers=AUTH), 404)
    client.post("/v1/accounts", json={"name": "甲", "role": "viewer"}, headers=AUTH)
    naive = {"expires_at": "2030-01-01T00:00:00"}
    problem(client.post("/v1/accounts/甲/keys", json=naive, headers=AUTH), 422, field="expires_at")
    past = {"expires_at": "2001-01-01T00:00:00Z"}
    problem(client.post("/v1/accounts/甲/keys", json=past, headers=AUTH), 422, field="expires_at")
    problem(client.post("/v1/keys/key_000000000000/revoke", headers=AUTH), 404)
    assert client.get("/v1/accounts/甲/keys", headers=AUTH).json()["items"] == []


def test_a_key_in_the_wrong_header_is_named(client: TestClient) -> None:
    body = problem(
        client.get("/v1/accounts/me", headers={"Authorization": "test-key-dangjian"}), 401
    )
    assert body["field"] == "Authorization"
    problem(client.get("/v1/accounts/me", params={"api_key": "test-key-dangjian"}), 422)


# ------------------------------------------------------------------------------ provenance


def test_who_and_when_come_from_the_account_and_the_clock(client: TestClient, county: Any) -> None:
    editor = county["editor_a"]
    claimed = {**ENT_A, "sources": [{"kind": "api", "by": "张店区委组织部"}]}
    problem(
        client.put(f"/v1/nodes/{ENT_A['id']}", json=claimed, headers=editor),
        422,
        field="sources.0.by",
    )
    backdated = {**ENT_A, "sources": [{"kind": "api", "recorded_at": "2001-01-01T00:00:00Z"}]}
    problem(
        client.put(f"/v1/nodes/{ENT_A['id']}", json=backdated, headers=editor),
        422,
        field="sources.0.recorded_at",
    )
    decision = {**ENT_A, "sources": [{"kind": "planner_decision", "document": "x"}]}
    problem(
        client.put(f"/v1/nodes/{ENT_A['id']}", json=decision, headers=editor),
        422,
        field="sources.0.kind",
    )


def test_an_article_quote_must_be_in_its_document(client: TestClient, county: Any) -> None:
    editor = county["editor_a"]
    document = "003_55c5f0cdd4cb0f9f.txt"
    made_up = {
        **ENT_A,
        "sources": [{"kind": "article", "document": document, "quote": "凭空捏造的一句话"}],
    }
    problem(
        client.put(f"/v1/nodes/{ENT_A['id']}", json=made_up, headers=editor),
        422,
        field="sources.0.quote",
    )
    nowhere = {**ENT_A, "sources": [{"kind": "article", "document": "no-such.txt", "quote": "x"}]}
    problem(
        client.put(f"/v1/nodes/{ENT_A['id']}", json=nowhere, headers=editor),
        422,
        field="sources.0.document",
    )
    real = {**ENT_A, "sources": [{"kind": "article", "document": document, "quote": "台头村"}]}
    assert client.put(f"/v1/nodes/{ENT_A['id']}", json=real, headers=editor).status_code == 200


def test_an_update_keeps_curated_sources_and_adds_its_record(
    client: TestClient, county: Any
) -> None:
    editor = county["editor_a"]
    quote = {"kind": "article", "document": "003_55c5f0cdd4cb0f9f.txt", "quote": "台头村"}
    first = client.put(
        f"/v1/nodes/{ENT_A['id']}", json={**ENT_A, "sources": [quote]}, headers=editor
    )
    curated = first.json()["sources"]
    # The issue's PUT: sources replaced with a bare api record; the quote stays.
    second = client.put(
        f"/v1/nodes/{ENT_A['id']}", json={**ENT_A, "sources": [{"kind": "api"}]}, headers=editor
    )
    assert second.status_code == 200, second.text
    sources = second.json()["sources"]
    assert sources[: len(curated)] == curated
    assert [s["kind"] for s in sources[len(curated) :]] == ["api", "api"]
    assert all(s["by"] == "平原县委组织部" for s in sources[len(curated) :])


# ------------------------------------------------------------------------------ history


def history(settings: Settings, **query: Any) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        store = open_store(settings)
        await store.open()
        try:
            return (await store.list_history(HistoryQuery(**query), None, 1000)).items
        finally:
            await store.close()

    return asyncio.run(read())


def test_every_change_is_recorded_with_account_request_and_before_after(
    client: TestClient, county: Any, empty_settings: Settings
) -> None:
    editor = county["editor_a"]
    renamed = {**V_A, "name": "甲村新"}
    r = client.put(
        f"/v1/nodes/{V_A['id']}", json=renamed, headers={**editor, "X-Request-ID": "req-42"}
    )
    assert r.headers["x-request-id"] == "req-42"
    (entry,) = history(empty_settings, entity="node", entity_id=V_A["id"], account="平原县委组织部")
    assert entry["request_id"] == "req-42"
    assert (entry["operation"], entry["action"]) == ("node.update", "update")
    assert entry["before"]["name"] == "甲村"
    assert entry["after"]["name"] == "甲村新"
    assert entry["regions"] == [V_A["region_code"]]
    at = dt.datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - at).total_seconds()) < 60

    link = client.post("/v1/links", json=pairs(ENT_A["id"], V_B["id"]), headers=editor).json()
    client.delete(f"/v1/nodes/{V_B['id']}", params={"detach": "true"}, headers=county["editor_b"])
    gone = history(empty_settings, entity="link", entity_id=link["id"])
    assert [e["action"] for e in gone] == ["create", "delete"]
    assert gone[1]["account"] == "张店区委组织部"
    assert sorted(gone[1]["regions"]) == sorted([PINGYUAN, V_B["region_code"]])
    # Accounts and keys are recorded too, by the admin that made them (hashes left out).
    made = history(empty_settings, entity="key")
    assert len(made) == 4
    assert all("hash" not in e["after"] for e in made)
    assert [e["entity_id"] for e in history(empty_settings, entity="account")] == [
        "平原县委组织部",
        "张店区委组织部",
        "德州市委组织部",
        "平原县规划",
    ]
    # A refused write leaves no history.
    client.put(f"/v1/nodes/{ENT_B['id']}", json=ENT_B, headers=editor)
    assert history(empty_settings, entity="node", entity_id=ENT_B["id"])[-1]["operation"] == "batch"


def test_history_filters_by_region(
    client: TestClient, county: Any, empty_settings: Settings
) -> None:
    client.put(f"/v1/nodes/{V_B['id']}", json={**V_B, "name": "乙村新"}, headers=county["editor_b"])
    in_b = history(empty_settings, region=ZHANGDIAN, entity="node")
    assert {e["entity_id"] for e in in_b} == {V_B["id"], ENT_B["id"], f"region:{ZHANGDIAN}"}
    assert all(e["entity_id"] != V_A["id"] for e in history(empty_settings, region="3703"))
